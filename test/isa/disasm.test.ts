import { describe, expect, it } from 'vitest';
import { disasm, disasmBytes, disasmSlot, UNKNOWN } from '../../lib/isa/disasm.js';
import { encode, insn, splitImm64 } from '../../lib/isa/insn.js';
import { Op } from '../../lib/isa/opcodes.js';
import { allValidInsns, objdumpSlots } from './llvm.js';

function slotBytes(code: number, regs: number, off: number, imm: number): number[] {
  return [code, regs, off & 0xff, (off >> 8) & 0xff, imm & 0xff, (imm >>> 8) & 0xff, (imm >>> 16) & 0xff, (imm >>> 24) & 0xff];
}

/** Seeded random slots biased towards interesting field values; never an all-zero slot. */
function randomSlots(seed: number, n: number): Uint8Array {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 0x100000000;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const offs = [0, 0, 0, 1, 8, 16, 32, 3, -3, -32768, 32767];
  const imms = [0, 0, 1, 16, 32, 64, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1, 0x100, 0x110, 0x10000, 4, -4, -1, 0x7fffffff, -0x80000000];
  const out: number[] = [];
  while (out.length < n * 8) {
    const code = Math.floor(rnd() * 256);
    const regs = rnd() < 0.7 ? Math.floor(rnd() * 12) | (Math.floor(rnd() * 12) << 4) : Math.floor(rnd() * 256);
    const off = rnd() < 0.2 ? Math.floor(rnd() * 65536) - 32768 : pick(offs);
    const imm = rnd() < 0.2 ? Math.floor(rnd() * 2 ** 32) | 0 : pick(imms);
    if (code === 0 && regs === 0 && off === 0 && imm === 0) continue;
    out.push(...slotBytes(code, regs, off, imm));
    if (code === Op.LD_IMM64 && rnd() < 0.7) out.push(...slotBytes(0, rnd() < 0.1 ? 1 : 0, 0, pick([1, -1, 5, 0x1000])));
  }
  return new Uint8Array(out.slice(0, n * 8));
}

function compareWithObjdump(bytes: Uint8Array, alu32: boolean): { checked: number; mismatches: string[] } {
  const want = objdumpSlots(bytes, alu32 ? 'v3' : undefined);
  const got = disasmBytes(bytes, { alu32 });
  const mismatches: string[] = [];
  for (const g of got) {
    const w = want.get(g.index);
    if (w !== g.text) {
      const raw = Array.from(bytes.subarray(g.index * 8, g.index * 8 + 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
      mismatches.push(`${g.index} [${raw}]: llvm ${JSON.stringify(w)} bpfkit ${JSON.stringify(g.text)}`);
    }
  }
  if (want.size !== got.length) mismatches.push(`llvm printed ${want.size} instructions, bpfkit ${got.length}`);
  return { checked: got.length, mismatches };
}

describe('disassembler text', () => {
  it('prints the llvm-objdump forms', () => {
    const t = (code: number, dst: number, src: number, off: number, imm: number, hi = 0): string => disasm(insn(code, dst, src, off, imm, hi));
    expect(t(0x61, 1, 1, 4, 0)).toBe('r1 = *(u32 *)(r1 + 0x4)');
    expect(t(0x2d, 2, 3, 3, 0)).toBe('if r2 > r3 goto +0x3');
    expect(t(0xdb, 1, 2, 0, 0)).toBe('lock *(u64 *)(r1 + 0x0) += r2');
    expect(t(0xdb, 1, 2, 8, 0x01)).toBe('r2 = atomic_fetch_add((u64 *)(r1 + 0x8), r2)');
    expect(t(0xdb, 1, 2, 0, 0xe1)).toBe('r2 = xchg_64(r1 + 0x0, r2)');
    expect(t(0xdb, 1, 2, -8, 0xf1)).toBe('r0 = cmpxchg_64(r1 - 0x8, r0, r2)');
    expect(t(0x18, 1, 0, 0, 0)).toBe('r1 = 0x0 ll');
    expect(t(0x18, 1, 0, 0, ...splitImm64(-2n))).toBe('r1 = -0x2 ll');
    expect(t(0x18, 1, 1, 0, 7)).toBe('ld_pseudo\tr1, 0x1, 0x7');
    expect(t(0x85, 0, 0, 0, 1)).toBe('call 0x1');
    expect(t(0x85, 0, 1, 0, -1)).toBe('call -0x1');
    expect(t(0x8d, 3, 0, 0, 0)).toBe('callx r3');
    expect(t(0x95, 0, 0, 0, 0)).toBe('exit');
    expect(t(0x06, 0, 0, 0, 70000)).toBe('gotol +0x11170');
    expect(t(0x05, 0, 0, -2, 0)).toBe('goto -0x2');
    expect(t(0xe5, 0, 0, 4, 0)).toBe('may_goto +0x4');
    expect(t(0xbf, 1, 2, 32, 0)).toBe('r1 = (s32)r2');
    expect(t(0xbc, 1, 2, 8, 0)).toBe('w1 = (s8)w2');
    expect(t(0x3f, 1, 2, 1, 0)).toBe('r1 s/= r2');
    expect(t(0x94, 1, 0, 1, -3)).toBe('w1 s%= -0x3');
    expect(t(0xd7, 1, 0, 0, 16)).toBe('r1 = bswap16 r1');
    expect(t(0xdc, 1, 0, 0, 32)).toBe('r1 = be32 r1');
    expect(t(0xd4, 1, 0, 0, 64)).toBe('r1 = le64 r1');
    expect(t(0x30, 0, 0, 0, 23)).toBe('r0 = *(u8 *)skb[0x17]');
    expect(t(0x48, 0, 7, 0, 2)).toBe('r0 = *(u16 *)skb[r7]');
    expect(t(0x91, 1, 10, -1, 0)).toBe('r1 = *(s8 *)(r10 - 0x1)');
    expect(t(0x7a, 10, 0, -8, -1)).toBe('*(u64 *)(r10 - 0x8) = -0x1');
    expect(t(0x16, 1, 0, 5, 3)).toBe('if w1 == 0x3 goto +0x5');
    expect(t(0xc3, 1, 2, 0, 0)).toBe('lock *(u32 *)(r1 + 0x0) += r2');
    expect(t(0xc3, 1, 2, 0, 0x01)).toBe('lock *(u32 *)(r1 + 0x0) += r2');
    expect(disasm(insn(0xc3, 1, 2, 0, 0x01), { alu32: true })).toBe('w2 = atomic_fetch_add((u32 *)(r1 + 0x0), w2)');
    expect(disasm(insn(0xc3, 1, 2, 0, 0xf1), { alu32: true })).toBe('w0 = cmpxchg32_32(r1 + 0x0, w0, w2)');
    expect(disasm(insn(0x61, 1, 2, 0, 0), { alu32: true })).toBe('w1 = *(u32 *)(r2 + 0x0)');
    expect(t(0xc3, 1, 2, 0, 0x41)).toBe(UNKNOWN);
    expect(t(0xff, 0, 0, 0, 0)).toBe(UNKNOWN);
  });

  it('walks ld_imm64 as two slots and never throws on garbage', () => {
    const b = encode([insn(Op.LD_IMM64, 1, 0, 0, 5, 0), insn(Op.EXIT, 0, 0, 0, 0)]);
    expect(disasmBytes(b)).toEqual([
      { index: 0, slots: 2, text: 'r1 = 0x5 ll' },
      { index: 2, slots: 1, text: 'exit' },
    ]);
    // truncated ld_imm64 at the end: one unknown slot
    expect(disasmBytes(b.subarray(0, 8))).toEqual([{ index: 0, slots: 1, text: UNKNOWN }]);
    expect(disasmSlot(new Uint8Array(slotBytes(0xff, 0xff, -1, -1)), 0)).toEqual({ text: UNKNOWN, slots: 1 });
  });

  it('matches llvm-objdump-19 on every valid instruction (default and --mcpu=v3)', () => {
    const valid = allValidInsns();
    const bytes = encode(valid);
    for (const alu32 of [false, true]) {
      const r = compareWithObjdump(bytes, alu32);
      expect(r.checked).toBe(valid.length);
      expect(r.mismatches.slice(0, 20)).toEqual([]);
    }
  });

  it('matches llvm-objdump-19 on 40000 seeded random slots (including undecodable ones)', () => {
    for (const [seed, alu32] of [[1, false], [2, true]] as const) {
      const bytes = randomSlots(seed, 20000);
      const r = compareWithObjdump(bytes, alu32);
      expect(r.checked).toBeGreaterThan(19000);
      expect(r.mismatches.slice(0, 20)).toEqual([]);
    }
  });
});
