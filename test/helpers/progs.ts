/**
 * Test program compilation: C sources → BPF objects with clang-19, cached under test/.cache by a
 * content hash of the source, every locally included header (`#include "..."`, recursively), the
 * size and mtime of each directly included system header (`#include <...>`), the compiler flags
 * and the clang version. Safe with several vitest workers compiling at once: each
 * compile writes a unique temp file and renames it into place (rename is atomic on one fs).
 *
 * Test programs live in test/progs/NAME.bpf.c. The CPU version a program is meant for is taken
 * from its file name (`NAME.v4.bpf.c`) or from a header line `// bpfkit: cpu=v4`; default v3.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { arch } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Cpu = 'v1' | 'v2' | 'v3' | 'v4';
export const CPUS: readonly Cpu[] = ['v1', 'v2', 'v3', 'v4'];

export interface CompileOptions {
  cpu?: Cpu;
  extraFlags?: string[];
}

export interface ProgInfo {
  /** Name as passed to compileProg: the file name without `.bpf.c`, e.g. `xdp_basic`, `alu.v4`. */
  name: string;
  /** Compiled object path. */
  path: string;
  /** Source path. */
  source: string;
  cpu: Cpu;
}

const here = dirname(fileURLToPath(import.meta.url));
export const TEST_DIR = resolve(here, '..');
export const PROGS_DIR = join(TEST_DIR, 'progs');
export const CACHE_DIR = join(TEST_DIR, '.cache');
export const CLANG = process.env.BPFKIT_CLANG ?? 'clang-19';

function multiarchInclude(): string {
  const m = arch() === 'arm64' ? 'aarch64' : arch() === 'x64' ? 'x86_64' : arch();
  return `/usr/include/${m}-linux-gnu`;
}

let clangVersion: Promise<string> | undefined;
function getClangVersion(): Promise<string> {
  clangVersion ??= run(CLANG, ['--version']).then(
    (r) => r.stdout.split('\n')[0] ?? '',
    (e: unknown) => {
      throw new Error(`compile: cannot run ${CLANG} (install clang-19): ${String(e)}`);
    },
  );
  return clangVersion;
}

const INCLUDE_RE = /^\s*#\s*include\s+"([^"]+)"/gm;
const SYSTEM_INCLUDE_RE = /^\s*#\s*include\s+<([^>]+)>/gm;

/** Size and mtime of each directly included system header (`#include <...>`), for the cache key. */
function systemHeaderStamps(sources: Map<string, string>, includeDirs: string[]): string[] {
  const dirs = [...includeDirs, multiarchInclude(), '/usr/include'];
  const out = new Set<string>();
  for (const text of sources.values()) {
    for (const m of text.matchAll(SYSTEM_INCLUDE_RE)) {
      for (const d of dirs) {
        const p = join(d, m[1]!);
        try {
          const st = statSync(p);
          out.add(`${p}:${st.size}:${st.mtimeMs}`);
          break;
        } catch {
          // not in this directory
        }
      }
    }
  }
  return [...out].sort();
}

/** Source text plus every quoted include reachable from it, in a deterministic order. */
function collectSources(srcPath: string, includeDirs: string[], seen: Map<string, string>): void {
  if (seen.has(srcPath)) return;
  const text = readFileSync(srcPath, 'utf8');
  seen.set(srcPath, text);
  for (const m of text.matchAll(INCLUDE_RE)) {
    const rel = m[1]!;
    const candidates = [join(dirname(srcPath), rel), ...includeDirs.map((d) => join(d, rel))];
    const found = candidates.find((c) => existsSync(c));
    if (found) collectSources(resolve(found), includeDirs, seen);
  }
}

function cpuFlag(cpu: Cpu): string {
  return `-mcpu=${cpu}`;
}

/** The CPU a source declares: `*.vN.bpf.c` or a `// bpfkit: cpu=vN` line; default v3. */
export function declaredCpu(srcPath: string): Cpu {
  const m = /\.(v[1-4])\.bpf\.c$/.exec(srcPath);
  if (m) return m[1] as Cpu;
  const text = readFileSync(srcPath, 'utf8');
  const h = /^\s*\/\/\s*bpfkit:\s*cpu=(v[1-4])\b/m.exec(text);
  return h ? (h[1] as Cpu) : 'v3';
}

const inflight = new Map<string, Promise<string>>();

/**
 * Compile one C source to a BPF object; returns the cached object's path.
 * `clang-19 -O2 -g -target bpf -mcpu=CPU -I<multiarch include> [extraFlags] -c SRC -o OUT`.
 */
export async function compileC(srcPath: string, opts: CompileOptions = {}): Promise<string> {
  const src = resolve(srcPath);
  const cpu = opts.cpu ?? declaredCpu(src);
  const extra = opts.extraFlags ?? [];
  const includeDirs = extra.filter((f) => f.startsWith('-I')).map((f) => resolve(f.slice(2)));
  const flags = ['-O2', '-g', '-target', 'bpf', cpuFlag(cpu), `-I${multiarchInclude()}`, ...extra];
  const sources = new Map<string, string>();
  collectSources(src, includeDirs, sources);
  const h = createHash('sha256');
  h.update(await getClangVersion());
  h.update('\0' + flags.join('\0') + '\0');
  for (const [p, text] of [...sources].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    h.update(p === src ? '<main>' : p);
    h.update('\0' + text + '\0');
  }
  for (const stamp of systemHeaderStamps(sources, includeDirs)) h.update(stamp + '\0');
  const base = src.replace(/^.*\//, '').replace(/\.c$/, '');
  const out = join(CACHE_DIR, `${base}.${cpu}.${h.digest('hex').slice(0, 16)}.o`);
  if (existsSync(out)) return out;
  const pending = inflight.get(out);
  if (pending) return pending;
  const p = (async () => {
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await run(CLANG, [...flags, '-c', src, '-o', tmp], { maxBuffer: 16 << 20 });
      renameSync(tmp, out);
    } catch (e) {
      rmSync(tmp, { force: true });
      const err = e as { stderr?: string; message?: string };
      throw new Error(`compile ${srcPath}: ${err.stderr || err.message || String(e)}`);
    }
    return out;
  })();
  inflight.set(out, p);
  try {
    return await p;
  } finally {
    inflight.delete(out);
  }
}

function progSource(name: string): string {
  return join(PROGS_DIR, `${name}.bpf.c`);
}

/** Compile test/progs/NAME.bpf.c (NAME without `.bpf.c`; e.g. `xdp_basic` or `alu.v4`). */
export function compileProg(name: string, opts: CompileOptions = {}): Promise<string> {
  const src = progSource(name);
  if (!existsSync(src)) return Promise.reject(new Error(`compile: no test program ${src}`));
  return compileC(src, opts);
}

/** Names of every test program (sorted), without compiling. */
export function progNames(): string[] {
  return readdirSync(PROGS_DIR)
    .filter((f) => f.endsWith('.bpf.c'))
    .map((f) => f.slice(0, -'.bpf.c'.length))
    .sort();
}

/** Every test program compiled for the CPU it is meant for. */
export async function allProgs(): Promise<ProgInfo[]> {
  const names = progNames();
  const out: ProgInfo[] = [];
  // Two at a time: the machine is shared; the cache makes repeat calls instant.
  for (let i = 0; i < names.length; i += 2) {
    const batch = names.slice(i, i + 2);
    const done = await Promise.all(
      batch.map(async (name) => {
        const source = progSource(name);
        const cpu = declaredCpu(source);
        return { name, path: await compileC(source, { cpu }), source, cpu };
      }),
    );
    out.push(...done);
  }
  return out;
}
