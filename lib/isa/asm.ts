/**
 * Assembler DSL, mainly for tests:
 *
 *   const insns = assemble([
 *     mov64(R0, 0),
 *     ldxw(R2, R1, 4),
 *     jeq(R2, 0, 'out'),
 *     mov64(R1, R2),
 *     call('ktime_get_ns'),
 *     label('out'),
 *     exit(),
 *   ]);
 *
 * Registers are `Register` objects (R0..R10) so that `mov64(R1, R2)` (register) and
 * `mov64(R1, 2)` (immediate) are told apart. Jump, call and `ldFunc` targets are label names or
 * raw slot offsets. `assemble` resolves labels in slots (ld_imm64 counts 2) and throws
 * `ArgumentError` naming the label for a missing or duplicate label.
 */
import { ArgumentError } from '../errors.js';
import { helperId } from './helpers.js';
import { encode, insn as mkInsn, splitImm64, type Insn } from './insn.js';
import {
  AluOp, AtomicOp, CallSrc, Class, Endian, JmpOp, Mode, Op, PseudoSrc, Size, Source,
} from './opcodes.js';

/** A register operand. */
export class Register {
  constructor(readonly n: number) {}
  toString(): string {
    return `r${this.n}`;
  }
}

export const R0 = new Register(0);
export const R1 = new Register(1);
export const R2 = new Register(2);
export const R3 = new Register(3);
export const R4 = new Register(4);
export const R5 = new Register(5);
export const R6 = new Register(6);
export const R7 = new Register(7);
export const R8 = new Register(8);
export const R9 = new Register(9);
export const R10 = new Register(10);
/** All registers by number. */
export const REGS: readonly Register[] = [R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10];

/** A register or a 32-bit immediate. */
export type Operand = Register | number;
/** A label name or a raw offset in slots. */
export type Target = string | number;

/** Which field of an instruction a label reference patches. */
const enum Fix {
  None = 0,
  /** `off` = target − (pc + 1) (jumps). */
  Off = 1,
  /** `imm` = target − (pc + 1) (gotol, local calls, ldFunc). */
  Imm = 2,
}

/** One assembler item: an instruction (possibly referencing a label) or a label definition. */
export interface AsmItem {
  /** The instruction; undefined for a label definition. */
  insn?: Insn;
  /** Label defined here (when `insn` is undefined). */
  label?: string;
  /** Label referenced by `insn`. */
  target?: string;
  fix: number;
}

function item(i: Insn, target?: Target, fix: Fix = Fix.None): AsmItem {
  if (typeof target === 'string') return { insn: i, target, fix };
  return { insn: i, fix: Fix.None };
}

function reg(r: Register, what: string): number {
  if (!(r instanceof Register) || !Number.isInteger(r.n) || r.n < 0 || r.n > 10) {
    throw new ArgumentError(`assemble: ${what} must be a register R0..R10, got ${String(r)}`);
  }
  return r.n;
}

function imm32(v: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new ArgumentError(`assemble: ${what} ${String(v)} is not a 32-bit integer`);
  }
  return v | 0;
}

function off16(v: number, what = 'offset'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -32768 || v > 32767) {
    throw new ArgumentError(`assemble: ${what} ${String(v)} is not a signed 16-bit integer`);
  }
  return v;
}

function targetNum(t: Target, what: string): number {
  return typeof t === 'string' ? 0 : what === 'offset' ? off16(t) : imm32(t, what);
}

// ---- ALU ----------------------------------------------------------------------------------

function alu(cls: Class, op: AluOp, dst: Register, src: Operand, off = 0): AsmItem {
  const d = reg(dst, 'dst');
  if (src instanceof Register) return item(mkInsn(cls | op | Source.X, d, reg(src, 'src'), off, 0));
  return item(mkInsn(cls | op | Source.K, d, 0, off, imm32(src, 'immediate')));
}

export const add64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.ADD, dst, src);
export const sub64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.SUB, dst, src);
export const mul64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.MUL, dst, src);
export const div64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.DIV, dst, src);
export const sdiv64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.DIV, dst, src, 1);
export const or64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.OR, dst, src);
export const and64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.AND, dst, src);
export const lsh64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.LSH, dst, src);
export const rsh64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.RSH, dst, src);
export const mod64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.MOD, dst, src);
export const smod64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.MOD, dst, src, 1);
export const xor64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.XOR, dst, src);
export const mov64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.MOV, dst, src);
export const arsh64 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU64, AluOp.ARSH, dst, src);
export const neg64 = (dst: Register): AsmItem => item(mkInsn(Class.ALU64 | AluOp.NEG, reg(dst, 'dst'), 0, 0, 0));

export const add32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.ADD, dst, src);
export const sub32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.SUB, dst, src);
export const mul32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.MUL, dst, src);
export const div32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.DIV, dst, src);
export const sdiv32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.DIV, dst, src, 1);
export const or32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.OR, dst, src);
export const and32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.AND, dst, src);
export const lsh32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.LSH, dst, src);
export const rsh32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.RSH, dst, src);
export const mod32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.MOD, dst, src);
export const smod32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.MOD, dst, src, 1);
export const xor32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.XOR, dst, src);
export const mov32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.MOV, dst, src);
export const arsh32 = (dst: Register, src: Operand): AsmItem => alu(Class.ALU, AluOp.ARSH, dst, src);
export const neg32 = (dst: Register): AsmItem => item(mkInsn(Class.ALU | AluOp.NEG, reg(dst, 'dst'), 0, 0, 0));

/** Sign-extending move (cpu v4): `dst = (s8|s16|s32)src`. */
export function movsx64(dst: Register, src: Register, bits: 8 | 16 | 32): AsmItem {
  if (bits !== 8 && bits !== 16 && bits !== 32) throw new ArgumentError(`assemble: movsx64 width ${String(bits)} is not 8, 16 or 32`);
  return alu(Class.ALU64, AluOp.MOV, dst, src, bits);
}
/** 32-bit sign-extending move (cpu v4): `wdst = (s8|s16)wsrc`. */
export function movsx32(dst: Register, src: Register, bits: 8 | 16): AsmItem {
  if (bits !== 8 && bits !== 16) throw new ArgumentError(`assemble: movsx32 width ${String(bits)} is not 8 or 16`);
  return alu(Class.ALU, AluOp.MOV, dst, src, bits);
}
/** Arena pointer cast (`addr_space_cast`): `toUser` false = to kernel (imm 1), true = to user (imm 1 << 16). */
export function addrSpaceCast(dst: Register, src: Register, toUser: boolean): AsmItem {
  return item(mkInsn(Class.ALU64 | AluOp.MOV | Source.X, reg(dst, 'dst'), reg(src, 'src'), 1, toUser ? 0x10000 : 1));
}

function end(cls: Class, order: Endian, dst: Register, bits: 16 | 32 | 64): AsmItem {
  if (bits !== 16 && bits !== 32 && bits !== 64) throw new ArgumentError(`assemble: byte swap width ${String(bits)} is not 16, 32 or 64`);
  return item(mkInsn(cls | AluOp.END | order, reg(dst, 'dst'), 0, 0, bits));
}
/** `dst = le16/le32/le64 dst` (to little endian). */
export const le = (dst: Register, bits: 16 | 32 | 64): AsmItem => end(Class.ALU, Endian.LE, dst, bits);
/** `dst = be16/be32/be64 dst` (to big endian). */
export const be = (dst: Register, bits: 16 | 32 | 64): AsmItem => end(Class.ALU, Endian.BE, dst, bits);
/** Unconditional byte swap (cpu v4, ALU64 END). */
export const bswap = (dst: Register, bits: 16 | 32 | 64): AsmItem => end(Class.ALU64, Endian.LE, dst, bits);

// ---- memory -------------------------------------------------------------------------------

function ldx(mode: Mode, size: Size, dst: Register, src: Register, off: number): AsmItem {
  return item(mkInsn(Class.LDX | mode | size, reg(dst, 'dst'), reg(src, 'src'), off16(off), 0));
}
export const ldxb = (dst: Register, src: Register, off: number): AsmItem => ldx(Mode.MEM, Size.B, dst, src, off);
export const ldxh = (dst: Register, src: Register, off: number): AsmItem => ldx(Mode.MEM, Size.H, dst, src, off);
export const ldxw = (dst: Register, src: Register, off: number): AsmItem => ldx(Mode.MEM, Size.W, dst, src, off);
export const ldxdw = (dst: Register, src: Register, off: number): AsmItem => ldx(Mode.MEM, Size.DW, dst, src, off);
/** Sign-extending loads (cpu v4). */
export const ldxsb = (dst: Register, src: Register, off: number): AsmItem => ldx(Mode.MEMSX, Size.B, dst, src, off);
export const ldxsh = (dst: Register, src: Register, off: number): AsmItem => ldx(Mode.MEMSX, Size.H, dst, src, off);
export const ldxsw = (dst: Register, src: Register, off: number): AsmItem => ldx(Mode.MEMSX, Size.W, dst, src, off);

function st(size: Size, dst: Register, off: number, imm: number): AsmItem {
  return item(mkInsn(Class.ST | Mode.MEM | size, reg(dst, 'dst'), 0, off16(off), imm32(imm, 'immediate')));
}
export const stb = (dst: Register, off: number, imm: number): AsmItem => st(Size.B, dst, off, imm);
export const sth = (dst: Register, off: number, imm: number): AsmItem => st(Size.H, dst, off, imm);
export const stw = (dst: Register, off: number, imm: number): AsmItem => st(Size.W, dst, off, imm);
export const stdw = (dst: Register, off: number, imm: number): AsmItem => st(Size.DW, dst, off, imm);

function stx(size: Size, dst: Register, off: number, src: Register): AsmItem {
  return item(mkInsn(Class.STX | Mode.MEM | size, reg(dst, 'dst'), reg(src, 'src'), off16(off), 0));
}
export const stxb = (dst: Register, off: number, src: Register): AsmItem => stx(Size.B, dst, off, src);
export const stxh = (dst: Register, off: number, src: Register): AsmItem => stx(Size.H, dst, off, src);
export const stxw = (dst: Register, off: number, src: Register): AsmItem => stx(Size.W, dst, off, src);
export const stxdw = (dst: Register, off: number, src: Register): AsmItem => stx(Size.DW, dst, off, src);

/** Any STX|ATOMIC instruction: `op` is the AtomicOp imm, `size` W or DW (B/H for load-acquire/store-release). */
export function atomic(size: Size, op: AtomicOp, dst: Register, off: number, src: Register): AsmItem {
  return item(mkInsn(Class.STX | Mode.ATOMIC | size, reg(dst, 'dst'), reg(src, 'src'), off16(off), op));
}
/** `lock *(u64 *)(dst + off) += src` and friends. */
export const atomicAdd64 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.DW, AtomicOp.ADD, dst, off, src);
export const atomicOr64 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.DW, AtomicOp.OR, dst, off, src);
export const atomicAnd64 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.DW, AtomicOp.AND, dst, off, src);
export const atomicXor64 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.DW, AtomicOp.XOR, dst, off, src);
export const atomicAdd32 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.W, AtomicOp.ADD, dst, off, src);
export const atomicOr32 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.W, AtomicOp.OR, dst, off, src);
export const atomicAnd32 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.W, AtomicOp.AND, dst, off, src);
export const atomicXor32 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.W, AtomicOp.XOR, dst, off, src);
/** `src = atomic_fetch_add((u64 *)(dst + off), src)` and friends. */
export const fetchAdd64 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.DW, AtomicOp.FETCH_ADD, dst, off, src);
export const fetchOr64 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.DW, AtomicOp.FETCH_OR, dst, off, src);
export const fetchAnd64 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.DW, AtomicOp.FETCH_AND, dst, off, src);
export const fetchXor64 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.DW, AtomicOp.FETCH_XOR, dst, off, src);
export const fetchAdd32 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.W, AtomicOp.FETCH_ADD, dst, off, src);
export const fetchOr32 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.W, AtomicOp.FETCH_OR, dst, off, src);
export const fetchAnd32 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.W, AtomicOp.FETCH_AND, dst, off, src);
export const fetchXor32 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.W, AtomicOp.FETCH_XOR, dst, off, src);
/** `src = xchg(dst + off, src)`. */
export const xchg64 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.DW, AtomicOp.XCHG, dst, off, src);
export const xchg32 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.W, AtomicOp.XCHG, dst, off, src);
/** `r0 = cmpxchg(dst + off, r0, src)`. */
export const cmpxchg64 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.DW, AtomicOp.CMPXCHG, dst, off, src);
export const cmpxchg32 = (dst: Register, off: number, src: Register): AsmItem => atomic(Size.W, AtomicOp.CMPXCHG, dst, off, src);

// ---- 64-bit immediates --------------------------------------------------------------------

/** `dst = value ll` (two slots). */
export function ldImm64(dst: Register, value: bigint | number): AsmItem {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new ArgumentError(`assemble: ld_imm64 value ${value} is not a safe integer (pass a bigint)`);
  }
  const v = BigInt(value);
  if (v < -(1n << 63n) || v >= 1n << 64n) throw new ArgumentError(`assemble: ld_imm64 value ${v} does not fit in 64 bits`);
  const [lo, hi] = splitImm64(v);
  return item(mkInsn(Op.LD_IMM64, reg(dst, 'dst'), PseudoSrc.IMM, 0, lo, hi));
}
/** `ld_imm64` with a pseudo src (BPF_PSEUDO_*). */
export function ldPseudo(dst: Register, src: PseudoSrc, imm: number, imm64Hi = 0): AsmItem {
  if (!Number.isInteger(src) || src < 0 || src > 6) throw new ArgumentError(`assemble: ld_imm64 pseudo src ${String(src)} is not 0..6`);
  return item(mkInsn(Op.LD_IMM64, reg(dst, 'dst'), src, 0, imm32(imm, 'immediate'), imm32(imm64Hi, 'immediate')));
}
/** `dst = map fd` (BPF_PSEUDO_MAP_FD). */
export const ldMapFd = (dst: Register, fd: number): AsmItem => ldPseudo(dst, PseudoSrc.MAP_FD, fd);
/** `dst = &map value + off` (BPF_PSEUDO_MAP_VALUE; off goes in the second slot's imm). */
export const ldMapValue = (dst: Register, fd: number, off = 0): AsmItem => ldPseudo(dst, PseudoSrc.MAP_VALUE, fd, off);
/** `dst = &function` (BPF_PSEUDO_FUNC) for callbacks; imm = slot offset to the label. */
export function ldFunc(dst: Register, target: Target): AsmItem {
  return item(mkInsn(Op.LD_IMM64, reg(dst, 'dst'), PseudoSrc.FUNC, 0, targetNum(target, 'function offset')), target, Fix.Imm);
}

// ---- legacy packet loads ------------------------------------------------------------------

export const ldAbsB = (imm: number): AsmItem => item(mkInsn(Op.LD_ABS_B, 0, 0, 0, imm32(imm, 'offset')));
export const ldAbsH = (imm: number): AsmItem => item(mkInsn(Op.LD_ABS_H, 0, 0, 0, imm32(imm, 'offset')));
export const ldAbsW = (imm: number): AsmItem => item(mkInsn(Op.LD_ABS_W, 0, 0, 0, imm32(imm, 'offset')));
export const ldIndB = (src: Register, imm: number): AsmItem => item(mkInsn(Op.LD_IND_B, 0, reg(src, 'src'), 0, imm32(imm, 'offset')));
export const ldIndH = (src: Register, imm: number): AsmItem => item(mkInsn(Op.LD_IND_H, 0, reg(src, 'src'), 0, imm32(imm, 'offset')));
export const ldIndW = (src: Register, imm: number): AsmItem => item(mkInsn(Op.LD_IND_W, 0, reg(src, 'src'), 0, imm32(imm, 'offset')));

// ---- jumps and calls ----------------------------------------------------------------------

/** `goto target` (16-bit offset). */
export const ja = (target: Target): AsmItem => item(mkInsn(Op.JA, 0, 0, targetNum(target, 'offset'), 0), target, Fix.Off);
/** `gotol target` (cpu v4, 32-bit offset in imm). */
export const gotol = (target: Target): AsmItem => item(mkInsn(Op.GOTOL, 0, 0, 0, targetNum(target, 'jump offset')), target, Fix.Imm);
/** `may_goto target`. */
export const mayGoto = (target: Target): AsmItem => item(mkInsn(Op.MAY_GOTO, 0, 0, targetNum(target, 'offset'), 0), target, Fix.Off);

function jmp(cls: Class, op: JmpOp, dst: Register, src: Operand, target: Target): AsmItem {
  const d = reg(dst, 'dst');
  const off = targetNum(target, 'offset');
  if (src instanceof Register) return item(mkInsn(cls | op | Source.X, d, reg(src, 'src'), off, 0), target, Fix.Off);
  return item(mkInsn(cls | op | Source.K, d, 0, off, imm32(src, 'immediate')), target, Fix.Off);
}
type Jmp = (dst: Register, src: Operand, target: Target) => AsmItem;
export const jeq: Jmp = (d, s, t) => jmp(Class.JMP, JmpOp.JEQ, d, s, t);
export const jgt: Jmp = (d, s, t) => jmp(Class.JMP, JmpOp.JGT, d, s, t);
export const jge: Jmp = (d, s, t) => jmp(Class.JMP, JmpOp.JGE, d, s, t);
export const jset: Jmp = (d, s, t) => jmp(Class.JMP, JmpOp.JSET, d, s, t);
export const jne: Jmp = (d, s, t) => jmp(Class.JMP, JmpOp.JNE, d, s, t);
export const jsgt: Jmp = (d, s, t) => jmp(Class.JMP, JmpOp.JSGT, d, s, t);
export const jsge: Jmp = (d, s, t) => jmp(Class.JMP, JmpOp.JSGE, d, s, t);
export const jlt: Jmp = (d, s, t) => jmp(Class.JMP, JmpOp.JLT, d, s, t);
export const jle: Jmp = (d, s, t) => jmp(Class.JMP, JmpOp.JLE, d, s, t);
export const jslt: Jmp = (d, s, t) => jmp(Class.JMP, JmpOp.JSLT, d, s, t);
export const jsle: Jmp = (d, s, t) => jmp(Class.JMP, JmpOp.JSLE, d, s, t);
export const jeq32: Jmp = (d, s, t) => jmp(Class.JMP32, JmpOp.JEQ, d, s, t);
export const jgt32: Jmp = (d, s, t) => jmp(Class.JMP32, JmpOp.JGT, d, s, t);
export const jge32: Jmp = (d, s, t) => jmp(Class.JMP32, JmpOp.JGE, d, s, t);
export const jset32: Jmp = (d, s, t) => jmp(Class.JMP32, JmpOp.JSET, d, s, t);
export const jne32: Jmp = (d, s, t) => jmp(Class.JMP32, JmpOp.JNE, d, s, t);
export const jsgt32: Jmp = (d, s, t) => jmp(Class.JMP32, JmpOp.JSGT, d, s, t);
export const jsge32: Jmp = (d, s, t) => jmp(Class.JMP32, JmpOp.JSGE, d, s, t);
export const jlt32: Jmp = (d, s, t) => jmp(Class.JMP32, JmpOp.JLT, d, s, t);
export const jle32: Jmp = (d, s, t) => jmp(Class.JMP32, JmpOp.JLE, d, s, t);
export const jslt32: Jmp = (d, s, t) => jmp(Class.JMP32, JmpOp.JSLT, d, s, t);
export const jsle32: Jmp = (d, s, t) => jmp(Class.JMP32, JmpOp.JSLE, d, s, t);

/** Call a helper by id or name (`'map_lookup_elem'` or `'bpf_map_lookup_elem'`). */
export function call(helper: number | string): AsmItem {
  let id: number;
  if (typeof helper === 'string') {
    const found = helperId(helper);
    if (found === undefined) throw new ArgumentError(`assemble: unknown helper '${helper}'`);
    id = found;
  } else {
    id = imm32(helper, 'helper id');
  }
  return item(mkInsn(Op.CALL, 0, CallSrc.HELPER, 0, id));
}
/** bpf-to-bpf call to a label (or a raw slot offset). */
export const callLocal = (target: Target): AsmItem =>
  item(mkInsn(Op.CALL, 0, CallSrc.PSEUDO_CALL, 0, targetNum(target, 'call offset')), target, Fix.Imm);
/** Call a kernel function by BTF id. */
export const kfuncCall = (btfId: number, offset = 0): AsmItem =>
  item(mkInsn(Op.CALL, 0, CallSrc.KFUNC, off16(offset), imm32(btfId, 'btf id')));
/** `callx reg`. */
export const callx = (r: Register): AsmItem => item(mkInsn(Op.CALLX, reg(r, 'register'), 0, 0, 0));
export const exit = (): AsmItem => item(mkInsn(Op.EXIT, 0, 0, 0, 0));

/** Define a label at the next instruction. */
export function label(name: string): AsmItem {
  if (typeof name !== 'string' || name === '') throw new ArgumentError('assemble: label name must be a non-empty string');
  return { label: name, fix: Fix.None };
}

/** A raw instruction (escape hatch for encodings the DSL has no helper for). */
export const raw = (code: number, dst: number, src: number, off: number, imm: number, imm64Hi = 0): AsmItem =>
  item(mkInsn(code, dst, src, off, imm, imm64Hi));

/**
 * Resolve labels and return the instructions (fresh objects). Throws `ArgumentError` for an
 * undefined or duplicate label (naming it and the instruction), or an offset out of range.
 */
export function assemble(items: readonly AsmItem[]): Insn[] {
  const labels = new Map<string, number>();
  let slot = 0;
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    if (it.insn === undefined) {
      if (it.label === undefined) throw new ArgumentError(`assemble: item ${k} is neither an instruction nor a label`);
      if (labels.has(it.label)) throw new ArgumentError(`assemble: label '${it.label}' is defined twice (at slots ${labels.get(it.label)} and ${slot})`);
      labels.set(it.label, slot);
      continue;
    }
    slot += it.insn.code === Op.LD_IMM64 ? 2 : 1;
  }
  const out: Insn[] = [];
  slot = 0;
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    const i = it.insn;
    if (i === undefined) continue;
    const copy = mkInsn(i.code, i.dst, i.src, i.off, i.imm, i.imm64Hi ?? 0);
    if (it.target !== undefined) {
      const at = labels.get(it.target);
      if (at === undefined) throw new ArgumentError(`assemble: label '${it.target}' is not defined (used by instruction ${out.length})`);
      const delta = at - slot - 1;
      if (it.fix === Fix.Off) {
        if (delta < -32768 || delta > 32767) {
          throw new ArgumentError(`assemble: jump to '${it.target}' from instruction ${out.length} is out of 16-bit range (${delta}; use gotol)`);
        }
        copy.off = delta;
      } else {
        copy.imm = delta;
      }
    }
    out.push(copy);
    slot += i.code === Op.LD_IMM64 ? 2 : 1;
  }
  return out;
}

/** `assemble` then `encode`: the program as bytes (8 per slot). */
export function assembleBytes(items: readonly AsmItem[]): Uint8Array {
  return encode(assemble(items));
}
