import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../lib/errors.js';
import { buildMaglevRing, EMPTY_SLOT, isPrime, ringDiff, type MaglevBackend } from './maglev.js';

const M = 65537;

function backends(n: number, weight: (i: number) => number = () => 1): MaglevBackend[] {
  return Array.from({ length: n }, (_, i) => ({ id: i, identity: new Uint8Array([10, 1, (i >> 8) & 255, i & 255]), weight: weight(i) }));
}

function shares(ring: Uint32Array): Map<number, number> {
  const c = new Map<number, number>();
  for (const x of ring) c.set(x, (c.get(x) ?? 0) + 1);
  return c;
}

describe('maglev ring', () => {
  it('gives 100 equal backends each their share within 1%', () => {
    const b = backends(100);
    const c = shares(buildMaglevRing(b, M));
    expect(c.has(EMPTY_SLOT)).toBe(false);
    for (const x of b) expect(Math.abs((c.get(x.id) ?? 0) / M - 1 / 100) / (1 / 100)).toBeLessThan(0.01);
  });

  it('gives 100 weighted backends (weights 1..4) their weight share within 1%', () => {
    const b = backends(100, (i) => 1 + (i % 4));
    const total = b.reduce((s, x) => s + x.weight, 0);
    const c = shares(buildMaglevRing(b, M));
    for (const x of b) {
      const want = x.weight / total;
      expect(Math.abs((c.get(x.id) ?? 0) / M - want) / want).toBeLessThan(0.01);
    }
  });

  it('moves at most 2.5% of slots beyond the removed backend when 1 of 100 goes', () => {
    const b = backends(100);
    const before = buildMaglevRing(b, M);
    for (const gone of [0, 37, 99]) {
      const after = buildMaglevRing(b.filter((x) => x.id !== gone), M);
      let extra = 0;
      for (let i = 0; i < M; i++) if (before[i] !== gone && before[i] !== after[i]) extra++;
      expect(extra / M).toBeLessThanOrEqual(0.025);
      expect(after.includes(gone)).toBe(false);
    }
  });

  it('does not depend on the order backends are listed in', () => {
    const b = backends(20, (i) => 1 + (i % 3));
    expect(buildMaglevRing([...b].reverse(), 251)).toEqual(buildMaglevRing(b, 251));
  });

  it('leaves every slot empty with no backends and skips zero weights', () => {
    expect(buildMaglevRing([], 7).every((x) => x === EMPTY_SLOT)).toBe(true);
    const r = buildMaglevRing([{ id: 1, identity: new Uint8Array([1]), weight: 0 }, { id: 2, identity: new Uint8Array([2]), weight: 5 }], 13);
    expect(r.every((x) => x === 2)).toBe(true);
  });

  it('rejects a ring size that is not prime', () => {
    expect(() => buildMaglevRing(backends(3), 65536)).toThrow(ArgumentError);
    expect(isPrime(65537)).toBe(true);
    expect(isPrime(65535)).toBe(false);
  });

  it('lists exactly the changed slots', () => {
    const a = buildMaglevRing(backends(10), 101);
    const b = buildMaglevRing(backends(11), 101);
    const d = ringDiff(a, b);
    expect(d.length).toBeGreaterThan(0);
    for (let i = 0; i < 101; i++) expect(d.includes(i)).toBe(a[i] !== b[i]);
  });
});
