/**
 * JIT code paths the random programs rarely reach, against the interpreter (and exact values):
 * - ALU64 add/sub/mul/lsh whose result's high half nothing reads (low half only), next to
 *   multiplies whose high half is read (inline 64-bit multiply);
 * - the second region cache (registers that may hold packet pointers: loaded at ctx offsets
 *   0/4/8 and offset), alternating with the first one (map values, scratch memory) and faulting.
 */
import { describe, expect, it } from 'vitest';
import { EmulatorFault } from '../../lib/errors.js';
import * as A from '../../lib/isa/asm.js';
import { RegionKind, Vm, runProgram } from '../../native-sim/engine.js';
import { ENGINES } from '../../native-sim/jit/raw.js';

const { R0, R1, R2, R3, R4, R5, R6, R7 } = A;

function run(engine: 'jit' | 'interpreter', items: A.AsmItem[], mem: Uint8Array): { r0?: string; fault?: string; mem: string; src?: string } {
  const prog = ENGINES[engine].compile({ name: 't', insns: A.assembleBytes(items) }, { helpers: [] });
  const vm = new Vm();
  const m = mem.slice();
  const region = vm.space.add(RegionKind.Scratch, 'memory', m);
  vm.setRegPtr(1, region, 0);
  vm.setReg(2, m.length, 0);
  try {
    const r0 = runProgram(prog, vm, { budget: 10_000 });
    return { r0: r0.toString(16), mem: Buffer.from(m).toString('hex'), src: prog.source };
  } catch (e) {
    if (!(e instanceof EmulatorFault)) throw e;
    return { fault: `${e.code} ${e.insn} ${e.message}`, mem: Buffer.from(m).toString('hex'), src: prog.source };
  }
}

function same(items: A.AsmItem[], mem: Uint8Array): { r0?: string; fault?: string; mem: string; src?: string } {
  const a = run('interpreter', items, mem);
  const b = run('jit', items, mem);
  expect({ ...b, src: undefined }).toEqual({ ...a, src: undefined });
  return b;
}

const M64 = (1n << 64n) - 1n;

describe('JIT: dead high halves and the inline 64-bit multiply', () => {
  const values = [0n, 1n, 0xffffffffn, 0x80000000n, 0x123456789abcdef0n, M64, 0xcc9e2d51n, 0xdeadbeefcafebaben];
  const ks = [-862048943, 380141568, 5, -1, 0x7fffffff, -0x80000000, 0];
  it('r *= K then a 32-bit result, and full 64-bit products (imm and reg), exact', () => {
    for (const v of values) {
      for (const k of ks) {
        const mem = new Uint8Array(32);
        const dv = new DataView(mem.buffer);
        dv.setBigUint64(0, v, true);
        dv.setBigUint64(8, BigInt.asUintN(64, BigInt(k)) ^ 0x0123456700000000n, true);
        const items = [
          A.ldxdw(R2, R1, 0),
          A.mov64(R3, R2),
          A.mul64(R3, k), // high half dead: masked below
          A.ldImm64(R4, 0xffff0000),
          A.and64(R3, R4),
          A.rsh64(R3, 7),
          A.mov64(R5, R2),
          A.mul64(R5, k), // high half read (stored)
          A.stxdw(R1, 16, R5),
          A.ldxdw(R6, R1, 8),
          A.mov64(R7, R2),
          A.mul64(R7, R6), // register operand, full product
          A.add64(R7, R3),
          A.mov64(R0, R2),
          A.mul64(R0, R0),
          A.lsh64(R0, 3), // dead high half: cut to 32 bits below
          A.add64(R0, R7),
          A.lsh64(R0, 32),
          A.rsh64(R0, 32),
          A.stxdw(R1, 24, R7),
          A.exit(),
        ];
        const out = same(items, mem);
        const kk = BigInt.asUintN(64, BigInt(k));
        const r3 = (((v * kk) & M64 & 0xffff0000n) >> 7n);
        const r7 = (v * (BigInt.asUintN(64, BigInt(k)) ^ 0x0123456700000000n) + r3) & M64;
        const got = new DataView(Uint8Array.from(Buffer.from(out.mem, 'hex')).buffer);
        expect(got.getBigUint64(16, true)).toBe((v * kk) & M64);
        expect(got.getBigUint64(24, true)).toBe(r7);
        expect(BigInt('0x' + out.r0!)).toBe((((v * v) << 3n) + r7) & 0xffffffffn);
        expect(out.src).not.toContain('RT.mul64');
      }
    }
  });
});

describe('JIT: the packet-pointer region cache', () => {
  it('alternating accesses through a pointer loaded at offset 0 and through r1, and faults through it', () => {
    const mem = new Uint8Array(64);
    for (let i = 0; i < 64; i++) mem[i] = (i * 37 + 11) & 255;
    mem.fill(0, 0, 4); // the u32 at 0 is 0: r3 = 0 + r1 is a valid pointer
    const items = [
      A.ldxw(R3, R1, 0), // a "data" load: r3 is packet-flagged
      A.add64(R3, R1),
      A.mov64(R4, R3),
      A.add64(R4, 8),
      A.ldxdw(R5, R4, 0),
      A.stxdw(R1, 40, R5),
      A.ldxdw(R5, R1, 16),
      A.stxdw(R4, 8, R5),
      A.ldxw(R6, R4, 12),
      A.stxw(R1, 48, R6),
      A.ldxb(R6, R1, 63),
      A.stxb(R4, 20, R6),
      A.mov64(R0, R6),
      A.exit(),
    ];
    const out = same(items, mem);
    expect(out.src).toContain('pH');
    expect(out.fault).toBeUndefined();
    // out of bounds through the packet-flagged pointer: the same fault on both engines
    const bad = [A.ldxw(R3, R1, 4), A.add64(R3, R1), A.ldxdw(R0, R1, 8), A.stxdw(R3, 60, R0), A.exit()];
    mem.fill(0, 4, 8);
    const f = same(bad, mem);
    expect(f.fault).toMatch(/out of bounds/);
    // a packet-flagged register holding a scalar: a fault too
    const mem2 = mem.slice();
    mem2[8] = 1;
    same([A.ldxw(R3, R1, 8), A.ldxdw(R0, R3, 0), A.exit()], mem2);
  });
});
