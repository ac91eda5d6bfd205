/**
 * JIT vs interpreter on seeded random programs: tens of thousands of generated, mostly valid
 * programs (ALU64/ALU32 with register and immediate operands, divisions by possibly-zero values,
 * loads/stores/atomics over a scratch buffer and the stack with some offsets out of bounds,
 * forward branches, bounded loops, bpf-to-bpf calls, callx, helper calls including a callback
 * helper that re-enters BPF code, may_goto, ld_imm64). Both engines must produce the same r0, the
 * same memory and stack afterwards, and the same fault (code, instruction and message). The
 * programs cover all three shapes of JIT code: straight-line (loop-free), structured loops
 * (reducible, no calls) and the dispatch loop (calls, callbacks).
 */
import { describe, expect, it } from 'vitest';
import { EmulatorFault } from '../../lib/errors.js';
import * as A from '../../lib/isa/asm.js';
import { RegionKind, Vm, runProgram, type HelperFn, type HelperTable } from '../../native-sim/engine.js';
import { ENGINES } from '../../native-sim/jit/raw.js';

/** mulberry32: small, seeded, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MEM_SIZE = 64;
const INTERESTING = [0, 1, -1, 2, 3, 7, 8, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, -0x80000000, 12345, -98765];

const helpers: (HelperFn | undefined)[] = [];
// id 7 (get_prandom_u32 slot): a pure function of its arguments.
helpers[7] = (vm) => vm.ret64(vm.argLo(1) ^ Math.imul(vm.argLo(2), 31), vm.argHi(3) ^ vm.argLo(4));
// id 181 (loop slot): call the callback in r2 for i in 0..(r1 & 7) with r1 = i, r2 = r3; stop on r0 != 0.
helpers[181] = (vm) => {
  const n = vm.argU32(1) & 7;
  const fl = vm.argLo(2);
  const fh = vm.argHi(2);
  const cl = vm.argLo(3);
  const ch = vm.argHi(3);
  let i = 0;
  for (; i < n; i++) {
    vm.setArg(1, i, 0);
    vm.setArg(2, cl, ch);
    vm.invoke(fl, fh);
    if (vm.regLo(0) !== 0 || vm.regHi(0) !== 0) {
      i++;
      break;
    }
  }
  vm.ret(i);
};
const HELPERS: HelperTable = helpers;

type Item = A.AsmItem;
const R = A.REGS;

function genProgram(seed: number): Uint8Array {
  const r = rng(seed);
  // flavour: 0 = everything, 1 = no bpf-to-bpf calls/callx/callbacks, 2 = also no loops
  const flavour = seed % 3;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const imm = (): number => (r() < 0.6 ? pick(INTERESTING) : int(-0x80000000, 0x7fffffff));
  let labels = 0;
  const label = (): string => `L${labels++}`;
  const writable = [0, 3, 4, 5, 6, 7, 0, 0, 3];
  const readable = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 3, 4];
  const alu64 = [A.add64, A.sub64, A.mul64, A.div64, A.sdiv64, A.or64, A.and64, A.lsh64, A.rsh64, A.mod64, A.smod64, A.xor64, A.mov64, A.arsh64];
  const alu32 = [A.add32, A.sub32, A.mul32, A.div32, A.sdiv32, A.or32, A.and32, A.lsh32, A.rsh32, A.mod32, A.smod32, A.xor32, A.mov32, A.arsh32];
  const jmps = [A.jeq, A.jgt, A.jge, A.jset, A.jne, A.jsgt, A.jsge, A.jlt, A.jle, A.jslt, A.jsle,
    A.jeq32, A.jgt32, A.jge32, A.jset32, A.jne32, A.jsgt32, A.jsge32, A.jlt32, A.jle32, A.jslt32, A.jsle32];
  const loads = [A.ldxb, A.ldxh, A.ldxw, A.ldxdw, A.ldxsb, A.ldxsh, A.ldxsw];
  const stores = [A.stxb, A.stxh, A.stxw, A.stxdw];
  const sts = [A.stb, A.sth, A.stw, A.stdw];
  const atomics = [A.atomicAdd64, A.atomicOr64, A.atomicAnd64, A.atomicXor64, A.fetchAdd64, A.fetchXor64, A.xchg64, A.cmpxchg64,
    A.atomicAdd32, A.atomicOr32, A.fetchAnd32, A.fetchOr32, A.xchg32, A.cmpxchg32];
  const base = (): { reg: A.Register; off: number } => {
    const c = r();
    if (c < 0.55) return { reg: A.R1, off: int(-2, MEM_SIZE + 2) };
    if (c < 0.97) return { reg: A.R10, off: int(-514, 1) };
    return { reg: pick(R), off: int(-8, 8) };
  };
  const out: Item[] = [];
  let hasSub = false;
  let hasCb = false;
  const straight = (items: Item[]): void => {
    const c = r();
    const dst = R[pick(writable)]!;
    if (c < 0.35) {
      const f = pick(alu64);
      items.push(f(dst, r() < 0.5 ? R[pick(readable)]! : imm()));
    } else if (c < 0.55) {
      const f = pick(alu32);
      items.push(f(dst, r() < 0.5 ? R[pick(readable)]! : imm()));
    } else if (c < 0.6) {
      const k = r();
      if (k < 0.3) items.push(A.neg64(dst));
      else if (k < 0.5) items.push(A.neg32(dst));
      else if (k < 0.7) items.push(A.movsx64(dst, R[pick(readable)]!, pick([8, 16, 32] as const)));
      else if (k < 0.8) items.push(A.movsx32(dst, R[pick(readable)]!, pick([8, 16] as const)));
      else items.push(pick([A.le, A.be, A.bswap])(dst, pick([16, 32, 64] as const)));
    } else if (c < 0.72) {
      const b = base();
      items.push(pick(loads)(dst, b.reg, b.off));
    } else if (c < 0.84) {
      const b = base();
      if (r() < 0.7) items.push(pick(stores)(b.reg, b.off, R[pick(readable)]!));
      else items.push(pick(sts)(b.reg, b.off, imm()));
    } else if (c < 0.88) {
      const b = base();
      items.push(pick(atomics)(b.reg, b.off & ~3, R[pick([0, 3, 4, 5, 6, 7])]!));
    } else if (c < 0.91) {
      const v = (BigInt(imm() >>> 0) << 32n) | BigInt(imm() >>> 0);
      items.push(A.ldImm64(dst, v));
    } else if (c < 0.94 && flavour === 0) {
      items.push(A.mov64(A.R1, A.R1)); // keep r1 alive in some programs
      hasSub = true;
      items.push(A.mov64(A.R2, R[pick(readable)]!), A.callLocal('sub'), A.mov64(A.R2, MEM_SIZE));
    } else if (c < 0.96) {
      items.push(A.mov64(A.R2, R[pick(readable)]!), A.mov64(A.R3, R[pick(readable)]!), A.call(7));
    } else if (c < 0.98 && flavour === 0) {
      hasCb = true;
      items.push(A.mov64(A.R6, A.R1), A.mov64(A.R1, R[pick([0, 3, 4, 5])]!), A.ldFunc(A.R2, 'cb'), A.mov64(A.R3, A.R10), A.call(181), A.mov64(A.R1, A.R6));
    } else if (flavour === 0) {
      hasSub = true;
      items.push(A.ldFunc(A.R5, 'sub'), A.mov64(A.R2, 5), A.callx(A.R5), A.mov64(A.R2, MEM_SIZE));
    }
  };
  const block = (items: Item[], n: number, depth: number): void => {
    for (let i = 0; i < n; i++) {
      const c = r();
      if (c < 0.12) {
        const l = label();
        const f = pick(jmps);
        items.push(f(R[pick(readable)]!, r() < 0.5 ? R[pick(readable)]! : imm(), l));
        block(items, int(1, 4), depth);
        items.push(A.label(l));
      } else if (c < 0.17 && depth < 2 && flavour !== 2) {
        const ctr = depth === 0 ? A.R9 : A.R8;
        const top = label();
        items.push(A.mov64(ctr, 0), A.label(top));
        block(items, int(1, 5), depth + 1);
        items.push(A.add64(ctr, 1), A.jlt(ctr, int(1, 12), top));
      } else if (c < 0.18) {
        const l = label();
        items.push(A.mayGoto(l), A.add64(A.R0, 1), A.label(l));
      } else {
        straight(items);
      }
    }
  };
  out.push(A.mov64(A.R0, imm()), A.mov64(A.R3, 0), A.mov64(A.R4, 0), A.mov64(A.R5, 0), A.mov64(A.R6, 0), A.mov64(A.R7, 0));
  block(out, int(5, 40), 0);
  if (r() < 0.3 && flavour !== 2) {
    // a runaway loop now and then: must end in INSN_LIMIT on both engines
    const l = label();
    out.push(A.label(l), A.add64(A.R0, 1), A.ja(l));
  }
  out.push(A.exit());
  if (hasSub) {
    out.push(A.label('sub'), A.mov64(A.R0, A.R2));
    const body: Item[] = [];
    for (let i = 0, n = int(1, 8); i < n; i++) straight(body);
    // subprograms must not recurse forever through the generated calls: drop nested calls
    out.push(...body.filter((it) => it.insn === undefined || !(it.insn.code === 0x85 && it.insn.src === 1) && it.insn.code !== 0x8d && !(it.insn.code === 0x85 && it.insn.imm === 181)));
    out.push(A.exit());
  }
  if (hasCb) {
    out.push(A.label('cb'), A.mov64(A.R0, A.R1), A.xor64(A.R0, int(0, 3)), A.stxdw(A.R2, -8, A.R0), A.and64(A.R0, 1), A.exit());
  }
  return A.assembleBytes(out);
}

/**
 * Loop-free programs whose blocks are laid out out of order: logical blocks 0..K-1 only jump
 * forward (logically), but physically block 0 comes first and the rest are shuffled, so many
 * jumps go backward in slot order while the control-flow graph stays acyclic (clang does this
 * with shared tails). The JIT must re-order them into straight-line code.
 */
function genShuffled(seed: number, blocksMin = 3, blocksMax = 12, insnsMax = 4): Uint8Array {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const K = int(blocksMin, blocksMax);
  const ops = [A.add64, A.sub64, A.xor64, A.mul64, A.or64, A.and64, A.add32, A.xor32, A.lsh64, A.rsh64, A.mov32];
  const jmps = [A.jeq, A.jgt, A.jsgt, A.jset, A.jne, A.jlt, A.jeq32, A.jgt32, A.jslt32];
  const blocks: A.AsmItem[][] = [];
  for (let i = 0; i < K; i++) {
    const items: A.AsmItem[] = [A.label(`B${i}`)];
    for (let j = int(1, insnsMax); j > 0; j--) {
      const c = r();
      const dst = R[pick([0, 3, 4, 5])]!;
      if (c < 0.6) items.push(pick(ops)(dst, r() < 0.5 ? R[pick([0, 1, 2, 3, 4, 5])]! : pick(INTERESTING)));
      else if (c < 0.7) items.push(A.ldxb(dst, A.R1, int(-1, MEM_SIZE)));
      else if (c < 0.8) items.push(A.ldxdw(dst, A.R10, -8 * int(1, 4)));
      else if (c < 0.9) items.push(A.stxdw(A.R10, -8 * int(1, 4), R[pick([0, 3, 4])]!));
      else items.push(A.mov64(A.R2, dst), A.call(7));
    }
    if (i === K - 1) items.push(A.exit());
    else {
      const c = r();
      const t1 = int(i + 1, K - 1);
      const t2 = int(i + 1, K - 1);
      if (c < 0.6) items.push(pick(jmps)(R[pick([0, 3, 4, 5])]!, r() < 0.5 ? R[pick([0, 3, 4])]! : pick(INTERESTING), `B${t1}`), A.ja(`B${t2}`));
      else if (c < 0.85) items.push(A.ja(`B${t1}`));
      else items.push(A.exit());
    }
    blocks.push(items);
  }
  const rest = blocks.slice(1);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  const head = [A.mov64(A.R0, pick(INTERESTING)), A.mov64(A.R3, 0), A.mov64(A.R4, 0), A.mov64(A.R5, 0)];
  return A.assembleBytes([...head, ...blocks[0]!, ...rest.flat()]);
}

interface Outcome {
  r0?: string;
  fault?: string;
  mem?: string;
  stack?: string;
}

function runOn(engine: 'jit' | 'interpreter', insns: Uint8Array, memInit: Uint8Array, seeCode?: (source: string) => void): Outcome {
  let prog;
  try {
    prog = ENGINES[engine].compile({ name: 'fuzz', insns }, { helpers: HELPERS });
    if (seeCode && prog.source !== undefined) seeCode(prog.source);
  } catch (e) {
    if (e instanceof EmulatorFault) return { fault: `compile ${e.code} ${e.insn} ${e.message}` };
    throw e;
  }
  const vm = new Vm();
  vm.helpers = HELPERS;
  const mem = memInit.slice();
  const region = vm.space.add(RegionKind.Scratch, 'memory', mem);
  vm.setRegPtr(1, region, 0);
  vm.setReg(2, MEM_SIZE, 0);
  const stack = (): string => vm.stack.map((s) => Buffer.from(s.bytes).toString('hex')).join('');
  try {
    const r0 = runProgram(prog, vm, { budget: 5_000 });
    return { r0: r0.toString(16), mem: Buffer.from(mem).toString('hex'), stack: stack() };
  } catch (e) {
    if (e instanceof EmulatorFault) {
      return { fault: `${e.code} ${e.insn} ${e.address ?? ''} ${e.region ?? ''} ${e.message}`, mem: Buffer.from(mem).toString('hex'), stack: stack() };
    }
    throw e;
  }
}

const PROGRAMS = Number(process.env.BPFKIT_FUZZ_PROGRAMS ?? 20_000);

describe('JIT vs interpreter on seeded random programs', () => {
  it(`${PROGRAMS} programs: same r0, memory, stack and faults`, () => {
    const stats = { ok: 0, fault: 0, limit: 0, compileError: 0 };
    // which JIT code shape each program got: all three must be exercised
    const modes = { straight: 0, structured: 0, dispatch: 0 };
    const diffs: string[] = [];
    for (let seed = 1; seed <= PROGRAMS && diffs.length < 5; seed++) {
      const insns = genProgram(seed);
      const memInit = new Uint8Array(MEM_SIZE);
      const mr = rng(seed ^ 0x5a5a5a5a);
      for (let i = 0; i < MEM_SIZE; i++) memInit[i] = Math.floor(mr() * 256);
      const a = runOn('interpreter', insns, memInit);
      const b = runOn('jit', insns, memInit, (src) => {
        if (src.includes('switch (pc)')) modes.dispatch++;
        else if (/C\d+: for \(;;\)/.test(src)) modes.structured++;
        else modes.straight++;
      });
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        diffs.push(`seed ${seed}:\n  interpreter ${JSON.stringify(a).slice(0, 400)}\n  jit         ${JSON.stringify(b).slice(0, 400)}`);
      }
      if (a.fault?.startsWith('compile')) stats.compileError++;
      else if (a.fault?.startsWith('INSN_LIMIT')) stats.limit++;
      else if (a.fault) stats.fault++;
      else stats.ok++;
    }
    expect(diffs).toEqual([]);
    // The generator must exercise both normal completion and each kind of fault.
    expect(stats.ok).toBeGreaterThan(PROGRAMS * 0.2);
    expect(stats.fault).toBeGreaterThan(PROGRAMS * 0.05);
    expect(stats.limit).toBeGreaterThan(PROGRAMS * 0.02);
    expect(stats.compileError).toBe(0);
    expect(modes.straight).toBeGreaterThan(PROGRAMS * 0.2);
    expect(modes.structured).toBeGreaterThan(PROGRAMS * 0.15);
    expect(modes.dispatch).toBeGreaterThan(PROGRAMS * 0.15);
  }, 600_000);

  it('3000 loop-free programs laid out out of order: same results, straight-line JIT code', () => {
    const diffs: string[] = [];
    let backward = 0;
    let straight = 0;
    for (let seed = 1; seed <= 3000 && diffs.length < 5; seed++) {
      const insns = genShuffled(seed);
      if (ENGINES.jit.compile({ name: 'shuffled', insns }, { helpers: HELPERS }).source!.includes('switch (pc)') === false) straight++;
      for (let pc = 0; pc < insns.length / 8; pc++) {
        const code = insns[pc * 8]!;
        const off = (insns[pc * 8 + 2]! | (insns[pc * 8 + 3]! << 8)) << 16 >> 16;
        if ((code & 7) === 5 && code !== 0x85 && code !== 0x95 && off < 0) backward++;
      }
      const memInit = new Uint8Array(MEM_SIZE).map((_, i) => (i * 37 + seed) & 255);
      const a = runOn('interpreter', insns, memInit);
      const b = runOn('jit', insns, memInit);
      if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`seed ${seed}: ${JSON.stringify(a).slice(0, 300)} vs ${JSON.stringify(b).slice(0, 300)}`);
    }
    expect(diffs).toEqual([]);
    expect(backward).toBeGreaterThan(3000);
    expect(straight).toBe(3000);
  }, 300_000);

  it('300 large loop-free programs (cut into chunk functions by the JIT): same results', () => {
    const diffs: string[] = [];
    let chunked = 0;
    for (let seed = 1; seed <= 300 && diffs.length < 5; seed++) {
      const insns = genShuffled(seed * 7919, 150, 300, 8);
      if (ENGINES.jit.compile({ name: 'large', insns }, { helpers: HELPERS }).source!.includes('function seg1(')) chunked++;
      const memInit = new Uint8Array(MEM_SIZE).map((_, i) => (i * 53 + seed) & 255);
      const a = runOn('interpreter', insns, memInit);
      const b = runOn('jit', insns, memInit);
      if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`seed ${seed}: ${JSON.stringify(a).slice(0, 300)} vs ${JSON.stringify(b).slice(0, 300)}`);
    }
    expect(diffs).toEqual([]);
    expect(chunked).toBeGreaterThan(200); // the rest exceed the straight-line label cap and take another shape
  }, 300_000);

  it('large programs compile and agree (20k branches; 100 deeply nested forward jumps)', () => {
    const wide: A.AsmItem[] = [A.mov64(A.R0, 0)];
    for (let i = 0; i < 20_000; i++) wide.push(A.jeq(A.R0, i * 7 + 3, `w${i}`), A.add64(A.R0, 1), A.label(`w${i}`));
    wide.push(A.exit());
    const nested: A.AsmItem[] = [A.mov64(A.R0, 1)];
    for (let i = 0; i < 100; i++) nested.push(A.jgt(A.R0, 1000 - i, `n${i}`), A.mul64(A.R0, 3));
    for (let i = 99; i >= 0; i--) nested.push(A.label(`n${i}`), A.add64(A.R0, i));
    nested.push(A.exit());
    for (const items of [wide, nested]) {
      const insns = A.assembleBytes(items);
      const a = runOn('interpreter', insns, new Uint8Array(MEM_SIZE));
      const b = runOn('jit', insns, new Uint8Array(MEM_SIZE));
      expect(a.fault).toBeUndefined();
      expect(b).toEqual(a);
    }
  }, 120_000);
});
