/**
 * Instruction text in the Linux verifier log's syntax (kernel/bpf/disasm.c), e.g.
 * `(61) r1 = *(u32 *)(r6 +12)`, `(15) if r0 == 0x0 goto pc+2`, `(85) call bpf_map_lookup_elem#1`.
 * The emulator's verifier uses it so that its logs read like the kernel's. The log line index
 * (`12: `) is the caller's business.
 */
import type { Insn } from './insn.js';
import { helperName } from './helpers.js';
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, Mask, Mode, Op, Size, Source } from './opcodes.js';

export interface KernelSyntaxOptions {
  /**
   * Name for a call target the printer cannot name itself: a kfunc (src 2) by BTF id, as the
   * verifier does. Return undefined to fall back to the kernel's default (`kernel-function`).
   */
  callName?: (insn: Insn) => string | undefined;
  /** Text for an ld_imm64's value (the kernel prints `0x` + the full 64-bit value in hex). */
  imm64Text?: (insn: Insn, value: bigint) => string | undefined;
}

const ALU: readonly string[] = ['+=', '-=', '*=', '/=', '|=', '&=', '<<=', '>>=', 'neg', '%=', '^=', '=', 's>>=', 'endian'];
const JMP: readonly string[] = ['jmp', '==', '>', '>=', '&', '!=', 's>', 's>=', 'call', 'exit', '<', '<=', 's<', 's<='];
const LDST: readonly string[] = ['u32', 'u16', 'u8', 'u64'];
const LDSX: readonly string[] = ['s32', 's16', 's8', ''];
const CLASS_NAMES: readonly string[] = ['ld', 'ldx', 'st', 'stx', 'alu', 'jmp', 'jmp32', 'alu64'];
const ATOMIC_ALU: Readonly<Record<number, string>> = { 0x00: 'add', 0x50: 'and', 0x40: 'or', 0xa0: 'xor' };

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** C's `%+d`. */
function signed(n: number): string {
  return n < 0 ? `${n}` : `+${n}`;
}

/** `(r1 +4)` / `(r10 -8)`: the kernel's memory operand. */
function mem(reg: number, off: number): string {
  return `(r${reg} ${signed(off)})`;
}

/** Text of one instruction as the kernel verifier log prints it, including the `(xx) ` opcode prefix. */
export function formatKernel(i: Insn, opts: KernelSyntaxOptions = {}): string {
  const code = i.code;
  const cls = code & Mask.CLASS;
  const p = `(${hex2(code)}) `;
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      const op = code & Mask.OP;
      const r = cls === Class.ALU ? 'w' : 'r';
      if (op === AluOp.END) {
        if (cls === Class.ALU64) return `${p}r${i.dst} = bswap${i.imm} r${i.dst}`;
        return `${p}r${i.dst} = ${(code & Mask.SRC) === Source.X ? 'be' : 'le'}${i.imm} r${i.dst}`;
      }
      if (op === AluOp.NEG) return `${p}${r}${i.dst} = -${r}${i.dst}`;
      const x = (code & Mask.SRC) === Source.X;
      if (code === Op.MOV64_X && i.off === 1) {
        return `${p}r${i.dst} = addr_space_cast(r${i.src}, ${i.imm >>> 16}, ${i.imm & 0xffff})`;
      }
      const sdiv = (op === AluOp.DIV || op === AluOp.MOD) && i.off === 1;
      const sym = sdiv ? (op === AluOp.DIV ? 's/=' : 's%=') : (ALU[op >> 4] ?? '');
      if (x) {
        const sx = op === AluOp.MOV && i.off !== 0 ? `(s${i.off})` : '';
        return `${p}${r}${i.dst} ${sym} ${sx}${r}${i.src}`;
      }
      return `${p}${r}${i.dst} ${sym} ${i.imm}`;
    }
    case Class.STX: {
      const size = LDST[(code & Mask.SIZE) >> 3]!;
      const mode = code & Mask.MODE;
      if (mode === Mode.MEM) return `${p}*(${size} *)${mem(i.dst, i.off)} = r${i.src}`;
      if (mode !== Mode.ATOMIC) return `BUG_${hex2(code)}`;
      const dw = (code & Mask.SIZE) === Size.DW ? '64' : '';
      switch (i.imm) {
        case AtomicOp.ADD: case AtomicOp.AND: case AtomicOp.OR: case AtomicOp.XOR:
          return `${p}lock *(${size} *)${mem(i.dst, i.off)} ${ALU[i.imm >> 4]} r${i.src}`;
        case AtomicOp.FETCH_ADD: case AtomicOp.FETCH_AND: case AtomicOp.FETCH_OR: case AtomicOp.FETCH_XOR:
          return `${p}r${i.src} = atomic${dw}_fetch_${ATOMIC_ALU[i.imm & 0xf0]}((${size} *)${mem(i.dst, i.off)}, r${i.src})`;
        case AtomicOp.CMPXCHG:
          return `${p}r0 = atomic${dw}_cmpxchg((${size} *)${mem(i.dst, i.off)}, r0, r${i.src})`;
        case AtomicOp.XCHG:
          return `${p}r${i.src} = atomic${dw}_xchg((${size} *)${mem(i.dst, i.off)}, r${i.src})`;
        case AtomicOp.LOAD_ACQ:
          return `${p}r${i.dst} = load_acquire((${size} *)${mem(i.src, i.off)})`;
        case AtomicOp.STORE_REL:
          return `${p}store_release((${size} *)${mem(i.dst, i.off)}, r${i.src})`;
        default:
          return `BUG_${hex2(code)}`;
      }
    }
    case Class.ST:
      if ((code & Mask.MODE) === Mode.MEM) return `${p}*(${LDST[(code & Mask.SIZE) >> 3]} *)${mem(i.dst, i.off)} = ${i.imm}`;
      return `BUG_st_${hex2(code)}`;
    case Class.LDX: {
      const mode = code & Mask.MODE;
      if (mode !== Mode.MEM && mode !== Mode.MEMSX) return `BUG_ldx_${hex2(code)}`;
      const t = (mode === Mode.MEM ? LDST : LDSX)[(code & Mask.SIZE) >> 3];
      return `${p}r${i.dst} = *(${t} *)${mem(i.src, i.off)}`;
    }
    case Class.LD: {
      const mode = code & Mask.MODE;
      const size = LDST[(code & Mask.SIZE) >> 3];
      if (mode === Mode.ABS) return `${p}r0 = *(${size} *)skb[${i.imm}]`;
      if (mode === Mode.IND) return `${p}r0 = *(${size} *)skb[r${i.src} + ${i.imm}]`;
      if (code === Op.LD_IMM64) {
        const v = (BigInt((i.imm64Hi ?? 0) >>> 0) << 32n) | BigInt(i.imm >>> 0);
        return `${p}r${i.dst} = ${opts.imm64Text?.(i, v) ?? `0x${v.toString(16)}`}`;
      }
      return `BUG_ld_${hex2(code)}`;
    }
    case Class.JMP:
    case Class.JMP32: {
      const op = code & Mask.OP;
      if (op === JmpOp.CALL) {
        if (i.src === CallSrc.PSEUDO_CALL) return `${p}call pc${signed(i.imm)}`;
        return `${p}call ${callName(i, opts)}#${i.imm}`;
      }
      if (code === Op.JA) return `${p}goto pc${signed(i.off)}`;
      if (code === Op.MAY_GOTO && i.src === 0) return `${p}may_goto pc${signed(i.off)}`;
      if (code === Op.GOTOL) return `${p}gotol pc${signed(i.imm)}`;
      if (code === Op.EXIT) return `${p}exit`;
      const r = cls === Class.JMP32 ? 'w' : 'r';
      if ((code & Mask.SRC) === Source.X) return `${p}if ${r}${i.dst} ${JMP[op >> 4]} ${r}${i.src} goto pc${signed(i.off)}`;
      return `${p}if ${r}${i.dst} ${JMP[op >> 4]} 0x${(i.imm >>> 0).toString(16)} goto pc${signed(i.off)}`;
    }
    default:
      return `${p}${CLASS_NAMES[cls]}`;
  }
}

function callName(i: Insn, opts: KernelSyntaxOptions): string {
  if (i.src === CallSrc.HELPER) {
    const name = helperName(i.imm);
    if (name !== undefined) return `bpf_${name}`;
  }
  const custom = opts.callName?.(i);
  if (custom !== undefined) return custom;
  return i.src === CallSrc.KFUNC ? 'kernel-function' : 'unknown';
}
