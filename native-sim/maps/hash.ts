/**
 * BPF_MAP_TYPE_HASH (and the shared machinery of percpu_hash, lru_hash and lru_percpu_hash).
 *
 * Semantics follow kernel/bpf/hashtab.c: at most max_entries elements; inserting a new key into a
 * full map fails with E2BIG (MapError MAP_FULL); BPF_NOEXIST on a present key → EEXIST, BPF_EXIST
 * on a missing key → ENOENT. Iteration order is insertion order (stable: deleting or replacing
 * other keys never reorders the rest); a `nextKey` with a key that is not in the map restarts at
 * the first key, as the kernel does. Replacing a value copies it in place, so a pointer a program
 * obtained from lookup sees the new value (the kernel swaps elements; programs cannot tell apart
 * except through such stale pointers).
 */
import type { MapSpec } from '../../lib/spec/index.js';
import { type Region, RegionKind } from '../memory/index.js';
import { Errno, SimMap, copyIn, keyIdentity, retireRegion, roundUp8, type SimMapOptions } from './base.js';

/** Maps with at most this many entries are searched by comparing keys, without hashing. */
const SCAN_ENTRIES = 4;

export interface HashEntry {
  key: Uint8Array;
  /** All CPUs' values back to back, stride roundUp8(valueSize) (one slot for non-per-CPU maps). */
  store: Uint8Array;
  /** Per-CPU live views of exactly valueSize bytes (index 0 only for non-per-CPU maps). */
  views: Uint8Array[];
  prev: HashEntry | null;
  next: HashEntry | null;
  lruPrev: HashEntry | null;
  lruNext: HashEntry | null;
  /** The value's region, created on the first program lookup. */
  region: Region | null;
  /** keyHash of the key (keys over 2 bytes; 0 otherwise). */
  hash: number;
}

export interface HashOptions {
  percpu: boolean;
  lru: boolean;
}

export class HashMap extends SimMap {
  protected readonly table = new Map<number | string, HashEntry>();
  protected head: HashEntry | null = null;
  protected tail: HashEntry | null = null;
  /** LRU list: lruHead = least recently used. */
  protected lruHead: HashEntry | null = null;
  protected lruTail: HashEntry | null = null;
  readonly percpu: boolean;
  readonly lru: boolean;
  protected readonly slots: number;
  protected readonly stride: number;
  /**
   * Keys of 1 or 2 bytes: entries indexed directly by the key value (no hashing on lookups).
   * Read by the JIT's inline lookups of plain (not LRU, not per-CPU) hash maps.
   */
  readonly direct: (HashEntry | undefined)[] | null;
  /**
   * Keys over 2 bytes: program lookups go through an open-addressing index (linear probing, at
   * most half full) of the entries by keyHash, comparing key bytes in place: no key identity
   * (number or string) to build and no Map lookup. `ixE[i]` is the entry in slot i (null: empty),
   * `ixH[i]` its hash; the capacity is a power of 2.
   */
  protected readonly indexed: boolean;
  private ixE: (HashEntry | null)[] = [];
  private ixH: Int32Array = new Int32Array(0);
  private ixMask = -1;

  constructor(spec: MapSpec, opts: SimMapOptions, hopts: HashOptions = { percpu: false, lru: false }) {
    super(spec, opts);
    this.percpu = hopts.percpu;
    this.lru = hopts.lru;
    this.slots = this.percpu ? this.nCpus : 1;
    this.stride = roundUp8(spec.valueSize);
    this.direct = spec.keySize <= 2 ? new Array<HashEntry | undefined>(spec.keySize === 1 ? 256 : 65536).fill(undefined) : null;
    this.indexed = spec.keySize > 2;
    if (this.indexed) this.ixResize(16);
  }

  // ---- program-side index (keys over 2 bytes) ------------------------------------------------

  private ixResize(cap: number): void {
    const old = this.ixE;
    this.ixE = new Array<HashEntry | null>(cap).fill(null);
    this.ixH = new Int32Array(cap);
    this.ixMask = cap - 1;
    for (const e of old) if (e !== null) this.ixPut(e);
  }

  private ixPut(e: HashEntry): void {
    const m = this.ixMask;
    let i = e.hash & m;
    while (this.ixE[i] !== null) i = (i + 1) & m;
    this.ixE[i] = e;
    this.ixH[i] = e.hash;
  }

  private ixAdd(e: HashEntry): void {
    if ((this.table.size + 1) * 2 > this.ixE.length) this.ixResize(this.ixE.length * 2);
    this.ixPut(e);
  }

  /** Remove `e` from the index (backward-shift deletion: no tombstones). */
  private ixRemove(e: HashEntry): void {
    const m = this.ixMask;
    const E = this.ixE;
    let i = e.hash & m;
    while (E[i] !== e) {
      if (E[i] === null) return;
      i = (i + 1) & m;
    }
    // move later members of the probe run into the hole when their home slot allows it
    for (let j = (i + 1) & m; E[j] !== null; j = (j + 1) & m) {
      const home = this.ixH[j]! & m;
      // j's entry may fill the hole at i unless its home lies cyclically in (i, j]
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        E[i] = E[j]!;
        this.ixH[i] = this.ixH[j]!;
        i = j;
      }
    }
    E[i] = null;
  }

  get size(): number {
    return this.table.size;
  }

  override userValueSize(): number {
    return this.percpu ? this.nCpus * this.stride : this.info.valueSize;
  }

  // ---- list maintenance ----------------------------------------------------------------------

  private link(e: HashEntry): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail) this.tail.next = e;
    else this.head = e;
    this.tail = e;
  }

  private unlink(e: HashEntry): void {
    if (e.prev) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = e.next = null;
  }

  private lruUnlink(e: HashEntry): void {
    if (e.lruPrev) e.lruPrev.lruNext = e.lruNext;
    else if (this.lruHead === e) this.lruHead = e.lruNext;
    if (e.lruNext) e.lruNext.lruPrev = e.lruPrev;
    else if (this.lruTail === e) this.lruTail = e.lruPrev;
    e.lruPrev = e.lruNext = null;
  }

  /** Mark `e` most recently used. */
  protected touch(e: HashEntry): void {
    if (!this.lru || this.lruTail === e) return;
    this.lruUnlink(e);
    e.lruPrev = this.lruTail;
    if (this.lruTail) this.lruTail.lruNext = e;
    else this.lruHead = e;
    this.lruTail = e;
  }

  private newEntry(kb: Uint8Array, koff: number): HashEntry {
    const ks = this.info.keySize;
    const store = new Uint8Array(this.stride * this.slots);
    const views: Uint8Array[] = [];
    for (let c = 0; c < this.slots; c++) views.push(store.subarray(c * this.stride, c * this.stride + this.info.valueSize));
    const hash = this.indexed ? keyHash(kb, koff, ks) : 0;
    return { key: kb.slice(koff, koff + ks), store, views, prev: null, next: null, lruPrev: null, lruNext: null, region: null, hash };
  }

  private remove(id: number | string, e: HashEntry): void {
    this.table.delete(id);
    if (this.direct !== null) this.direct[id as number] = undefined;
    if (this.indexed) this.ixRemove(e);
    this.unlink(e);
    if (this.lru) this.lruUnlink(e);
    if (e.region !== null) {
      retireRegion(this.space, e.region);
      e.region = null;
    }
  }

  // ---- core operations (return 0 / -errno) ----------------------------------------------------

  /**
   * Insert or replace. `vb` holds either one value (`allCpus` false: written to `cpu`, other CPUs
   * of a new per-CPU element zeroed) or nCpus × stride bytes (`allCpus`).
   */
  protected doUpdate(kb: Uint8Array, koff: number, vb: Uint8Array, voff: number, flags: number, cpu: number, allCpus: boolean): number {
    const f = flags & ~4; // BPF_F_LOCK: values carry no spin lock we would need to preserve
    if (f > 2) return -Errno.EINVAL;
    const id = keyIdentity(kb, koff, this.info.keySize);
    let e = this.table.get(id);
    if (e) {
      if (f === 1) return -Errno.EEXIST;
    } else {
      if (f === 2) return -Errno.ENOENT;
      if (this.table.size >= this.info.maxEntries) {
        if (!this.lru || !this.lruHead) return -Errno.E2BIG;
        const victim = this.lruHead;
        this.remove(keyIdentity(victim.key, 0, this.info.keySize), victim);
      }
      e = this.newEntry(kb, koff);
      if (this.indexed) this.ixAdd(e);
      this.table.set(id, e);
      if (this.direct !== null) this.direct[id as number] = e;
      this.link(e);
    }
    const vs = this.info.valueSize;
    if (allCpus && this.percpu) {
      copyIn(e.store, 0, vb, voff, this.slots * this.stride);
    } else if (this.percpu) {
      copyIn(e.views[cpu]!, 0, vb, voff, vs);
    } else {
      copyIn(e.views[0]!, 0, vb, voff, vs);
    }
    this.touch(e);
    return 0;
  }

  protected doDelete(kb: Uint8Array, koff: number): number {
    const id = keyIdentity(kb, koff, this.info.keySize);
    const e = this.table.get(id);
    if (!e) return -Errno.ENOENT;
    this.remove(id, e);
    return 0;
  }

  /** Entry for a key, without touching LRU state. */
  entry(kb: Uint8Array, koff: number): HashEntry | undefined {
    return this.table.get(keyIdentity(kb, koff, this.info.keySize));
  }

  // ---- program side -----------------------------------------------------------------------------

  /** Entry for a key of more than 2 bytes through the index (no allocation). */
  protected indexedEntry(kb: Uint8Array, koff: number): HashEntry | undefined {
    const ks = this.info.keySize;
    if (this.table.size <= SCAN_ENTRIES) {
      // a few entries (VIP tables, config maps): comparing keys costs less than hashing one
      for (let e = this.head; e !== null; e = e.next) {
        const k = e.key;
        let j = 0;
        while (j < ks && k[j] === kb[koff + j]) j++;
        if (j === ks) return e;
      }
      return undefined;
    }
    const h = keyHash(kb, koff, ks);
    const m = this.ixMask;
    const E = this.ixE;
    const H = this.ixH;
    outer: for (let i = h & m; ; i = (i + 1) & m) {
      const e = E[i]!;
      if (e === null) return undefined;
      if (H[i] !== h) continue;
      const k = e.key;
      for (let j = 0; j < ks; j++) if (k[j] !== kb[koff + j]) continue outer;
      return e;
    }
  }

  progLookup(kb: Uint8Array, koff: number, cpu: number): Uint8Array | null {
    const e = this.indexed ? this.indexedEntry(kb, koff) : this.table.get(keyIdentity(kb, koff, this.info.keySize));
    if (e === undefined) return null;
    if (this.lru) this.touch(e);
    return this.percpu ? e.views[cpu]! : e.views[0]!;
  }

  override progLookupRegion(kb: Uint8Array, koff: number, cpu: number): Region | null {
    const d = this.direct;
    const e = d !== null
      ? d[this.info.keySize === 1 ? kb[koff]! : kb[koff]! | (kb[koff + 1]! << 8)]
      : this.indexed ? this.indexedEntry(kb, koff) : this.table.get(keyIdentity(kb, koff, this.info.keySize));
    if (e === undefined) return null;
    if (this.lru) this.touch(e);
    let r = e.region;
    if (r === null) {
      const kind: RegionKind = this.valueKind();
      if (this.percpu) {
        r = this.space.allocate(kind, `map ${this.info.name} value`).setBytes(e.store).configure(this.valuePerm, null, this.stride, this.info.valueSize);
      } else {
        r = this.space.add(kind, `map ${this.info.name} value`, e.views[0]!, this.valuePerm);
      }
      r.owner = this;
      e.region = r;
    }
    this.refOffset = this.percpu ? cpu * this.stride : 0;
    return r;
  }

  progUpdate(kb: Uint8Array, koff: number, vb: Uint8Array, voff: number, flags: number, cpu: number): number {
    return this.doUpdate(kb, koff, vb, voff, flags, cpu, false);
  }

  progDelete(kb: Uint8Array, koff: number): number {
    return this.doDelete(kb, koff);
  }

  /** bpf_map_lookup_percpu_elem. */
  progLookupPercpu(kb: Uint8Array, koff: number, cpu: number): Uint8Array | null {
    if (!this.percpu || cpu >= this.nCpus) return null;
    const e = this.table.get(keyIdentity(kb, koff, this.info.keySize));
    return e ? e.views[cpu]! : null;
  }

  override forEachElem(cpu: number, cb: (key: Uint8Array, value: Uint8Array) => number): number {
    let n = 0;
    for (let e = this.head; e; ) {
      const next = e.next;
      n++;
      if (cb(e.key, this.percpu ? e.views[cpu]! : e.views[0]!) !== 0) break;
      e = next;
    }
    return n;
  }

  // ---- user space -------------------------------------------------------------------------------

  /** Per-CPU values go out with their padding bytes, as the kernel copies round_up(size, 8). */
  private userValue(e: HashEntry): Uint8Array {
    if (!this.percpu) return e.views[0]!.slice();
    return e.store.slice(0, this.nCpus * this.stride);
  }

  lookup(key: Uint8Array | null): Uint8Array | undefined {
    if (!key) this.fail('lookup', Errno.EINVAL, 'a hash map needs a key');
    const e = this.entry(key, 0);
    return e ? this.userValue(e) : undefined;
  }

  update(key: Uint8Array | null, value: Uint8Array, flags: number): void {
    if (!key) this.fail('update', Errno.EINVAL, 'a hash map needs a key');
    this.checkWritable('update');
    const r = this.doUpdate(key, 0, value, 0, flags, 0, true);
    if (r < 0) this.fail('update', -r, r === -Errno.E2BIG ? `map is full: max_entries ${this.info.maxEntries}` : undefined);
  }

  delete(key: Uint8Array): void {
    this.checkWritable('delete');
    const r = this.doDelete(key, 0);
    if (r < 0) this.fail('delete', -r);
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    if (key === undefined) return this.head?.key.slice();
    const e = this.entry(key, 0);
    if (!e) return this.head?.key.slice();
    return e.next?.key.slice();
  }

  override lookupAndDelete(key: Uint8Array | null): Uint8Array | undefined {
    if (!key) this.fail('lookup and delete', Errno.EINVAL, 'a hash map needs a key');
    this.checkWritable('lookup and delete');
    const id = keyIdentity(key, 0, this.info.keySize);
    const e = this.table.get(id);
    if (!e) return undefined;
    const v = this.userValue(e);
    this.remove(id, e);
    return v;
  }

  /** Every key in iteration order (copies). */
  keys(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let e = this.head; e; e = e.next) out.push(e.key.slice());
    return out;
  }
}

/**
 * 30-bit hash of `size` key bytes: each little-endian 32-bit word (then each tail byte) is
 * multiplied on its own and added to a rotated sum, so the multiplies do not wait on each other
 * (a short dependency chain), then the sum is mixed (murmur3's finaliser). Lookups compare the key
 * bytes in full; the hash only spreads keys over the index.
 */
export function keyHash(b: Uint8Array, off: number, size: number): number {
  let h = 0x811c9dc5 ^ size;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    const o = off + i;
    h = (((h << 7) | (h >>> 25)) + Math.imul(b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24), 0xcc9e2d51)) | 0;
  }
  for (; i < size; i++) h = (((h << 7) | (h >>> 25)) + Math.imul(b[off + i]! + 1, 0x1b873593)) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}
