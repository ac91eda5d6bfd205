/**
 * The emulator's memory model: a tagged address space of separate, bounds-checked regions.
 *
 * ## Values and pointers
 * Every BPF register is 64 bits, held as two signed 32-bit halves (`lo`, `hi`). A pointer is a
 * tagged 64-bit value:
 *
 *     hi = REGION_TAG | regionId      (REGION_TAG = 0xff000000, regionId < 2^24)
 *     lo = byte offset into the region's `bytes` (0 .. 2^32-1)
 *
 * so pointer arithmetic is ordinary 64-bit arithmetic, `data_end - data` is a plain length, and
 * a NULL or scalar value never names a region. Two other tags are not memory at all:
 *
 *     hi = MAP_TAG  (0xfe000000), lo = map handle index  — what `ld_imm64 src=1` loads
 *     hi = FUNC_TAG (0xfd000000), lo = instruction slot  — what `ld_imm64 src=4` loads (callx, bpf_loop)
 *
 * Loading from or storing to such a value faults like any non-pointer.
 *
 * ## Regions
 * A `Region` is a `Uint8Array` (`bytes`, plus a little-endian `DataView` over it) with a valid
 * window `[start, end)`: an access of `size` bytes at offset `a` is allowed only if
 * `start <= a && a + size <= end` and the region has the Read/Write permission. Kinds: ctx,
 * packet (bytes include headroom; `start`/`end` are data_meta-or-data .. data_end and move with
 * adjust_head/meta/tail), stack (one 512-byte region per call frame, 8 frames per `Vm`), map
 * values, global data, ring buffer records, simulated kernel memory, scratch (bpfkit exec).
 *
 * Value arrays (a map's whole value area in one region) set `stride` and `elemSize`: an access
 * must then also stay inside one element: `((a - start) % stride) + size <= elemSize`.
 *
 * Regions with `hooks` (ctx rewriting, e.g. `xdp_md.data` → a packet pointer) get a chance to
 * handle each access before the plain path. Regions without hooks or stride and with the
 * permission set the `FastRead`/`FastWrite` flag bits: the JIT's inline fast path uses only
 * those (via the computed windows rs/re, ws/we); everything else goes through the engines'
 * shared slow path (native-sim/engine.ts),
 * which is the single definition of access semantics for both engines.
 *
 * Region ids come from one `AddressSpace` per emulator (shared by its maps and programs, like a
 * kernel's address space). Released ids point at a dead region until reused, so stale pointers
 * fault instead of reaching new memory too early. Nothing here ever reads or writes host memory
 * outside a region's own `Uint8Array`.
 */

/** High word tag of a region pointer: `hi = REGION_TAG | id`. As a signed int32: -16777216. */
export const REGION_TAG = 0xff000000 | 0;
/** High word of a map handle (`ld_imm64 src=1`): `lo` = map index in the program's map table. */
export const MAP_TAG = 0xfe000000 | 0;
/** High word of a function pointer (`ld_imm64 src=4`): `lo` = instruction slot. */
export const FUNC_TAG = 0xfd000000 | 0;
/** Largest region id + 1. */
export const MAX_REGIONS = 1 << 24;

/** Bytes of stack per frame and number of frames (kernel: MAX_BPF_STACK, MAX_CALL_FRAMES). */
export const STACK_SIZE = 512;
export const MAX_FRAMES = 8;

export const enum RegionKind {
  Dead = 0,
  Ctx = 1,
  Packet = 2,
  Stack = 3,
  MapValue = 4,
  GlobalData = 5,
  Ringbuf = 6,
  Kernel = 7,
  Scratch = 8,
  Other = 9,
}

export const REGION_KIND_NAMES = [
  'dead', 'ctx', 'packet', 'stack', 'map value', 'global data', 'ringbuf', 'kernel memory', 'memory', 'memory',
] as const;

export const enum RegionFlag {
  Read = 1,
  Write = 2,
  /** Computed: Read and no hooks and no stride (inline fast path allowed for loads). */
  FastRead = 4,
  /** Computed: Write and no hooks and no stride (inline fast path allowed for stores). */
  FastWrite = 8,
}

/**
 * Special handling of accesses to a region (context rewriting). Each returns true when it
 * handled the access; false falls back to the plain checked access on `bytes`.
 * `out` is a 2-slot Int32Array: write the loaded value's lo to out[0] and hi to out[1]
 * (a hook load may produce a full 64-bit pointer, e.g. `xdp_md.data`, even for a 4-byte load).
 */
export interface RegionHooks {
  load(region: Region, offset: number, size: number, out: Int32Array): boolean;
  store(region: Region, offset: number, size: number, lo: number, hi: number): boolean;
}

const EMPTY = new Uint8Array(0);

export class Region {
  /** Region id (index in the address space). */
  id: number;
  kind: RegionKind;
  /** For messages: e.g. `stack frame 0`, `map counters value`, `packet`. */
  name: string;
  bytes: Uint8Array;
  view: DataView;
  /** Valid window [start, end) within `bytes`. */
  start: number;
  end: number;
  /** RegionFlag bits (Fast* bits computed by `refresh()`). */
  flags: number;
  /** For value arrays: element stride and the accessible size of each element; 0 = off. */
  stride: number;
  elemSize: number;
  hooks: RegionHooks | null;
  /**
   * Computed fast-path windows (JIT): loads with `rs <= a && a + size <= re` and stores with
   * `ws <= a && a + size <= we` are plain allowed accesses; empty (0, -1) when the region has
   * hooks, a stride or lacks the permission. Kept in sync by setWindow/configure/refresh.
   */
  rs: number;
  re: number;
  ws: number;
  we: number;
  /** Free slot for the owner (e.g. the map or context object). */
  owner: unknown;

  constructor(id: number, kind: RegionKind, name: string) {
    this.id = id;
    this.kind = kind;
    this.name = name;
    this.bytes = EMPTY;
    this.view = new DataView(EMPTY.buffer);
    this.start = 0;
    this.end = 0;
    this.flags = 0;
    this.stride = 0;
    this.elemSize = 0;
    this.hooks = null;
    this.rs = 0;
    this.re = -1;
    this.ws = 0;
    this.we = -1;
    this.owner = null;
  }

  /** Point the region at `bytes` with window [start, end) (default: all of it). */
  setBytes(bytes: Uint8Array, start = 0, end = bytes.length): this {
    if (this.bytes !== bytes) {
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    this.setWindow(start, end);
    return this;
  }

  /** Move the valid window (packet adjust_head/meta/tail). */
  setWindow(start: number, end: number): void {
    if (!(start >= 0 && start <= end && end <= this.bytes.length)) {
      throw new RangeError(`region ${this.name}: window [${start}, ${end}) outside ${this.bytes.length} bytes`);
    }
    this.start = start;
    this.end = end;
    this.refresh();
  }

  /** Set permissions, hooks and element stride; recomputes the fast-path bits. */
  configure(perm: number, hooks: RegionHooks | null = null, stride = 0, elemSize = 0): this {
    this.hooks = hooks;
    this.stride = stride;
    this.elemSize = elemSize;
    this.flags = perm & (RegionFlag.Read | RegionFlag.Write);
    this.refresh();
    return this;
  }

  refresh(): void {
    let f = this.flags & (RegionFlag.Read | RegionFlag.Write);
    const plain = this.hooks === null && this.stride === 0;
    if (plain && f & RegionFlag.Read) f |= RegionFlag.FastRead;
    if (plain && f & RegionFlag.Write) f |= RegionFlag.FastWrite;
    this.flags = f;
    const r = (f & RegionFlag.FastRead) !== 0;
    const w = (f & RegionFlag.FastWrite) !== 0;
    this.rs = r ? this.start : 0;
    this.re = r ? this.end : -1;
    this.ws = w ? this.start : 0;
    this.we = w ? this.end : -1;
  }

  /** The pointer to `offset` in this region as [lo, hi] halves. */
  pointer(offset: number): [number, number] {
    return [offset | 0, REGION_TAG | this.id];
  }

  /** The pointer to `offset` as an unsigned 64-bit bigint. */
  address(offset: number): bigint {
    return (BigInt((REGION_TAG | this.id) >>> 0) << 32n) | BigInt(offset >>> 0);
  }
}

/** The region every released or never-used id resolves to: no access ever succeeds. */
export const DEAD_REGION = new Region(-1, RegionKind.Dead, 'released memory');

export const enum Access {
  Read = 1,
  Write = 2,
  ReadWrite = 3,
}

/**
 * One address space: the table of regions that tagged pointers index. Shared by all maps and
 * programs of one emulator instance; each `Vm` also registers its own stack/ctx/packet regions.
 */
export class AddressSpace {
  /** Region table; `regions[id]`, released ids hold DEAD_REGION. Always packed. */
  readonly regions: Region[] = [];
  private readonly free: number[] = [];

  /** Allocate a region id. Configure it with `setBytes` and `configure`. */
  allocate(kind: RegionKind, name: string): Region {
    let id = this.free.pop();
    if (id === undefined) {
      id = this.regions.length;
      if (id >= MAX_REGIONS) throw new RangeError(`address space: more than ${MAX_REGIONS} regions`);
      this.regions.push(DEAD_REGION);
    }
    const r = new Region(id, kind, name);
    this.regions[id] = r;
    return r;
  }

  /** Convenience: allocate a region over `bytes` with permissions `perm`. */
  add(kind: RegionKind, name: string, bytes: Uint8Array, perm: number = RegionFlag.Read | RegionFlag.Write): Region {
    return this.allocate(kind, name).setBytes(bytes).configure(perm);
  }

  /** Release a region: its id then resolves to DEAD_REGION (and may be reused later). */
  release(region: Region): void {
    if (region.id >= 0 && this.regions[region.id] === region) {
      this.regions[region.id] = DEAD_REGION;
      this.free.unshift(region.id);
    }
  }

  /** The region a pointer's high word names, or undefined for a non-pointer. */
  regionOf(hi: number): Region | undefined {
    const id = (hi ^ REGION_TAG) >>> 0;
    if (id >= this.regions.length) return undefined;
    const r = this.regions[id]!;
    return r === DEAD_REGION ? undefined : r;
  }

  /**
   * Why an access of `size` bytes at (hi, a) with `access` is not allowed, or null if it is a
   * plain allowed access. `a` is the region offset lo+off computed as a JS number, so it may be
   * negative or ≥ 2^32 (then it is out of bounds by definition). Does not consult hooks.
   */
  check(hi: number, a: number, size: number, access: Access): string | null {
    const id = (hi ^ REGION_TAG) >>> 0;
    if (id >= this.regions.length) {
      if (hi === MAP_TAG) return 'pointer is a map handle, not memory';
      if (hi === FUNC_TAG) return 'pointer is a function pointer, not memory';
      return hi === 0 && a < 4096 && a >= 0 ? 'null pointer dereference' : 'address is not in any region';
    }
    const r = this.regions[id]!;
    if (r === DEAD_REGION) return 'pointer to released memory';
    if (a < r.start || a + size > r.end) {
      return `out of bounds of ${r.name} (offset ${a - r.start}, size ${size}, valid ${r.end - r.start} bytes)`;
    }
    if (access & Access.Read && !(r.flags & RegionFlag.Read)) return `${r.name} is not readable`;
    if (access & Access.Write && !(r.flags & RegionFlag.Write)) return `${r.name} is read-only`;
    if (r.stride !== 0) {
      const inElem = (a - r.start) % r.stride;
      if (inElem + size > r.elemSize) {
        return `access crosses the end of a ${r.elemSize}-byte element of ${r.name} (offset ${inElem} in element)`;
      }
    }
    return null;
  }

  /** Human name of the region a high word names (for fault reports). */
  regionName(hi: number): string | undefined {
    const id = (hi ^ REGION_TAG) >>> 0;
    if (id < this.regions.length) return this.regions[id]!.name;
    if (hi === MAP_TAG) return 'map handle';
    if (hi === FUNC_TAG) return 'function pointer';
    return undefined;
  }
}

/** The 64-bit address (unsigned bigint) of region offset `a` (which may be out of 32-bit range). */
export function addressOf(hi: number, a: number): bigint {
  return BigInt.asUintN(64, (BigInt(hi >>> 0) << 32n) + BigInt(a));
}
