/**
 * `union bpf_attr` encoders: command numbers, field offsets and a small fixed-size attr buffer
 * type. Every struct the kernel backend passes to bpf(2) is laid out here (offsets from
 * include/uapi/linux/bpf.h; little-endian hosts only, as BPF itself on the supported arches).
 *
 * An `Attr` owns its bytes; pointer fields are written with `ptr()` which stores the address of a
 * buffer via the addon — the caller must keep that buffer alive until the syscall returns (the
 * Attr keeps a reference to every buffer it points at, so holding the Attr is enough).
 */
import type { BpfSys, BufferLike } from './binding.js';

export const enum BpfCmd {
  MapCreate = 0,
  MapLookupElem = 1,
  MapUpdateElem = 2,
  MapDeleteElem = 3,
  MapGetNextKey = 4,
  ProgLoad = 5,
  ObjPin = 6,
  ObjGet = 7,
  ProgAttach = 8,
  ProgDetach = 9,
  ProgTestRun = 10,
  ProgGetNextId = 11,
  MapGetNextId = 12,
  ProgGetFdById = 13,
  MapGetFdById = 14,
  ObjGetInfoByFd = 15,
  ProgQuery = 16,
  RawTracepointOpen = 17,
  BtfLoad = 18,
  BtfGetFdById = 19,
  TaskFdQuery = 20,
  MapLookupAndDeleteElem = 21,
  MapFreeze = 22,
  BtfGetNextId = 23,
  MapLookupBatch = 24,
  MapLookupAndDeleteBatch = 25,
  MapUpdateBatch = 26,
  MapDeleteBatch = 27,
  LinkCreate = 28,
  LinkUpdate = 29,
  LinkGetFdById = 30,
  LinkGetNextId = 31,
  EnableStats = 32,
  IterCreate = 33,
  LinkDetach = 34,
  ProgBindMap = 35,
}

/** Human names of commands, for messages. */
export const BPF_CMD_NAMES: readonly string[] = [
  'BPF_MAP_CREATE', 'BPF_MAP_LOOKUP_ELEM', 'BPF_MAP_UPDATE_ELEM', 'BPF_MAP_DELETE_ELEM',
  'BPF_MAP_GET_NEXT_KEY', 'BPF_PROG_LOAD', 'BPF_OBJ_PIN', 'BPF_OBJ_GET', 'BPF_PROG_ATTACH',
  'BPF_PROG_DETACH', 'BPF_PROG_TEST_RUN', 'BPF_PROG_GET_NEXT_ID', 'BPF_MAP_GET_NEXT_ID',
  'BPF_PROG_GET_FD_BY_ID', 'BPF_MAP_GET_FD_BY_ID', 'BPF_OBJ_GET_INFO_BY_FD', 'BPF_PROG_QUERY',
  'BPF_RAW_TRACEPOINT_OPEN', 'BPF_BTF_LOAD', 'BPF_BTF_GET_FD_BY_ID', 'BPF_TASK_FD_QUERY',
  'BPF_MAP_LOOKUP_AND_DELETE_ELEM', 'BPF_MAP_FREEZE', 'BPF_BTF_GET_NEXT_ID', 'BPF_MAP_LOOKUP_BATCH',
  'BPF_MAP_LOOKUP_AND_DELETE_BATCH', 'BPF_MAP_UPDATE_BATCH', 'BPF_MAP_DELETE_BATCH',
  'BPF_LINK_CREATE', 'BPF_LINK_UPDATE', 'BPF_LINK_GET_FD_BY_ID', 'BPF_LINK_GET_NEXT_ID',
  'BPF_ENABLE_STATS', 'BPF_ITER_CREATE', 'BPF_LINK_DETACH', 'BPF_PROG_BIND_MAP',
];

/** BPF_MAP_CREATE. */
export const enum MapCreateOff {
  MapType = 0,
  KeySize = 4,
  ValueSize = 8,
  MaxEntries = 12,
  MapFlags = 16,
  InnerMapFd = 20,
  NumaNode = 24,
  MapName = 28,
  MapIfindex = 44,
  BtfFd = 48,
  BtfKeyTypeId = 52,
  BtfValueTypeId = 56,
  BtfVmlinuxValueTypeId = 60,
  MapExtra = 64,
  Size = 72,
}

/** BPF_MAP_*_ELEM. */
export const enum MapElemOff {
  MapFd = 0,
  Key = 8,
  /** value, or next_key for BPF_MAP_GET_NEXT_KEY */
  Value = 16,
  Flags = 24,
  Size = 32,
}

/** BPF_MAP_*_BATCH. */
export const enum MapBatchOff {
  InBatch = 0,
  OutBatch = 8,
  Keys = 16,
  Values = 24,
  Count = 32,
  MapFd = 36,
  ElemFlags = 40,
  Flags = 48,
  Size = 56,
}

/** BPF_PROG_LOAD. */
export const enum ProgLoadOff {
  ProgType = 0,
  InsnCnt = 4,
  Insns = 8,
  License = 16,
  LogLevel = 24,
  LogSize = 28,
  LogBuf = 32,
  KernVersion = 40,
  ProgFlags = 44,
  ProgName = 48,
  ProgIfindex = 64,
  ExpectedAttachType = 68,
  ProgBtfFd = 72,
  FuncInfoRecSize = 76,
  FuncInfo = 80,
  FuncInfoCnt = 88,
  LineInfoRecSize = 92,
  LineInfo = 96,
  LineInfoCnt = 104,
  AttachBtfId = 108,
  AttachProgFd = 112,
  CoreReloCnt = 116,
  FdArray = 120,
  CoreRelos = 128,
  CoreReloRecSize = 136,
  LogTrueSize = 140,
  Size = 144,
}

/** BPF_OBJ_PIN / BPF_OBJ_GET. */
export const enum ObjOff {
  Pathname = 0,
  BpfFd = 8,
  FileFlags = 12,
  Size = 16,
}

/** BPF_PROG_TEST_RUN. */
export const enum TestRunOff {
  ProgFd = 0,
  Retval = 4,
  DataSizeIn = 8,
  DataSizeOut = 12,
  DataIn = 16,
  DataOut = 24,
  Repeat = 32,
  Duration = 36,
  CtxSizeIn = 40,
  CtxSizeOut = 44,
  CtxIn = 48,
  CtxOut = 56,
  Flags = 64,
  Cpu = 68,
  BatchSize = 72,
  Size = 80,
}

/** BPF_OBJ_GET_INFO_BY_FD. */
export const enum InfoOff {
  BpfFd = 0,
  InfoLen = 4,
  Info = 8,
  Size = 16,
}

/** BPF_BTF_LOAD. */
export const enum BtfLoadOff {
  Btf = 0,
  LogBuf = 8,
  BtfSize = 16,
  LogSize = 20,
  LogLevel = 24,
  LogTrueSize = 28,
  Size = 32,
}

/** BPF_*_GET_FD_BY_ID / GET_NEXT_ID: start_id/prog_id/map_id/btf_id/link_id u32, next_id u32, open_flags u32. */
export const enum IdOff {
  Id = 0,
  NextId = 4,
  OpenFlags = 8,
  Size = 12,
}

/** struct bpf_map_info. */
export const enum MapInfoOff {
  Type = 0,
  Id = 4,
  KeySize = 8,
  ValueSize = 12,
  MaxEntries = 16,
  MapFlags = 20,
  Name = 24,
  Ifindex = 40,
  BtfVmlinuxValueTypeId = 44,
  NetnsDev = 48,
  NetnsIno = 56,
  BtfId = 64,
  BtfKeyTypeId = 68,
  BtfValueTypeId = 72,
  BtfVmlinuxId = 76,
  MapExtra = 80,
  Size = 88,
}

/** struct bpf_prog_info (the fields the backend reads). */
export const enum ProgInfoOff {
  Type = 0,
  Id = 4,
  Tag = 8,
  JitedProgLen = 16,
  XlatedProgLen = 20,
  JitedProgInsns = 24,
  XlatedProgInsns = 32,
  LoadTime = 40,
  CreatedByUid = 48,
  NrMapIds = 52,
  MapIds = 56,
  Name = 64,
  Ifindex = 80,
  GplCompatible = 84,
  BtfId = 128,
  RunTimeNs = 192,
  RunCnt = 200,
  VerifiedInsns = 216,
  AttachBtfObjId = 220,
  AttachBtfId = 224,
  Size = 232,
}

/** struct bpf_btf_info. */
export const enum BtfInfoOff {
  Btf = 0,
  BtfSize = 8,
  Id = 12,
  Name = 16,
  NameLen = 24,
  KernelBtf = 28,
  Size = 32,
}

/** BPF_PROG_LOAD flags. */
export const enum ProgLoadFlag {
  StrictAlignment = 1 << 0,
  AnyAlignment = 1 << 1,
  TestRnd = 1 << 2,
  TestStateFreq = 1 << 3,
  Sleepable = 1 << 4,
  XdpHasFrags = 1 << 5,
}

/** A fixed-size, zero-initialised attr buffer with typed field writers. */
export class Attr {
  readonly bytes: Uint8Array;
  readonly u32: Uint32Array;
  readonly view: DataView;
  /** Buffers whose addresses were written, kept alive as long as this Attr. */
  private readonly refs: BufferLike[] = [];

  /**
   * A zeroed attr of `size` bytes in its own backing store, or at `byteOffset` (8-aligned) of
   * `buffer` (the caller lays out several attrs and their scratch in one allocation; the bytes
   * there must be zero).
   */
  constructor(
    private readonly sys: BpfSys,
    size: number,
    buffer?: ArrayBuffer,
    byteOffset = 0,
  ) {
    // Sized to a multiple of 8 so u32/u64 views cover every field.
    const padded = (size + 7) & ~7;
    const ab = buffer ?? new ArrayBuffer(padded);
    if ((byteOffset & 7) !== 0 || byteOffset + padded > ab.byteLength) throw new RangeError(`attr at ${byteOffset} (+${padded}) outside its buffer or unaligned`);
    this.bytes = new Uint8Array(ab, byteOffset, size);
    this.u32 = new Uint32Array(ab, byteOffset, padded >> 2);
    this.view = new DataView(ab, byteOffset, padded);
  }

  setU32(off: number, v: number): this {
    this.view.setUint32(off, v >>> 0, true);
    return this;
  }

  setI32(off: number, v: number): this {
    this.view.setInt32(off, v | 0, true);
    return this;
  }

  setU64(off: number, v: bigint | number): this {
    this.view.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true);
    return this;
  }

  getU32(off: number): number {
    return this.view.getUint32(off, true);
  }

  getU64(off: number): bigint {
    return this.view.getBigUint64(off, true);
  }

  /** Write the address of `buf` (0 for null) into the u64 at `off` and keep `buf` alive. */
  ptr(off: number, buf: BufferLike | null): this {
    if (buf === null) return this.setU64(off, 0n);
    this.refs.push(buf);
    return this.setU64(off, this.sys.addressOf(buf));
  }

  /** Write a NUL-terminated name truncated to `max - 1` bytes at `off`. */
  name(off: number, name: string, max = 16): this {
    const enc = new TextEncoder().encode(name);
    const n = Math.min(enc.length, max - 1);
    this.bytes.fill(0, off, off + max);
    this.bytes.set(enc.subarray(0, n), off);
    return this;
  }

  /** Issue bpf(cmd, this): result or -errno. */
  call(cmd: BpfCmd): number {
    return this.sys.bpf(cmd, this.bytes);
  }

  /** bpf(cmd) with signals blocked during the call (see BpfSys.bpfNoSignals). */
  callNoSignals(cmd: BpfCmd): number {
    return this.sys.bpfNoSignals(cmd, this.bytes);
  }
}

/** NUL-terminated C string bytes (kept alive by the caller / an Attr). */
export function cString(s: string): Uint8Array {
  const enc = new TextEncoder().encode(s);
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}

/** Read a NUL-terminated string of at most `max` bytes at `off`. */
export function readCString(bytes: Uint8Array, off: number, max: number): string {
  let end = off;
  const lim = Math.min(bytes.length, off + max);
  while (end < lim && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(off, end));
}

/** Kernel-acceptable object name: [A-Za-z0-9_.] only, at most 15 bytes. */
export function objName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 15);
}
