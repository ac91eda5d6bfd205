/**
 * The Backend interface: everything `lib/object` needs from a place where BPF objects live.
 * Two implementations: `lib/kernel` (real bpf(2)) and `native-sim` (the emulator). The public
 * classes (`BpfObject`, `BpfMap`, `Program`, `Link` in `lib/object`) are thin, backend-agnostic
 * wrappers over these handles; they add codecs, iteration helpers and ownership.
 *
 * Conventions for every method:
 * - Keys and values are raw bytes of exactly the map's key/value size; all size checks happen
 *   in `lib/object` before the call, so backends may assume well-sized buffers.
 * - Per-CPU maps (percpu_hash, percpu_array, lru_percpu_hash) exchange values as
 *   `possibleCpus * roundUp(valueSize, 8)` bytes, CPU 0 first — exactly as bpf(2) does.
 * - Failures throw the shared error classes of `lib/errors.ts`, the same class for the same
 *   cause on both backends: a missing key → `MapError('KEY_NOT_FOUND')` from `delete`, and
 *   `undefined` from `lookup`/`lookupAndDelete`; BPF_NOEXIST on a present key →
 *   `MapError('KEY_EXISTS')`; a full hash → `MapError('MAP_FULL')`; BPF_EXIST on a missing key →
 *   `MapError('KEY_NOT_FOUND')`; an empty queue/stack → `undefined`.
 */
import type { Btf } from './btf/index.js';
import type { AttachType, MapSpec, MapType, ObjectSpec, ProgType, ProgramSpec } from './spec/index.js';

export type BackendKind = 'kernel' | 'emulator';

/** What is known about a live map. */
export interface MapInfo {
  name: string;
  type: MapType;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** Kernel map id (kernel backend) or a process-unique id (emulator). */
  id: number;
  /** BTF type ids of key/value in the BTF the map was created with (0 = none). */
  keyTypeId: number;
  valueTypeId: number;
}

/** Result of a batch lookup: `count` keys and values packed back to back. */
export interface BatchResult {
  keys: Uint8Array;
  values: Uint8Array;
  count: number;
  /** Opaque cursor to pass as `cursor` to continue; undefined when iteration is complete. */
  cursor?: Uint8Array;
}

/** A live map. */
export interface BackendMap {
  readonly info: MapInfo;
  /** File descriptor on the kernel backend; undefined on the emulator. */
  readonly fd?: number;
  /** Look up `key` (null for queue/stack peek). Undefined when absent. */
  lookup(key: Uint8Array | null, flags?: number): Uint8Array | undefined;
  /**
   * Look up `key` into `out` (exactly the user value size: per-CPU maps all CPUs' values, each
   * rounded up to 8 bytes); false when absent, `out` then untouched. No allocation where the
   * backend has a native path (BpfMap.lookupInto falls back to `lookup` + copy).
   */
  lookupInto?(key: Uint8Array | null, out: Uint8Array, flags?: number): boolean;
  /** Insert or replace. `flags`: 0 any, 1 noexist, 2 exist, 4 lock. `key` null for queue/stack push. */
  update(key: Uint8Array | null, value: Uint8Array, flags: number): void;
  /** Delete `key`; throws MapError KEY_NOT_FOUND when absent (EINVAL-style errors for arrays). */
  delete(key: Uint8Array): void;
  /** The key after `key` in iteration order, or the first key when `key` is undefined. */
  nextKey(key: Uint8Array | undefined): Uint8Array | undefined;
  /** Look up and delete atomically (null key = queue/stack pop). Undefined when absent/empty. */
  lookupAndDelete(key: Uint8Array | null): Uint8Array | undefined;
  /** Up to `count` entries starting after `cursor` (from the start when undefined). */
  lookupBatch(cursor: Uint8Array | undefined, count: number, andDelete?: boolean): BatchResult;
  /** `count` entries packed back to back; returns how many were written. */
  updateBatch(keys: Uint8Array, values: Uint8Array, count: number, flags: number): number;
  /** Delete `count` packed keys; returns how many were deleted. */
  deleteBatch(keys: Uint8Array, count: number): number;
  /** Make the map read-only for user space (BPF_MAP_FREEZE). */
  freeze(): void;
  /** Pin at `path` (bpffs on the kernel; a process-wide namespace on the emulator). */
  pin(path: string): void;
  /** Map the value area of a BPF_F_MMAPABLE array (shared with programs). */
  mmap(): ArrayBuffer;
  /** Ring buffer / perf event array consumer. */
  openReader(): BackendEventReader;
  close(): void;
}

/** Consumer of a ringbuf or perf_event_array map. */
export interface BackendEventReader {
  /** Deliver every record available now to `onRecord` without blocking; returns how many. */
  poll(onRecord: (record: Uint8Array) => void): number;
  /** Resolve when at least one record may be available (event-loop driven, no busy polling). */
  readable(): Promise<void>;
  close(): void;
}

export interface RunOptions {
  data?: Uint8Array;
  ctx?: Uint8Array;
  /** Repeat count for timing (BPF_PROG_TEST_RUN repeat); the result is from the last run. */
  repeat?: number;
  /** Output buffer size for data_out (defaults to data length + 256 headroom for growth). */
  dataSizeOut?: number;
  ctxSizeOut?: number;
  flags?: number;
  cpu?: number;
}

export interface RunResult {
  retval: number;
  /** Exactly what BPF_PROG_TEST_RUN returns as data_out. */
  data: Uint8Array;
  ctx?: Uint8Array;
  /** Average duration per run in nanoseconds. */
  durationNs: number;
}

export type XdpMode = 'skb' | 'native' | 'offload';

export type AttachRequest =
  | { kind: 'xdp'; ifindex: number; ifname: string; mode?: XdpMode }
  | { kind: 'tc'; ifindex: number; ifname: string; direction: 'ingress' | 'egress' }
  | { kind: 'cgroup'; path: string; attachType: AttachType }
  | { kind: 'tracepoint'; category: string; name: string }
  | { kind: 'raw_tracepoint'; name: string }
  | { kind: 'uprobe'; binaryPath: string; symbol?: string; offset?: number; pid?: number; ret?: boolean }
  | { kind: 'socket_filter'; socketFd: number };

export interface LinkInfo {
  kind: AttachRequest['kind'];
  /** Kernel link id, or a process-unique id on the emulator. */
  id: number;
  target: string;
}

/** A live attachment. */
export interface BackendLink {
  readonly info: LinkInfo;
  readonly fd?: number;
  /** Atomically replace the attached program (where the hook supports it). */
  update(program: BackendProgram): void;
  pin(path: string): void;
  /** Detach now, even if pinned (unpins). */
  detach(): void;
  /** Release our reference; the attachment stays only if pinned. */
  close(): void;
}

/** A loaded (verified) program. */
export interface BackendProgram {
  readonly name: string;
  readonly type: ProgType;
  readonly fd?: number;
  readonly id: number;
  /** Instructions the verifier processed, when the backend knows it. */
  readonly insnsProcessed?: number;
  /** The verifier log, when requested at load. */
  readonly log?: string;
  run(opts: RunOptions): RunResult;
  attach(req: AttachRequest): BackendLink;
  pin(path: string): void;
  close(): void;
}

export interface LoadProgramOptions {
  /** Maps of the object by name (global data under their section names). */
  maps: ReadonlyMap<string, BackendMap>;
  /** 0 = log only on failure; 1/2 = verbose log kept on success too. */
  logLevel?: number;
  /** Initial log buffer size; grown on ENOSPC. */
  logSize?: number;
}

/** One load of one object: owns shared load-time resources such as the object's BTF. */
export interface LoadSession {
  /** Create (or, for by-name pinning, reuse) a map. `innerMap` is set for map-in-map. */
  createMap(spec: MapSpec): BackendMap;
  loadProgram(spec: ProgramSpec, opts: LoadProgramOptions): BackendProgram;
  /** Release load-time resources (e.g. the BTF fd); maps and programs stay. */
  close(): void;
}

export interface LoadSessionOptions {
  /** Root directory for `pinning: by_name` maps (default `/sys/fs/bpf`). */
  pinRoot?: string;
}

export interface Backend {
  readonly kind: BackendKind;
  /** Why this backend was chosen (e.g. "auto: addon loaded, bpf(2) works"). */
  readonly reason: string;
  /** Number of possible CPUs: the per-CPU value count. */
  readonly possibleCpus: number;
  openSession(spec: ObjectSpec, opts?: LoadSessionOptions): LoadSession;
  openPinnedMap(path: string): BackendMap;
  openPinnedProgram(path: string): BackendProgram;
  openPinnedLink(path: string): BackendLink;
  /** Resolve an interface name to an index (simulated interfaces on the emulator). */
  ifindex(ifname: string): number;
}

/** What a backend needs besides the spec to interpret BTF-typed data. */
export type { Btf };
