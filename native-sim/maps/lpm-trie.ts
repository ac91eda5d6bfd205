/**
 * BPF_MAP_TYPE_LPM_TRIE (kernel/bpf/lpm_trie.c): key = u32 prefixlen (host order) followed by
 * keySize - 4 data bytes (network order). Lookups return the entry with the longest prefix that
 * matches the first min(entry prefixlen, lookup prefixlen) bits. Creation requires
 * BPF_F_NO_PREALLOC like the kernel. Update/delete address an entry by (prefixlen, the first
 * prefixlen bits); stored keys keep the bytes given at insertion. Full → ENOSPC (MAP_FULL).
 * Iteration follows the kernel's post-order walk: more specific prefixes before the prefixes that
 * contain them, and the 0-branch before the 1-branch.
 */
import type { MapSpec } from '../../lib/spec/index.js';
import { Errno, SimMap, readU32, type SimMapOptions } from './base.js';

interface LpmEntry {
  key: Uint8Array;
  prefixlen: number;
  value: Uint8Array;
}

export class LpmTrieMap extends SimMap {
  readonly maxPrefixlen: number;
  private readonly dataSize: number;
  private readonly entries = new Map<string, LpmEntry>();
  /** Prefix lengths present, descending, with their counts. */
  private readonly lens = new Map<number, number>();
  private sortedLens: number[] = [];
  private ordered: LpmEntry[] | null = null;

  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts);
    this.dataSize = spec.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
  }

  private ident(kb: Uint8Array, koff: number, plen: number): string {
    let s = plen + ':';
    const full = plen >> 3;
    for (let i = 0; i < full; i++) s += String.fromCharCode(kb[koff + 4 + i]!);
    const rem = plen & 7;
    if (rem) s += String.fromCharCode(kb[koff + 4 + full]! & (0xff << (8 - rem)) & 0xff);
    return s;
  }

  private find(kb: Uint8Array, koff: number): LpmEntry | undefined {
    const plen = Math.min(readU32(kb, koff), this.maxPrefixlen);
    for (const l of this.sortedLens) {
      if (l > plen) continue;
      const e = this.entries.get(this.ident(kb, koff, l));
      if (e) return e;
    }
    return undefined;
  }

  private changed(): void {
    this.ordered = null;
    this.sortedLens = [...this.lens.keys()].sort((a, b) => b - a);
  }

  private doUpdate(kb: Uint8Array, koff: number, vb: Uint8Array, voff: number, flags: number): number {
    if ((flags & ~4) > 2) return -Errno.EINVAL;
    const plen = readU32(kb, koff);
    if (plen > this.maxPrefixlen) return -Errno.EINVAL;
    const id = this.ident(kb, koff, plen);
    const e = this.entries.get(id);
    if (e) {
      if ((flags & 3) === 1) return -Errno.EEXIST;
      e.key = kb.slice(koff, koff + this.info.keySize);
      e.value.set(vb.subarray(voff, voff + this.info.valueSize));
      this.ordered = null;
      return 0;
    }
    if ((flags & 3) === 2) return -Errno.ENOENT;
    if (this.entries.size >= this.info.maxEntries) return -Errno.ENOSPC;
    this.entries.set(id, { key: kb.slice(koff, koff + this.info.keySize), prefixlen: plen, value: vb.slice(voff, voff + this.info.valueSize) });
    this.lens.set(plen, (this.lens.get(plen) ?? 0) + 1);
    this.changed();
    return 0;
  }

  private doDelete(kb: Uint8Array, koff: number): number {
    const plen = readU32(kb, koff);
    if (plen > this.maxPrefixlen) return -Errno.EINVAL;
    const id = this.ident(kb, koff, plen);
    const e = this.entries.get(id);
    if (!e) return -Errno.ENOENT;
    this.entries.delete(id);
    this.retireView(e.value);
    const n = (this.lens.get(plen) ?? 1) - 1;
    if (n === 0) this.lens.delete(plen);
    else this.lens.set(plen, n);
    this.changed();
    return 0;
  }

  private bit(e: LpmEntry, i: number): number {
    return (e.key[4 + (i >> 3)]! >> (7 - (i & 7))) & 1;
  }

  /** Post-order comparison: descendants before ancestors, 0-branch before 1-branch. */
  private compare(a: LpmEntry, b: LpmEntry): number {
    const n = Math.min(a.prefixlen, b.prefixlen);
    for (let i = 0; i < n; i++) {
      const x = this.bit(a, i);
      const y = this.bit(b, i);
      if (x !== y) return x - y;
    }
    return b.prefixlen - a.prefixlen;
  }

  private order(): LpmEntry[] {
    this.ordered ??= [...this.entries.values()].sort((a, b) => this.compare(a, b));
    return this.ordered;
  }

  progLookup(kb: Uint8Array, koff: number): Uint8Array | null {
    return this.find(kb, koff)?.value ?? null;
  }
  progUpdate(kb: Uint8Array, koff: number, vb: Uint8Array, voff: number, flags: number): number {
    return this.doUpdate(kb, koff, vb, voff, flags);
  }
  progDelete(kb: Uint8Array, koff: number): number {
    return this.doDelete(kb, koff);
  }

  lookup(key: Uint8Array | null): Uint8Array | undefined {
    if (!key) this.fail('lookup', Errno.EINVAL, 'an lpm_trie needs a key');
    return this.find(key, 0)?.value.slice();
  }
  update(key: Uint8Array | null, value: Uint8Array, flags: number): void {
    if (!key) this.fail('update', Errno.EINVAL, 'an lpm_trie needs a key');
    this.checkWritable('update');
    const r = this.doUpdate(key, 0, value, 0, flags);
    if (r < 0) {
      this.fail('update', -r, r === -Errno.EINVAL ? `prefixlen must be at most ${this.maxPrefixlen}` : r === -Errno.ENOSPC ? `map is full: max_entries ${this.info.maxEntries}` : undefined);
    }
  }
  delete(key: Uint8Array): void {
    this.checkWritable('delete');
    const r = this.doDelete(key, 0);
    if (r < 0) this.fail('delete', -r);
  }
  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const list = this.order();
    if (key === undefined) return list[0]?.key.slice();
    const plen = readU32(key, 0);
    const cur = plen <= this.maxPrefixlen ? this.entries.get(this.ident(key, 0, plen)) : undefined;
    if (!cur) return list[0]?.key.slice();
    const i = list.indexOf(cur);
    return list[i + 1]?.key.slice();
  }
}
