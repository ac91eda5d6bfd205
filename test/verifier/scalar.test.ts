// The verifier's scalar sync has a number-arithmetic path for states that fit in 32 bits
// (sync32); it must give exactly what the bigint path (syncWide) gives, on valid and on
// contradictory (empty-range) states alike.
import { describe, expect, it } from 'vitest';
import { Scalar } from '../../native-sim/verifier/scalar.js';
import { mulberry32 } from '../emulator/packets.js';

/** test/emulator/packets.ts's mulberry32 as u32 values (its fractions times 2^32 are exact). */
function rng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() * 4294967296;
}

const FIELDS = ['tv', 'tm', 'smin', 'smax', 'umin', 'umax', 's32min', 's32max', 'u32min', 'u32max'] as const;

function snapshot(s: Scalar): unknown[] {
  return FIELDS.map((f) => s[f]);
}

describe('Scalar.sync', () => {
  it('sync32 equals syncWide on 200k random states that fit in 32 bits', () => {
    const r = rng(7);
    // values near the interesting edges as well as uniform ones
    const pick = (): number => {
      switch (r() % 6) {
        case 0: return r() & 0xff;
        case 1: return 0xffffffff - (r() & 0xff);
        case 2: return 0x80000000 + (r() & 0xff) - 0x80;
        case 3: return (1 << (r() % 32)) >>> 0;
        default: return r();
      }
    };
    let fast = 0;
    for (let i = 0; i < 200_000; i++) {
      const a = new Scalar();
      const tm = r() % 4 === 0 ? (r() & 0xff) : pick();
      const tv = (pick() & ~tm) >>> 0;
      a.tv = BigInt(tv);
      a.tm = BigInt(tm);
      const [u1, u2] = [pick(), pick()];
      a.umin = BigInt(Math.min(u1, u2));
      a.umax = BigInt(r() % 10 === 0 ? Math.min(u1, u2) : Math.max(u1, u2)); // some empty ranges
      const [t1, t2] = [pick(), pick()];
      a.smin = BigInt(Math.min(t1, t2));
      a.smax = BigInt(Math.max(t1, t2));
      const [x1, x2] = [pick(), pick()];
      a.u32min = Math.min(x1, x2);
      a.u32max = Math.max(x1, x2);
      const [y1, y2] = [pick() | 0, pick() | 0];
      a.s32min = Math.min(y1, y2);
      a.s32max = Math.max(y1, y2);
      const b = new Scalar();
      b.copyScalar(a);
      const c = new Scalar();
      c.copyScalar(a);
      a.sync32();
      b.syncWide();
      c.sync();
      expect(snapshot(a), `state ${i}`).toEqual(snapshot(b));
      expect(snapshot(c), `state ${i}`).toEqual(snapshot(b));
      if (tm !== 0) fast++;
    }
    expect(fast).toBeGreaterThan(150_000);
  });

  it('sync keeps the bigint path for states with upper bits or negative bounds', () => {
    const a = new Scalar();
    a.tv = 0n; a.tm = (1n << 40n) - 1n; a.umin = 5n; a.umax = 1n << 39n; a.smin = -3n; a.smax = 1n << 39n;
    const b = new Scalar();
    b.copyScalar(a);
    a.sync();
    b.syncWide();
    expect(snapshot(a)).toEqual(snapshot(b));
    expect(a.umin).toBe(5n);
    expect(a.smin).toBe(5n);
  });
});
