/**
 * BPF_MAP_TYPE_LRU_HASH and BPF_MAP_TYPE_LRU_PERCPU_HASH.
 *
 * The kernel's LRU is approximate (per-CPU free lists, an active/inactive list pair and a
 * reference bit set by program lookups; it may evict before the map is completely full). The
 * emulator implements an exact LRU over the same signals, which is what programs may rely on:
 * - an element becomes most recently used when a program looks it up, or when anyone inserts or
 *   replaces it (the kernel allocates a fresh node on every update);
 * - user-space lookups and iteration do not change recency (the kernel's `_sys` lookup does not
 *   set the reference bit);
 * - inserting a new key into a full map evicts exactly the least recently used element, so a
 *   full LRU map never fails with E2BIG and holds exactly max_entries elements.
 */
import type { MapSpec } from '../../lib/spec/index.js';
import type { SimMapOptions } from './base.js';
import { HashMap } from './hash.js';

export class LruHashMap extends HashMap {
  constructor(spec: MapSpec, opts: SimMapOptions, percpu = false) {
    super(spec, opts, { percpu, lru: true });
  }

  /** Keys from least to most recently used (for tests and diagnostics). */
  recencyOrder(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let e = this.lruHead; e; e = e.lruNext) out.push(e.key.slice());
    return out;
  }
}

export class LruPercpuHashMap extends LruHashMap {
  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts, true);
  }
}
