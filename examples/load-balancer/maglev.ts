/**
 * Weighted Maglev consistent hashing (Eisenbud et al., NSDI '16), computed in the control plane.
 *
 * Every backend has a preference list over the M ring slots, a permutation given by an offset
 * and a skip derived from its identity. Backends take turns claiming their next free preferred
 * slot until the ring is full. For weights, each backend earns `weight` credits per round and
 * claims one slot for every `maxWeight` credits, so its share of the ring tracks its share of the
 * total weight while keeping Maglev's minimal disruption.
 *
 * M must be prime so every skip in 1..M-1 generates a full permutation.
 */
import { ArgumentError } from '../../lib/errors.js';
import { hashBytes } from './hash.js';

export const EMPTY_SLOT = 0xffffffff;

export interface MaglevBackend {
  /** The value stored in ring slots for this backend (its backend index in the data plane). */
  id: number;
  /** Stable identity (e.g. the address bytes) that decides the backend's permutation. */
  identity: Uint8Array;
  weight: number;
}

const OFFSET_SEED = 0x2a8b5d13;
const SKIP_SEED = 0x7f4a7c15;

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/**
 * Build the ring. Backends are processed in order of identity bytes so that the result does not
 * depend on the order the caller lists them in. Zero-weight backends get no slots; with no
 * (positive-weight) backends every slot is EMPTY_SLOT.
 */
export function buildMaglevRing(backends: readonly MaglevBackend[], m: number): Uint32Array {
  if (!isPrime(m)) throw new ArgumentError(`maglev: ring size ${m} is not prime`);
  const ring = new Uint32Array(m).fill(EMPTY_SLOT);
  const live = backends.filter((b) => b.weight > 0).sort((a, b) => compareBytes(a.identity, b.identity));
  const n = live.length;
  if (n === 0) return ring;

  const pos = new Float64Array(n);
  const skip = new Float64Array(n);
  const credit = new Float64Array(n);
  const weight = new Float64Array(n);
  let maxWeight = 0;
  for (let i = 0; i < n; i++) {
    const b = live[i]!;
    pos[i] = hashBytes(b.identity, OFFSET_SEED) % m;
    skip[i] = (hashBytes(b.identity, SKIP_SEED) % (m - 1)) + 1;
    weight[i] = b.weight;
    if (b.weight > maxWeight) maxWeight = b.weight;
  }

  let filled = 0;
  for (;;) {
    for (let i = 0; i < n; i++) {
      credit[i]! += weight[i]!;
      while (credit[i]! >= maxWeight) {
        credit[i]! -= maxWeight;
        let p = pos[i]!;
        while (ring[p] !== EMPTY_SLOT) p = (p + skip[i]!) % m;
        ring[p] = live[i]!.id;
        pos[i] = (p + skip[i]!) % m;
        if (++filled === m) return ring;
      }
    }
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Slots whose value differs between two rings of the same size: what a ring update must write. */
export function ringDiff(before: Uint32Array, after: Uint32Array): number[] {
  if (before.length !== after.length) throw new ArgumentError('maglev: rings differ in size');
  const changed: number[] = [];
  for (let i = 0; i < after.length; i++) if (before[i] !== after[i]) changed.push(i);
  return changed;
}
