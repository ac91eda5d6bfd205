// Differential tests: every test program that BPF_PROG_TEST_RUN can run (XDP, TC, socket filter,
// cgroup_skb) runs on the real kernel and on the emulator (JIT and interpreter) over crafted and
// seeded-random packets. Same return value, same output bytes, same ctx_out, same errors, same
// map contents and same ring buffer / perf records — zero differences allowed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, type BpfObject } from '../../lib/index.js';
import { parseObject } from '../../lib/elf/index.js';
import type { ProgType } from '../../lib/spec/index.js';
import { EmulatorBackend } from '../../native-sim/backend.js';
import { allProgs } from '../helpers/progs.js';
import { craftedPackets, randomPackets } from './packets.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
const RUNNABLE = new Set<ProgType>(['xdp', 'sched_cls', 'sched_act', 'socket_filter', 'cgroup_skb']);
const DATA_MAPS = new Set(['hash', 'array', 'percpu_hash', 'percpu_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie']);
const PIN_ROOT = '/sys/fs/bpf/bpfkit_emu_diff';
const ENGINES = ['jit', 'interpreter'] as const;

const progs = await allProgs();

function hex(b: Uint8Array | undefined): string {
  return b === undefined ? '<none>' : Buffer.from(b).toString('hex');
}

function hashSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

type Outcome = { ok: true; retval: number; data: string; ctx: string } | { ok: false; error: string };

function run(obj: BpfObject, prog: string, data: Uint8Array, ctx: Uint8Array | undefined): Outcome {
  try {
    const r = obj.programs[prog]!.run(ctx ? { data, ctx } : { data });
    return { ok: true, retval: r.retval, data: hex(r.data), ctx: ctx ? hex(r.ctx) : '' };
  } catch (e) {
    const err = e as { errno?: number; code?: string; message?: string };
    return { ok: false, error: `errno ${err.errno ?? '?'} ${err.code ?? ''}` };
  }
}

/** Contents of the object's data maps, order-independent. */
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

/** ctx_in for some runs: exercises the ctx_in/ctx_out rules of each program type. */
function ctxFor(type: ProgType, i: number, pkt: Uint8Array): { data: Uint8Array; ctx?: Uint8Array } {
  if (type === 'xdp') {
    if (i % 5 !== 2) return { data: pkt };
    const data = new Uint8Array(8 + pkt.length);
    data.set([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);
    data.set(pkt, 8);
    const ctx = new Uint8Array(24);
    const dv = new DataView(ctx.buffer);
    dv.setUint32(0, 8, true);
    dv.setUint32(4, data.length, true);
    return { data, ctx };
  }
  if (i % 3 !== 1) return { data: pkt };
  const ctx = new Uint8Array(192);
  const dv = new DataView(ctx.buffer);
  dv.setUint32(8, i * 3, true); // mark
  dv.setUint32(32, 5, true); // priority
  for (let c = 0; c < 5; c++) dv.setUint32(48 + c * 4, i + c, true); // cb
  return { data: pkt, ctx };
}

const cases = progs
  .map((p) => ({ p, spec: parseObject(readFileSync(p.path), p.path) }))
  .filter(({ spec }) => spec.programs.some((x) => RUNNABLE.has(x.type)));

function ensureBpffs(): void {
  try {
    execFileSync('mountpoint', ['-q', '/sys/fs/bpf']);
  } catch {
    execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
  }
  for (const d of ['kernel', ...ENGINES]) mkdirSync(`${PIN_ROOT}/${d}`, { recursive: true });
}

describe.skipIf(!isRootLinux)('emulator vs kernel BPF_PROG_TEST_RUN (needs root on Linux)', () => {
  // Per-CPU map slots depend on the CPU a test run executes on: pin this process to CPU 0, the
  // emulator's default CPU, so both sides update the same slot.
  beforeAll(() => {
    execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
  });
  afterAll(() => {
    rmSync(PIN_ROOT, { recursive: true, force: true });
  });

  it('covers the runnable corpus', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const { p, spec } of cases) {
    it(`${p.name}: same results on kernel, JIT and interpreter`, async () => {
      ensureBpffs();
      const kernel = await load(spec, { backend: 'kernel', pinRoot: `${PIN_ROOT}/kernel` });
      const cpus = kernel.backend.possibleCpus;
      const emus: [string, BpfObject][] = [];
      for (const engine of ENGINES) {
        const b = new EmulatorBackend({ engine, verify: false, possibleCpus: cpus, seed: 1 });
        emus.push([engine, await load(spec, { backend: b, pinRoot: `${PIN_ROOT}/${engine}` })]);
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
        for (const prog of spec.programs.filter((x) => RUNNABLE.has(x.type))) {
          const packets = [...craftedPackets(), ...randomPackets(hashSeed(`${p.name}/${prog.name}`), 40)];
          packets.forEach((pkt, i) => {
            const { data, ctx } = ctxFor(prog.type, i, pkt);
            const want = run(kernel, prog.name, data, ctx);
            for (const [engine, obj] of emus) {
              const got = run(obj, prog.name, data, ctx);
              runs++;
              if (JSON.stringify(got) !== JSON.stringify(want)) {
                diffs.push(`${prog.name} packet ${i} (${hex(data).slice(0, 80)}) ${engine}: ${JSON.stringify(got).slice(0, 300)} != kernel ${JSON.stringify(want).slice(0, 300)}`);
              }
            }
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
      expect(runs).toBeGreaterThan(0);
      expect(diffs.slice(0, 15)).toEqual([]);
    }, 120_000);
  }
});
