/**
 * Test helper for the kernel link/event/CLI tests: compile a C program of test/kernel/progs,
 * parse it with lib/elf and load it through the kernel backend (maps then programs), plus
 * small process/network helpers with bounded timeouts.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BackendMap, BackendProgram } from '../../lib/backend.js';
import { parseObject } from '../../lib/elf/index.js';
import { createKernelBackend } from '../../lib/kernel/index.js';
import { compileC } from '../helpers/progs.js';

export const KPROGS = join(dirname(fileURLToPath(import.meta.url)), 'progs');
export const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
export const SKIP_REASON = 'kernel tests need root on Linux';

export const execFileP = promisify(execFile);

export interface LoadedKernelObject {
  path: string;
  maps: Map<string, BackendMap>;
  progs: Map<string, BackendProgram>;
  map(name: string): BackendMap;
  prog(name: string): BackendProgram;
  close(): void;
}

/** Compile test/kernel/progs/NAME.bpf.c and load every map and program into the kernel. */
export async function loadKernelObject(name: string): Promise<LoadedKernelObject> {
  const path = await compileC(join(KPROGS, `${name}.bpf.c`));
  const spec = parseObject(new Uint8Array(readFileSync(path)), path);
  const backend = createKernelBackend('test');
  const session = backend.openSession(spec);
  const maps = new Map<string, BackendMap>();
  const progs = new Map<string, BackendProgram>();
  try {
    for (const m of spec.maps) maps.set(m.name, session.createMap(m));
    for (const p of spec.programs) progs.set(p.name, session.loadProgram(p, { maps }));
  } catch (e) {
    for (const p of progs.values()) p.close();
    for (const m of maps.values()) m.close();
    throw e;
  } finally {
    session.close();
  }
  return {
    path,
    maps,
    progs,
    map(n) {
      const m = maps.get(n);
      if (!m) throw new Error(`no map ${n}`);
      return m;
    },
    prog(n) {
      const p = progs.get(n);
      if (!p) throw new Error(`no program ${n}`);
      return p;
    },
    close() {
      for (const p of progs.values()) p.close();
      for (const m of maps.values()) m.close();
    },
  };
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

export function u16(n: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, n, true);
  return b;
}

export function u64At(bytes: Uint8Array | undefined, off = 0): number {
  if (!bytes) return NaN;
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(off, true));
}

/** Value of slot `idx` of a u64 array map. */
export function counter(map: BackendMap, idx: number): number {
  return u64At(map.lookup(u32(idx)));
}

/** Run a command with a hard timeout; resolves with its exit code and output. */
export function runCmd(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string; pid: number | undefined }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) child.kill('SIGKILL');
    }, opts.timeoutMs ?? 10_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(e), pid: child.pid });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, pid: child.pid });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** `ip ...` that must succeed. */
export async function ip(...args: string[]): Promise<string> {
  const r = await execFileP('ip', args, { timeout: 10_000 });
  return r.stdout;
}

/** Best-effort `ip ...` for cleanup. */
export async function ipQuiet(...args: string[]): Promise<void> {
  try {
    await execFileP('ip', args, { timeout: 10_000 });
  } catch {
    /* already gone */
  }
}

/** The cgroup v2 mount point, from /proc/mounts. */
export function cgroup2Root(): string | undefined {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[2] === 'cgroup2' && f[1]) return f[1];
  }
  return undefined;
}
