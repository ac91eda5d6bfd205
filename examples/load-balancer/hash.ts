/**
 * The load balancer's hash functions. The data plane (lb.bpf.c) implements `flowHash` with the
 * same arithmetic, so the control plane can predict which backend a flow lands on.
 *
 * A 32-bit multiply-xorshift hash over 32-bit words (murmur3's mixing steps). All arithmetic is
 * done with Math.imul and `>>> 0`, which is exactly C's uint32_t arithmetic.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixWord(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, lenBytes: number): number {
  h ^= lenBytes;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a sequence of 32-bit words (each taken as a uint32). */
export function hashWords(words: ArrayLike<number>, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < words.length; i++) h = mixWord(h, words[i]! | 0);
  return finish(h, words.length * 4);
}

/** Hash of bytes, padded with zeros to a multiple of 4 and read as little-endian words. */
export function hashBytes(bytes: Uint8Array, seed: number): number {
  const n = (bytes.length + 3) >>> 2;
  const words = new Uint32Array(n);
  for (let i = 0; i < bytes.length; i++) words[i >>> 2]! |= bytes[i]! << ((i & 3) * 8);
  return hashWords(words, seed);
}

/** Seed of the flow hash; the data plane uses the same constant. */
export const FLOW_HASH_SEED = 0x5bd1e995;
