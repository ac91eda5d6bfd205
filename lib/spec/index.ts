/**
 * Specs: plain, copyable data describing what an object file asks for. Produced by `lib/elf`
 * (pure, deterministic), consumed by `lib/object` and the backends at load time.
 */
import type { Btf } from '../btf/index.js';
import type { AttachType, MapType, ProgType } from './types.js';

export * from './types.js';

/** Source position of one instruction, from BTF.ext line_info. */
export interface LineInfo {
  /** Instruction index (in 8-byte slots) within the linked program. */
  insn: number;
  file: string;
  line: number;
  column: number;
  /** The source line text as recorded in BTF (may be empty). */
  text: string;
  /** Raw string offsets into the object's BTF string table, as the kernel wants them. */
  fileNameOff: number;
  lineOff: number;
}

/** One func_info record: the function starting at `insn` has BTF FUNC type `typeId`. */
export interface FuncInfo {
  insn: number;
  typeId: number;
  name: string;
}

export type CoreRelocKind =
  | 'field_byte_offset' | 'field_byte_size' | 'field_exists' | 'field_signed' | 'field_lshift_u64'
  | 'field_rshift_u64' | 'type_id_local' | 'type_id_target' | 'type_exists' | 'type_size'
  | 'enumval_exists' | 'enumval_value' | 'type_matches';

/** A CO-RE relocation record from BTF.ext, kept for the kernel backend to resolve at load. */
export interface CoreReloc {
  insn: number;
  typeId: number;
  /** Access string such as "0:1:2". */
  accessString: string;
  kind: CoreRelocKind;
}

/**
 * A reference from an instruction to a map. The instruction at `insn` is an `ld_imm64` whose
 * src_reg is already BPF_PSEUDO_MAP_FD (1, `offset` = 0) or BPF_PSEUDO_MAP_VALUE (2, `offset` =
 * byte offset into the value of element 0). Backends patch the map's fd/handle into imm.
 */
export interface MapReference {
  insn: number;
  map: string;
  offset: number;
}

/**
 * A reference to a kernel (ksym) or unresolved extern symbol; loading fails with a clear error if
 * the backend cannot resolve it.
 */
export interface ExternReference {
  insn: number;
  name: string;
  kind: 'kconfig' | 'ksym' | 'func';
}

export interface ProgramSpec {
  /** Function symbol name. */
  name: string;
  /** ELF section, e.g. `xdp`, `tracepoint/syscalls/sys_enter_getpid`. */
  section: string;
  type: ProgType;
  /** Expected attach type from the SEC() convention, if any. */
  attachType?: AttachType;
  /** Attach target from the section name (e.g. `syscalls/sys_enter_getpid`, a function name). */
  attachTo?: string;
  /** Program flags for BPF_PROG_LOAD (e.g. BPF_F_XDP_HAS_FRAGS for `xdp.frags`). */
  flags: number;
  /** True for SEC() names that libbpf marks sleepable (`.s` suffix). */
  sleepable: boolean;
  /**
   * Linked instructions, 8 bytes per slot, little endian: the program followed by every
   * subprogram it uses, call offsets fixed, map loads carrying src_reg pseudo values (see
   * MapReference) and imm = 0.
   */
  instructions: Uint8Array;
  /** Names of subprograms appended after the entry function, in order. */
  subprograms: string[];
  /** Start slot of each function in `instructions` (entry program first, at 0). */
  functionStarts: { name: string; insn: number }[];
  mapReferences: MapReference[];
  externReferences: ExternReference[];
  license: string;
  kernelVersion: number;
  funcInfo: FuncInfo[];
  lineInfo: LineInfo[];
  coreRelocs: CoreReloc[];
}

/** A `values` entry of a BTF-defined prog_array / map-in-map: slot → program or map name. */
export interface MapContent {
  key: number;
  /** Program name (prog_array) or map name (map-in-map). */
  value: string;
}

export type PinningType = 'none' | 'by_name';

export interface MapSpec {
  name: string;
  type: MapType;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  pinning: PinningType;
  numaNode?: number;
  mapExtra?: bigint;
  /** ELF section the definition came from: `.maps`, `maps`, `.data`, `.rodata`, `.bss`, ... */
  section: string;
  /** BTF type ids of key and value in the object's BTF, when known (0 = none). */
  keyTypeId: number;
  valueTypeId: number;
  /** For map-in-map: the inner map's template. */
  innerMap?: MapSpec;
  /** Initial contents for global-data maps (element 0 of a 1-entry array). */
  initialData?: Uint8Array;
  /** Slots to fill at load for prog_array / map-in-map (`values = { ... }`). */
  contents: MapContent[];
  /** Freeze after creating and filling (`.rodata`). */
  freeze: boolean;
  /** True for `.data`/`.rodata`/`.bss` (and `.data.*` etc.) maps. */
  globalData: boolean;
}

export interface ObjectSpec {
  /** Where it came from, for messages (file path, or `<memory>`). */
  source: string;
  license: string;
  kernelVersion: number;
  programs: ProgramSpec[];
  maps: MapSpec[];
  /**
   * Parsed object BTF, with DATASEC sizes and VAR offsets already fixed up so that `btf.raw` can
   * be loaded into the kernel as is. Undefined if the object has no `.BTF`.
   */
  btf?: Btf;
}
