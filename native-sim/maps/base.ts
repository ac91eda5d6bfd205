/**
 * The common base of every emulated map: user-space API (BackendMap) with the kernel's error
 * semantics, plus the program-side API helpers call. Values live in Uint8Array storage that the
 * memory model wraps as checked regions: `progLookup` returns a live view (same ArrayBuffer) of
 * the element's value, so a program writing through the pointer changes the map.
 */
import type { BackendEventReader, BackendMap, BatchResult, MapInfo } from '../../lib/backend.js';
import { MapError, NotSupportedError, type MapErrorCode } from '../../lib/errors.js';
import type { MapSpec } from '../../lib/spec/index.js';
import { AddressSpace, Region, RegionFlag, RegionKind } from '../memory/index.js';
import { allocMapId, pinObject, registerMap, unpinObject } from './registry.js';

/**
 * Regions of deleted elements are released only after the program run in progress ends (an RCU
 * grace period): a program may still use a pointer it looked up before deleting the element.
 */
let runDepth = 0;
const graveyard: { space: AddressSpace; region: Region }[] = [];

export function enterRun(): void {
  runDepth++;
}
export function leaveRun(): void {
  if (--runDepth > 0) return;
  runDepth = 0;
  for (const g of graveyard) g.space.release(g.region);
  graveyard.length = 0;
}
export function retireRegion(space: AddressSpace, region: Region): void {
  if (runDepth > 0) graveyard.push({ space, region });
  else space.release(region);
}

export const enum Errno {
  EPERM = 1,
  ENOENT = 2,
  E2BIG = 7,
  EBADF = 9,
  ENOMEM = 12,
  EBUSY = 16,
  ENODEV = 19,
  EAGAIN = 11,
  EOVERFLOW = 75,
  EEXIST = 17,
  EINVAL = 22,
  ENOSPC = 28,
  EOPNOTSUPP = 95,
  ENOTSUPP = 524,
}

export const enum UpdateFlags {
  Any = 0,
  NoExist = 1,
  Exist = 2,
  Lock = 4,
}

/** Options every map gets from the backend. */
export interface SimMapOptions {
  /** Number of possible CPUs (per-CPU value count). */
  nCpus: number;
  /** Whether a (simulated) interface with this ifindex exists: devmap targets. */
  ifindexExists?: (ifindex: number) => boolean;
  /** The emulator's address space: values handed to programs become checked regions in it. */
  space?: AddressSpace;
}

const ERRNO_CODE: Record<number, MapErrorCode> = {
  [Errno.ENOENT]: 'KEY_NOT_FOUND',
  [Errno.EEXIST]: 'KEY_EXISTS',
  [Errno.E2BIG]: 'MAP_FULL',
  [Errno.ENOSPC]: 'MAP_FULL',
  [Errno.ENOMEM]: 'MAP_FULL',
  [Errno.EINVAL]: 'INVALID_ARGUMENT',
  [Errno.EPERM]: 'INVALID_ARGUMENT',
  [Errno.EOPNOTSUPP]: 'NOT_SUPPORTED',
  [Errno.ENOTSUPP]: 'NOT_SUPPORTED',
  [Errno.EBUSY]: 'BUSY',
  [Errno.EBADF]: 'INVALID_ARGUMENT',
  [Errno.ENODEV]: 'INVALID_ARGUMENT',
  [Errno.EOVERFLOW]: 'INVALID_ARGUMENT',
};

const ERRNO_TEXT: Record<number, string> = {
  [Errno.EPERM]: 'operation not permitted',
  [Errno.ENOENT]: 'key not found',
  [Errno.E2BIG]: 'argument list too long',
  [Errno.ENOMEM]: 'cannot allocate memory',
  [Errno.EBUSY]: 'device or resource busy',
  [Errno.EEXIST]: 'key exists',
  [Errno.EINVAL]: 'invalid argument',
  [Errno.ENOSPC]: 'no space left on device',
  [Errno.EOPNOTSUPP]: 'operation not supported',
  [Errno.ENOTSUPP]: 'operation not supported',
  [Errno.ENODEV]: 'no such device',
  [Errno.EBADF]: 'bad file descriptor',
  [Errno.EOVERFLOW]: 'value too large',
};

export function roundUp8(n: number): number {
  return (n + 7) & ~7;
}

/** Little-endian u32 at `off`. */
export function readU32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

export function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = (v >>> 24) & 0xff;
}

export function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32(b, 0, v);
  return b;
}

/**
 * A hashable identity for `size` key bytes at `off`: a number for keys up to 6 bytes (no
 * allocation on the hot path), a latin1 string otherwise.
 */
export function keyIdentity(b: Uint8Array, off: number, size: number): number | string {
  switch (size) {
    case 1:
      return b[off]!;
    case 2:
      return b[off]! | (b[off + 1]! << 8);
    case 3:
      return b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16);
    case 4:
      return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
    case 5:
      return readU32(b, off) + b[off + 4]! * 0x100000000;
    case 6:
      return readU32(b, off) + (b[off + 4]! | (b[off + 5]! << 8)) * 0x100000000;
    default: {
      let s = '';
      for (let i = 0; i < size; i++) s += String.fromCharCode(b[off + i]!);
      return s;
    }
  }
}

/**
 * dst[dstOff, +n) = src[srcOff, +n) without `src.subarray()`: a small typed array the caller just
 * made lives on V8's heap, and a subarray of it moves its bytes off-heap first (~1 µs, most of a
 * map update from user space).
 */
export function copyIn(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, n: number): void {
  if (srcOff === 0 && n === src.length) dst.set(src, dstOff);
  else if (n <= 64) for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i]!;
  else dst.set(src.subarray(srcOff, srcOff + n), dstOff);
}

/** A program-side view of the map object handed to helpers (map pointer in r1). */
export abstract class SimMap implements BackendMap {
  readonly info: MapInfo;
  readonly fd = undefined;
  readonly spec: MapSpec;
  readonly nCpus: number;
  readonly opts: SimMapOptions;
  readonly space: AddressSpace;
  /** Map-in-map (lookups yield inner maps, not values). */
  readonly isMapInMap: boolean = false;
  /** Offset within the region returned by the last `progLookupRegion`. */
  refOffset = 0;
  /** Program write permission of value regions (BPF_F_RDONLY_PROG makes them read-only). */
  protected readonly valuePerm: number;
  private viewRegions: WeakMap<Uint8Array, Region> | null = null;
  protected frozen = false;
  protected closed = false;
  /** Set when the memory model hands out a writable mmap; blocks freeze like the kernel. */
  protected writableMmaps = 0;

  constructor(spec: MapSpec, opts: SimMapOptions) {
    this.spec = spec;
    this.nCpus = opts.nCpus;
    this.opts = opts;
    this.space = opts.space ?? new AddressSpace();
    this.valuePerm = spec.flags & (1 << 7) ? RegionFlag.Read : RegionFlag.Read | RegionFlag.Write;
    this.info = {
      name: spec.name,
      type: spec.type,
      keySize: spec.keySize,
      valueSize: spec.valueSize,
      maxEntries: spec.maxEntries,
      flags: spec.flags,
      id: allocMapId(),
      keyTypeId: spec.keyTypeId,
      valueTypeId: spec.valueTypeId,
    };
    registerMap(this.info.id, this);
  }

  get name(): string {
    return this.info.name;
  }

  // ---- errors ------------------------------------------------------------------------------

  /** The error user space sees for `-errno` from operation `op`. */
  fail(op: string, errno: number, hint?: string): never {
    const code = ERRNO_CODE[errno] ?? 'INVALID_ARGUMENT';
    throw new MapError(this.info.name, code, `${op} ${this.info.type} map ${this.info.name}: ${ERRNO_TEXT[errno] ?? `errno ${errno}`}`, {
      errno,
      ...(hint ? { hint } : {}),
    });
  }

  protected checkWritable(op: string): void {
    if (this.frozen) this.fail(op, Errno.EPERM, 'the map is frozen: only programs may write it');
  }

  // ---- program-side API (helpers) -----------------------------------------------------------

  /** Region kind of this map's values (global data maps say so in fault messages). */
  protected valueKind(): RegionKind {
    return this.spec.globalData ? RegionKind.GlobalData : RegionKind.MapValue;
  }

  /** A region over a value view (cached per view); used by maps without their own layout. */
  protected regionForView(view: Uint8Array): Region {
    this.viewRegions ??= new WeakMap();
    let r = this.viewRegions.get(view);
    if (r === undefined) {
      r = this.space.add(this.valueKind(), `map ${this.info.name} value`, view, this.valuePerm);
      r.owner = this;
      this.viewRegions.set(view, r);
    }
    return r;
  }

  /** Release the region of a value view that left the map (deferred while a run is active). */
  protected retireView(view: Uint8Array): void {
    const r = this.viewRegions?.get(view);
    if (r !== undefined) {
      this.viewRegions!.delete(view);
      retireRegion(this.space, r);
    }
  }

  /**
   * map_lookup_elem for programs: the region holding the value (offset in `refOffset`) or null.
   * Default: a region per value view.
   */
  progLookupRegion(kb: Uint8Array, koff: number, cpu: number): Region | null {
    const v = this.progLookup(kb, koff, cpu);
    if (v === null) return null;
    this.refOffset = 0;
    return this.regionForView(v);
  }

  /** Live value view for the key at `kb[koff..]`, or null (map_lookup_elem). */
  abstract progLookup(kb: Uint8Array, koff: number, cpu: number): Uint8Array | null;
  /** map_update_elem: 0 or -errno. */
  abstract progUpdate(kb: Uint8Array, koff: number, vb: Uint8Array, voff: number, flags: number, cpu: number): number;
  /** map_delete_elem: 0 or -errno. */
  abstract progDelete(kb: Uint8Array, koff: number): number;
  /** map_push_elem (queue/stack/bloom): 0 or -errno. */
  progPush(_vb: Uint8Array, _voff: number, _flags: number): number {
    return -Errno.ENOTSUPP;
  }
  /** map_pop_elem: 0 or -errno, value copied to `dst`. */
  progPop(_dst: Uint8Array, _doff: number): number {
    return -Errno.ENOTSUPP;
  }
  /** map_peek_elem: 0 or -errno. */
  progPeek(_dst: Uint8Array, _doff: number): number {
    return -Errno.ENOTSUPP;
  }
  /**
   * bpf_for_each_map_elem: call `cb(key, value)` per element (live views); stop when it
   * returns non-zero. Returns the number of elements visited.
   */
  forEachElem(cpu: number, cb: (key: Uint8Array, value: Uint8Array) => number): number {
    let n = 0;
    let k = this.nextKey(undefined);
    while (k) {
      const v = this.progLookup(k, 0, cpu);
      const next = this.nextKey(k);
      if (v) {
        n++;
        if (cb(k, v) !== 0) break;
      }
      k = next;
    }
    return n;
  }

  // ---- user-space API ------------------------------------------------------------------------

  abstract lookup(key: Uint8Array | null, flags?: number): Uint8Array | undefined;
  abstract update(key: Uint8Array | null, value: Uint8Array, flags: number): void;
  abstract delete(key: Uint8Array): void;
  abstract nextKey(key: Uint8Array | undefined): Uint8Array | undefined;

  lookupAndDelete(_key: Uint8Array | null): Uint8Array | undefined {
    this.fail('lookup and delete', Errno.ENOTSUPP);
  }

  lookupBatch(cursor: Uint8Array | undefined, count: number, andDelete = false): BatchResult {
    const ks = this.info.keySize;
    const vs = this.userValueSize();
    const keys: Uint8Array[] = [];
    const values: Uint8Array[] = [];
    let k = andDelete || cursor === undefined ? this.nextKey(undefined) : this.nextKey(cursor);
    // With deletion the entries before the cursor are gone; a plain cursor continues after it.
    while (k && keys.length < count) {
      const v = this.lookup(k);
      const next = this.nextKey(k);
      if (v) {
        keys.push(k);
        values.push(v);
      }
      k = next;
    }
    if (andDelete) for (const key of keys) this.delete(key);
    const out: BatchResult = { keys: new Uint8Array(keys.length * ks), values: new Uint8Array(values.length * vs), count: keys.length };
    keys.forEach((key, i) => out.keys.set(key, i * ks));
    values.forEach((v, i) => out.values.set(v, i * vs));
    if (k !== undefined && keys.length > 0) out.cursor = keys[keys.length - 1]!.slice();
    return out;
  }

  updateBatch(keys: Uint8Array, values: Uint8Array, count: number, flags: number): number {
    const ks = this.info.keySize;
    const vs = this.userValueSize();
    for (let i = 0; i < count; i++) {
      this.update(keys.subarray(i * ks, (i + 1) * ks), values.subarray(i * vs, (i + 1) * vs), flags);
    }
    return count;
  }

  deleteBatch(keys: Uint8Array, count: number): number {
    const ks = this.info.keySize;
    for (let i = 0; i < count; i++) this.delete(keys.subarray(i * ks, (i + 1) * ks));
    return count;
  }

  /** Bytes of a value as user space exchanges it (per-CPU maps: nCpus × roundUp(size, 8)). */
  userValueSize(): number {
    return this.info.valueSize;
  }

  freeze(): void {
    if (this.writableMmaps > 0) this.fail('freeze', Errno.EBUSY, 'the map has a writable mmap');
    if (this.frozen) this.fail('freeze', Errno.EBUSY, 'already frozen');
    this.frozen = true;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  pin(path: string): void {
    pinObject(path, 'map', this);
  }

  mmap(): ArrayBuffer {
    throw new NotSupportedError('mmap', `mmap ${this.info.type} map ${this.info.name}: only BPF_F_MMAPABLE arrays can be mapped`);
  }

  openReader(): BackendEventReader {
    throw new NotSupportedError('map reader', `open reader on ${this.info.type} map ${this.info.name}: only ringbuf and perf_event_array maps have readers`);
  }

  close(): void {
    this.closed = true;
  }

  /** Drop every pin (emulator teardown). */
  unpinAll(): void {
    unpinObject(this);
  }
}
