/**
 * Disassembler. The text of each instruction is exactly what `llvm-objdump-19 -d
 * --no-show-raw-insn` prints for it, minus the trailing ` <symbol+offset>` annotation of jumps.
 *
 * It works from raw fields and never throws: encodings that LLVM's decoder rejects come out as
 * `<unknown>` (one slot), as llvm-objdump prints them, and fields that LLVM ignores are ignored.
 *
 * By default it behaves like plain `llvm-objdump -d` (no `alu32` feature: 32-bit atomics other
 * than `lock ... +=` are `<unknown>`); `{ alu32: true }` behaves like `llvm-objdump --mcpu=v3`.
 */
import type { Insn } from './insn.js';
import { AluOp, Class, JmpOp, Mask, Mode, Op, Size, Source } from './opcodes.js';

export interface DisasmOptions {
  /** Decode as `llvm-objdump --mcpu=v3` (or v4) does: 32-bit atomics use w registers. */
  alu32?: boolean;
}

/** Text printed by llvm-objdump for an encoding it cannot decode. */
export const UNKNOWN = '<unknown>';

/** One disassembled instruction: slot index, number of slots (2 for ld_imm64) and text. */
export interface DisasmLine {
  index: number;
  slots: number;
  text: string;
}

const ALU_SYMS: readonly string[] = ['+=', '-=', '*=', '/=', '|=', '&=', '<<=', '>>=', '', '%=', '^=', '=', 's>>='];
const JMP_SYMS: readonly string[] = ['', '==', '>', '>=', '&', '!=', 's>', 's>=', '', '', '<', '<=', 's<', 's<='];
const SIZE_NAMES: readonly string[] = ['u32', 'u16', 'u8', 'u64'];
const SX_NAMES: readonly string[] = ['s32', 's16', 's8', ''];

/** Hex with sign, as LLVM's BPF printer does: `0x4`, `-0x4`. */
function hex(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

/** Jump/branch offset: `+0x3`, `-0x3`. */
function rel(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `+0x${n.toString(16)}`;
}

/** Memory operand `r2 + 0x3` / `r2 - 0x3`. */
function memAddr(reg: number, off: number): string {
  return off < 0 ? `r${reg} - 0x${(-off).toString(16)}` : `r${reg} + 0x${off.toString(16)}`;
}

/**
 * Text of the instruction with these fields, or `<unknown>`. `hi` is the imm of the next slot
 * for ld_imm64 (`hasNext` false if there is none).
 */
export function formatFields(
  code: number, dst: number, src: number, off: number, imm: number,
  hi: number, hasNext: boolean, alu32 = false,
): string {
  // LLVM knows registers r0..r11; a field that names r12..r15 makes the decode fail.
  const cls = code & Mask.CLASS;
  switch (cls) {
    case Class.ALU:
    case Class.ALU64:
      return formatAlu(code, dst, src, off, imm);
    case Class.JMP:
    case Class.JMP32:
      return formatJmp(code, dst, src, off, imm);
    case Class.LD:
      return formatLd(code, dst, src, off, imm, hi, hasNext);
    case Class.LDX: {
      const mode = code & Mask.MODE;
      if (dst > 11 || src > 11) return UNKNOWN;
      if (mode === Mode.MEM) return `${alu32 && (code & Mask.SIZE) !== Size.DW ? 'w' : 'r'}${dst} = *(${SIZE_NAMES[(code & Mask.SIZE) >> 3]} *)(${memAddr(src, off)})`;
      if (mode === Mode.MEMSX && (code & Mask.SIZE) !== Size.DW) {
        return `r${dst} = *(${SX_NAMES[(code & Mask.SIZE) >> 3]} *)(${memAddr(src, off)})`;
      }
      return UNKNOWN;
    }
    case Class.ST:
      if ((code & Mask.MODE) !== Mode.MEM || dst > 11) return UNKNOWN;
      return `*(${SIZE_NAMES[(code & Mask.SIZE) >> 3]} *)(${memAddr(dst, off)}) = ${hex(imm)}`;
    default: {
      // STX
      const mode = code & Mask.MODE;
      if (dst > 11 || src > 11) return UNKNOWN;
      if (mode === Mode.MEM) {
        const p = alu32 && (code & Mask.SIZE) !== Size.DW ? 'w' : 'r';
        return `*(${SIZE_NAMES[(code & Mask.SIZE) >> 3]} *)(${memAddr(dst, off)}) = ${p}${src}`;
      }
      if (mode === Mode.ATOMIC) return formatAtomic(code, dst, src, off, imm, alu32);
      return UNKNOWN;
    }
  }
}

function formatAlu(code: number, dst: number, src: number, off: number, imm: number): string {
  const is64 = (code & Mask.CLASS) === Class.ALU64;
  const x = (code & Mask.SRC) === Source.X;
  const op = code & Mask.OP;
  const p = is64 ? 'r' : 'w';
  if (dst > 11) return UNKNOWN;
  const d = `${p}${dst}`;
  switch (op) {
    case AluOp.NEG:
      return x ? UNKNOWN : `${d} = -${d}`;
    case AluOp.END: {
      if (imm !== 16 && imm !== 32 && imm !== 64) return UNKNOWN;
      if (is64) return x ? UNKNOWN : `r${dst} = bswap${imm} r${dst}`;
      return `r${dst} = ${x ? 'be' : 'le'}${imm} r${dst}`;
    }
    case 0xe0:
    case 0xf0:
      return UNKNOWN;
    default:
      break;
  }
  if (x && src > 11) return UNKNOWN;
  const s = x ? `${p}${src}` : hex(imm);
  if (off !== 0) {
    if ((op === AluOp.DIV || op === AluOp.MOD) && off === 1) return `${d} s${op === AluOp.DIV ? '/=' : '%='} ${s}`;
    if (op === AluOp.MOV && x && off === 1 && is64) {
      return `r${dst} = addr_space_cast(r${src}, 0x${(imm >>> 16).toString(16)}, 0x${(imm & 0xffff).toString(16)})`;
    }
    if (op === AluOp.MOV && x && (off === 8 || off === 16 || (off === 32 && is64))) return `${d} = (s${off})${p}${src}`;
    return UNKNOWN;
  }
  return `${d} ${ALU_SYMS[op >> 4]} ${s}`;
}

function formatJmp(code: number, dst: number, src: number, off: number, imm: number): string {
  const j32 = (code & Mask.CLASS) === Class.JMP32;
  const x = (code & Mask.SRC) === Source.X;
  const op = code & Mask.OP;
  switch (op) {
    case JmpOp.JA:
      if (x) return UNKNOWN;
      return j32 ? `gotol ${rel(imm)}` : `goto ${rel(off)}`;
    case JmpOp.CALL:
      if (j32) return UNKNOWN;
      if (x) return dst > 11 ? UNKNOWN : `callx r${dst}`;
      return `call ${hex(imm)}`;
    case JmpOp.EXIT:
      if (j32 || x || imm !== 0) return UNKNOWN;
      return 'exit';
    case JmpOp.JCOND:
      if (j32 || x) return UNKNOWN;
      return `may_goto ${rel(off)}`;
    case 0xf0:
      return UNKNOWN;
    default: {
      const p = j32 ? 'w' : 'r';
      if (dst > 11 || (x && src > 11)) return UNKNOWN;
      return `if ${p}${dst} ${JMP_SYMS[op >> 4]} ${x ? `${p}${src}` : hex(imm)} goto ${rel(off)}`;
    }
  }
}

function formatLd(code: number, dst: number, src: number, off: number, imm: number, hi: number, hasNext: boolean): string {
  if (code === Op.LD_IMM64) {
    if (!hasNext || dst > 11 || off !== 0) return UNKNOWN;
    if (src === 0) {
      const v = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(imm >>> 0));
      return v < 0n ? `r${dst} = -0x${(-v).toString(16)} ll` : `r${dst} = 0x${v.toString(16)} ll`;
    }
    return `ld_pseudo\tr${dst}, ${hex(src)}, 0x${(imm >>> 0).toString(16)}`;
  }
  const mode = code & Mask.MODE;
  const size = code & Mask.SIZE;
  if (size === Size.DW) return UNKNOWN;
  if (mode === Mode.ABS) return `r0 = *(${SIZE_NAMES[size >> 3]} *)skb[${hex(imm)}]`;
  if (mode === Mode.IND) return src > 11 ? UNKNOWN : `r0 = *(${SIZE_NAMES[size >> 3]} *)skb[r${src}]`;
  return UNKNOWN;
}

function formatAtomic(code: number, dst: number, src: number, off: number, imm: number, alu32: boolean): string {
  const size = code & Mask.SIZE;
  if (size !== Size.W && size !== Size.DW) return UNKNOWN;
  const w = size === Size.W;
  const t = w ? 'u32' : 'u64';
  const addr = memAddr(dst, off);
  if (w && !alu32) {
    // Without alu32 LLVM only knows the legacy 32-bit xadd, matched on imm bits 4..7.
    return (imm & 0xf0) === 0 ? `lock *(u32 *)(${addr}) += r${src}` : UNKNOWN;
  }
  const p = w ? 'w' : 'r';
  const s = `${p}${src}`;
  // LLVM matches atomics on the low byte of imm only.
  switch (imm & 0xff) {
    case 0x01: return `${s} = atomic_fetch_add((${t} *)(${addr}), ${s})`;
    case 0x41: return `${s} = atomic_fetch_or((${t} *)(${addr}), ${s})`;
    case 0x51: return `${s} = atomic_fetch_and((${t} *)(${addr}), ${s})`;
    case 0xa1: return `${s} = atomic_fetch_xor((${t} *)(${addr}), ${s})`;
    case 0xe1: return w ? `${s} = xchg32_32(${addr}, ${s})` : `${s} = xchg_64(${addr}, ${s})`;
    case 0xf1: return w ? `${p}0 = cmpxchg32_32(${addr}, ${p}0, ${s})` : `r0 = cmpxchg_64(${addr}, r0, ${s})`;
    default: break;
  }
  switch (imm & 0xf0) {
    case 0x00: return `lock *(${t} *)(${addr}) += ${s}`;
    case 0x40: return `lock *(${t} *)(${addr}) |= ${s}`;
    case 0x50: return `lock *(${t} *)(${addr}) &= ${s}`;
    case 0xa0: return `lock *(${t} *)(${addr}) ^= ${s}`;
    default: return UNKNOWN;
  }
}

function readImm(bytes: Uint8Array, o: number): number {
  return bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24);
}

/**
 * Disassemble the instruction at slot `slot` of raw bytes. Never throws for in-range slots.
 * `slots` is 2 for a decoded ld_imm64, else 1 (an undecodable slot is `<unknown>`, 1 slot).
 */
export function disasmSlot(bytes: Uint8Array, slot: number, opts: DisasmOptions = {}): { text: string; slots: number } {
  const o = slot * 8;
  const code = bytes[o]!;
  const regs = bytes[o + 1]!;
  const off = ((bytes[o + 2]! | (bytes[o + 3]! << 8)) << 16) >> 16;
  const imm = readImm(bytes, o + 4);
  const hasNext = o + 16 <= bytes.length;
  const hi = hasNext ? readImm(bytes, o + 12) : 0;
  const text = formatFields(code, regs & 0x0f, regs >> 4, off, imm, hi, hasNext, opts.alu32 === true);
  return { text, slots: code === Op.LD_IMM64 && text !== UNKNOWN ? 2 : 1 };
}

/** Disassemble a whole byte range (8-byte slots), the way llvm-objdump walks a section. */
export function disasmBytes(bytes: Uint8Array, opts: DisasmOptions = {}): DisasmLine[] {
  const out: DisasmLine[] = [];
  const n = Math.floor(bytes.length / 8);
  for (let i = 0; i < n; ) {
    const { text, slots } = disasmSlot(bytes, i, opts);
    out.push({ index: i, slots, text });
    i += slots;
  }
  return out;
}

/** Text of one decoded instruction. */
export function disasm(i: Insn, opts: DisasmOptions = {}): string {
  return formatFields(i.code, i.dst, i.src, i.off, i.imm, i.imm64Hi ?? 0, true, opts.alu32 === true);
}
