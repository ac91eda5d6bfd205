// Helper edge cases, emulator vs kernel: programs in progs/helpers_probe.bpf.c take their
// parameters from the packet and store helper return values in a results array; the harness
// compares, after every run, the results, retval, data_out and errors on kernel, JIT and
// interpreter. Boundaries: XDP headroom/metadata/tailroom limits, skb length changes,
// out-of-range offsets, checksum helpers and their flags.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseObject } from '../../lib/elf/index.js';
import { refusalReason, refusedByKernel } from '../helpers/kernel-features.js';
import { compileC } from '../helpers/progs.js';
import { diffObject, pinToCpu0, resultsSnapshot, type RunInput } from './diff-harness.js';
import { ipv4, ipv6, mulberry32 } from './packets.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
const PIN_ROOT = `/sys/fs/bpf/bpfkit_emu_diff_helpers_${process.pid}`; // per process: runs of this file may overlap
const SRC = join(import.meta.dirname, 'progs', 'helpers_probe.bpf.c');

function withParams(base: Uint8Array, ...p: number[]): Uint8Array {
  const b = base.slice();
  const dv = new DataView(b.buffer);
  p.forEach((v, i) => dv.setInt16(i * 2, v, true));
  return b;
}

function sized(len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 13 + 7) & 0xff;
  return b;
}

function inputsFor(prog: string): RunInput[] {
  const out: RunInput[] = [];
  const v4 = ipv4({ proto: 6, dport: 443, payload: 30 });
  const v6 = ipv6(17, 53, 20);
  switch (prog) {
    case 'adj_head':
      for (const len of [64, 200])
        for (const d of [-300, -256, -217, -216, -215, -200, -100, -1, 0, 1, 10, len - 15, len - 14, len - 13, len, 1000]) out.push({ data: withParams(sized(len), d) });
      break;
    case 'adj_meta':
      for (const d of [0, 4, -3, -4, -8, -32, -36, -216, -220, -252, -256])
        for (const h of [0, -8, 8, -200, -216]) out.push({ data: withParams(sized(80), d, h) });
      break;
    case 'adj_tail':
      for (const d of [-100, -51, -50, -49, -1, 0, 1, 100, 3520 - 64, 3521 - 64, 3456 - 64, 4000]) out.push({ data: withParams(sized(64), d) });
      break;
    case 'csum_probe': {
      const rnd = mulberry32(7);
      for (const seed of [0, 1, -1, 0x1234, -32768]) {
        const b = sized(64);
        for (let i = 4; i < 64; i++) b[i] = Math.floor(rnd() * 256);
        out.push({ data: withParams(b, seed) });
      }
      out.push({ data: withParams(v4, 5) });
      break;
    }
    case 'skb_tail':
      for (const len of [0, 13, 14, 15, 40, 64, 100, 1500, 9000, -1]) {
        out.push({ data: withParams(v4, len) });
        out.push({ data: withParams(v6, len) });
      }
      break;
    case 'skb_room':
      for (const base of [v4, v6, withParams(sized(60))])
        for (const d of [-30, -21, -20, -8, -1, 0, 8, 100, 4095, 4096, -4096])
          for (const mode of [0, 1, 2]) out.push({ data: withParams(base, d, mode) });
      break;
    case 'skb_bytes':
      for (const off of [-1, 0, 10, 50, 59, 60, 61, 100, 0x7fff])
        for (const len of [0, 1, 4, 8, 15]) out.push({ data: withParams(v4, off, len) });
      break;
    case 'csum_replace':
      for (const off of [0, 16, 24, 40, 41, 50, 63])
        for (const flags of [0, 0x10, 0x20, 0x30, 0x40, 0x60]) out.push({ data: withParams(v4, off, flags) });
      out.push({ data: withParams(ipv4({ proto: 17, dport: 9, payload: 4 }), 40, 0x20) });
      break;
    case 'skb_head':
      for (const room of [0, 1, 14, 64, 200, 255]) out.push({ data: withParams(v4, room) });
      break;
  }
  return out;
}

const refused = isRootLinux ? await refusedByKernel(parseObject(readFileSync(await compileC(SRC)), SRC)) : new Map();

describe.skipIf(!isRootLinux)('helper edge cases: emulator vs kernel (needs root on Linux)', () => {
  beforeAll(() => pinToCpu0());
  afterAll(() => rmSync(PIN_ROOT, { recursive: true, force: true }));

  // where the machine cannot: this kernel refuses the program (a helper it does not offer the type)
  for (const [prog, helpers] of refused) it.skip(`${refusalReason(prog, helpers)}: not compared`, () => {});

  it('same helper results, packets and verdicts on kernel, JIT and interpreter', async () => {
    const spec = parseObject(readFileSync(await compileC(SRC)), SRC);
    expect(spec.programs.map((p) => p.name).sort()).toEqual(
      ['adj_head', 'adj_meta', 'adj_tail', 'csum_probe', 'csum_replace', 'skb_bytes', 'skb_head', 'skb_room', 'skb_tail'],
    );
    const perRun: string[] = [];
    let n = 0;
    const { diffs, runs } = await diffObject(spec, PIN_ROOT, inputsFor, (objs) => {
      const [k, ...e] = resultsSnapshot(objs);
      n++;
      e.forEach((s, i) => {
        if (s !== k) perRun.push(`run ${n} ${i === 0 ? 'jit' : 'interpreter'}: results ${s} != kernel ${k}`);
      });
    });
    // every input of every program the kernel can load, on both engines
    const want = spec.programs.filter((p) => !refused.has(p.name)).reduce((n, p) => n + inputsFor(p.name).length * 2, 0);
    expect(runs).toBe(want);
    expect(runs).toBeGreaterThan(450);
    expect([...diffs, ...perRun].slice(0, 12)).toEqual([]);
  }, 180_000);
});
