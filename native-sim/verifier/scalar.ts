/**
 * Scalar abstract domain of the verifier, after the kernel's model (kernel/bpf/tnum.c and the
 * bounds logic of kernel/bpf/verifier.c): a tnum (known bits: `value`, unknown bits: `mask`)
 * plus signed/unsigned 64-bit and 32-bit min/max. 64-bit quantities are unsigned bigints in
 * [0, 2^64) for tnums and u64 bounds, signed bigints for s64 bounds; 32-bit bounds are numbers.
 *
 * Every transfer function here is at most as precise as the kernel's: being more precise than the
 * kernel would make the emulator accept programs the kernel rejects.
 */

export const U64 = (1n << 64n) - 1n;
export const S64_MAX = (1n << 63n) - 1n;
export const S64_MIN = -(1n << 63n);
export const U32 = 0xffffffff;
export const S32_MAX = 0x7fffffff;
export const S32_MIN = -0x80000000;
const U32N = 0xffffffffn;
const SIGN64 = 1n << 63n;

export function toS64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}
export function toU64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

/** Fixed-shape scalar bounds; pointer registers use the same fields for their variable offset. */
export class Scalar {
  tv = 0n; // tnum value
  tm = U64; // tnum mask
  smin = S64_MIN;
  smax = S64_MAX;
  umin = 0n;
  umax = U64;
  s32min = S32_MIN;
  s32max = S32_MAX;
  u32min = 0;
  u32max = U32;

  setUnknown(): void {
    this.tv = 0n; this.tm = U64;
    this.smin = S64_MIN; this.smax = S64_MAX; this.umin = 0n; this.umax = U64;
    this.s32min = S32_MIN; this.s32max = S32_MAX; this.u32min = 0; this.u32max = U32;
  }

  setConst(v: bigint): void {
    const u = toU64(v);
    this.tv = u; this.tm = 0n;
    this.umin = this.umax = u;
    this.smin = this.smax = toS64(u);
    const lo = Number(u & U32N);
    this.u32min = this.u32max = lo;
    this.s32min = this.s32max = lo | 0;
  }

  copyScalar(o: Scalar): void {
    this.tv = o.tv; this.tm = o.tm;
    this.smin = o.smin; this.smax = o.smax; this.umin = o.umin; this.umax = o.umax;
    this.s32min = o.s32min; this.s32max = o.s32max; this.u32min = o.u32min; this.u32max = o.u32max;
  }

  isConst(): boolean {
    return this.tm === 0n;
  }
  isConst32(): boolean {
    return (this.tm & U32N) === 0n;
  }
  isZero(): boolean {
    return this.tm === 0n && this.tv === 0n;
  }
  isUnbounded(): boolean {
    return this.tm === U64 && this.smin === S64_MIN && this.smax === S64_MAX && this.umin === 0n && this.umax === U64;
  }

  /** Upper 32 bits become zero: the 64-bit view is the zero-extended 32-bit one. */
  zext32(): void {
    this.tv &= U32N; this.tm &= U32N;
    this.umin = BigInt(this.u32min); this.umax = BigInt(this.u32max);
    this.smin = this.umin; this.smax = this.umax;
    if (this.s32min >= 0) {
      // signed 32 range within [0, 2^31): nothing to add
    }
    this.sync();
  }

  /** The kernel's reg_bounds_sync: tnum ↔ bounds, signed ↔ unsigned, 32 ↔ 64. */
  sync(): void {
    if (this.tm === 0n) {
      this.setConst(this.tv);
      return;
    }
    // the common case after 32-bit ALU ops: upper 32 bits known zero, every bound in [0, 2^32)
    if (this.tv <= U32N && this.tm <= U32N && this.umin <= U32N && this.umax <= U32N && this.smin >= 0n && this.smax <= U32N) {
      this.sync32();
      return;
    }
    this.syncWide();
  }

  /** sync() on bigints: any state. (Public so tests can hold sync32() against it.) */
  syncWide(): void {
    if (this.tm === 0n) {
      this.setConst(this.tv);
      return;
    }
    for (let pass = 0; pass < 2; pass++) {
      const tv = this.tv, tm = this.tm, smin = this.smin, smax = this.smax, umin = this.umin, umax = this.umax;
      const s32min = this.s32min, s32max = this.s32max, u32min = this.u32min, u32max = this.u32max;
      this.updateFromTnum();
      this.deduce32();
      this.deduce64();
      this.deduceMixed();
      this.tnumFromBounds();
      // a pass that changed nothing is a fixed point: the second would change nothing either
      if (tv === this.tv && tm === this.tm && smin === this.smin && smax === this.smax && umin === this.umin &&
        umax === this.umax && s32min === this.s32min && s32max === this.s32max && u32min === this.u32min &&
        u32max === this.u32max) break;
    }
  }

  /**
   * sync() for a state whose tnum has no bits above 32 and whose 64-bit bounds all lie in
   * [0, 2^32): the same steps as syncWide() in number arithmetic (every quantity fits in 32 bits;
   * the 64-bit bounds stay non-negative and below 2^32 through every step), bigints written back
   * once. Equal to syncWide() on every such state (test/verifier/scalar.test.ts).
   */
  sync32(): void {
    let v = Number(this.tv), m = Number(this.tm);
    if (m === 0) {
      this.setConst(this.tv);
      return;
    }
    const umin0 = Number(this.umin), umax0 = Number(this.umax), smin0 = Number(this.smin), smax0 = Number(this.smax);
    let umin = umin0, umax = umax0, smin = smin0, smax = smax0;
    for (let pass = 0; pass < 2; pass++) {
      const pv = v, pm = m, psmin = smin, psmax = smax, pumin = umin, pumax = umax;
      const ps32min = this.s32min, ps32max = this.s32max, pu32min = this.u32min, pu32max = this.u32max;
      // updateFromTnum: the 64-bit tnum is non-negative, so its signed and unsigned views agree
      const hiT = (v | m) >>> 0;
      if (v > smin) smin = v;
      if (hiT < smax) smax = hiT;
      if (v > umin) umin = v;
      if (hiT < umax) umax = hiT;
      this.bounds32FromTnum(v, m);
      this.deduce32();
      // deduce64 (both ranges non-negative: the conversions are the identity)
      if (umin <= umax) {
        if (umin > smin) smin = umin;
        if (umax < smax) smax = umax;
      }
      if (smin <= smax) {
        if (smin > umin) umin = smin;
        if (smax < umax) umax = smax;
      }
      // deduceMixed: the upper 32 bits of the u64 range are fixed (zero) and it is below 2^32
      this.bounds32From64(umin, umax);
      if (this.u32min > umin) umin = this.u32min;
      if (this.u32max < umax) umax = this.u32max;
      if (umin > smin) smin = umin;
      if (umax < smax) smax = umax;
      // tnumFromBounds
      const d = spanMask32(umin, umax);
      const mu = (m & d) >>> 0;
      const nv = ((v | (umin & ~d)) & ~mu) >>> 0;
      const d32 = spanMask32(this.u32min, this.u32max);
      const lowV = (nv | (this.u32min & ~d32)) >>> 0;
      const lowM = (mu & d32) >>> 0;
      v = (lowV & ~lowM) >>> 0;
      m = lowM;
      if (pv === v && pm === m && psmin === smin && psmax === smax && pumin === umin && pumax === umax &&
        ps32min === this.s32min && ps32max === this.s32max && pu32min === this.u32min && pu32max === this.u32max) break;
    }
    this.tv = BigInt(v);
    this.tm = BigInt(m);
    if (umin !== umin0) this.umin = BigInt(umin);
    if (umax !== umax0) this.umax = BigInt(umax);
    if (smin !== smin0) this.smin = smin === umin ? this.umin : BigInt(smin);
    if (smax !== smax0) this.smax = smax === umax ? this.umax : BigInt(smax);
  }

  private updateFromTnum(): void {
    const v = this.tv, m = this.tm;
    // 64-bit
    const sminT = toS64(v | (m & SIGN64));
    const smaxT = toS64(v | (m & S64_MAX));
    if (sminT > this.smin) this.smin = sminT;
    if (smaxT < this.smax) this.smax = smaxT;
    if (v > this.umin) this.umin = v;
    const umaxT = v | m;
    if (umaxT < this.umax) this.umax = umaxT;
    this.bounds32FromTnum(Number(v & U32N), Number(m & U32N));
  }

  /** The 32-bit bounds narrowed to what the low half of the tnum (v32, m32) allows. */
  private bounds32FromTnum(v32: number, m32: number): void {
    const s32minT = (v32 | (m32 & 0x80000000)) | 0;
    const s32maxT = (v32 | (m32 & 0x7fffffff)) | 0;
    if (s32minT > this.s32min) this.s32min = s32minT;
    if (s32maxT < this.s32max) this.s32max = s32maxT;
    if (v32 > this.u32min) this.u32min = v32;
    const u32maxT = (v32 | m32) >>> 0;
    if (u32maxT < this.u32max) this.u32max = u32maxT;
  }

  private deduce32(): void {
    // unsigned range not crossing the sign boundary → signed range
    if ((this.u32min | 0) <= (this.u32max | 0)) {
      const a = this.u32min | 0, b = this.u32max | 0;
      if (a > this.s32min) this.s32min = a;
      if (b < this.s32max) this.s32max = b;
    }
    // signed range of one sign → unsigned range
    if ((this.s32min >>> 0) <= (this.s32max >>> 0)) {
      const a = this.s32min >>> 0, b = this.s32max >>> 0;
      if (a > this.u32min) this.u32min = a;
      if (b < this.u32max) this.u32max = b;
    }
  }

  private deduce64(): void {
    // (sign conversions only where the sign bit is set: no bigint allocation in the common case)
    const umin = this.umin, umax = this.umax;
    const sa = umin <= S64_MAX ? umin : toS64(umin), sb = umax <= S64_MAX ? umax : toS64(umax);
    if (sa <= sb) {
      if (sa > this.smin) this.smin = sa;
      if (sb < this.smax) this.smax = sb;
    }
    const smin = this.smin, smax = this.smax;
    const ua = smin >= 0n ? smin : toU64(smin), ub = smax >= 0n ? smax : toU64(smax);
    if (ua <= ub) {
      if (ua > this.umin) this.umin = ua;
      if (ub < this.umax) this.umax = ub;
    }
  }

  private deduceMixed(): void {
    // 64 → 32: when the upper 32 bits of the unsigned range are fixed, the low halves bound u32.
    if ((this.umin ^ this.umax) <= U32N) this.bounds32From64(Number(this.umin & U32N), Number(this.umax & U32N));
    // 32 → 64: when the upper 32 bits are known zero, the u32 range bounds the u64 range.
    if (this.umax <= U32N) {
      const a = BigInt(this.u32min), b = BigInt(this.u32max);
      if (a > this.umin) this.umin = a;
      if (b < this.umax) this.umax = b;
      if (this.umin > this.smin) this.smin = this.umin;
      if (this.umax < this.smax) this.smax = this.umax;
    }
  }

  /** The 32-bit bounds narrowed to the low halves [lo, hi] of a u64 range whose upper halves agree. */
  private bounds32From64(lo: number, hi: number): void {
    if (lo > this.u32min) this.u32min = lo;
    if (hi < this.u32max) this.u32max = hi;
    if ((lo | 0) <= (hi | 0)) {
      if ((lo | 0) > this.s32min) this.s32min = lo | 0;
      if ((hi | 0) < this.s32max) this.s32max = hi | 0;
    }
  }

  private tnumFromBounds(): void {
    const r = tnumRange(this.umin, this.umax);
    const v = this.tv | r.v;
    const mu = this.tm & r.m;
    const nv = v & ~mu & U64;
    // 32-bit part (number arithmetic: the values fit in 32 bits)
    const d32 = spanMask32(this.u32min, this.u32max);
    const r32v = BigInt((this.u32min & ~d32) >>> 0), r32m = BigInt(d32);
    const lowV = (nv & U32N) | r32v;
    const lowM = (mu & U32N) & r32m;
    this.tv = (nv & ~U32N & U64) | (lowV & ~lowM & U32N);
    this.tm = (mu & ~U32N & U64) | lowM;
  }

  /** Sanity: an empty range means this path is impossible. */
  isEmpty(): boolean {
    return this.umin > this.umax || this.smin > this.smax || this.u32min > this.u32max || this.s32min > this.s32max ||
      ((this.tv & this.tm) !== 0n);
  }
}

/** The low bits in which u32 values a and b may differ: tnum_range's mask, as an unsigned number. */
function spanMask32(a: number, b: number): number {
  const x = (a ^ b) >>> 0;
  const bits = x === 0 ? 0 : 32 - Math.clz32(x);
  return bits >= 32 ? 0xffffffff : ((1 << bits) >>> 0) - 1;
}

const rangeOut = { v: 0n, m: 0n };
/** Bit length of a non-negative bigint < 2^64. */
export function bitLength(x: bigint): number {
  if (x === 0n) return 0;
  if (x <= 0xffffffffn) return 32 - Math.clz32(Number(x));
  return 64 - Math.clz32(Number(x >> 32n));
}
export function tnumRange(min: bigint, max: bigint): { v: bigint; m: bigint } {
  if (min === 0n && max === U64) { rangeOut.v = 0n; rangeOut.m = U64; return rangeOut; }
  if (max <= U32N && min <= U32N) {
    // both ends fit in 32 bits: number arithmetic
    const a = Number(min);
    const d = spanMask32(a, Number(max));
    rangeOut.v = BigInt((a & ~d) >>> 0); rangeOut.m = BigInt(d);
    return rangeOut;
  }
  const chi = min ^ max;
  const bits = bitLength(chi);
  if (bits > 63) { rangeOut.v = 0n; rangeOut.m = U64; return rangeOut; }
  const delta = (1n << BigInt(bits)) - 1n;
  rangeOut.v = min & ~delta & U64; rangeOut.m = delta;
  return rangeOut;
}

// ---- tnum arithmetic (kernel tnum.c semantics) ----

export interface TnumOut { v: bigint; m: bigint }
const tmp: TnumOut = { v: 0n, m: 0n };

export function tnumAdd(av: bigint, am: bigint, bv: bigint, bm: bigint): TnumOut {
  const sm = (am + bm) & U64;
  const sv = (av + bv) & U64;
  const sigma = (sm + sv) & U64;
  const chi = sigma ^ sv;
  const mu = chi | am | bm;
  tmp.v = sv & ~mu & U64; tmp.m = mu;
  return tmp;
}

export function tnumSub(av: bigint, am: bigint, bv: bigint, bm: bigint): TnumOut {
  const dv = (av - bv) & U64;
  const alpha = (dv + am) & U64;
  const beta = (dv - bm) & U64;
  const chi = alpha ^ beta;
  const mu = chi | am | bm;
  tmp.v = dv & ~mu & U64; tmp.m = mu;
  return tmp;
}

export function tnumAnd(av: bigint, am: bigint, bv: bigint, bm: bigint): TnumOut {
  const alpha = av | am, beta = bv | bm;
  const v = av & bv;
  tmp.v = v; tmp.m = alpha & beta & ~v & U64;
  return tmp;
}

export function tnumOr(av: bigint, am: bigint, bv: bigint, bm: bigint): TnumOut {
  const v = av | bv;
  const mu = am | bm;
  tmp.v = v; tmp.m = mu & ~v & U64;
  return tmp;
}

export function tnumXor(av: bigint, am: bigint, bv: bigint, bm: bigint): TnumOut {
  const v = av ^ bv;
  const mu = am | bm;
  tmp.v = v & ~mu & U64; tmp.m = mu;
  return tmp;
}

/**
 * Kernel tnum_mul. Only the bits in `keep` are needed by the caller (U64, or 0xffffffff for 32-bit
 * ops): once those bits of the accumulated mask are all unknown they stay unknown, so stop early.
 */
export function tnumMul(av: bigint, am: bigint, bv: bigint, bm: bigint, keep: bigint = U64): TnumOut {
  // Half-multiply accumulation as in the kernel's tnum_mul.
  let accV = (av * bv) & U64;
  let accMv = 0n, accMm = 0n;
  let a_v = av, a_m = am, b_v = bv, b_m = bm;
  while (a_v !== 0n || a_m !== 0n) {
    if ((a_v & 1n) !== 0n) {
      const r = tnumAdd(accMv, accMm, 0n, b_m);
      accMv = r.v; accMm = r.m;
    } else if ((a_m & 1n) !== 0n) {
      const r = tnumAdd(accMv, accMm, 0n, b_v | b_m);
      accMv = r.v; accMm = r.m;
    }
    if ((accMm & keep) === keep) break;
    a_v >>= 1n; a_m >>= 1n;
    b_v = (b_v << 1n) & U64; b_m = (b_m << 1n) & U64;
  }
  const r = tnumAdd(accV, 0n, accMv, accMm);
  return r;
}

export function tnumIn(av: bigint, am: bigint, bv: bigint, bm: bigint): boolean {
  // is b a subset of a?
  if ((bm & ~am & U64) !== 0n) return false;
  return (bv & ~am & U64) === av;
}
