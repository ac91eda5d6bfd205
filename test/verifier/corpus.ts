/**
 * Corpus driver: writes each case group's C source under test/.cache/verifier/, compiles it with
 * the shared compile helper (content-hash cached), and runs one program through our verifier and
 * through the running kernel's (lib/object `load` on the kernel backend, one program at a time).
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileC, CACHE_DIR, TEST_DIR, type ProgInfo } from '../helpers/progs.js';
import { parseObject } from '../../lib/elf/index.js';
import type { ObjectSpec } from '../../lib/spec/index.js';
import { verifyProgram } from '../../native-sim/verifier/index.js';
import { VerifierError } from '../../lib/errors.js';
import { CASES, groupSource, groups, type Case } from './cases.js';

export interface Outcome {
  accepted: boolean;
  message: string;
  insns?: number;
}

const SRC_DIR = join(CACHE_DIR, 'verifier');

/** Compile every group; returns group → parsed object. */
export async function compileCorpus(): Promise<Map<string, { path: string; spec: ObjectSpec }>> {
  mkdirSync(SRC_DIR, { recursive: true });
  const out = new Map<string, { path: string; spec: ObjectSpec }>();
  const gs = groups();
  for (let i = 0; i < gs.length; i += 2) {
    await Promise.all(gs.slice(i, i + 2).map(async (g) => {
      const src = join(SRC_DIR, `${g}.bpf.c`);
      const text = groupSource(g);
      if (!existsSync(src) || readFileSync(src, 'utf8') !== text) writeFileSync(src, text);
      const path = await compileC(src, { cpu: g === 'v4' ? 'v4' : 'v3' });
      out.set(g, { path, spec: parseObject(readFileSync(path), path) });
    }));
  }
  return out;
}

export function runOurs(spec: ObjectSpec, name: string): Outcome {
  const prog = spec.programs.find((p) => p.name === name);
  if (!prog) return { accepted: false, message: `program ${name} not found in the object` };
  const maps = new Map(spec.maps.map((m) => [m.name, m]));
  try {
    const r = verifyProgram(prog, { maps, btf: spec.btf });
    return { accepted: true, message: '', insns: r.insnsProcessed };
  } catch (e) {
    if (e instanceof VerifierError) return { accepted: false, message: e.message };
    throw e;
  }
}

let loadFn: typeof import('../../lib/index.js').load | undefined;

/** Load one program of an object into the kernel (BPF_PROG_LOAD) and report the verdict. */
export async function runKernel(path: string, name: string, logLevel = 0): Promise<Outcome & { log?: string }> {
  loadFn ??= (await import('../../lib/index.js')).load;
  try {
    // by-name pinned maps go under a private root that is removed right after, never /sys/fs/bpf itself
    const pinRoot = `/sys/fs/bpf/bpfkit-verifier-${process.pid}`;
    const obj = await loadFn(path, { backend: 'kernel', programs: [name], logLevel, pinRoot }).finally(() => rmSync(pinRoot, { recursive: true, force: true }));
    try {
      const p = obj.programs[name]!;
      return { accepted: true, message: '', insns: p.insnsProcessed, log: p.log };
    } finally {
      obj.close();
    }
  } catch (e) {
    if (e instanceof VerifierError) return { accepted: false, message: lastLines(e.log) || e.message, log: e.log };
    const msg = (e as Error).message;
    // E2BIG from BPF_PROG_LOAD: "BPF program is too large" / call stack too deep (no log returned)
    if (/Argument list too long|E2BIG/.test(msg)) return { accepted: false, message: `BPF program is too large or its call stack too deep (E2BIG): ${msg}` };
    return { accepted: false, message: `not a verifier rejection: ${msg}` };
  }
}

function lastLines(log: string): string {
  const lines = log.split('\n').filter((l) => l.trim() && !/^(processed \d+|verification time|stack depth)/.test(l));
  return lines.slice(-2).join(' / ');
}

/** examples/<name>/*.bpf.c, compiled like the test programs. */
export async function examplePrograms(): Promise<ProgInfo[]> {
  const root = join(TEST_DIR, '..', 'examples');
  const out: ProgInfo[] = [];
  if (!existsSync(root)) return out;
  for (const d of readdirSync(root).sort()) {
    const dir = join(root, d);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.bpf.c')).sort()) {
      const source = join(dir, f);
      out.push({ name: `examples/${d}/${f}`, path: await compileC(source), source, cpu: 'v3' });
    }
  }
  return out;
}

export { CASES, type Case };
