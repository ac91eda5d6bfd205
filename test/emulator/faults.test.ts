/**
 * Runtime faults: every bad access, runaway and bad call ends in a typed EmulatorFault naming the
 * instruction (and the C source line when line info exists), identical on both engines, and never
 * reads or writes outside the addressed region.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmulatorFault } from '../../lib/errors.js';
import * as A from '../../lib/isa/asm.js';
import { parseObject } from '../../lib/elf/index.js';
import type { ObjectSpec } from '../../lib/spec/index.js';
import {
  Access, AddressSpace, MAP_TAG, REGION_TAG, RegionFlag, RegionKind, Vm, programFromSpec, runProgram,
  type CompiledProgram, type EngineKind, type HelperFn, type RegionHooks,
} from '../../native-sim/engine.js';
import { ENGINES } from '../../native-sim/jit/raw.js';
import { compileC } from '../helpers/progs.js';
import { CORPUS_DIR } from './isa/corpus.js';

const KINDS: EngineKind[] = ['interpreter', 'jit'];

function catchFault(f: () => unknown): EmulatorFault {
  try {
    f();
  } catch (e) {
    if (e instanceof EmulatorFault) return e;
    throw e;
  }
  throw new Error('expected an EmulatorFault');
}

describe('faults from C programs name the source line', () => {
  let obj: ObjectSpec;
  beforeAll(async () => {
    const path = await compileC(join(CORPUS_DIR, 'faults.bpf.c'));
    obj = parseObject(readFileSync(path), path);
  });
  const run = (kind: EngineKind, name: string): EmulatorFault => {
    const spec = obj.programs.find((p) => p.name === name)!;
    const prog = ENGINES[kind].compile(programFromSpec(spec, () => [0, 0]));
    const vm = new Vm();
    const mem = vm.space.add(RegionKind.Scratch, 'mem', new Uint8Array(200));
    vm.setRegPtr(1, mem, 0);
    return catchFault(() => runProgram(prog, vm));
  };
  for (const kind of KINDS) {
    it(`stack out of bounds (${kind})`, () => {
      const f = run(kind, 'stack_oob');
      expect(f.code).toBe('EMULATOR_FAULT');
      expect(f.program).toBe('stack_oob');
      expect(f.region).toBe('stack frame 0');
      expect(f.source?.line).toBe(11);
      expect(f.source?.text).toContain('return buf[i];');
      expect(f.message).toMatch(/^run stack_oob: insn \d+ at .*faults\.bpf\.c:11:\d+: invalid read of 1 byte at 0xff[0-9a-f]{14}: out of bounds of stack frame 0/);
    });
    it(`loop reading past the buffer (${kind})`, () => {
      const f = run(kind, 'read_ctx');
      expect(f.region).toBe('mem');
      expect(f.address! & 0xffffffffn).toBe(200n);
      expect(f.source?.line).toBe(19);
    });
    it(`unbounded recursion (${kind})`, () => {
      const f = run(kind, 'deep');
      expect(f.code).toBe('CALL_DEPTH');
      expect(f.source?.line).toBe(26);
    });
  }
});

/** Compile `items` on `kind` with helpers, run with r1 = region of `bytes`. */
function setup(kind: EngineKind, items: A.AsmItem[], helpers: (HelperFn | undefined)[] = []): { vm: Vm; prog: CompiledProgram; space: AddressSpace } {
  const prog = ENGINES[kind].compile({ name: 't', insns: A.assembleBytes(items) }, { helpers });
  const vm = new Vm();
  vm.helpers = helpers;
  return { vm, prog, space: vm.space };
}

describe('memory isolation', () => {
  for (const kind of KINDS) {
    it(`an out-of-bounds store touches no neighbour (${kind})`, () => {
      const { vm, prog, space } = setup(kind, [A.stdw(A.R1, 8, -1), A.stdw(A.R1, -8, -1), A.mov64(A.R0, 0), A.exit()]);
      const a = space.add(RegionKind.Scratch, 'a', new Uint8Array(16));
      const shared = new Uint8Array(32);
      // Two regions over one buffer: b's window is bytes 8..16, a neighbour on both sides.
      const b = space.allocate(RegionKind.Scratch, 'b').setBytes(shared, 8, 16).configure(RegionFlag.Read | RegionFlag.Write);
      vm.setRegPtr(1, b, 8);
      const f = catchFault(() => runProgram(prog, vm));
      expect(f.insn).toBe(0);
      expect(f.region).toBe('b');
      expect(shared.every((x) => x === 0)).toBe(true);
      expect(a.bytes.every((x) => x === 0)).toBe(true);
      // The same store just inside succeeds.
      const { prog: p2 } = setup(kind, [A.stdw(A.R1, 0, -1), A.mov64(A.R0, 0), A.exit()]);
      runProgram(p2, vm);
      expect([...shared.subarray(8, 16)]).toEqual(Array(8).fill(255));
      expect(shared[7]).toBe(0);
      expect(shared[16]).toBe(0);
    });

    it(`read-only regions reject stores but allow loads (${kind})`, () => {
      const { vm, prog, space } = setup(kind, [A.ldxw(A.R0, A.R1, 0), A.stw(A.R1, 0, 1), A.exit()]);
      const ro = space.add(RegionKind.GlobalData, '.rodata', new Uint8Array([1, 2, 3, 4]), RegionFlag.Read);
      vm.setRegPtr(1, ro, 0);
      const f = catchFault(() => runProgram(prog, vm));
      expect(f.insn).toBe(1);
      expect(f.message).toContain('.rodata is read-only');
      expect([...ro.bytes]).toEqual([1, 2, 3, 4]);
    });

    it(`value arrays keep each access inside one element (${kind})`, () => {
      const { vm, prog, space } = setup(kind, [A.ldxw(A.R0, A.R1, 0), A.ldxh(A.R0, A.R1, 4), A.ldxw(A.R0, A.R1, 4), A.exit()]);
      const arr = space.allocate(RegionKind.MapValue, 'map counters').setBytes(new Uint8Array(24)).configure(RegionFlag.Read | RegionFlag.Write, null, 8, 6);
      vm.setRegPtr(1, arr, 8);
      const f = catchFault(() => runProgram(prog, vm));
      expect(f.insn).toBe(2);
      expect(f.message).toContain('crosses the end of a 6-byte element of map counters');
    });

    it(`released regions fault instead of reaching new memory (${kind})`, () => {
      const { vm, prog, space } = setup(kind, [A.ldxb(A.R0, A.R1, 0), A.exit()]);
      const r = space.add(RegionKind.Ringbuf, 'ringbuf record', new Uint8Array(8));
      vm.setRegPtr(1, r, 0);
      space.release(r);
      expect(catchFault(() => runProgram(prog, vm)).message).toContain('pointer to released memory');
    });

    it(`map handles and scalars are not memory (${kind})`, () => {
      const { vm, prog } = setup(kind, [A.ldxb(A.R0, A.R1, 0), A.exit()]);
      vm.setReg(1, 3, MAP_TAG);
      expect(catchFault(() => runProgram(prog, vm)).message).toContain('map handle, not memory');
      vm.setReg(1, 0x1000, 0x7fff);
      expect(catchFault(() => runProgram(prog, vm)).message).toContain('not in any region');
      vm.setReg(1, 0, 0);
      expect(catchFault(() => runProgram(prog, vm)).message).toContain('null pointer');
    });

    it(`region hooks rewrite context loads into 64-bit pointers (${kind})`, () => {
      // like xdp_md: a 4-byte load of field 0 yields a pointer into the packet region
      const { vm, prog, space } = setup(kind, [
        A.ldxw(A.R2, A.R1, 0), A.ldxw(A.R3, A.R1, 4), A.mov64(A.R0, A.R3), A.sub64(A.R0, A.R2),
        A.ldxb(A.R4, A.R2, 1), A.lsh64(A.R0, 8), A.or64(A.R0, A.R4), A.stw(A.R1, 8, 7), A.exit(),
      ]);
      const pkt = space.allocate(RegionKind.Packet, 'packet').setBytes(new Uint8Array([0, 0, 0, 0, 9, 8, 7]), 4, 7).configure(RegionFlag.Read | RegionFlag.Write);
      let stored = -1;
      const hooks: RegionHooks = {
        load(_r, off, size, out) {
          if (size !== 4 || off > 4) return false;
          out[0] = off === 0 ? pkt.start : pkt.end;
          out[1] = REGION_TAG | pkt.id;
          return true;
        },
        store(_r, off, _size, lo) {
          if (off !== 8) return false;
          stored = lo;
          return true;
        },
      };
      const ctx = space.allocate(RegionKind.Ctx, 'xdp_md').setBytes(new Uint8Array(24)).configure(RegionFlag.Read | RegionFlag.Write, hooks);
      vm.setRegPtr(1, ctx, 0);
      expect(runProgram(prog, vm)).toBe(0x308n);
      expect(stored).toBe(7);
    });
  }
});

describe('budget, frames, tail calls, helpers', () => {
  for (const kind of KINDS) {
    it(`budget faults at the first instruction of the block that cannot be paid (${kind})`, () => {
      const { vm, prog } = setup(kind, [A.mov64(A.R0, 0), A.label('top'), A.add64(A.R0, 1), A.add64(A.R0, 1), A.ja('top')]);
      const f = catchFault(() => runProgram(prog, vm, { budget: 100 }));
      expect(f.code).toBe('INSN_LIMIT');
      expect(f.insn).toBe(1);
      // 1 + 33 * 3 = 100 instructions paid; the 34th pass of the loop block cannot be paid.
      expect(vm.budget).toBe(0);
    });

    it(`tail calls run the target with the same ctx, and stop after 33 (${kind})`, () => {
      // r0 = r1 + 1 via tail call to itself while the prog array hook agrees; counts calls.
      const helpers: (HelperFn | undefined)[] = [];
      const { vm, prog } = setup(kind, [
        A.mov64(A.R6, A.R1), A.ldxdw(A.R0, A.R1, 0), A.add64(A.R0, 1), A.stxdw(A.R1, 0, A.R0),
        A.mov64(A.R1, A.R6), A.mov64(A.R2, 0), A.mov64(A.R3, 0), A.call('tail_call'),
        A.ldxdw(A.R0, A.R6, 0), A.add64(A.R0, 1000), A.exit(),
      ], helpers);
      const cell = vm.space.add(RegionKind.Scratch, 'cell', new Uint8Array(8));
      let asked = 0;
      vm.tailCallHook = (_vm, _l, _h, index) => {
        asked++;
        expect(index).toBe(0);
        return prog;
      };
      vm.setRegPtr(1, cell, 0);
      const r0 = runProgram(prog, vm);
      // 1 entry run + 33 tail calls increment the cell; the last one's tail call fails (limit)
      // and falls through to `r0 = cell + 1000`; every earlier frame returns that r0.
      expect(new DataView(cell.bytes.buffer).getBigUint64(0, true)).toBe(34n);
      expect(r0).toBe(1034n);
      expect(asked).toBe(33);
    });

    it(`an empty tail-call slot falls through (${kind})`, () => {
      const { vm, prog } = setup(kind, [A.mov64(A.R0, 5), A.call('tail_call'), A.add64(A.R0, 1), A.exit()]);
      vm.tailCallHook = () => null;
      expect(runProgram(prog, vm)).toBe(6n);
    });

    it(`helper faults name the call instruction (${kind})`, () => {
      const helpers: (HelperFn | undefined)[] = [];
      helpers[1] = (vm) => {
        vm.argBytes(1, vm.argNum(2), Access.Read);
      };
      const { vm, prog } = setup(kind, [A.mov64(A.R0, 0), A.mov64(A.R2, 16), A.call(1), A.exit()], helpers);
      const r = vm.space.add(RegionKind.Scratch, 'buf', new Uint8Array(8));
      vm.setRegPtr(1, r, 0);
      const f = catchFault(() => runProgram(prog, vm));
      expect(f.insn).toBe(2);
      expect(f.message).toContain('argument r1: out of bounds of buf');
    });

    it(`helper ABI: r1..r5 in, r0 out, negative returns sign-extend (${kind})`, () => {
      const helpers: (HelperFn | undefined)[] = [];
      let seen: bigint[] = [];
      helpers[7] = (vm) => {
        seen = [1, 2, 3, 4, 5].map((i) => vm.argU64(i));
        vm.ret(-22);
      };
      const { vm, prog } = setup(kind, [
        A.ldImm64(A.R1, 0x1122334455667788n), A.mov64(A.R2, -1), A.mov32(A.R3, -1), A.mov64(A.R4, 4), A.mov64(A.R5, 5),
        A.mov64(A.R6, 66), A.call(7), A.add64(A.R0, A.R6), A.exit(),
      ], helpers);
      expect(runProgram(prog, vm)).toBe(44n);
      expect(seen).toEqual([0x1122334455667788n, 0xffffffffffffffffn, 0xffffffffn, 4n, 5n]);
    });

    it(`r1..r5 set by the caller reach the program, read on any path (${kind})`, () => {
      const { vm, prog } = setup(kind, [
        A.mov64(A.R0, A.R1), A.jeq(A.R1, 1, 'skip'), A.mov64(A.R4, 0), A.label('skip'),
        A.lsh64(A.R0, 8), A.or64(A.R0, A.R2), A.lsh64(A.R0, 8), A.or64(A.R0, A.R3), A.lsh64(A.R0, 8), A.or64(A.R0, A.R4),
        A.lsh64(A.R0, 8), A.or64(A.R0, A.R5), A.exit(),
      ]);
      for (let i = 1; i <= 5; i++) vm.setReg(i, i, 0);
      expect(runProgram(prog, vm)).toBe(0x0102030405n);
      vm.setReg(1, 7, 0);
      expect(runProgram(prog, vm)).toBe(0x0702030005n);
    });

    it(`invoke rejects values that are not function pointers (${kind})`, () => {
      const helpers: (HelperFn | undefined)[] = [];
      helpers[181] = (vm) => vm.invoke(vm.argLo(1), vm.argHi(1));
      const { vm, prog } = setup(kind, [A.mov64(A.R1, 3), A.call(181), A.exit()], helpers);
      const f = catchFault(() => runProgram(prog, vm));
      expect(f.insn).toBe(1);
      expect(f.message).toContain('callback is not a function pointer');
    });
  }
});
