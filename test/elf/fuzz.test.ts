/**
 * Seeded, time-bounded mutation fuzzing of parseObject over every test object: the only
 * outcomes allowed are a spec or a typed BpfError (never a TypeError/RangeError, hang or crash).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BpfError } from '../../lib/errors.js';
import { parseObject } from '../../lib/elf/index.js';
import { allObjects, prng } from './util.js';

const SEED = Number(process.env.BPFKIT_FUZZ_SEED ?? 0xb9f);
const BUDGET_MS = Number(process.env.BPFKIT_FUZZ_MS ?? 8000);

let corpus: { name: string; bytes: Uint8Array }[] = [];
beforeAll(async () => {
  corpus = (await allObjects()).map((o) => ({ name: o.name, bytes: new Uint8Array(readFileSync(o.path)) }));
});

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const b = src.slice();
  const dv = new DataView(b.buffer);
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const m = rnd();
    const pos = Math.floor(rnd() * b.length);
    if (m < 0.3) b[pos] = Math.floor(rnd() * 256);
    else if (m < 0.45) b[pos] ^= 1 << Math.floor(rnd() * 8);
    else if (m < 0.6) {
      const v = [0, 0xff, 0x7f, 0x80, 1][Math.floor(rnd() * 5)]!;
      for (let i = 0; i < 4 && pos + i < b.length; i++) b[pos + i] = v;
    } else if (m < 0.9) {
      // Inside a random section's data (BTF, relocations, symbols, code ...), or its header.
      if (b.length < 64) continue;
      const shoff = Number(dv.getBigUint64(40, true));
      const shnum = dv.getUint16(60, true);
      const h = shoff + Math.floor(rnd() * Math.max(shnum, 1)) * 64;
      if (h + 64 > b.length) continue;
      if (m < 0.8) {
        const off = Number(dv.getBigUint64(h + 24, true));
        const size = Number(dv.getBigUint64(h + 32, true));
        const p = off + Math.floor(rnd() * Math.min(size, 1 << 16));
        if (p < b.length) b[p] = Math.floor(rnd() * 256);
      } else {
        b[h + Math.floor(rnd() * 64)] = Math.floor(rnd() * 256);
      }
    } else {
      return b.slice(0, pos);
    }
  }
  return b;
}

describe('parseObject mutation fuzz', () => {
  it(`gives only specs or typed errors (seed ${SEED}, ${BUDGET_MS} ms)`, () => {
    const rnd = prng(SEED);
    let ok = 0;
    let typed = 0;
    const untyped: string[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < BUDGET_MS) {
      const item = corpus[Math.floor(rnd() * corpus.length)]!;
      const b = mutate(item.bytes, rnd);
      try {
        const spec = parseObject(b, item.name);
        // Linked code is built on first read: read it, so link-time checks are fuzzed too.
        for (const p of spec.programs) if (p.instructions.length % 8 !== 0) throw new Error(`${p.name}: ragged instructions`);
        ok++;
      } catch (e) {
        if (e instanceof BpfError) typed++;
        else if (untyped.length < 5) untyped.push(`${item.name}: ${(e as Error)?.stack ?? String(e)}`);
      }
    }
    expect(untyped).toEqual([]);
    // Both outcomes must actually occur, or the fuzzer is not exercising the reader.
    expect(ok).toBeGreaterThan(100);
    expect(typed).toBeGreaterThan(100);
  });
});
