/**
 * BPF_MAP_TYPE_ARRAY (kernel/bpf/arraymap.c): max_entries zero-filled elements indexed by a u32
 * key, stride roundUp(valueSize, 8) in one contiguous buffer (what BPF_F_MMAPABLE maps expose).
 * Elements always exist: delete → EINVAL, BPF_NOEXIST → EEXIST, an index ≥ max_entries →
 * ENOENT on lookup and E2BIG on update. Iteration: 0, 1, ..., max_entries - 1; `nextKey` of an
 * out-of-range key restarts at 0.
 */
import type { MapSpec } from '../../lib/spec/index.js';
import { MapFlag } from '../../lib/spec/index.js';
import { Region } from '../memory/index.js';
import { Errno, SimMap, copyIn, readU32, roundUp8, u32Bytes, type SimMapOptions } from './base.js';

export class ArrayMap extends SimMap {
  readonly stride: number;
  /** Per-slot storage: one buffer for plain arrays, one per CPU for per-CPU arrays. */
  readonly storage: Uint8Array[];
  /** views[cpu][index]: live valueSize-byte views handed to programs. */
  protected readonly views: Uint8Array[][];
  readonly percpu: boolean;
  /**
   * regions[cpu][index]: one exact-size region per element, created on first use, so program
   * accesses take the engines' inline fast path and can never cross into a neighbour element.
   */
  readonly regions: (Region | undefined)[][];

  constructor(spec: MapSpec, opts: SimMapOptions, percpu = false) {
    super(spec, opts);
    this.percpu = percpu;
    this.stride = roundUp8(spec.valueSize);
    const slots = percpu ? this.nCpus : 1;
    let bytes = this.stride * spec.maxEntries;
    if (spec.flags & MapFlag.Mmapable) bytes = Math.ceil(bytes / 4096) * 4096;
    this.storage = [];
    this.views = [];
    for (let c = 0; c < slots; c++) {
      const buf = new Uint8Array(new ArrayBuffer(bytes));
      this.storage.push(buf);
      const vs: Uint8Array[] = [];
      for (let i = 0; i < spec.maxEntries; i++) vs.push(buf.subarray(i * this.stride, i * this.stride + spec.valueSize));
      this.views.push(vs);
    }
    this.regions = this.storage.map(() => new Array<Region | undefined>(spec.maxEntries).fill(undefined));
    if (spec.initialData && !percpu) this.storage[0]!.set(spec.initialData.subarray(0, Math.min(spec.initialData.length, spec.valueSize)));
  }

  override userValueSize(): number {
    return this.percpu ? this.nCpus * this.stride : this.info.valueSize;
  }

  /** Live view of element `index` for `cpu` (no bounds check beyond max_entries). */
  elementView(index: number, cpu = 0): Uint8Array | null {
    if (index >= this.info.maxEntries) return null;
    return this.views[this.percpu ? cpu : 0]![index]!;
  }

  progLookup(kb: Uint8Array, koff: number, cpu: number): Uint8Array | null {
    const idx = readU32(kb, koff);
    if (idx >= this.info.maxEntries) return null;
    return this.views[this.percpu ? cpu : 0]![idx]!;
  }

  private makeRegion(slot: number, index: number): Region {
    const spec = this.spec;
    const start = index * this.stride;
    const name = spec.globalData ? `global data ${spec.name}` : `map ${spec.name} value [${index}]${this.percpu ? ` cpu ${slot}` : ''}`;
    const r = this.space.allocate(this.valueKind(), name).setBytes(this.storage[slot]!, start, start + spec.valueSize).configure(this.valuePerm);
    r.owner = this;
    this.regions[slot]![index] = r;
    return r;
  }

  override progLookupRegion(kb: Uint8Array, koff: number, cpu: number): Region | null {
    const idx = readU32(kb, koff);
    if (idx >= this.info.maxEntries) return null;
    const slot = this.percpu ? cpu : 0;
    this.refOffset = idx * this.stride;
    return this.regions[slot]![idx] ?? this.makeRegion(slot, idx);
  }

  /** Region and offset (in refOffset) of element `index` — ld_imm64 map value pointers. */
  elementRegion(index: number, cpu = 0): Region | null {
    if (index >= this.info.maxEntries) return null;
    const slot = this.percpu ? cpu : 0;
    this.refOffset = index * this.stride;
    return this.regions[slot]![index] ?? this.makeRegion(slot, index);
  }

  progLookupPercpu(kb: Uint8Array, koff: number, cpu: number): Uint8Array | null {
    const idx = readU32(kb, koff);
    if (!this.percpu || idx >= this.info.maxEntries || cpu >= this.nCpus) return null;
    return this.views[cpu]![idx]!;
  }

  private doUpdate(kb: Uint8Array, koff: number, vb: Uint8Array, voff: number, flags: number, cpu: number, allCpus: boolean): number {
    const f = flags & ~4;
    if (f > 2) return -Errno.EINVAL;
    const idx = readU32(kb, koff);
    if (idx >= this.info.maxEntries) return -Errno.E2BIG;
    if (f === 1) return -Errno.EEXIST;
    const vs = this.info.valueSize;
    if (this.percpu && allCpus) {
      // user space writes round_up(value_size, 8) bytes per CPU, padding included (kernel copy_map_value_long)
      for (let c = 0; c < this.nCpus; c++) copyIn(this.storage[c]!, idx * this.stride, vb, voff + c * this.stride, this.stride);
    } else {
      copyIn(this.views[this.percpu ? cpu : 0]![idx]!, 0, vb, voff, vs);
    }
    return 0;
  }

  progUpdate(kb: Uint8Array, koff: number, vb: Uint8Array, voff: number, flags: number, cpu: number): number {
    return this.doUpdate(kb, koff, vb, voff, flags, cpu, false);
  }

  progDelete(): number {
    return -Errno.EINVAL;
  }

  override forEachElem(cpu: number, cb: (key: Uint8Array, value: Uint8Array) => number): number {
    const views = this.views[this.percpu ? cpu : 0]!;
    let n = 0;
    for (let i = 0; i < this.info.maxEntries; i++) {
      n++;
      if (cb(u32Bytes(i), views[i]!) !== 0) break;
    }
    return n;
  }

  lookup(key: Uint8Array | null): Uint8Array | undefined {
    if (!key) this.fail('lookup', Errno.EINVAL, 'an array map needs a u32 index key');
    const idx = readU32(key, 0);
    if (idx >= this.info.maxEntries) return undefined;
    if (!this.percpu) return this.views[0]![idx]!.slice();
    const out = new Uint8Array(this.nCpus * this.stride);
    for (let c = 0; c < this.nCpus; c++) out.set(this.storage[c]!.subarray(idx * this.stride, (idx + 1) * this.stride), c * this.stride);
    return out;
  }

  update(key: Uint8Array | null, value: Uint8Array, flags: number): void {
    if (!key) this.fail('update', Errno.EINVAL, 'an array map needs a u32 index key');
    this.checkWritable('update');
    const r = this.doUpdate(key, 0, value, 0, flags, 0, true);
    if (r < 0) {
      this.fail('update', -r, r === -Errno.E2BIG ? `index ${readU32(key, 0)} out of range: max_entries ${this.info.maxEntries}` : r === -Errno.EEXIST ? 'array elements always exist: BPF_NOEXIST cannot succeed' : undefined);
    }
  }

  delete(_key: Uint8Array): void {
    this.fail('delete', Errno.EINVAL, 'array elements cannot be deleted; write zeros instead');
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    if (key === undefined) return this.info.maxEntries > 0 ? u32Bytes(0) : undefined;
    const idx = readU32(key, 0);
    if (idx >= this.info.maxEntries) return u32Bytes(0);
    if (idx === this.info.maxEntries - 1) return undefined;
    return u32Bytes(idx + 1);
  }

  override mmap(): ArrayBuffer {
    if (!(this.info.flags & MapFlag.Mmapable) || this.percpu) return super.mmap();
    return this.storage[0]!.buffer as ArrayBuffer;
  }
}
