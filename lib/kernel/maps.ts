/**
 * Kernel maps: BPF_MAP_CREATE for every map type bpfkit reads, and `KernelMap`, the
 * `BackendMap` over a map fd.
 *
 * Hot path: each map preallocates its attr buffers (pointers to its own key/value scratch
 * buffers already written), so a lookup is one key copy, one bpf(2) call and one value copy.
 * The attrs and the scratch live in one allocation, the element attr, key and value first (the
 * lines the kernel reads and writes per operation), and the call is `bpfSlotRun()`: the command
 * and slot go through the thread's control block, not as arguments (see slotControl()).
 */
import { ArgumentError, MapError, NotSupportedError } from '../errors.js';
import type { BackendEventReader, BackendMap, BatchResult, MapInfo } from '../backend.js';
import { MapFlag, mapTypeId, mapTypeName, type MapSpec, type MapType } from '../spec/index.js';
import {
  Attr, BpfCmd, MapBatchOff, MapCreateOff, MapElemOff, MapInfoOff, objName, readCString,
} from './attr.js';
import { Errno, Mmap, type BpfSys } from './binding.js';
import { openEventReader } from './events.js';
import { bpfError, closeFd, mapError, objGet, objInfo, objPin, possibleCpus, slotControl, sys, syscallError } from './sys.js';

/** Map types whose values are per-CPU (`possibleCpus * roundUp(valueSize, 8)` bytes). */
export function isPerCpu(type: MapType): boolean {
  return type === 'percpu_hash' || type === 'percpu_array' || type === 'lru_percpu_hash' || type === 'percpu_cgroup_storage';
}

/** Map types whose key/value are not BTF-typed in the kernel (libbpf drops their type ids too). */
const NO_BTF_KV = new Set<MapType>([
  'perf_event_array', 'cgroup_array', 'stack_trace', 'array_of_maps', 'hash_of_maps', 'devmap',
  'devmap_hash', 'cpumap', 'xskmap', 'sockmap', 'sockhash', 'queue', 'stack', 'ringbuf',
  'user_ringbuf', 'prog_array',
]);

/** Bytes a value occupies in user space for this map (per-CPU maps: all CPUs). */
export function userValueSize(type: MapType, valueSize: number): number {
  return isPerCpu(type) ? ((valueSize + 7) & ~7) * possibleCpus() : valueSize;
}

/** Options for creating a map beyond its spec. */
export interface CreateMapOptions {
  /** Object BTF fd for key/value type ids (0/undefined = none). */
  btfFd?: number;
  /** Inner map fd for array_of_maps / hash_of_maps (otherwise created from spec.innerMap). */
  innerMapFd?: number;
}

/** max_entries the kernel will get: perf_event_array 0 → possible CPUs. */
export function effectiveMaxEntries(spec: Pick<MapSpec, 'type' | 'maxEntries'>): number {
  if (spec.type === 'perf_event_array' && spec.maxEntries === 0) return possibleCpus();
  return spec.maxEntries;
}

/** map_flags the kernel will get: lpm_trie always needs BPF_F_NO_PREALLOC. */
export function effectiveFlags(spec: Pick<MapSpec, 'type' | 'flags'>): number {
  if (spec.type === 'lpm_trie') return spec.flags | MapFlag.NoPrealloc;
  return spec.flags;
}

function validateSpec(spec: MapSpec): void {
  const where = `create map ${spec.name}`;
  const id = mapTypeId(spec.type);
  if (id <= 0) throw new ArgumentError(`${where}: unknown map type ${String(spec.type)}`);
  for (const [k, v] of [['keySize', spec.keySize], ['valueSize', spec.valueSize], ['maxEntries', spec.maxEntries], ['flags', spec.flags]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ArgumentError(`${where}: ${k} must be a u32, got ${String(v)}`);
  }
  if (spec.type === 'ringbuf' || spec.type === 'user_ringbuf') {
    const page = sys().pageSize();
    const n = spec.maxEntries;
    if (n === 0 || (n & (n - 1)) !== 0 || n % page !== 0) {
      throw new ArgumentError(`${where}: ring buffer size ${n} must be a power of two and a multiple of the page size (${page})`);
    }
  }
  if ((spec.type === 'array_of_maps' || spec.type === 'hash_of_maps') && !spec.innerMap) {
    throw new ArgumentError(`${where}: ${spec.type} needs an inner map definition (__array(values, ...))`);
  }
}

/** BPF_MAP_CREATE from a spec; returns the new fd. */
export function createMapFd(spec: MapSpec, opts: CreateMapOptions = {}): number {
  validateSpec(spec);
  const s = sys();
  let innerFd = opts.innerMapFd ?? -1;
  let ownInner = false;
  if ((spec.type === 'array_of_maps' || spec.type === 'hash_of_maps') && innerFd < 0) {
    const inner = spec.innerMap!;
    innerFd = createMapFd({ ...inner, name: inner.name || `${spec.name}.inner` }, { btfFd: opts.btfFd });
    ownInner = true;
  }
  try {
    const attr = new Attr(s, MapCreateOff.Size);
    attr
      .setU32(MapCreateOff.MapType, mapTypeId(spec.type))
      .setU32(MapCreateOff.KeySize, spec.keySize)
      .setU32(MapCreateOff.ValueSize, spec.valueSize)
      .setU32(MapCreateOff.MaxEntries, effectiveMaxEntries(spec))
      .setU32(MapCreateOff.MapFlags, effectiveFlags(spec))
      .name(MapCreateOff.MapName, objName(spec.name));
    if (innerFd >= 0) attr.setU32(MapCreateOff.InnerMapFd, innerFd);
    if (spec.numaNode !== undefined) {
      attr.setU32(MapCreateOff.NumaNode, spec.numaNode);
      attr.setU32(MapCreateOff.MapFlags, effectiveFlags(spec) | MapFlag.NumaNode);
    }
    if (spec.mapExtra !== undefined) attr.setU64(MapCreateOff.MapExtra, spec.mapExtra);
    const withBtf = !!opts.btfFd && opts.btfFd > 0 && !NO_BTF_KV.has(spec.type) && (spec.keyTypeId > 0 || spec.valueTypeId > 0);
    if (withBtf) {
      attr.setU32(MapCreateOff.BtfFd, opts.btfFd!);
      attr.setU32(MapCreateOff.BtfKeyTypeId, spec.keyTypeId);
      attr.setU32(MapCreateOff.BtfValueTypeId, spec.valueTypeId);
    }
    let r = attr.call(BpfCmd.MapCreate);
    if (r < 0 && withBtf && -r !== Errno.EPERM) {
      // As libbpf: a kernel that rejects the BTF description still gets an untyped map.
      attr.setU32(MapCreateOff.BtfFd, 0).setU32(MapCreateOff.BtfKeyTypeId, 0).setU32(MapCreateOff.BtfValueTypeId, 0);
      const r2 = attr.call(BpfCmd.MapCreate);
      if (r2 >= 0) r = r2;
    }
    if (r < 0) {
      const errno = -r;
      const hint =
        errno === Errno.EINVAL
          ? `check the ${spec.type} definition: key ${spec.keySize} B, value ${spec.valueSize} B, max_entries ${effectiveMaxEntries(spec)}, flags 0x${effectiveFlags(spec).toString(16)}`
          : undefined;
      throw bpfError(`create map ${spec.name} (${spec.type})`, BpfCmd.MapCreate, errno, hint);
    }
    return r;
  } finally {
    if (ownInner) closeFd(innerFd);
  }
}

/** Read a live map's description from its fd. */
export function mapInfoFromFd(fd: number, op = 'map info'): MapInfo {
  const info = objInfo(op, fd, MapInfoOff.Size);
  const dv = new DataView(info.buffer, info.byteOffset, info.byteLength);
  const typeId = dv.getUint32(MapInfoOff.Type, true);
  const type = mapTypeName(typeId);
  if (!type) throw new NotSupportedError(`map type ${typeId}`, `${op}: unknown kernel map type ${typeId}`);
  return {
    name: readCString(info, MapInfoOff.Name, 16),
    type,
    keySize: dv.getUint32(MapInfoOff.KeySize, true),
    valueSize: dv.getUint32(MapInfoOff.ValueSize, true),
    maxEntries: dv.getUint32(MapInfoOff.MaxEntries, true),
    flags: dv.getUint32(MapInfoOff.MapFlags, true),
    id: dv.getUint32(MapInfoOff.Id, true),
    keyTypeId: dv.getUint32(MapInfoOff.BtfKeyTypeId, true),
    valueTypeId: dv.getUint32(MapInfoOff.BtfValueTypeId, true),
  };
}

/** Kernel BTF object id of a live map (0 when none). */
export function mapBtfId(fd: number): number {
  const info = objInfo('map info', fd, MapInfoOff.Size);
  return new DataView(info.buffer, info.byteOffset).getUint32(MapInfoOff.BtfId, true);
}

const BAD_FD = 0xffffffff;

/**
 * dst[0, n) = src[0, n) (both at least n bytes). Up to 16 bytes as straight-line stores in blocks
 * of 8 and 4 (measured: half the cost of a byte loop for 4 + 8 bytes, a third of
 * TypedArray#set's); above that TypedArray#set.
 */
function copyBytes(dst: Uint8Array, src: Uint8Array, n: number): void {
  if (n > 16) {
    dst.set(n === src.length ? src : src.subarray(0, n));
    return;
  }
  let i = 0;
  if (n >= 8) {
    dst[0] = src[0]!; dst[1] = src[1]!; dst[2] = src[2]!; dst[3] = src[3]!;
    dst[4] = src[4]!; dst[5] = src[5]!; dst[6] = src[6]!; dst[7] = src[7]!;
    i = 8;
  }
  if (n - i >= 4) {
    dst[i] = src[i]!; dst[i + 1] = src[i + 1]!; dst[i + 2] = src[i + 2]!; dst[i + 3] = src[i + 3]!;
    i += 4;
  }
  for (; i < n; i++) dst[i] = src[i]!;
}

/** Releases the addon slots of a map that was never closed (memory only; fds are owned by close()). */
const slotRegistry = new FinalizationRegistry<number[]>((ids) => {
  const s = sys();
  for (const id of ids) s.bpfUnregister(id);
});

/** A live kernel map: BackendMap over an fd. */
export class KernelMap implements BackendMap {
  readonly info: MapInfo;
  /** Bytes of one value as user space exchanges it (per-CPU: all CPUs). */
  readonly valueBytes: number;
  private fdValue: number;
  private frozen = false;
  private readonly s: BpfSys;
  /** The addon's bpfSlotRun, held directly (skips the exports-object property load per op). */
  private readonly run: () => void;
  /** The thread's bpfSlotRun control block: [0] = cmd | slot << 8 in, [1] = result or -errno out. */
  private readonly ctl: Int32Array;
  private readonly key: Uint8Array;
  private readonly value: Uint8Array;
  private readonly next: Uint8Array;
  /** key → key, value → value */
  private readonly aElem: Attr;
  /** key → key only (BPF_MAP_DELETE_ELEM: fields after key must be zero) */
  private readonly aDelete: Attr;
  /** key NULL, value → value (queue/stack push/peek/pop) */
  private readonly aNoKey: Attr;
  /** key → key, next_key → next */
  private readonly aNext: Attr;
  /** key NULL, next_key → next (first key) */
  private readonly aFirst: Attr;
  /** update/delete batch: keys/values point at the caller's buffers for the duration of a call */
  private readonly aBatch: Attr;
  /** lookup (and delete) batch: in/out token, keys and values point at the scratch below */
  private readonly aLookupBatch: Attr;
  /**
   * Scratch for batch lookups, reused across calls (grown on demand, never shrunk): the kernel
   * writes into warm memory and only the entries it returned are copied out. Layout:
   * [in token][out token][keys: cap × keySize][values: cap × valueBytes].
   */
  private bScratch: Uint8Array = new Uint8Array(0);
  private bCap = 0;
  private bKeysOff = 0;
  private bValuesOff = 0;
  /** Address of the in token (low/high u32), written into the attr only when a cursor is given. */
  private bInLo = 0;
  private bInHi = 0;
  /** Bytes of a batch token: a u32 bucket (hash maps) or a key (arrays). */
  private readonly tokenSize: number;
  private readonly keySize: number;
  /** aElem's u32 view (flags at index 6), held directly for the single-op hot path. */
  private readonly elemU32: Uint32Array;
  /** Addon slot ids of the preallocated attrs (bpfSlot hot path). */
  private readonly sElem: number;
  private readonly sDelete: number;
  private readonly sNoKey: number;
  private readonly sNext: number;
  private readonly sFirst: number;
  private readonly sBatch: number;
  private readonly sLookupBatch: number;
  /** Control words of the hot single-element ops (cmd | sElem << 8). */
  private readonly opLookup: number;
  private readonly opUpdate: number;

  constructor(fd: number, info: MapInfo) {
    this.s = sys();
    this.run = this.s.bpfSlotRun;
    this.ctl = slotControl();
    this.fdValue = fd;
    this.info = info;
    this.valueBytes = userValueSize(info.type, info.valueSize);
    // One allocation, 64-byte aligned: [aElem][key][value] (what a lookup/update touches, one
    // line for small maps), then [next][aDelete][aNoKey][aNext][aFirst][aBatch][aLookupBatch].
    const E = MapElemOff.Size;
    const B = MapBatchOff.Size;
    const up8 = (n: number): number => (Math.max(n, 1) + 7) & ~7;
    const kLen = up8(info.keySize);
    const vLen = up8(this.valueBytes);
    const oKey = E;
    const oValue = oKey + kLen;
    const oNext = oValue + vLen;
    const oAttrs = oNext + kLen;
    const size = oAttrs + 4 * E + 2 * B;
    const ab = new ArrayBuffer(size + 64);
    const base = Number(this.s.addressOf(ab) & 63n);
    const at = base === 0 ? 0 : 64 - base;
    this.key = new Uint8Array(ab, at + oKey, Math.max(info.keySize, 1));
    this.value = new Uint8Array(ab, at + oValue, Math.max(this.valueBytes, 1));
    this.next = new Uint8Array(ab, at + oNext, Math.max(info.keySize, 1));
    const attr = (off: number, sz: number): Attr => new Attr(this.s, sz, ab, at + off);
    this.aElem = attr(0, E).setU32(MapElemOff.MapFd, fd).ptr(MapElemOff.Key, this.key).ptr(MapElemOff.Value, this.value);
    this.aDelete = attr(oAttrs, E).setU32(MapElemOff.MapFd, fd).ptr(MapElemOff.Key, this.key);
    this.aNoKey = attr(oAttrs + E, E).setU32(MapElemOff.MapFd, fd).ptr(MapElemOff.Value, this.value);
    this.aNext = attr(oAttrs + 2 * E, E).setU32(MapElemOff.MapFd, fd).ptr(MapElemOff.Key, this.key).ptr(MapElemOff.Value, this.next);
    this.aFirst = attr(oAttrs + 3 * E, E).setU32(MapElemOff.MapFd, fd).ptr(MapElemOff.Value, this.next);
    this.aBatch = attr(oAttrs + 4 * E, B).setU32(MapBatchOff.MapFd, fd);
    this.aLookupBatch = attr(oAttrs + 4 * E + B, B).setU32(MapBatchOff.MapFd, fd);
    this.keySize = info.keySize;
    this.elemU32 = this.aElem.u32;
    this.tokenSize = (Math.max(info.keySize, 8) + 7) & ~7;
    const reg = (a: Attr): number => {
      const id = this.s.bpfRegister(a.bytes);
      if (id <= 0) throw syscallError(`open map ${info.name}: register attr buffer`, 'bpfRegister', -id);
      if (id >= 1 << 23) {
        this.s.bpfUnregister(id);
        throw syscallError(`open map ${info.name}: register attr buffer`, 'bpfRegister', Errno.ENOMEM, 'more than 2^23 attr slots in use (maps never closed and never collected?)');
      }
      return id;
    };
    this.sElem = reg(this.aElem);
    this.sDelete = reg(this.aDelete);
    this.sNoKey = reg(this.aNoKey);
    this.sNext = reg(this.aNext);
    this.sFirst = reg(this.aFirst);
    this.sBatch = reg(this.aBatch);
    this.sLookupBatch = reg(this.aLookupBatch);
    slotRegistry.register(this, [this.sElem, this.sDelete, this.sNoKey, this.sNext, this.sFirst, this.sBatch, this.sLookupBatch], this);
    this.opLookup = BpfCmd.MapLookupElem | (this.sElem << 8);
    this.opUpdate = BpfCmd.MapUpdateElem | (this.sElem << 8);
  }

  /** bpf(cmd, attr of `slot`) through the control block: result or -errno. */
  private call(cmd: BpfCmd, slot: number): number {
    return this.exec(cmd | (slot << 8));
  }

  /** One control word (`cmd | slot << 8`, e.g. opLookup) through bpfSlotRun: result or -errno. */
  private exec(op: number): number {
    const c = this.ctl;
    c[0] = op;
    this.run();
    return c[1]!;
  }

  /** Wrap an fd we own (takes ownership; closes it on failure). */
  static fromFd(fd: number, op = 'open map'): KernelMap {
    try {
      return new KernelMap(fd, mapInfoFromFd(fd, op));
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  /** Create a map from a spec. */
  static create(spec: MapSpec, opts: CreateMapOptions = {}): KernelMap {
    const fd = createMapFd(spec, opts);
    const m = KernelMap.fromFd(fd, `create map ${spec.name}`);
    // Keep the spec's (longer) name: the kernel truncates to 15 bytes.
    (m.info as { name: string }).name = spec.name;
    return m;
  }

  /** Open the map pinned at `path`. */
  static openPinned(path: string): KernelMap {
    const fd = objGet('open pinned map', path);
    return KernelMap.fromFd(fd, `open pinned map ${path}`);
  }

  get fd(): number {
    return this.fdValue;
  }

  get closed(): boolean {
    return this.fdValue < 0;
  }

  private checkKey(op: string, key: Uint8Array): void {
    if (key.length !== this.info.keySize) {
      throw new ArgumentError(`${op} map ${this.info.name}: key is ${key.length} bytes, map key size is ${this.info.keySize}`);
    }
  }

  private checkValue(op: string, value: Uint8Array): void {
    if (value.length !== this.valueBytes) {
      throw new ArgumentError(`${op} map ${this.info.name}: value is ${value.length} bytes, expected ${this.valueBytes}`);
    }
  }

  lookup(key: Uint8Array | null, flags = 0): Uint8Array | undefined {
    const r = this.lookupRaw(key, flags);
    if (r < 0) return this.lookupFailed(r);
    return this.copyValue();
  }

  lookupInto(key: Uint8Array | null, out: Uint8Array, flags = 0): boolean {
    const n = this.valueBytes;
    if (out.length !== n) throw new ArgumentError(`lookup map ${this.info.name}: output buffer is ${out.length} bytes, expected ${n}`);
    const r = this.lookupRaw(key, flags);
    if (r < 0) {
      this.lookupFailed(r);
      return false;
    }
    copyBytes(out, this.value, n);
    return true;
  }

  /** BPF_MAP_LOOKUP_ELEM of `key` (null: queue/stack peek) into the value scratch: result or -errno. */
  private lookupRaw(key: Uint8Array | null, flags: number): number {
    if (key === null) {
      this.aNoKey.u32[6] = flags;
      return this.call(BpfCmd.MapLookupElem, this.sNoKey);
    }
    const ks = this.keySize;
    if (key.length !== ks) this.checkKey('lookup', key);
    copyBytes(this.key, key, ks);
    this.elemU32[6] = flags;
    return this.exec(this.opLookup);
  }

  /** undefined for ENOENT; throws the MapError for anything else. */
  private lookupFailed(r: number): undefined {
    if (r === -Errno.ENOENT) return undefined;
    throw mapError(this.info.name, 'lookup', BpfCmd.MapLookupElem, -r);
  }

  /** A fresh copy of the value scratch (the caller owns it). */
  private copyValue(): Uint8Array {
    const n = this.valueBytes;
    const v = this.value;
    const out = new Uint8Array(n);
    copyBytes(out, v, n);
    return out;
  }

  update(key: Uint8Array | null, value: Uint8Array, flags: number): void {
    if (key === null) return this.updateNoKey(value, flags);
    const ks = this.keySize;
    if (key.length !== ks) this.checkKey('update', key);
    const n = this.valueBytes;
    if (value.length !== n) this.checkValue('update', value);
    copyBytes(this.key, key, ks);
    copyBytes(this.value, value, n);
    this.elemU32[6] = flags;
    const r = this.exec(this.opUpdate);
    if (r < 0) throw mapError(this.info.name, 'update', BpfCmd.MapUpdateElem, -r);
  }

  private updateNoKey(value: Uint8Array, flags: number): void {
    if (value.length !== this.valueBytes) this.checkValue('update', value);
    copyBytes(this.value, value, this.valueBytes);
    this.aNoKey.u32[6] = flags;
    const r = this.call(BpfCmd.MapUpdateElem, this.sNoKey);
    if (r < 0) throw mapError(this.info.name, 'update', BpfCmd.MapUpdateElem, -r);
  }

  delete(key: Uint8Array): void {
    if (key.length !== this.info.keySize) this.checkKey('delete', key);
    copyBytes(this.key, key, this.keySize);
    const r = this.call(BpfCmd.MapDeleteElem, this.sDelete);
    if (r < 0) throw mapError(this.info.name, 'delete', BpfCmd.MapDeleteElem, -r);
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    let slot: number;
    if (key === undefined) slot = this.sFirst;
    else {
      if (key.length !== this.info.keySize) this.checkKey('next key of', key);
      copyBytes(this.key, key, this.keySize);
      slot = this.sNext;
    }
    const r = this.call(BpfCmd.MapGetNextKey, slot);
    if (r < 0) {
      if (r === -Errno.ENOENT) return undefined;
      throw mapError(this.info.name, 'next key of', BpfCmd.MapGetNextKey, -r);
    }
    return this.next.slice(0, this.info.keySize);
  }

  lookupAndDelete(key: Uint8Array | null): Uint8Array | undefined {
    let a: Attr;
    let slot: number;
    if (key === null) {
      a = this.aNoKey;
      slot = this.sNoKey;
    } else {
      if (key.length !== this.info.keySize) this.checkKey('lookup and delete', key);
      copyBytes(this.key, key, this.keySize);
      a = this.aElem;
      slot = this.sElem;
    }
    a.u32[6] = 0;
    const r = this.call(BpfCmd.MapLookupAndDeleteElem, slot);
    if (r < 0) {
      if (r === -Errno.ENOENT) return undefined;
      throw mapError(this.info.name, 'lookup and delete', BpfCmd.MapLookupAndDeleteElem, -r);
    }
    return this.copyValue();
  }

  /** Grow the lookup-batch scratch to `count` entries and point the lookup attr at it. */
  private growBatchScratch(count: number): void {
    const t = this.tokenSize;
    const kOff = 2 * t;
    const vOff = (kOff + count * this.keySize + 7) & ~7;
    const buf = new Uint8Array(vOff + count * this.valueBytes);
    const base = this.s.addressOf(buf);
    const a = this.aLookupBatch;
    a.setU64(MapBatchOff.OutBatch, base + BigInt(t));
    a.setU64(MapBatchOff.Keys, base + BigInt(kOff));
    a.setU64(MapBatchOff.Values, base + BigInt(vOff));
    this.bInLo = Number(base & 0xffffffffn);
    this.bInHi = Number(base >> 32n);
    this.bScratch = buf;
    this.bCap = count;
    this.bKeysOff = kOff;
    this.bValuesOff = vOff;
  }

  /**
   * BPF_MAP_LOOKUP(_AND_DELETE)_BATCH of up to `count` entries into the scratch area; returns how
   * many the kernel returned (`bMore`: whether iteration can continue).
   */
  private lookupBatchCall(cursor: Uint8Array | undefined, count: number, andDelete: boolean): number {
    if (!Number.isInteger(count) || count <= 0 || count > 0xffffffff) {
      throw new ArgumentError(`${andDelete ? 'lookup and delete batch' : 'lookup batch'} map ${this.info.name}: count must be a positive integer, got ${String(count)}`);
    }
    if (count > this.bCap) {
      if (count * (this.keySize + this.valueBytes) > 0x40000000) {
        throw new ArgumentError(`${andDelete ? 'lookup and delete batch' : 'lookup batch'} map ${this.info.name}: count ${count} needs more than 1 GiB of results (pass a smaller count and continue from the cursor)`);
      }
      this.growBatchScratch(count);
    }
    const t = this.tokenSize;
    const b = this.bScratch;
    const u = this.aLookupBatch.u32;
    if (cursor !== undefined) {
      const n = cursor.length < t ? cursor.length : t;
      for (let i = 0; i < n; i++) b[i] = cursor[i]!;
      for (let i = n; i < t; i++) b[i] = 0;
      u[MapBatchOff.InBatch >> 2] = this.bInLo;
      u[(MapBatchOff.InBatch >> 2) + 1] = this.bInHi;
    } else {
      u[MapBatchOff.InBatch >> 2] = 0;
      u[(MapBatchOff.InBatch >> 2) + 1] = 0;
    }
    u[MapBatchOff.Count >> 2] = count;
    const cmd = andDelete ? BpfCmd.MapLookupAndDeleteBatch : BpfCmd.MapLookupBatch;
    const r = this.call(cmd, this.sLookupBatch);
    if (r < 0 && r !== -Errno.ENOENT) {
      const op = andDelete ? 'lookup and delete batch' : 'lookup batch';
      if (r === -Errno.ENOSPC) {
        throw new MapError(this.info.name, 'INVALID_ARGUMENT', `${op} map ${this.info.name}: count ${count} is smaller than a hash bucket (${this.s.errnoString(Errno.ENOSPC)})`, { errno: Errno.ENOSPC, hint: 'pass a larger count' });
      }
      throw mapError(this.info.name, op, cmd, -r);
    }
    this.bMore = r >= 0;
    return u[MapBatchOff.Count >> 2]!;
  }

  /** Whether the last batch lookup can continue (the kernel did not report the end). */
  private bMore = false;

  /**
   * BPF_MAP_LOOKUP(_AND_DELETE)_BATCH of up to `count` entries. The kernel writes into a per-map
   * scratch area reused across calls; the result (`keys`, `values`, `cursor`) is one fresh
   * allocation holding only the entries returned, owned by the caller.
   */
  lookupBatch(cursor: Uint8Array | undefined, count: number, andDelete = false): BatchResult {
    const got = this.lookupBatchCall(cursor, count, andDelete);
    const b = this.bScratch;
    const t = this.tokenSize;
    // [values][keys][pad][cursor] in one allocation
    const vBytes = got * this.valueBytes;
    const kBytes = got * this.keySize;
    const tokenOff = (vBytes + kBytes + 7) & ~7;
    const more = this.bMore;
    // Uninitialised memory (every byte is written below): no zero fill of a result that can be
    // megabytes; a plain Uint8Array over its own ArrayBuffer, as before.
    const size = more ? tokenOff + t : vBytes + kBytes;
    const out = new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
    if (vBytes > 0) out.set(b.subarray(this.bValuesOff, this.bValuesOff + vBytes), 0);
    if (kBytes > 0) out.set(b.subarray(this.bKeysOff, this.bKeysOff + kBytes), vBytes);
    for (let i = vBytes + kBytes; i < tokenOff; i++) out[i] = 0;
    const res: BatchResult = { keys: out.subarray(vBytes, vBytes + kBytes), values: out.subarray(0, vBytes), count: got };
    if (more) {
      for (let i = 0; i < t; i++) out[tokenOff + i] = b[t + i]!;
      res.cursor = out.subarray(tokenOff, tokenOff + t);
    }
    return res;
  }

  /**
   * Like `lookupBatch`, without copying: `keys`, `values` and `cursor` are views into this map's
   * scratch area, valid only until the next batch lookup on this map (read or copy them first;
   * passing `cursor` back in is fine). No allocation beyond the result object and its views.
   */
  lookupBatchView(cursor: Uint8Array | undefined, count: number, andDelete = false): BatchResult {
    const got = this.lookupBatchCall(cursor, count, andDelete);
    const b = this.bScratch;
    const t = this.tokenSize;
    const kOff = this.bKeysOff;
    const vOff = this.bValuesOff;
    const res: BatchResult = { keys: b.subarray(kOff, kOff + got * this.keySize), values: b.subarray(vOff, vOff + got * this.valueBytes), count: got };
    if (this.bMore) res.cursor = b.subarray(t, 2 * t);
    return res;
  }

  /** BPF_MAP_UPDATE_BATCH / BPF_MAP_DELETE_BATCH over the caller's packed buffers; result or -errno (count in `batchDone`). */
  private batchWrite(cmd: BpfCmd, keys: Uint8Array, values: Uint8Array | null, count: number, elemFlags: number): number {
    const a = this.aBatch;
    const s = this.s;
    a.setU64(MapBatchOff.Keys, s.addressOf(keys));
    a.setU64(MapBatchOff.Values, values === null ? 0n : s.addressOf(values));
    const u = a.u32;
    u[MapBatchOff.Count >> 2] = count;
    u[MapBatchOff.ElemFlags >> 2] = elemFlags;
    const r = this.call(cmd, this.sBatch);
    this.batchDone = u[MapBatchOff.Count >> 2]!;
    // drop the pointers: the buffers belong to the caller
    u[MapBatchOff.Keys >> 2] = 0;
    u[(MapBatchOff.Keys >> 2) + 1] = 0;
    u[MapBatchOff.Values >> 2] = 0;
    u[(MapBatchOff.Values >> 2) + 1] = 0;
    return r;
  }

  /** Entries processed by the last batchWrite. */
  private batchDone = 0;

  updateBatch(keys: Uint8Array, values: Uint8Array, count: number, flags: number): number {
    const op = 'update batch';
    if (!Number.isInteger(count) || count < 0) throw new ArgumentError(`${op} map ${this.info.name}: bad count ${String(count)}`);
    if (keys.length < count * this.info.keySize || values.length < count * this.valueBytes) {
      throw new ArgumentError(`${op} map ${this.info.name}: ${count} entries need ${count * this.info.keySize} key bytes and ${count * this.valueBytes} value bytes, got ${keys.length} and ${values.length}`);
    }
    if (count === 0) return 0;
    const r = this.batchWrite(BpfCmd.MapUpdateBatch, keys, values, count, flags);
    const done = this.batchDone;
    if (r < 0) throw mapError(this.info.name, `${op} (${done} of ${count} written)`, BpfCmd.MapUpdateBatch, -r);
    return done;
  }

  deleteBatch(keys: Uint8Array, count: number): number {
    const op = 'delete batch';
    if (!Number.isInteger(count) || count < 0) throw new ArgumentError(`${op} map ${this.info.name}: bad count ${String(count)}`);
    if (keys.length < count * this.info.keySize) {
      throw new ArgumentError(`${op} map ${this.info.name}: ${count} keys need ${count * this.info.keySize} bytes, got ${keys.length}`);
    }
    if (count === 0) return 0;
    const r = this.batchWrite(BpfCmd.MapDeleteBatch, keys, null, count, 0);
    const done = this.batchDone;
    if (r < 0) throw mapError(this.info.name, `${op} (${done} of ${count} deleted)`, BpfCmd.MapDeleteBatch, -r);
    return done;
  }

  freeze(): void {
    const a = new Attr(this.s, 8).setU32(0, this.fdValue < 0 ? BAD_FD : this.fdValue);
    const r = a.call(BpfCmd.MapFreeze);
    if (r < 0) throw mapError(this.info.name, 'freeze', BpfCmd.MapFreeze, -r);
    this.frozen = true;
  }

  pin(path: string): void {
    objPin(`pin map ${this.info.name}`, this.fdValue, path);
  }

  mmap(): ArrayBuffer {
    const op = `mmap map ${this.info.name}`;
    if (this.info.type !== 'array' || (this.info.flags & MapFlag.Mmapable) === 0) {
      throw new NotSupportedError('map mmap', `${op}: only array maps created with BPF_F_MMAPABLE can be mapped (map is ${this.info.type}, flags 0x${this.info.flags.toString(16)})`);
    }
    const page = this.s.pageSize();
    const bytes = ((this.info.valueSize + 7) & ~7) * this.info.maxEntries;
    const len = Math.max(page, Math.ceil(bytes / page) * page);
    const readOnly = this.frozen || (this.info.flags & MapFlag.Rdonly) !== 0;
    let ab = this.s.mmap(this.fdValue, len, readOnly ? Mmap.ProtRead : Mmap.ProtRead | Mmap.ProtWrite, Mmap.Shared, 0);
    if (typeof ab === 'number' && ab === -Errno.EACCES && !readOnly) {
      // frozen by someone else (or read-only for user space): map it read-only
      ab = this.s.mmap(this.fdValue, len, Mmap.ProtRead, Mmap.Shared, 0);
    }
    if (typeof ab === 'number') throw syscallError(op, 'mmap', -ab);
    return ab;
  }

  openReader(): BackendEventReader {
    if (this.info.type !== 'ringbuf' && this.info.type !== 'perf_event_array') {
      throw new ArgumentError(`open reader on map ${this.info.name}: only ringbuf and perf_event_array maps have readers (map is ${this.info.type})`);
    }
    return openEventReader(this);
  }

  close(): void {
    const fd = this.fdValue;
    if (fd < 0) return;
    this.fdValue = -1;
    // A later op on a closed map must not reach whatever object reuses the fd number.
    this.aElem.u32[0] = BAD_FD;
    this.aDelete.u32[0] = BAD_FD;
    this.aNoKey.u32[0] = BAD_FD;
    this.aNext.u32[0] = BAD_FD;
    this.aFirst.u32[0] = BAD_FD;
    this.aBatch.u32[MapBatchOff.MapFd >> 2] = BAD_FD;
    this.aLookupBatch.u32[MapBatchOff.MapFd >> 2] = BAD_FD;
    this.s.close(fd);
    // Slots stay registered (their attrs now carry a bad fd) until the map object is collected,
    // so a use after close gets EBADF, never an unknown-slot error.
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
