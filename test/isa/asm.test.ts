import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../lib/errors.js';
import * as A from '../../lib/isa/asm.js';
import { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 } from '../../lib/isa/asm.js';
import { disasm } from '../../lib/isa/disasm.js';
import { decodeAll, encode, imm64 } from '../../lib/isa/insn.js';
import { AtomicOp, CallSrc, Op, PseudoSrc, Size } from '../../lib/isa/opcodes.js';
import { Helper } from '../../lib/isa/helpers.js';
import { llvmAssemble } from './llvm.js';

/** Each pair: DSL items and the same code in LLVM's BPF assembly syntax (assembled by llvm-mc). */
const PAIRS: [A.AsmItem[], string][] = [
  [[A.mov64(R0, 1), A.mov64(R1, R2), A.mov64(R3, -5), A.mov32(R4, 7), A.mov32(R5, R6)], 'r0 = 1\nr1 = r2\nr3 = -5\nw4 = 7\nw5 = w6'],
  [[A.add64(R1, R2), A.sub64(R1, 3), A.mul64(R1, R9), A.div64(R1, 10), A.mod64(R1, R2), A.or64(R1, 0x80), A.and64(R1, R2),
    A.lsh64(R1, 3), A.rsh64(R1, R2), A.xor64(R1, -1), A.arsh64(R1, 4), A.neg64(R7)],
  'r1 += r2\nr1 -= 3\nr1 *= r9\nr1 /= 10\nr1 %= r2\nr1 |= 0x80\nr1 &= r2\nr1 <<= 3\nr1 >>= r2\nr1 ^= -1\nr1 s>>= 4\nr7 = -r7'],
  [[A.add32(R1, R2), A.sub32(R1, 3), A.mul32(R1, R9), A.div32(R1, 10), A.mod32(R1, R2), A.or32(R1, 0x80), A.and32(R1, R2),
    A.lsh32(R1, 3), A.rsh32(R1, R2), A.xor32(R1, -1), A.arsh32(R1, 4), A.neg32(R7)],
  'w1 += w2\nw1 -= 3\nw1 *= w9\nw1 /= 10\nw1 %= w2\nw1 |= 0x80\nw1 &= w2\nw1 <<= 3\nw1 >>= w2\nw1 ^= -1\nw1 s>>= 4\nw7 = -w7'],
  [[A.sdiv64(R1, R2), A.smod64(R1, -3), A.sdiv32(R1, 7), A.smod32(R1, R2), A.movsx64(R1, R2, 8), A.movsx64(R1, R2, 16),
    A.movsx64(R1, R2, 32), A.movsx32(R1, R2, 8), A.movsx32(R1, R2, 16)],
  'r1 s/= r2\nr1 s%= -3\nw1 s/= 7\nw1 s%= w2\nr1 = (s8)r2\nr1 = (s16)r2\nr1 = (s32)r2\nw1 = (s8)w2\nw1 = (s16)w2'],
  [[A.le(R1, 16), A.le(R2, 32), A.le(R3, 64), A.be(R1, 16), A.be(R2, 32), A.be(R3, 64), A.bswap(R1, 16), A.bswap(R2, 32), A.bswap(R3, 64)],
    'r1 = le16 r1\nr2 = le32 r2\nr3 = le64 r3\nr1 = be16 r1\nr2 = be32 r2\nr3 = be64 r3\nr1 = bswap16 r1\nr2 = bswap32 r2\nr3 = bswap64 r3'],
  [[A.ldxb(R0, R1, 1), A.ldxh(R0, R1, -2), A.ldxw(R0, R1, 4), A.ldxdw(R0, R10, -8), A.ldxsb(R2, R1, 0), A.ldxsh(R2, R1, 2), A.ldxsw(R2, R1, 4)],
    'r0 = *(u8 *)(r1 + 1)\nr0 = *(u16 *)(r1 - 2)\nr0 = *(u32 *)(r1 + 4)\nr0 = *(u64 *)(r10 - 8)\nr2 = *(s8 *)(r1 + 0)\nr2 = *(s16 *)(r1 + 2)\nr2 = *(s32 *)(r1 + 4)'],
  [[A.stb(R10, -1, 7), A.sth(R10, -4, -2), A.stw(R10, -8, 0x12345678), A.stdw(R10, -16, -1), A.stxb(R10, -1, R1), A.stxh(R10, -4, R2),
    A.stxw(R10, -8, R3), A.stxdw(R10, -16, R4)],
  '*(u8 *)(r10 - 1) = 7\n*(u16 *)(r10 - 4) = -2\n*(u32 *)(r10 - 8) = 0x12345678\n*(u64 *)(r10 - 16) = -1\n*(u8 *)(r10 - 1) = r1\n*(u16 *)(r10 - 4) = r2\n*(u32 *)(r10 - 8) = r3\n*(u64 *)(r10 - 16) = r4'],
  [[A.atomicAdd64(R1, 0, R2), A.atomicOr64(R1, 8, R2), A.atomicAnd64(R1, 0, R2), A.atomicXor64(R1, -8, R2),
    A.fetchAdd64(R1, 0, R2), A.fetchOr64(R1, 0, R2), A.fetchAnd64(R1, 0, R2), A.fetchXor64(R1, 0, R2), A.xchg64(R1, 0, R2), A.cmpxchg64(R1, 0, R2)],
  'lock *(u64 *)(r1 + 0) += r2\nlock *(u64 *)(r1 + 8) |= r2\nlock *(u64 *)(r1 + 0) &= r2\nlock *(u64 *)(r1 - 8) ^= r2\n'
    + 'r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)\nr2 = atomic_fetch_or((u64 *)(r1 + 0), r2)\nr2 = atomic_fetch_and((u64 *)(r1 + 0), r2)\n'
    + 'r2 = atomic_fetch_xor((u64 *)(r1 + 0), r2)\nr2 = xchg_64(r1 + 0, r2)\nr0 = cmpxchg_64(r1 + 0, r0, r2)'],
  [[A.atomicAdd32(R1, 0, R2), A.atomicOr32(R1, 4, R2), A.atomicAnd32(R1, 0, R2), A.atomicXor32(R1, 0, R2),
    A.fetchAdd32(R1, 0, R2), A.fetchOr32(R1, 0, R2), A.fetchAnd32(R1, 0, R2), A.fetchXor32(R1, 0, R2), A.xchg32(R1, 0, R2), A.cmpxchg32(R1, 0, R2)],
  'lock *(u32 *)(r1 + 0) += w2\nlock *(u32 *)(r1 + 4) |= w2\nlock *(u32 *)(r1 + 0) &= w2\nlock *(u32 *)(r1 + 0) ^= w2\n'
    + 'w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)\nw2 = atomic_fetch_or((u32 *)(r1 + 0), w2)\nw2 = atomic_fetch_and((u32 *)(r1 + 0), w2)\n'
    + 'w2 = atomic_fetch_xor((u32 *)(r1 + 0), w2)\nw2 = xchg32_32(r1 + 0, w2)\nw0 = cmpxchg32_32(r1 + 0, w0, w2)'],
  [[A.ldImm64(R1, 0x1122334455667788n), A.ldImm64(R2, -1), A.ldImm64(R3, 0), A.ldAbsB(23), A.ldAbsH(12), A.ldAbsW(26), A.ldIndB(R7, 0),
    A.ldIndH(R8, 0), A.ldIndW(R9, 0)],
  'r1 = 0x1122334455667788 ll\nr2 = -1 ll\nr3 = 0 ll\nr0 = *(u8 *)skb[23]\nr0 = *(u16 *)skb[12]\nr0 = *(u32 *)skb[26]\n'
    + 'r0 = *(u8 *)skb[r7]\nr0 = *(u16 *)skb[r8]\nr0 = *(u32 *)skb[r9]'],
  [[A.label('top'), A.mov64(R0, 0), A.jeq(R1, 0, 'out'), A.jne(R1, R2, 'out'), A.jgt(R1, 1, 'out'), A.jge(R1, R2, 'out'),
    A.jlt(R1, 1, 'top'), A.jle(R1, R2, 'out'), A.jsgt(R1, -1, 'out'), A.jsge(R1, R2, 'out'), A.jslt(R1, 1, 'top'),
    A.jsle(R1, R2, 'out'), A.jset(R1, 8, 'out'), A.ja('out'), A.gotol('top'), A.mayGoto('out'), A.call(Helper.map_lookup_elem),
    A.call('bpf_ktime_get_ns'), A.callLocal('fn'), A.callx(R3), A.label('out'), A.exit(), A.label('fn'), A.mov64(R0, 2), A.exit()],
  'top:\nr0 = 0\nif r1 == 0 goto out\nif r1 != r2 goto out\nif r1 > 1 goto out\nif r1 >= r2 goto out\nif r1 < 1 goto top\n'
    + 'if r1 <= r2 goto out\nif r1 s> -1 goto out\nif r1 s>= r2 goto out\nif r1 s< 1 goto top\nif r1 s<= r2 goto out\n'
    + 'if r1 & 8 goto out\ngoto out\ngotol top\nmay_goto out\ncall 1\ncall 5\ncall fn\ncallx r3\nout:\nexit\nfn:\nr0 = 2\nexit'],
  [[A.jeq32(R1, 0, 'l'), A.jne32(R1, R2, 'l'), A.jgt32(R1, 1, 'l'), A.jge32(R1, R2, 'l'), A.jlt32(R1, 1, 'l'), A.jle32(R1, R2, 'l'),
    A.jsgt32(R1, -1, 'l'), A.jsge32(R1, R2, 'l'), A.jslt32(R1, 1, 'l'), A.jsle32(R1, R2, 'l'), A.jset32(R1, 8, 'l'), A.label('l'), A.exit()],
  'if w1 == 0 goto l\nif w1 != w2 goto l\nif w1 > 1 goto l\nif w1 >= w2 goto l\nif w1 < 1 goto l\nif w1 <= w2 goto l\n'
    + 'if w1 s> -1 goto l\nif w1 s>= w2 goto l\nif w1 s< 1 goto l\nif w1 s<= w2 goto l\nif w1 & 8 goto l\nl:\nexit'],
];

describe('assembler DSL', () => {
  it.each(PAIRS.map((p, i) => [i, ...p] as const))('pair %i assembles to the same bytes as llvm-mc', (_i, items, text) => {
    const ours = A.assembleBytes(items);
    const theirs = llvmAssemble(text);
    expect(Array.from(ours)).toEqual(Array.from(theirs));
  });

  it('resolves labels in slots across ld_imm64', () => {
    const insns = A.assemble([
      A.ldImm64(R1, 1n << 40n),
      A.jeq(R1, 0, 'end'),
      A.ldMapFd(R1, 3),
      A.ldMapValue(R2, 4, 16),
      A.ldFunc(R3, 'cb'),
      A.label('end'),
      A.exit(),
      A.label('cb'),
      A.exit(),
    ]);
    expect(insns.map((i) => disasm(i))).toEqual([
      'r1 = 0x10000000000 ll',
      'if r1 == 0x0 goto +0x6',
      'ld_pseudo\tr1, 0x1, 0x3',
      'ld_pseudo\tr2, 0x2, 0x4',
      'ld_pseudo\tr3, 0x4, 0x2',
      'exit',
      'exit',
    ]);
    expect(imm64(insns[0]!)).toBe(1n << 40n);
    expect(insns[3]).toEqual({ code: Op.LD_IMM64, dst: 2, src: PseudoSrc.MAP_VALUE, off: 0, imm: 4, imm64Hi: 16 });
    expect(decodeAll(encode(insns))).toEqual(insns);
  });

  it('supports raw offsets, kfunc calls, arena casts and load-acquire/store-release', () => {
    const insns = A.assemble([
      A.ja(-1), A.callLocal(3), A.kfuncCall(1234, 2), A.addrSpaceCast(R1, R2, false), A.addrSpaceCast(R1, R2, true),
      A.atomic(Size.B, AtomicOp.LOAD_ACQ, R1, 0, R2), A.atomic(Size.DW, AtomicOp.STORE_REL, R1, 8, R2), A.raw(0x95, 0, 0, 0, 0),
    ]);
    expect(insns[0]).toMatchObject({ code: Op.JA, off: -1 });
    expect(insns[1]).toMatchObject({ code: Op.CALL, src: CallSrc.PSEUDO_CALL, imm: 3 });
    expect(insns[2]).toMatchObject({ code: Op.CALL, src: CallSrc.KFUNC, imm: 1234, off: 2 });
    expect(disasm(insns[3]!)).toBe('r1 = addr_space_cast(r2, 0x0, 0x1)');
    expect(disasm(insns[4]!)).toBe('r1 = addr_space_cast(r2, 0x1, 0x0)');
    expect(insns[5]).toMatchObject({ code: 0xd3, imm: 0x100 });
    expect(insns[6]).toMatchObject({ code: 0xdb, imm: 0x110, off: 8 });
    expect(() => encode(insns)).not.toThrow();
  });

  it('registers are distinct from immediates', () => {
    expect(A.assemble([A.mov64(R1, 2)])[0]).toMatchObject({ code: Op.MOV64_K, dst: 1, imm: 2 });
    expect(A.assemble([A.mov64(R1, R2)])[0]).toMatchObject({ code: Op.MOV64_X, dst: 1, src: 2 });
    expect(A.REGS.map((r) => r.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(String(R10)).toBe('r10');
  });

  it('errors name the label or argument', () => {
    expect(() => A.assemble([A.ja('nowhere'), A.exit()])).toThrow(ArgumentError);
    expect(() => A.assemble([A.exit(), A.jeq(R1, 0, 'nowhere')])).toThrow("label 'nowhere' is not defined (used by instruction 1)");
    expect(() => A.assemble([A.label('x'), A.exit(), A.label('x'), A.exit()])).toThrow("label 'x' is defined twice (at slots 0 and 1)");
    expect(() => A.call('no_such_helper')).toThrow("unknown helper 'no_such_helper'");
    expect(() => A.mov64(R1, 2 ** 40)).toThrow(/is not a 32-bit integer/);
    expect(() => A.ldxw(R1, R2, 40000)).toThrow(/not a signed 16-bit integer/);
    expect(() => A.mov64(new A.Register(11), 0)).toThrow(/must be a register R0..R10/);
    expect(() => A.movsx64(R1, R2, 64 as 32)).toThrow(/width 64/);
    expect(() => A.le(R1, 8 as 16)).toThrow(/width 8/);
    expect(() => A.ldImm64(R1, 2 ** 60)).toThrow(/not a safe integer/);
    expect(() => A.ldImm64(R1, 1n << 64n)).toThrow(/does not fit in 64 bits/);
    expect(() => A.label('')).toThrow(ArgumentError);
    const far: A.AsmItem[] = [A.ja('end')];
    for (let i = 0; i < 40000; i++) far.push(A.mov64(R0, 0));
    far.push(A.label('end'), A.exit());
    expect(() => A.assemble(far)).toThrow(/out of 16-bit range \(40000; use gotol\)/);
    far[0] = A.gotol('end');
    expect(A.assemble(far)[0]).toMatchObject({ code: Op.GOTOL, imm: 40000 });
    void [R8];
  });
});
