/**
 * Differential harness: one object loaded on the kernel and on the emulator (JIT and
 * interpreter), the same runs on all three, and every difference in retval, data_out, ctx_out,
 * errors, map contents and ring buffer / perf records reported as text.
 */
import { kernelLoadable } from '../helpers/kernel-features.js';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { load, type BpfObject } from '../../lib/index.js';
import type { ObjectSpec, ProgType } from '../../lib/spec/index.js';
import { EmulatorBackend } from '../../native-sim/backend.js';

export const RUNNABLE = new Set<ProgType>(['xdp', 'sched_cls', 'sched_act', 'socket_filter', 'cgroup_skb', 'raw_tracepoint']);
const DATA_MAPS = new Set(['hash', 'array', 'percpu_hash', 'percpu_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie']);
export const ENGINES = ['jit', 'interpreter'] as const;

export function hex(b: Uint8Array | undefined): string {
  return b === undefined ? '<none>' : Buffer.from(b).toString('hex');
}

export function hashSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

type Outcome = { ok: true; retval: number; data: string; ctx: string } | { ok: false; error: string };

function run(obj: BpfObject, prog: string, data: Uint8Array, ctx: Uint8Array | undefined, ctxSizeOut?: number): Outcome {
  try {
    // an empty data_in means a ctx-only run (raw tracepoints)
    const o = data.length === 0 ? { ctx: ctx ?? new Uint8Array(0) } : ctx ? { data, ctx } : { data };
    const r = obj.programs[prog]!.run(ctxSizeOut !== undefined ? { ...o, ctxSizeOut } : o);
    return { ok: true, retval: r.retval, data: hex(r.data), ctx: ctx ? hex(r.ctx) : '' };
  } catch (e) {
    const err = e as { errno?: number; code?: string };
    return { ok: false, error: `errno ${err.errno ?? '?'} ${err.code ?? ''}` };
  }
}

function mapState(obj: BpfObject): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, m] of Object.entries(obj.maps)) {
    if (!DATA_MAPS.has(m.type)) continue;
    const rows: string[] = [];
    for (const [k, v] of m.raw.entries()) rows.push(`${hex(k)}=${hex(v)}`);
    out[name] = rows.sort();
  }
  return out;
}

/** Pin this process to CPU 0 (the emulator's CPU) so per-CPU slots match. */
export function pinToCpu0(): void {
  execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
}

export function ensureBpffs(root: string): void {
  try {
    execFileSync('mountpoint', ['-q', '/sys/fs/bpf']);
  } catch {
    execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
  }
  for (const d of ['kernel', ...ENGINES]) mkdirSync(`${root}/${d}`, { recursive: true });
}

export interface RunInput {
  data: Uint8Array;
  ctx?: Uint8Array;
  ctxSizeOut?: number;
}

/** Run `inputs(prog)` through every runnable program on kernel, JIT and interpreter; return the differences. */
export async function diffObject(
  spec: ObjectSpec,
  pinRoot: string,
  inputs: (prog: string, type: ProgType) => RunInput[],
  afterEachRun?: (objs: BpfObject[]) => void,
): Promise<{ diffs: string[]; runs: number }> {
  ensureBpffs(pinRoot);
  // programs calling a helper this kernel does not offer their type cannot run on it: the test
  // files name them as skipped tests (refusedByKernel), here they are left out on every side
  const loadable = new Set(await kernelLoadable(spec));
  const kernel = await load(spec, { backend: 'kernel', pinRoot: `${pinRoot}/kernel`, programs: [...loadable] });
  const cpus = kernel.backend.possibleCpus;
  const emus: [string, BpfObject][] = [];
  for (const engine of ENGINES) {
    const b = new EmulatorBackend({ engine, verify: false, possibleCpus: cpus, seed: 1 });
    emus.push([engine, await load(spec, { backend: b, pinRoot: `${pinRoot}/${engine}` })]);
  }
  const readers = (obj: BpfObject) =>
    Object.entries(obj.maps)
      .filter(([, m]) => m.type === 'ringbuf' || m.type === 'perf_event_array')
      .map(([n, m]) => [n, m.type === 'ringbuf' ? m.ringbuf() : m.perfBuffer()] as const);
  const kReaders = readers(kernel);
  const eReaders = emus.map(([, o]) => readers(o));
  const diffs: string[] = [];
  let runs = 0;
  try {
    for (const prog of spec.programs.filter((x) => RUNNABLE.has(x.type) && loadable.has(x.name))) {
      inputs(prog.name, prog.type).forEach(({ data, ctx, ctxSizeOut }, i) => {
        const want = run(kernel, prog.name, data, ctx, ctxSizeOut);
        for (const [engine, obj] of emus) {
          const got = run(obj, prog.name, data, ctx, ctxSizeOut);
          runs++;
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            diffs.push(`${prog.name} input ${i} (${hex(data).slice(0, 80)}) ${engine}: ${JSON.stringify(got).slice(0, 300)} != kernel ${JSON.stringify(want).slice(0, 300)}`);
          }
        }
        afterEachRun?.([kernel, ...emus.map(([, o]) => o)]);
      });
      const kState = JSON.stringify(mapState(kernel));
      for (const [engine, obj] of emus) {
        const eState = JSON.stringify(mapState(obj));
        if (eState !== kState) diffs.push(`${prog.name}: map contents differ on ${engine}:\n  emulator ${eState.slice(0, 600)}\n  kernel   ${kState.slice(0, 600)}`);
      }
      const kEvents = kReaders.map(([n, r]) => [n, r.poll().map((x) => hex(x as Uint8Array))]);
      eReaders.forEach((rs, ei) => {
        const ev = rs.map(([n, r]) => [n, r.poll().map((x) => hex(x as Uint8Array))]);
        if (JSON.stringify(ev) !== JSON.stringify(kEvents)) {
          diffs.push(`${prog.name}: events differ on ${emus[ei]![0]}:\n  emulator ${JSON.stringify(ev).slice(0, 400)}\n  kernel   ${JSON.stringify(kEvents).slice(0, 400)}`);
        }
      });
    }
  } finally {
    for (const [, r] of kReaders) r.close();
    for (const rs of eReaders) for (const [, r] of rs) r.close();
    kernel.close();
    for (const [, o] of emus) o.close();
  }
  return { diffs, runs };
}

/** A state snapshot of the `results` array after each run, for per-run comparisons of helper results. */
export function resultsSnapshot(objs: BpfObject[], name = 'results'): string[] {
  return objs.map((o) => {
    const m = o.maps[name];
    if (!m) return '';
    const rows: string[] = [];
    for (const [k, v] of m.raw.entries()) rows.push(`${hex(k)}=${hex(v)}`);
    return rows.join(',');
  });
}
