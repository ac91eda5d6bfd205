/**
 * eBPF opcode constants (RFC 9669 plus the legacy packet loads, callx, cpu v4 and may_goto).
 *
 * An instruction's 8-bit `code` is built from fields:
 *   ALU / ALU64 / JMP / JMP32:  op (bits 4..7) | source (bit 3) | class (bits 0..2)
 *   LD / LDX / ST / STX:        mode (bits 5..7) | size (bits 3..4) | class (bits 0..2)
 *
 * Everything here is a const enum so hot code (verifier, interpreter, JIT) compiles to literals.
 */

/** Instruction class, `code & 0x07`. */
export const enum Class {
  LD = 0x00,
  LDX = 0x01,
  ST = 0x02,
  STX = 0x03,
  ALU = 0x04,
  JMP = 0x05,
  JMP32 = 0x06,
  ALU64 = 0x07,
}

/** Field masks of the opcode byte. */
export const enum Mask {
  CLASS = 0x07,
  /** ALU/JMP operation. */
  OP = 0xf0,
  /** ALU/JMP source (K or X). */
  SRC = 0x08,
  /** Load/store size. */
  SIZE = 0x18,
  /** Load/store mode. */
  MODE = 0xe0,
}

/** ALU operation, `code & 0xf0` for classes ALU and ALU64. */
export const enum AluOp {
  ADD = 0x00,
  SUB = 0x10,
  MUL = 0x20,
  /** Unsigned division; signed (sdiv) when `off` = 1. */
  DIV = 0x30,
  OR = 0x40,
  AND = 0x50,
  LSH = 0x60,
  RSH = 0x70,
  NEG = 0x80,
  /** Unsigned modulo; signed (smod) when `off` = 1. */
  MOD = 0x90,
  XOR = 0xa0,
  /** Move; sign-extending move (movsx) when `off` = 8, 16 or 32 with source X. */
  MOV = 0xb0,
  ARSH = 0xc0,
  /** Byte swap: ALU|K = to little endian, ALU|X = to big endian, ALU64|K = unconditional bswap. */
  END = 0xd0,
}

/** Jump operation, `code & 0xf0` for classes JMP and JMP32. */
export const enum JmpOp {
  /** JMP: `goto off`; JMP32: `gotol imm`. */
  JA = 0x00,
  JEQ = 0x10,
  JGT = 0x20,
  JGE = 0x30,
  JSET = 0x40,
  JNE = 0x50,
  JSGT = 0x60,
  JSGE = 0x70,
  /** JMP|K: helper (src 0), local function (src 1) or kfunc (src 2); JMP|X: callx (register in dst). */
  CALL = 0x80,
  EXIT = 0x90,
  JLT = 0xa0,
  JLE = 0xb0,
  JSLT = 0xc0,
  JSLE = 0xd0,
  /** `may_goto off` (JMP|K, src 0). */
  JCOND = 0xe0,
}

/** Operand source, `code & 0x08`. */
export const enum Source {
  /** Immediate `imm`. */
  K = 0x00,
  /** Register `src`. */
  X = 0x08,
}

/** Byte order of ALU END (class ALU; ALU64 END is an unconditional bswap). */
export const enum Endian {
  LE = 0x00,
  BE = 0x08,
}

/** Load/store size, `code & 0x18`. */
export const enum Size {
  /** 4 bytes. */
  W = 0x00,
  /** 2 bytes. */
  H = 0x08,
  /** 1 byte. */
  B = 0x10,
  /** 8 bytes. */
  DW = 0x18,
}

/** Load/store mode, `code & 0xe0`. */
export const enum Mode {
  IMM = 0x00,
  /** Legacy packet load, absolute offset. */
  ABS = 0x20,
  /** Legacy packet load, register + offset. */
  IND = 0x40,
  MEM = 0x60,
  /** Sign-extending load (cpu v4). */
  MEMSX = 0x80,
  ATOMIC = 0xc0,
}

/** The `imm` of a STX|ATOMIC instruction. */
export const enum AtomicOp {
  ADD = 0x00,
  OR = 0x40,
  AND = 0x50,
  XOR = 0xa0,
  /** Flag: return the old value in `src`. */
  FETCH = 0x01,
  FETCH_ADD = 0x01,
  FETCH_OR = 0x41,
  FETCH_AND = 0x51,
  FETCH_XOR = 0xa1,
  XCHG = 0xe1,
  CMPXCHG = 0xf1,
  /** Load-acquire (Linux 6.15): `dst = load_acquire(src + off)`. */
  LOAD_ACQ = 0x100,
  /** Store-release (Linux 6.15): `store_release(dst + off, src)`. */
  STORE_REL = 0x110,
}

/** `src` of an `ld_imm64` (BPF_PSEUDO_*): what `imm` refers to. */
export const enum PseudoSrc {
  /** Plain 64-bit immediate. */
  IMM = 0,
  MAP_FD = 1,
  MAP_VALUE = 2,
  BTF_ID = 3,
  FUNC = 4,
  MAP_IDX = 5,
  MAP_IDX_VALUE = 6,
}

/** `src` of a `call` (JMP|CALL|K). */
export const enum CallSrc {
  HELPER = 0,
  /** bpf-to-bpf call, `imm` = relative slot offset. */
  PSEUDO_CALL = 1,
  /** Kernel function, `imm` = BTF id. */
  KFUNC = 2,
}

/** Registers. R10 is the read-only frame pointer. */
export const enum Reg {
  R0 = 0,
  R1 = 1,
  R2 = 2,
  R3 = 3,
  R4 = 4,
  R5 = 5,
  R6 = 6,
  R7 = 7,
  R8 = 8,
  R9 = 9,
  R10 = 10,
}

/** Number of registers (R0..R10). */
export const REG_COUNT = 11;

/** Frequently used complete opcode bytes. */
export const enum Op {
  /** `ld_imm64` (two slots). */
  LD_IMM64 = 0x18,
  LD_ABS_W = 0x20,
  LD_ABS_H = 0x28,
  LD_ABS_B = 0x30,
  LD_IND_W = 0x40,
  LD_IND_H = 0x48,
  LD_IND_B = 0x50,
  LDX_W = 0x61,
  LDX_H = 0x69,
  LDX_B = 0x71,
  LDX_DW = 0x79,
  LDSX_W = 0x81,
  LDSX_H = 0x89,
  LDSX_B = 0x91,
  ST_W = 0x62,
  ST_H = 0x6a,
  ST_B = 0x72,
  ST_DW = 0x7a,
  STX_W = 0x63,
  STX_H = 0x6b,
  STX_B = 0x73,
  STX_DW = 0x7b,
  ATOMIC_B = 0xd3,
  ATOMIC_H = 0xcb,
  ATOMIC_W = 0xc3,
  ATOMIC_DW = 0xdb,
  JA = 0x05,
  /** JMP32|JA: `gotol imm`. */
  GOTOL = 0x06,
  CALL = 0x85,
  CALLX = 0x8d,
  EXIT = 0x95,
  MAY_GOTO = 0xe5,
  MOV64_K = 0xb7,
  MOV64_X = 0xbf,
  MOV32_K = 0xb4,
  MOV32_X = 0xbc,
}

/** Byte width of a load/store size field. */
export function sizeBytes(size: number): number {
  switch (size & Mask.SIZE) {
    case Size.W: return 4;
    case Size.H: return 2;
    case Size.B: return 1;
    default: return 8;
  }
}

/** Opcode class. */
export function opClass(code: number): Class {
  return (code & Mask.CLASS) as Class;
}

/** True for ALU and ALU64. */
export function isAluClass(code: number): boolean {
  const c = code & Mask.CLASS;
  return c === Class.ALU || c === Class.ALU64;
}

/** True for JMP and JMP32. */
export function isJmpClass(code: number): boolean {
  const c = code & Mask.CLASS;
  return c === Class.JMP || c === Class.JMP32;
}

/** Names of ALU ops by `op >> 4` (lowercase, kernel style). */
export const ALU_OP_NAMES: readonly string[] = [
  'add', 'sub', 'mul', 'div', 'or', 'and', 'lsh', 'rsh', 'neg', 'mod', 'xor', 'mov', 'arsh', 'end',
];

/** Names of JMP ops by `op >> 4` (lowercase, kernel style). */
export const JMP_OP_NAMES: readonly string[] = [
  'ja', 'jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'call', 'exit', 'jlt', 'jle', 'jslt', 'jsle',
  'jcond',
];
