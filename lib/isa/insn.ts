/**
 * Instruction codec: 8-byte little-endian eBPF slots ↔ `Insn` objects.
 *
 * One `Insn` is one instruction. `ld_imm64` (code 0x18) is a single `Insn` that occupies two
 * slots: `imm` holds the low 32 bits and `imm64Hi` the high 32 bits. Jump and call offsets are
 * always in slots, as in the kernel, so use `slotIndices()` to map between `Insn[]` positions
 * and slot numbers when a program contains `ld_imm64`.
 */
import { ArgumentError, ElfError, type ElfLocation } from '../errors.js';
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, Mask, Mode, Op, Size, Source } from './opcodes.js';

/** Bytes per instruction slot. */
export const INSN_SIZE = 8;

/**
 * One decoded instruction. Always created with all six properties (fixed shape).
 * `off` is a signed 16-bit value, `imm` and `imm64Hi` signed 32-bit values.
 */
export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** High 32 bits of an `ld_imm64` (signed 32-bit), 0 for every other instruction. */
  imm64Hi?: number;
}

/** Make a fixed-shape `Insn`. */
export function insn(code: number, dst: number, src: number, off: number, imm: number, imm64Hi = 0): Insn {
  return { code, dst, src, off, imm, imm64Hi };
}

/** True if `code` is `ld_imm64` (two slots). */
export function isLdImm64(code: number): boolean {
  return code === Op.LD_IMM64;
}

/** Number of slots an instruction occupies (2 for `ld_imm64`, else 1). */
export function insnSlots(i: Insn): number {
  return i.code === Op.LD_IMM64 ? 2 : 1;
}

/** Total number of slots of a list of instructions. */
export function slotCount(insns: readonly Insn[]): number {
  let n = 0;
  for (let i = 0; i < insns.length; i++) n += insns[i]!.code === Op.LD_IMM64 ? 2 : 1;
  return n;
}

/** Slot index of each instruction of `insns` (length `insns.length + 1`; the last is the total). */
export function slotIndices(insns: readonly Insn[]): Int32Array {
  const out = new Int32Array(insns.length + 1);
  let n = 0;
  for (let i = 0; i < insns.length; i++) {
    out[i] = n;
    n += insns[i]!.code === Op.LD_IMM64 ? 2 : 1;
  }
  out[insns.length] = n;
  return out;
}

/** The 64-bit immediate of an `ld_imm64` as an unsigned bigint. */
export function imm64(i: Insn): bigint {
  return (BigInt((i.imm64Hi ?? 0) >>> 0) << 32n) | BigInt(i.imm >>> 0);
}

/** Split a 64-bit value into the signed 32-bit halves `[imm, imm64Hi]` of an `ld_imm64`. */
export function splitImm64(value: bigint): [number, number] {
  const v = BigInt.asUintN(64, value);
  return [Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n))];
}

/**
 * Why an instruction's fields are not a valid encoding, or null if they are. The rules are the
 * kernel verifier's encoding checks: known opcode, registers r0..r10 where a register is used,
 * the fields that select an operation (`off` of sdiv/smod/movsx/addr_space_cast, `imm` of
 * end/atomic, `src` of ld_imm64/call) and reserved fields that must be zero. `callx` (JMP|CALL|X,
 * register in dst) is accepted as RFC 9669 defines it. Value checks (shift amounts, jump targets,
 * register liveness) are the verifier's business, not the codec's.
 */
export function invalidReason(code: number, dst: number, src: number, off: number, imm: number): string | null {
  if (code < 0 || code > 0xff || (code | 0) !== code) return `invalid opcode ${code}`;
  if (dst < 0 || dst > 10 || (dst | 0) !== dst) return `invalid dst register r${dst}`;
  if (src < 0 || src > 15 || (src | 0) !== src) return `invalid src register r${src}`;
  const cls = code & Mask.CLASS;
  switch (cls) {
    case Class.LD: {
      if (code === Op.LD_IMM64) {
        if (src > 6) return `invalid ld_imm64 src ${src}`;
        return off !== 0 ? reserved('ld_imm64', 'off') : null;
      }
      const mode = code & Mask.MODE;
      if ((mode !== Mode.ABS && mode !== Mode.IND) || (code & Mask.SIZE) === Size.DW) return unknown(code);
      if (mode === Mode.IND && src > 10) return `invalid src register r${src}`;
      if (dst !== 0) return reserved('ld_abs/ld_ind', 'dst');
      if (off !== 0) return reserved('ld_abs/ld_ind', 'off');
      if (mode === Mode.ABS && src !== 0) return reserved('ld_abs', 'src');
      return null;
    }
    case Class.LDX: {
      const mode = code & Mask.MODE;
      if (!(mode === Mode.MEM || (mode === Mode.MEMSX && (code & Mask.SIZE) !== Size.DW))) return unknown(code);
      if (src > 10) return `invalid src register r${src}`;
      return imm !== 0 ? reserved('ldx', 'imm') : null;
    }
    case Class.ST:
      if ((code & Mask.MODE) !== Mode.MEM) return unknown(code);
      return src !== 0 ? reserved('st', 'src') : null;
    case Class.STX: {
      const mode = code & Mask.MODE;
      if (mode !== Mode.MEM && mode !== Mode.ATOMIC) return unknown(code);
      if (src > 10) return `invalid src register r${src}`;
      if (mode === Mode.MEM) return imm !== 0 ? reserved('stx', 'imm') : null;
      if (imm === AtomicOp.LOAD_ACQ || imm === AtomicOp.STORE_REL) return null;
      const size = code & Mask.SIZE;
      if (size !== Size.W && size !== Size.DW) return `invalid atomic size in opcode 0x${hex2(code)}`;
      switch (imm) {
        case AtomicOp.ADD: case AtomicOp.OR: case AtomicOp.AND: case AtomicOp.XOR:
        case AtomicOp.FETCH_ADD: case AtomicOp.FETCH_OR: case AtomicOp.FETCH_AND: case AtomicOp.FETCH_XOR:
        case AtomicOp.XCHG: case AtomicOp.CMPXCHG:
          return null;
        default:
          return `invalid atomic operation 0x${(imm >>> 0).toString(16)}`;
      }
    }
    case Class.ALU:
    case Class.ALU64: {
      const op = code & Mask.OP;
      const x = (code & Mask.SRC) === Source.X;
      const is64 = cls === Class.ALU64;
      if (op > AluOp.END) return unknown(code);
      if (x && src > 10) return `invalid src register r${src}`;
      if (op === AluOp.NEG) {
        if (x) return unknown(code);
        if (src !== 0 || off !== 0 || imm !== 0) return reserved('neg', src !== 0 ? 'src' : off !== 0 ? 'off' : 'imm');
        return null;
      }
      if (op === AluOp.END) {
        if (is64 && x) return unknown(code);
        if (imm !== 16 && imm !== 32 && imm !== 64) return `invalid byte swap width ${imm}`;
        if (src !== 0 || off !== 0) return reserved('end', src !== 0 ? 'src' : 'off');
        return null;
      }
      if (!x && src !== 0) return reserved('alu', 'src');
      if (op === AluOp.MOV) {
        if (!x) return off !== 0 ? `invalid mov offset ${off}` : null;
        // addr_space_cast (arena pointers): ALU64 MOV X, off 1, imm 1 (to kernel) or 1 << 16 (to user).
        if (is64 && off === 1) return imm === 1 || imm === 0x10000 ? null : `invalid addr_space_cast ${imm}`;
        if (!(off === 0 || off === 8 || off === 16 || (off === 32 && is64))) return `invalid mov offset ${off}`;
        return imm !== 0 ? reserved('mov', 'imm') : null;
      }
      if (off !== 0 && !(off === 1 && (op === AluOp.DIV || op === AluOp.MOD))) {
        return op === AluOp.DIV || op === AluOp.MOD ? `invalid ${op === AluOp.DIV ? 'div' : 'mod'} offset ${off}` : reserved('alu', 'off');
      }
      return x && imm !== 0 ? reserved('alu', 'imm') : null;
    }
    default: {
      // JMP, JMP32
      const op = code & Mask.OP;
      const x = (code & Mask.SRC) === Source.X;
      const j32 = cls === Class.JMP32;
      switch (op) {
        case JmpOp.JA:
          if (x) return unknown(code);
          if (dst !== 0 || src !== 0) return reserved(j32 ? 'gotol' : 'ja', dst !== 0 ? 'dst' : 'src');
          if (j32 ? off !== 0 : imm !== 0) return reserved(j32 ? 'gotol' : 'ja', j32 ? 'off' : 'imm');
          return null;
        case JmpOp.CALL:
          if (j32) return unknown(code);
          if (x) {
            if (src !== 0 || off !== 0 || imm !== 0) return reserved('callx', src !== 0 ? 'src' : off !== 0 ? 'off' : 'imm');
            return null;
          }
          if (src !== CallSrc.HELPER && src !== CallSrc.PSEUDO_CALL && src !== CallSrc.KFUNC) return `invalid call src ${src}`;
          if (dst !== 0) return reserved('call', 'dst');
          if (off !== 0 && src !== CallSrc.KFUNC) return reserved('call', 'off');
          return null;
        case JmpOp.EXIT:
          if (j32 || x) return unknown(code);
          if (dst !== 0 || src !== 0 || off !== 0 || imm !== 0) return reserved('exit', dst !== 0 ? 'dst' : src !== 0 ? 'src' : off !== 0 ? 'off' : 'imm');
          return null;
        case JmpOp.JCOND:
          if (j32 || x) return unknown(code);
          if (src !== 0) return `invalid jcond src ${src}`;
          if (dst !== 0 || imm !== 0) return reserved('may_goto', dst !== 0 ? 'dst' : 'imm');
          return null;
        case 0xf0:
          return unknown(code);
        default:
          if (x) {
            if (src > 10) return `invalid src register r${src}`;
            return imm !== 0 ? reserved('jmp', 'imm') : null;
          }
          return src !== 0 ? reserved('jmp', 'src') : null;
      }
    }
  }
}

function reserved(what: string, field: string): string {
  return `${what} uses reserved field ${field} (must be 0)`;
}

function unknown(code: number): string {
  return `unknown opcode 0x${hex2(code)}`;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function decodeError(reason: string, index: number, where: ElfLocation | undefined): ElfError {
  return new ElfError(`decode instruction: ${reason}`, { ...where, insn: index });
}

/**
 * Decode the instruction at slot `index` of `bytes`. An `ld_imm64` reads two slots.
 * Throws `ElfError` (location.insn = index) for an invalid or truncated instruction; `where` adds
 * file/section/symbol to the message.
 */
export function decode(bytes: Uint8Array, index: number, where?: ElfLocation): Insn {
  const o = index * INSN_SIZE;
  if (!Number.isInteger(index) || index < 0 || o + INSN_SIZE > bytes.length) {
    throw decodeError(`slot ${index} is out of range (${Math.floor(bytes.length / INSN_SIZE)} slots)`, index, where);
  }
  const code = bytes[o]!;
  const regs = bytes[o + 1]!;
  const dst = regs & 0x0f;
  const src = regs >> 4;
  const off = ((bytes[o + 2]! | (bytes[o + 3]! << 8)) << 16) >> 16;
  const imm = bytes[o + 4]! | (bytes[o + 5]! << 8) | (bytes[o + 6]! << 16) | (bytes[o + 7]! << 24);
  const why = invalidReason(code, dst, src, off, imm);
  if (why !== null) throw decodeError(why, index, where);
  let hi = 0;
  if (code === Op.LD_IMM64) {
    const p = o + INSN_SIZE;
    if (p + INSN_SIZE > bytes.length) throw decodeError('ld_imm64 is truncated (missing second slot)', index, where);
    if (bytes[p] !== 0 || bytes[p + 1] !== 0 || bytes[p + 2] !== 0 || bytes[p + 3] !== 0) {
      throw decodeError('ld_imm64 second slot must have code, registers and offset 0', index, where);
    }
    hi = bytes[p + 4]! | (bytes[p + 5]! << 8) | (bytes[p + 6]! << 16) | (bytes[p + 7]! << 24);
  }
  return { code, dst, src, off, imm, imm64Hi: hi };
}

/**
 * Decode a whole instruction stream into one `Insn` per instruction (`ld_imm64` → one Insn for
 * two slots). Throws `ElfError` naming the slot index on any invalid encoding, on a truncated
 * `ld_imm64`, or if the length is not a multiple of 8.
 */
export function decodeAll(bytes: Uint8Array, where?: ElfLocation): Insn[] {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new ElfError(`decode instructions: length ${bytes.length} is not a multiple of ${INSN_SIZE}`, { ...where });
  }
  const n = bytes.length / INSN_SIZE;
  const out: Insn[] = [];
  for (let i = 0; i < n; ) {
    const d = decode(bytes, i, where);
    out.push(d);
    i += d.code === Op.LD_IMM64 ? 2 : 1;
  }
  return out;
}

/**
 * Write one instruction at slot `slot` of `out`; returns the number of slots written (1 or 2).
 * Does not validate (see `encode`).
 */
export function encodeInto(i: Insn, out: Uint8Array, slot: number): number {
  const o = slot * INSN_SIZE;
  out[o] = i.code;
  out[o + 1] = (i.dst & 0x0f) | ((i.src & 0x0f) << 4);
  out[o + 2] = i.off & 0xff;
  out[o + 3] = (i.off >> 8) & 0xff;
  const imm = i.imm;
  out[o + 4] = imm & 0xff;
  out[o + 5] = (imm >>> 8) & 0xff;
  out[o + 6] = (imm >>> 16) & 0xff;
  out[o + 7] = (imm >>> 24) & 0xff;
  if (i.code !== Op.LD_IMM64) return 1;
  const p = o + INSN_SIZE;
  const hi = i.imm64Hi ?? 0;
  out[p] = 0; out[p + 1] = 0; out[p + 2] = 0; out[p + 3] = 0;
  out[p + 4] = hi & 0xff;
  out[p + 5] = (hi >>> 8) & 0xff;
  out[p + 6] = (hi >>> 16) & 0xff;
  out[p + 7] = (hi >>> 24) & 0xff;
  return 2;
}

/**
 * Encode instructions to bytes (8 per slot, `ld_imm64` = 16). Throws `ArgumentError` naming the
 * instruction index for an invalid encoding or out-of-range field.
 */
export function encode(insns: readonly Insn[]): Uint8Array {
  for (let k = 0; k < insns.length; k++) {
    const i = insns[k]!;
    const why = invalidReason(i.code, i.dst, i.src, i.off, i.imm) ?? fieldRangeReason(i);
    if (why !== null) throw new ArgumentError(`encode instruction ${k}: ${why}`);
  }
  const out = new Uint8Array(slotCount(insns) * INSN_SIZE);
  let slot = 0;
  for (let k = 0; k < insns.length; k++) slot += encodeInto(insns[k]!, out, slot);
  return out;
}

function fieldRangeReason(i: Insn): string | null {
  if (!Number.isInteger(i.off) || i.off < -32768 || i.off > 32767) return `offset ${i.off} does not fit in 16 bits`;
  if (!Number.isInteger(i.imm) || i.imm < -0x80000000 || i.imm > 0xffffffff) return `immediate ${i.imm} does not fit in 32 bits`;
  const hi = i.imm64Hi ?? 0;
  if (!Number.isInteger(hi) || hi < -0x80000000 || hi > 0xffffffff) return `immediate high half ${hi} does not fit in 32 bits`;
  return null;
}
