// Differential tests: every test program that BPF_PROG_TEST_RUN can run (XDP, TC, socket filter,
// cgroup_skb, raw tracepoint) runs on the real kernel and on the emulator (JIT and interpreter) over crafted and
// seeded-random packets. Same return value, same output bytes, same ctx_out, same errors, same
// map contents and same ring buffer / perf records — zero differences allowed.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseObject } from '../../lib/elf/index.js';
import type { ProgType } from '../../lib/spec/index.js';
import { refusalReason, refusedByKernel } from '../helpers/kernel-features.js';
import { allProgs } from '../helpers/progs.js';
import { RUNNABLE, diffObject, hashSeed, pinToCpu0, type RunInput } from './diff-harness.js';
import { craftedPackets, randomPackets } from './packets.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
// per process: a pinned-by-name map (test/progs/pinned.bpf.c) under a shared root would be reused
// by a concurrent run of this file (its counts added to ours), and its afterAll would remove ours
const PIN_ROOT = `/sys/fs/bpf/bpfkit_emu_diff_${process.pid}`;

const progs = await allProgs();

/** ctx_in for some runs: exercises the ctx_in/ctx_out rules of each program type. */
function withCtx(type: ProgType, i: number, pkt: Uint8Array): RunInput {
  if (type === 'raw_tracepoint') {
    // u64 arguments taken from the packet bytes: 2 or 12 of them
    const ctx = new Uint8Array(i % 4 === 3 ? 96 : 16);
    ctx.set(pkt.subarray(0, ctx.length));
    if (i % 5 === 0) ctx.set([39, 0, 0, 0, 0, 0, 0, 0], 8);
    // every 7th run asks for ctx_out, which raw tracepoints refuse (EINVAL on both)
    return i % 7 === 6 ? { data: new Uint8Array(0), ctx } : { data: new Uint8Array(0), ctx, ctxSizeOut: 0 };
  }
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

const refused = isRootLinux ? await Promise.all(cases.map(async ({ p, spec }) => [p.name, await refusedByKernel(spec)] as const)) : [];

describe.skipIf(!isRootLinux)('emulator vs kernel BPF_PROG_TEST_RUN (needs root on Linux)', () => {
  // Per-CPU map slots depend on the CPU a test run executes on: pin this process to CPU 0, the
  // emulator's default CPU, so both sides update the same slot.
  beforeAll(() => pinToCpu0());
  afterAll(() => rmSync(PIN_ROOT, { recursive: true, force: true }));

  it('covers the runnable corpus', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  // where the machine cannot: this kernel refuses the program (a helper it does not offer the type)
  for (const [obj, missing] of refused) {
    for (const [prog, helpers] of missing) it.skip(`${obj}/${refusalReason(prog, helpers)}: not compared`, () => {});
  }

  for (const { p, spec } of cases) {
    it(`${p.name}: same results on kernel, JIT and interpreter`, async () => {
      const { diffs, runs } = await diffObject(spec, PIN_ROOT, (prog, type) =>
        [...craftedPackets(), ...randomPackets(hashSeed(`${p.name}/${prog}`), 40)].map((pkt, i) => withCtx(type, i, pkt)),
      );
      expect(runs).toBeGreaterThan(0);
      expect(diffs.slice(0, 15)).toEqual([]);
    }, 120_000);
  }
});
