/**
 * `BpfMap`: a live map on either backend, with typed keys/values through BTF codecs.
 *
 * Keys and values are whatever the map's codecs take (see codec.ts): numbers, bigints, plain
 * objects, arrays, or raw `Uint8Array`s of the exact size. Per-CPU maps take and return arrays
 * with one value per possible CPU. `map.raw` is a view of the same map that reads raw bytes.
 */
import type { Backend, BackendMap, MapInfo } from '../backend.js';
import type { Btf } from '../btf/index.js';
import { ArgumentError, BpfError, MapError } from '../errors.js';
import { MAP_TYPES, MapFlag, type MapSpec, type MapType } from '../spec/index.js';
import { codecByName, codecFor, decode, describeValue, encode, perCpuCodec, uintCodec, type Codec } from './codec.js';
import { Program } from './program.js';
import { EventReader } from './events.js';
import { resolveBackend, type BackendOption } from './registry.js';

export type UpdateFlags = 'any' | 'noexist' | 'exist' | 'lock' | number;

const PERCPU_TYPES: ReadonlySet<MapType> = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);
const INDEXED_TYPES: ReadonlySet<MapType> = new Set(['array', 'percpu_array', 'prog_array', 'perf_event_array', 'array_of_maps', 'cgroup_array', 'devmap', 'cpumap', 'xskmap']);
const SLOT_TYPES: ReadonlySet<MapType> = new Set(['prog_array', 'array_of_maps', 'hash_of_maps', 'perf_event_array', 'cgroup_array', 'xskmap', 'devmap', 'devmap_hash', 'cpumap', 'sockmap', 'sockhash']);
const KEYLESS_TYPES: ReadonlySet<MapType> = new Set(['queue', 'stack', 'bloom_filter']);

function updateFlag(map: string, f: UpdateFlags | undefined): number {
  switch (f) {
    case undefined: case 'any': return 0;
    case 'noexist': return 1;
    case 'exist': return 2;
    case 'lock': return 4;
    default:
      if (typeof f === 'number' && Number.isInteger(f) && f >= 0 && f <= 0xffffffff) return f;
      throw new ArgumentError(`update ${map}: flags must be 'any', 'noexist', 'exist', 'lock' or a u32, got ${describeValue(f)}`);
  }
}

function options<T extends object>(op: string, map: string, o: T | undefined): Partial<T> {
  if (o === undefined) return {};
  if (typeof o !== 'object' || o === null) throw new ArgumentError(`${op} ${map}: options must be an object`);
  return o;
}

/** Typed-array element order = the little-endian byte order maps use on this host. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Reused packed buffers for BpfMap batch writes, with typed views for inline integer stores. */
interface BatchScratch {
  keys: Uint8Array;
  kv: DataView;
  k32: Uint32Array;
  values: Uint8Array;
  vv: DataView;
  v64: BigUint64Array;
}

/** Whether `codec` decodes as a plain unsigned integer of `size` bytes (u32 → number, u64 → bigint). */
function readsAs(codec: Codec, size: 4 | 8): boolean {
  const ic = codec.int as (Codec['int'] & { encodeOnly?: boolean }) | undefined;
  return ic !== undefined && ic.size === size && !ic.signed && !ic.encodeOnly && codec.size === size;
}

/** Something that keeps track of what it owns (a BpfObject), so closing it closes them. */
export interface Owner {
  /** @internal */ release(child: { close(): void }): void;
}

export interface BpfMapOptions {
  btf?: Btf;
  /** Override the codecs' type ids (defaults: the map info's). */
  keyTypeId?: number;
  valueTypeId?: number;
  owner?: Owner;
  spec?: MapSpec;
}

export interface EventReaderOptions<T> {
  /** Decode each record: a function, or the name of a BTF type of the map's object (e.g. `struct event`). */
  decode?: ((record: Uint8Array) => T) | string;
}

export class BpfMap<K = unknown, V = unknown> {
  readonly name: string;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** The spec the map was created from (undefined for a map opened from a pin). */
  readonly spec: MapSpec | undefined;
  readonly perCpu: boolean;
  /** The key codec (a bytes codec when there is no BTF). */
  readonly keyCodec: Codec;
  /** The codec of one value (per-CPU maps: of one CPU's value). */
  readonly valueCodec: Codec;
  private readonly fullValueCodec: Codec;
  private closed = false;
  private readonly readers = new Set<EventReader<unknown>>();

  /** @internal */
  constructor(
    /** @internal */ readonly handle: BackendMap,
    readonly backend: Backend,
    private readonly opts: BpfMapOptions & { rawView?: boolean; parent?: BpfMap<any, any> } = {},
  ) {
    const info = handle.info;
    this.name = info.name;
    this.type = info.type;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.flags = info.flags;
    this.spec = opts.spec;
    this.perCpu = PERCPU_TYPES.has(info.type);
    const btf = opts.rawView ? undefined : opts.btf;
    const keyTypeId = btf ? (opts.keyTypeId ?? info.keyTypeId) : 0;
    const valueTypeId = btf ? (opts.valueTypeId ?? info.valueTypeId) : 0;
    // Without BTF: array indexes are u32, and slots that name programs/maps/sockets hold u32 ids.
    this.keyCodec = !opts.rawView && !keyTypeId && info.keySize === 4 && INDEXED_TYPES.has(info.type) ? uintCodec(4) : codecFor(btf, keyTypeId, info.keySize);
    this.valueCodec = !opts.rawView && !valueTypeId && info.valueSize === 4 && SLOT_TYPES.has(info.type) ? uintCodec(4, 'u32 id') : codecFor(btf, valueTypeId, info.valueSize);
    this.fullValueCodec = this.perCpu ? perCpuCodec(this.valueCodec, backend.possibleCpus) : this.valueCodec;
  }

  /** Open a map pinned at `path` (bpffs on the kernel). The caller owns (closes) it. */
  static async openPinned<K = unknown, V = unknown>(path: string, opts: { backend?: BackendOption } = {}): Promise<BpfMap<K, V>> {
    if (typeof path !== 'string' || !path) throw new ArgumentError('open pinned map: path must be a non-empty string');
    const backend = await resolveBackend(options('open pinned map', path, opts).backend);
    return new BpfMap<K, V>(backend.openPinnedMap(path), backend);
  }

  /**
   * Create a standalone map (e.g. an inner map to store in a map-in-map). `def` takes the MapSpec
   * fields; missing ones default (flags 0, no pinning, no BTF). The caller owns (closes) it.
   */
  static async create<K = unknown, V = unknown>(
    def: Pick<MapSpec, 'type' | 'keySize' | 'valueSize' | 'maxEntries'> & Partial<MapSpec>,
    opts: { backend?: BackendOption } = {},
  ): Promise<BpfMap<K, V>> {
    if (typeof def !== 'object' || def === null) throw new ArgumentError('create map: expected a map definition object');
    if (def.name !== undefined && typeof def.name !== 'string') throw new ArgumentError(`create map: name must be a string, got ${describeValue(def.name)}`);
    const name = def.name ?? 'map';
    for (const f of ['keySize', 'valueSize', 'maxEntries'] as const) {
      const v = def[f];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ArgumentError(`create map ${name}: ${f} must be a u32, got ${describeValue(v)}`);
    }
    if (typeof def.type !== 'string' || !MAP_TYPES.includes(def.type)) throw new ArgumentError(`create map ${name}: unknown map type ${describeValue(def.type)}`);
    const spec: MapSpec = {
      name, type: def.type, keySize: def.keySize, valueSize: def.valueSize, maxEntries: def.maxEntries,
      flags: def.flags ?? 0, pinning: def.pinning ?? 'none', section: def.section ?? '', keyTypeId: 0, valueTypeId: 0,
      contents: [], freeze: false, globalData: false,
    };
    if (def.innerMap) spec.innerMap = def.innerMap;
    if (def.numaNode !== undefined) spec.numaNode = def.numaNode;
    if (def.mapExtra !== undefined) spec.mapExtra = def.mapExtra;
    const backend = await resolveBackend(options('create map', name, opts).backend);
    const session = backend.openSession({ source: `<map ${name}>`, license: '', kernelVersion: 0, programs: [], maps: [spec] });
    try {
      return new BpfMap<K, V>(session.createMap(spec), backend, { spec });
    } finally {
      session.close();
    }
  }

  /** Live info from the backend (id, BTF type ids, ...). */
  get info(): MapInfo {
    return this.handle.info;
  }

  /** The file descriptor (kernel backend only). */
  get fd(): number | undefined {
    return this.handle.fd;
  }

  get id(): number {
    return this.handle.info.id;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The same map, reading and writing raw `Uint8Array`s (per-CPU: arrays of Uint8Array). */
  get raw(): BpfMap<Uint8Array, Uint8Array> {
    return new BpfMap<Uint8Array, Uint8Array>(this.handle, this.backend, { rawView: true, spec: this.spec, parent: this });
  }

  private live(op: string): void {
    if (this.closed || this.opts.parent?.closed) throw new BpfError('CLOSED', `${op} ${this.name}: the map is closed`);
  }

  private readonly messages = new Map<string, Map<string, string>>();

  /** `OP NAME: PART` for error messages, built once per (op, part). */
  private what(op: string, part: string): string {
    let byPart = this.messages.get(op);
    if (!byPart) this.messages.set(op, (byPart = new Map()));
    let m = byPart.get(part);
    if (m === undefined) byPart.set(part, (m = `${op} ${this.name}: ${part}`));
    return m;
  }

  private encKey(op: string, key: K): Uint8Array {
    if (KEYLESS_TYPES.has(this.type)) throw new ArgumentError(`${op} ${this.name}: a ${this.type} map has no keys (use push/pop/peek)`);
    return encode(this.keyCodec, key, this.what(op, 'key'));
  }

  private encValue(op: string, value: V): Uint8Array {
    // a Program (prog_array) or BpfMap (map-in-map) stands for its handle: fd on the kernel, id on the emulator
    if (value instanceof BpfMap || value instanceof Program) {
      if (!SLOT_TYPES.has(this.type)) throw new ArgumentError(`${op} ${this.name}: a ${value instanceof Program ? 'program' : 'map'} can only be stored in a prog_array or map-in-map (this is a ${this.type} map)`);
      if (value.isClosed) throw new ArgumentError(`${op} ${this.name}: ${value instanceof Program ? 'program' : 'map'} ${value.name} is closed`);
      const out = new Uint8Array(this.fullValueCodec.size);
      new DataView(out.buffer).setUint32(0, BpfMap.slotValue(value.handle) >>> 0, true);
      return out;
    }
    return encode(this.fullValueCodec, value, this.what(op, 'value'));
  }

  private decValue(bytes: Uint8Array): V {
    return decode<V>(this.fullValueCodec, bytes);
  }

  private decKey(bytes: Uint8Array): K {
    return decode<K>(this.keyCodec, bytes);
  }

  /** The value at `key`, or undefined when absent. */
  lookup(key: K): V | undefined {
    this.live('lookup');
    const v = this.handle.lookup(this.encKey('lookup', key));
    return v === undefined ? undefined : this.decValue(v);
  }

  /**
   * Look `key` up and write the value's raw bytes into `out` (the caller's memory, reused across
   * calls: no allocation on the kernel backend, like libbpf's `bpf_map_lookup_elem`); returns
   * false when the key is absent. `out` must be exactly the value size (per-CPU maps: every
   * possible CPU's value, each rounded up to 8 bytes); decode it with `decode(map.valueCodec, out)`.
   */
  lookupInto(key: K, out: Uint8Array): boolean {
    this.live('lookup');
    const k = this.encKey('lookup', key);
    if (this.handle.lookupInto) return this.handle.lookupInto(k, out);
    const v = this.handle.lookup(k);
    if (v === undefined) return false;
    if (v.length !== out.length) throw new ArgumentError(`lookup map ${this.name}: output buffer is ${out.length} bytes, expected ${v.length}`);
    out.set(v);
    return true;
  }

  /** Alias of `lookup`. */
  get(key: K): V | undefined {
    return this.lookup(key);
  }

  has(key: K): boolean {
    this.live('has');
    return this.handle.lookup(this.encKey('has', key)) !== undefined;
  }

  /**
   * Insert or replace. `flags`: 'any' (default), 'noexist' (MapError KEY_EXISTS if present),
   * 'exist' (MapError KEY_NOT_FOUND if absent), 'lock', or the numeric BPF_* flags.
   */
  update(key: K, value: V, flags?: UpdateFlags): void {
    this.live('update');
    const f = updateFlag(this.name, flags);
    this.handle.update(this.encKey('update', key), this.encValue('update', value), f);
  }

  /** Alias of `update(key, value, 'any')`. */
  set(key: K, value: V): this {
    this.update(key, value);
    return this;
  }

  /** Delete `key`; false when it was absent. */
  delete(key: K): boolean {
    this.live('delete');
    try {
      this.handle.delete(this.encKey('delete', key));
      return true;
    } catch (e) {
      if (e instanceof MapError && e.code === 'KEY_NOT_FOUND') return false;
      throw e;
    }
  }

  /** Look up and delete in one step; undefined when absent. */
  lookupAndDelete(key: K): V | undefined {
    this.live('lookupAndDelete');
    const v = this.handle.lookupAndDelete(this.encKey('lookupAndDelete', key));
    return v === undefined ? undefined : this.decValue(v);
  }

  private keyless(op: string): void {
    this.live(op);
    if (!KEYLESS_TYPES.has(this.type)) throw new ArgumentError(`${op} ${this.name}: only queue and stack maps support ${op} (this is a ${this.type} map)`);
  }

  /** Queue/stack: add a value (flags 'exist' overwrites the oldest when full). */
  push(value: V, flags?: UpdateFlags): void {
    this.keyless('push');
    this.handle.update(null, this.encValue('push', value), updateFlag(this.name, flags));
  }

  /** Queue/stack: remove and return the next value; undefined when empty. */
  pop(): V | undefined {
    this.keyless('pop');
    const v = this.handle.lookupAndDelete(null);
    return v === undefined ? undefined : this.decValue(v);
  }

  /** Queue/stack: the next value without removing it; undefined when empty. */
  peek(): V | undefined {
    this.keyless('peek');
    const v = this.handle.lookup(null);
    return v === undefined ? undefined : this.decValue(v);
  }

  /** Keys in the map's iteration order (via BPF_MAP_GET_NEXT_KEY). */
  *keys(): IterableIterator<K> {
    this.live('iterate');
    if (KEYLESS_TYPES.has(this.type)) return;
    let prev: Uint8Array | undefined;
    for (;;) {
      const next = this.handle.nextKey(prev);
      if (next === undefined) return;
      prev = next.slice();
      yield this.decKey(prev);
    }
  }

  /** `[key, value]` pairs; entries deleted while iterating are skipped. */
  *entries(): IterableIterator<[K, V]> {
    this.live('iterate');
    if (KEYLESS_TYPES.has(this.type)) return;
    let prev: Uint8Array | undefined;
    for (;;) {
      const next = this.handle.nextKey(prev);
      if (next === undefined) return;
      prev = next.slice();
      const v = this.lookupRawKey(prev);
      if (v !== undefined) yield [this.decKey(prev), this.decValue(v)];
    }
  }

  private lookupRawKey(key: Uint8Array): Uint8Array | undefined {
    try {
      return this.handle.lookup(key);
    } catch (e) {
      // fd arrays (prog_array, xskmap, ...) refuse user-space lookups of some slots
      if (e instanceof BpfError && (e.code === 'NOT_SUPPORTED' || e.code === 'EOPNOTSUPP' || e.code === 'ENOENT' || e.code === 'KEY_NOT_FOUND')) return undefined;
      throw e;
    }
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /**
   * Read every entry with batched lookups (BPF_MAP_LOOKUP_BATCH). `andDelete` empties the map as
   * it reads. `batchSize` entries per call (default 64).
   */
  lookupBatch(opts: { batchSize?: number; andDelete?: boolean } = {}): [K, V][] {
    this.live('lookupBatch');
    opts = options('lookupBatch', this.name, opts);
    const n = opts.batchSize ?? 64;
    if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`lookupBatch ${this.name}: batchSize must be a positive integer, got ${n}`);
    const andDelete = opts.andDelete ?? false;
    // The kernel backend can hand out views of its warm scratch area (valid until its next batch
    // lookup): each chunk is decoded before the next call, so nothing is copied twice.
    const h = this.handle as BackendMap & { lookupBatchView?: BackendMap['lookupBatch'] };
    const views = typeof h.lookupBatchView === 'function';
    const kc = this.keyCodec;
    const vc = this.fullValueCodec;
    const ks = this.keySize;
    const vs = vc.size;
    // u32 keys and u64 values (the common case) are read inline; other codecs through `read`
    const kU32 = readsAs(kc, 4);
    const vU32 = readsAs(vc, 4);
    const vU64 = readsAs(vc, 8);
    const out: [K, V][] = [];
    let cursor: Uint8Array | undefined;
    for (;;) {
      const r = views ? h.lookupBatchView!(cursor, n, andDelete) : h.lookupBatch(cursor, n, andDelete);
      const cnt = r.count;
      if (cnt > 0) {
        const kb = r.keys;
        const vb = r.values;
        const kv = new DataView(kb.buffer, kb.byteOffset, kb.byteLength);
        const vv = new DataView(vb.buffer, vb.byteOffset, vb.byteLength);
        // typed-array reads where the batch buffers allow them (aligned, little-endian host)
        const ka = kU32 && LITTLE_ENDIAN && (kb.byteOffset & 3) === 0 ? new Uint32Array(kb.buffer, kb.byteOffset, cnt) : undefined;
        const va = vU64 && LITTLE_ENDIAN && (vb.byteOffset & 7) === 0 ? new BigUint64Array(vb.buffer, vb.byteOffset, cnt) : undefined;
        for (let i = 0; i < cnt; i++) {
          const k = ka !== undefined ? ka[i]! : kU32 ? kv.getUint32(i * ks, true) : kc.read(kb, kv, i * ks);
          const v = va !== undefined ? va[i]! : vU64 ? vv.getBigUint64(i * vs, true) : vU32 ? vv.getUint32(i * vs, true) : vc.read(vb, vv, i * vs);
          out.push([k as K, v as V]);
        }
      }
      if (!r.cursor) return out;
      cursor = r.cursor;
    }
  }

  /** Read and delete every entry (BPF_MAP_LOOKUP_AND_DELETE_BATCH). */
  lookupAndDeleteBatch(opts: { batchSize?: number } = {}): [K, V][] {
    return this.lookupBatch({ ...options('lookupAndDeleteBatch', this.name, opts), andDelete: true });
  }

  /** Packed key/value buffers for batch writes, reused across calls (grown on demand). */
  private batchScratch: BatchScratch | undefined;

  private batchBuffers(n: number, withValues: boolean): BatchScratch {
    let b = this.batchScratch;
    const kBytes = n * this.keySize;
    const vBytes = withValues ? n * this.fullValueCodec.size : 0;
    if (b === undefined || b.keys.length < kBytes || b.values.length < vBytes) {
      const keys = new Uint8Array(Math.max(kBytes, b?.keys.length ?? 0));
      const values = new Uint8Array(Math.max(vBytes, b?.values.length ?? 0));
      b = this.batchScratch = {
        keys, kv: new DataView(keys.buffer), k32: new Uint32Array(keys.buffer, 0, keys.length >> 2),
        values, vv: new DataView(values.buffer), v64: new BigUint64Array(values.buffer, 0, values.length >> 3),
      };
    }
    return b;
  }

  /**
   * Encode entry `i` of a batch at `off` (same rules and messages as `encode`): integers and
   * exact-size bytes are written in place; anything else goes through the codec, and a value the
   * codec refuses is re-encoded by `encode`, which builds the message (`OP NAME: key I: ...`).
   */
  private encodeAt(codec: Codec, v: unknown, b: Uint8Array, view: DataView, off: number, op: string, part: string, i: number): void {
    const ic = codec.int;
    if (ic !== undefined) {
      if (typeof v === 'number') {
        if (Number.isInteger(v) && v >= ic.lo && v <= ic.hi) {
          switch (ic.size) {
            case 1: view.setUint8(off, v & 0xff); return;
            case 2: view.setUint16(off, v & 0xffff, true); return;
            case 4: view.setUint32(off, v >>> 0, true); return;
            default:
              view.setUint32(off, v % 0x100000000, true);
              view.setUint32(off + 4, Math.floor(v / 0x100000000), true);
              return;
          }
        }
      } else if (typeof v === 'bigint' && ic.size === 8) {
        // the 64-bit codecs take -2^63 .. 2^64-1 and store it modulo 2^64
        if (BigInt.asUintN(64, v) === v) {
          view.setBigUint64(off, v, true);
          return;
        }
        if (BigInt.asIntN(64, v) === v) {
          view.setBigInt64(off, v, true);
          return;
        }
      }
    }
    this.encodeSlow(codec, v, b, view, off, op, part, i);
  }

  private encodeSlow(codec: Codec, v: unknown, b: Uint8Array, view: DataView, off: number, op: string, part: string, i: number): void {
    const size = codec.size;
    if (v instanceof Uint8Array && v.length === size) {
      b.set(v, off);
      return;
    }
    if (v !== undefined && v !== null && !(v instanceof Uint8Array)) {
      b.fill(0, off, off + size);
      try {
        codec.write(v, b, view, off, null);
        return;
      } catch {
        // fall through: encode rebuilds the error with its path
      }
    }
    b.set(encode(codec, v, () => `${op} ${this.name}: ${part} ${i}`), off);
  }

  /** Write `keys[i] → values[i]` in one call; returns how many were written. */
  updateBatch(keys: readonly K[], values: readonly V[], flags?: UpdateFlags): number {
    this.live('updateBatch');
    if (!Array.isArray(keys) || !Array.isArray(values)) throw new ArgumentError(`updateBatch ${this.name}: keys and values must be arrays`);
    if (keys.length !== values.length) throw new ArgumentError(`updateBatch ${this.name}: ${keys.length} keys but ${values.length} values`);
    const f = updateFlag(this.name, flags);
    const n = keys.length;
    if (n === 0) return 0;
    const kc = this.keyCodec;
    const vc = this.fullValueCodec;
    const ks = this.keySize;
    const vs = vc.size;
    const b = this.batchBuffers(n, true);
    const kb = b.keys;
    const vb = b.values;
    const kv = b.kv;
    const vv = b.vv;
    const ka = b.k32;
    const va = b.v64;
    // u32 keys and u64 bigint values (the common case) are stored inline through typed arrays
    // (native little-endian order), everything else through encodeAt
    const k32 = LITTLE_ENDIAN && ks === 4 && kc.int !== undefined && kc.int.size === 4 ? kc.int : undefined;
    const v64 = LITTLE_ENDIAN && vs === 8 && vc.int !== undefined && vc.int.size === 8;
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      if (k32 !== undefined && typeof k === 'number' && Number.isInteger(k) && k >= k32.lo && k <= k32.hi) ka[i] = k >>> 0;
      else this.encodeAt(kc, k, kb, kv, i * ks, 'updateBatch', 'key', i);
      const v = values[i];
      if (v64 && typeof v === 'bigint' && BigInt.asUintN(64, v) === v) va[i] = v;
      else this.encodeAt(vc, v, vb, vv, i * vs, 'updateBatch', 'value', i);
    }
    return this.handle.updateBatch(kb, vb, n, f);
  }

  /** Delete `keys` in one call; returns how many were deleted. */
  deleteBatch(keys: readonly K[]): number {
    this.live('deleteBatch');
    if (!Array.isArray(keys)) throw new ArgumentError(`deleteBatch ${this.name}: keys must be an array`);
    const n = keys.length;
    if (n === 0) return 0;
    const kc = this.keyCodec;
    const ks = this.keySize;
    const b = this.batchBuffers(n, false);
    const kb = b.keys;
    const kv = b.kv;
    const ka = b.k32;
    const k32 = LITTLE_ENDIAN && ks === 4 && kc.int !== undefined && kc.int.size === 4 ? kc.int : undefined;
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      if (k32 !== undefined && typeof k === 'number' && Number.isInteger(k) && k >= k32.lo && k <= k32.hi) ka[i] = k >>> 0;
      else this.encodeAt(kc, k, kb, kv, i * ks, 'deleteBatch', 'key', i);
    }
    return this.handle.deleteBatch(kb, n);
  }

  /** Make the map read-only for user space (programs can still write unless `.rodata`). */
  freeze(): void {
    this.live('freeze');
    this.handle.freeze();
  }

  /** Pin at `path` (bpffs on the kernel). */
  pin(path: string): void {
    this.live('pin');
    if (typeof path !== 'string' || !path) throw new ArgumentError(`pin ${this.name}: path must be a non-empty string`);
    this.handle.pin(path);
  }

  /** Map the value area of a BPF_F_MMAPABLE array; shared with programs. */
  mmap(): ArrayBuffer {
    this.live('mmap');
    if (!(this.flags & MapFlag.Mmapable)) throw new ArgumentError(`mmap ${this.name}: the map was not created with BPF_F_MMAPABLE`);
    return this.handle.mmap();
  }

  private reader<T>(kind: 'ringbuf' | 'perf_event_array', opts: EventReaderOptions<T>): EventReader<T> {
    const op = kind === 'ringbuf' ? 'ringbuf' : 'perfBuffer';
    this.live(op);
    opts = options(op, this.name, opts);
    if (this.type !== kind) throw new ArgumentError(`${op} ${this.name}: the map is a ${this.type}, not a ${kind}`);
    let dec: (b: Uint8Array) => T;
    if (typeof opts.decode === 'function') dec = opts.decode;
    else if (typeof opts.decode === 'string') {
      const c = this.opts.btf ? codecByName(this.opts.btf, opts.decode) : undefined;
      if (!c) throw new ArgumentError(`${op} ${this.name}: no BTF type named '${opts.decode}' in the object`);
      dec = (b) => {
        if (b.length < c.size) throw new BpfError('RECORD_TOO_SHORT', `${op} ${this.name}: record of ${b.length} bytes is shorter than ${c.typeName} (${c.size} bytes)`);
        return decode<T>(c, b);
      };
    } else dec = (b) => b as unknown as T;
    const r: EventReader<T> = new EventReader<T>(this.handle.openReader(), dec, this.name, () => this.readers.delete(r as EventReader<unknown>));
    this.readers.add(r as EventReader<unknown>);
    return r;
  }

  /** Read a ring buffer map: `for await (const rec of map.ringbuf())`, or `poll()`. */
  ringbuf<T = Uint8Array>(opts: EventReaderOptions<T> = {}): EventReader<T> {
    return this.reader('ringbuf', opts);
  }

  /** Read a perf event array map (one buffer per CPU). */
  perfBuffer<T = Uint8Array>(opts: EventReaderOptions<T> = {}): EventReader<T> {
    return this.reader('perf_event_array', opts);
  }

  /** Close the map (and its readers). Idempotent. Views from `raw` share the handle. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of [...this.readers]) r.close();
    if (this.opts.parent) return;
    this.handle.close();
    this.opts.owner?.release(this);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The value bytes this map stores for another map/program in a slot (fd on the kernel, id on the emulator). */
  static slotValue(h: { fd?: number; id?: number; info?: { id: number } }): number {
    if (h.fd !== undefined) return h.fd;
    return h.id ?? h.info?.id ?? 0;
  }
}
