/**
 * Out-of-line operations the JIT's generated code calls: 64-bit multiply/divide/shift on pairs of
 * int32 halves. Results go to `T` (vm.tmp): T[0] = lo, T[1] = hi. Semantics as RFC 9669 (div by
 * zero → 0, mod by zero → dividend, sdiv INT_MIN/-1 = INT_MIN, smod INT_MIN/-1 = 0).
 */

/** High 32 bits of the unsigned 64-bit product of two u32 (as int32). */
function mulhu(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

export function mul64(T: Int32Array, al: number, ah: number, bl: number, bh: number): void {
  T[0] = Math.imul(al, bl);
  T[1] = (mulhu(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
}

function big(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function put(T: Int32Array, v: bigint): void {
  T[0] = Number(BigInt.asIntN(32, v));
  T[1] = Number(BigInt.asIntN(32, v >> 32n));
}

export function udiv64(T: Int32Array, al: number, ah: number, bl: number, bh: number): void {
  if (bl === 0 && bh === 0) {
    T[0] = 0;
    T[1] = 0;
  } else if (ah === 0 && bh === 0) {
    T[0] = ((al >>> 0) / (bl >>> 0)) | 0;
    T[1] = 0;
  } else {
    put(T, big(al, ah) / big(bl, bh));
  }
}

export function umod64(T: Int32Array, al: number, ah: number, bl: number, bh: number): void {
  if (bl === 0 && bh === 0) {
    T[0] = al;
    T[1] = ah;
  } else if (ah === 0 && bh === 0) {
    T[0] = ((al >>> 0) % (bl >>> 0)) | 0;
    T[1] = 0;
  } else {
    put(T, big(al, ah) % big(bl, bh));
  }
}

export function sdiv64(T: Int32Array, al: number, ah: number, bl: number, bh: number): void {
  if (bl === 0 && bh === 0) {
    T[0] = 0;
    T[1] = 0;
  } else if (ah === al >> 31 && bh === bl >> 31) {
    const q = Math.trunc(al / bl); // both fit in int32: exact; INT32_MIN / -1 = 2^31 fits in 64 bits
    T[0] = q | 0;
    T[1] = q < 0 ? -1 : 0;
  } else {
    put(T, BigInt.asIntN(64, big(al, ah)) / BigInt.asIntN(64, big(bl, bh)));
  }
}

export function smod64(T: Int32Array, al: number, ah: number, bl: number, bh: number): void {
  if (bl === 0 && bh === 0) {
    T[0] = al;
    T[1] = ah;
  } else if (ah === al >> 31 && bh === bl >> 31) {
    const m = (al % bl) | 0;
    T[0] = m;
    T[1] = m >> 31;
  } else {
    put(T, BigInt.asIntN(64, big(al, ah)) % BigInt.asIntN(64, big(bl, bh)));
  }
}

/** Shift by a register amount `n` (already masked to 0..63). kind: 0 lsh, 1 rsh, 2 arsh. */
export function shift64(T: Int32Array, kind: number, l: number, h: number, n: number): void {
  if (n === 0) {
    T[0] = l;
    T[1] = h;
  } else if (kind === 0) {
    if (n < 32) {
      T[1] = (h << n) | (l >>> (32 - n));
      T[0] = l << n;
    } else {
      T[1] = l << (n - 32);
      T[0] = 0;
    }
  } else if (kind === 1) {
    if (n < 32) {
      T[0] = (l >>> n) | (h << (32 - n));
      T[1] = (h >>> n) | 0;
    } else {
      T[0] = (h >>> (n - 32)) | 0;
      T[1] = 0;
    }
  } else if (n < 32) {
    T[0] = (l >>> n) | (h << (32 - n));
    T[1] = h >> n;
  } else {
    T[0] = h >> (n - 32);
    T[1] = h >> 31;
  }
}

export function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}
