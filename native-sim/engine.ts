/**
 * The emulator's execution core shared by both engines (interpreter and JIT): the per-run
 * machine state (`Vm`), the helper ABI, the program input format, the static analysis both
 * engines compile from, and the single definition of checked memory access (slow path).
 *
 * ## Registers
 * A register is 64 bits held as two signed 32-bit halves. `vm.regs` (Int32Array, 22 slots) is the
 * exchange area between engines, helpers and callers: register i has its low half at
 * `regs[2*i + LO]` and its high half at `regs[2*i + HI]` (LO/HI chosen so that `vm.regs64[i]`, a
 * BigUint64Array over the same buffer, is the same register as an unsigned bigint). The JIT keeps
 * registers in local variables (pairs of int32) and touches `vm.regs` only around helper calls;
 * the interpreter computes with bigints. Pointers are tagged values (see native-sim/memory).
 *
 * ## Helper ABI
 * `HelperFn = (vm: Vm) => void`, registered by helper id in a `HelperTable` (an array indexed by
 * id; native-sim/helpers fills it). On entry r1..r5 are in `vm.regs` (read them with
 * `vm.argLo/argHi/argU32/argU64/argNum/argBytes`), r0 is preset to 0; the helper writes its result
 * with `vm.ret/ret64/retPtr` and must not write r1..r10. `vm.pc` is the call instruction (for
 * faults: `vm.fault(...)`). A helper that runs BPF code (bpf_loop, for_each_map_elem) sets
 * arguments with `vm.setArg(i, lo, hi)` and calls `vm.invoke(fnLo, fnHi)`, which runs the
 * function in a new frame and leaves its r0 in `vm.regs`. Helper id 12 (tail_call) is handled by
 * the engines themselves through `vm.tailCallHook`.
 * A call to a helper id with no entry in the table is rejected when the program is compiled
 * (EmulatorFault code UNKNOWN_HELPER naming the helper and the instruction).
 *
 * ## ld_imm64 pseudo sources
 * `EngineProgram.imm64` maps the slot of every `ld_imm64` with src 1 (map fd), 2 (map value),
 * 3 (btf id), 5 or 6 to the 64-bit value the loader resolved (a MAP_TAG handle, a region
 * pointer into the map's value, ...). src 4 (function) is resolved here to a FUNC_TAG pointer.
 * `programFromSpec(spec, resolve)` builds it from a ProgramSpec's MapReferences.
 *
 * ## Budget
 * Each run gets an instruction budget (`vm.budget`, default DEFAULT_BUDGET). Both engines charge
 * a basic block's instruction count when the block is entered, and check the budget only at
 * checkpoints: function entries and loop headers (targets of backward jumps), where a block the
 * budget cannot pay for stops the run with EmulatorFault code INSN_LIMIT naming its first
 * instruction. Every loop and every recursion passes a checkpoint, so runaway programs always
 * stop; between checkpoints only straight-line code runs (bounded by the program's length), so
 * the remaining budget may dip below zero there and the next checkpoint faults. A completed run
 * has consumed exactly the number of instructions it executed, and both engines fail at the same
 * instruction.
 *
 * ## Errors
 * Everything is an `EmulatorFault` (lib/errors.ts) naming the program, the instruction slot and,
 * with line info, the C source line; `code` says what happened:
 * - at compile (`analyze`, both engines): `INVALID_PROGRAM` (bad opcode/register/encoding, jump
 *   or call out of range or into an ld_imm64, falling off the end, unresolved map reference),
 *   `UNKNOWN_HELPER` (helper id not in the table, kfunc call);
 * - at run time: `EMULATOR_FAULT` (memory access outside a region / without permission, with
 *   `address` and `region`; bad callx or callback target), `INSN_LIMIT` (budget exhausted),
 *   `CALL_DEPTH` (more than 8 frames).
 *
 * ## Frames, calls, tail calls
 * Frame d uses stack region `vm.stack[d]` (512 bytes, r10 = its end). A bpf-to-bpf call or callx
 * saves r6..r10, moves to frame d+1 and restores them on exit (r0 = the callee's result, r1..r5 as
 * the callee left them); more than MAX_FRAMES frames → CALL_DEPTH. bpf_tail_call (id 12) asks
 * `vm.tailCallHook`; when it returns a program (at most MAX_TAIL_CALLS times per run), that
 * program runs in the current frame with the same r1 and its r0 becomes the current function's
 * return value; otherwise execution continues after the call with r0 unchanged, as in the kernel.
 * may_goto counts down from MAY_GOTO_LIMIT per function invocation.
 */
import { EmulatorFault, type SourceLocation } from '../lib/errors.js';
import { HELPER_NAMES, invalidReason } from '../lib/isa/index.js';
import type { LineInfo, MapReference, ProgramSpec } from '../lib/spec/index.js';
import {
  Access, AddressSpace, FUNC_TAG, MAX_FRAMES, REGION_TAG, Region, RegionKind, RegionFlag, STACK_SIZE, addressOf,
} from './memory/index.js';

export * from './memory/index.js';

const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Index offsets of the low/high half of a register pair in `vm.regs`. */
export const LO = LITTLE ? 0 : 1;
export const HI = LITTLE ? 1 : 0;

/** Default instruction budget per run: 33 (tail-call limit) × the kernel's 1M-instruction limit. */
export const DEFAULT_BUDGET = 33_000_000;
/** Kernel MAX_TAIL_CALL_CNT. */
export const MAX_TAIL_CALLS = 33;
/** Kernel BPF_MAX_LOOPS: the may_goto counter per function invocation. */
export const MAY_GOTO_LIMIT = 8 * 1024 * 1024;
/** Helper id of bpf_tail_call, handled by the engines. */
export const TAIL_CALL_ID = 12;

/** Extension point for native-sim/helpers: add fields by declaration merging. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface HelperEnv {}

export type HelperFn = (vm: Vm) => void;
/** Helpers by id (index = helper id). */
export type HelperTable = ReadonlyArray<HelperFn | undefined>;

/**
 * Resolve a tail call: the prog_array handle (lo/hi of r2) and index (r3, as u32). Return the
 * compiled target or null when the slot is empty/out of range (the call then falls through).
 */
export type TailCallHook = (vm: Vm, mapLo: number, mapHi: number, index: number) => CompiledProgram | null;

export type EngineKind = 'jit' | 'interpreter';

/** What an engine compiles. */
export interface EngineProgram {
  name: string;
  /** 8-byte instruction slots. */
  insns: Uint8Array;
  /** Resolved 64-bit values of ld_imm64 with src ∉ {0, 4}, by slot: [lo, hi]. */
  imm64?: ReadonlyMap<number, readonly [number, number]>;
  lineInfo?: readonly LineInfo[];
}

export interface CompileOptions {
  helpers?: HelperTable;
}

/** A program ready to run on one engine. */
export interface CompiledProgram {
  readonly engine: EngineKind;
  readonly program: EngineProgram;
  readonly analysis: Analysis;
  /**
   * Run the function starting at slot `pc` in frame `vm.depth`, r1..r5 taken from `vm.regs`;
   * leaves r0 in `vm.regs`. Use `runProgram` for a whole run.
   */
  exec(vm: Vm, pc: number): void;
  /** Generated JavaScript (JIT only). */
  readonly source?: string;
}

export interface Engine {
  readonly kind: EngineKind;
  compile(program: EngineProgram, opts?: CompileOptions): CompiledProgram;
}

/** Per-run machine state; reusable across runs of any program of the same address space. */
export class Vm {
  readonly space: AddressSpace;
  /** Register exchange area (see module doc). */
  readonly regs: Int32Array;
  readonly regs64: BigUint64Array;
  /** Two-slot scratch for slow-path results: tmp[0] = lo, tmp[1] = hi. */
  readonly tmp: Int32Array;
  /** One 512-byte stack region per frame. */
  readonly stack: Region[];
  /** may_goto counters per frame. */
  readonly mayGoto: Int32Array;
  budget = DEFAULT_BUDGET;
  /** Current frame (0 = entry). */
  depth = 0;
  tailCalls = 0;
  /** Slot of the instruction being executed when a helper runs (for faults). */
  pc = 0;
  /** The program currently running (set by the engines). */
  current: CompiledProgram | null = null;
  helpers: HelperTable = [];
  env: HelperEnv = {};
  tailCallHook: TailCallHook | null = null;
  /** Region the legacy LD_ABS/LD_IND loads read (the skb data); null → they exit with r0 = 0. */
  ldAbsRegion: Region | null = null;
  /**
   * Byte offsets in `ldAbsRegion.bytes` of the network and link-layer headers, for the negative
   * SKF_NET_OFF / SKF_LL_OFF offsets of legacy loads; -1 = the network header is the data start
   * and there is no link-layer header.
   */
  ldAbsNetHeader = -1;
  ldAbsMacHeader = -1;

  constructor(space: AddressSpace = new AddressSpace()) {
    this.space = space;
    this.regs = new Int32Array(22);
    this.regs64 = new BigUint64Array(this.regs.buffer);
    this.tmp = new Int32Array(2);
    this.mayGoto = new Int32Array(MAX_FRAMES);
    this.stack = [];
    for (let i = 0; i < MAX_FRAMES; i++) {
      this.stack.push(space.add(RegionKind.Stack, `stack frame ${i}`, new Uint8Array(STACK_SIZE)));
    }
  }

  /** Release this Vm's stack regions. */
  dispose(): void {
    for (const r of this.stack) this.space.release(r);
  }

  /** Zero every stack frame (the kernel does not; tests that compare runs use it). */
  clearStack(): void {
    for (const r of this.stack) r.bytes.fill(0);
  }

  // ---- registers -------------------------------------------------------------------------
  setReg(i: number, lo: number, hi: number): void {
    this.regs[2 * i + LO] = lo;
    this.regs[2 * i + HI] = hi;
  }
  setRegBig(i: number, v: bigint): void {
    this.regs64[i] = BigInt.asUintN(64, v);
  }
  /** Set register i to a pointer into `region` at `offset`. */
  setRegPtr(i: number, region: Region, offset: number): void {
    this.setReg(i, offset | 0, REGION_TAG | region.id);
  }
  regLo(i: number): number {
    return this.regs[2 * i + LO]!;
  }
  regHi(i: number): number {
    return this.regs[2 * i + HI]!;
  }
  /** r0 as an unsigned 64-bit bigint. */
  r0(): bigint {
    return this.regs64[0]!;
  }

  // ---- helper ABI ------------------------------------------------------------------------
  argLo(i: number): number {
    return this.regs[2 * i + LO]!;
  }
  argHi(i: number): number {
    return this.regs[2 * i + HI]!;
  }
  argU32(i: number): number {
    return this.regs[2 * i + LO]! >>> 0;
  }
  argI32(i: number): number {
    return this.regs[2 * i + LO]! | 0;
  }
  argU64(i: number): bigint {
    return this.regs64[i]!;
  }
  /** Argument as a JS number: exact for values below 2^53 (lengths, sizes, flags). */
  argNum(i: number): number {
    return (this.regs[2 * i + HI]! >>> 0) * 4294967296 + (this.regs[2 * i + LO]! >>> 0);
  }
  /**
   * Checked view of `len` bytes at the pointer in argument register i (Access.Read/Write).
   * Faults (naming the helper call instruction) if the range is not entirely inside one region
   * with the permission. A zero length returns an empty array without checking the pointer.
   */
  argBytes(i: number, len: number, access: Access): Uint8Array {
    if (len === 0) return new Uint8Array(0);
    const hi = this.regs[2 * i + HI]!;
    const a = this.regs[2 * i + LO]! >>> 0;
    const why = this.space.check(hi, a, len, access);
    if (why !== null) {
      throw memFault(this, this.pc, hi, a, len, access === Access.Read ? 'read' : 'write', `argument r${i}: ${why}`);
    }
    const r = this.space.regions[(hi ^ REGION_TAG) >>> 0]!;
    return r.bytes.subarray(a, a + len);
  }
  /** The region and offset an argument points to, or undefined when it is not a region pointer. */
  argRegion(i: number): Region | undefined {
    return this.space.regionOf(this.regs[2 * i + HI]!);
  }
  /** Return a JS integer (negative values sign-extend to 64 bits: `vm.ret(-22)` = -EINVAL). */
  ret(n: number): void {
    this.regs[LO] = n | 0;
    this.regs[HI] = Math.floor(n / 4294967296) | 0;
  }
  ret64(lo: number, hi: number): void {
    this.regs[LO] = lo;
    this.regs[HI] = hi;
  }
  retBig(v: bigint): void {
    this.regs64[0] = BigInt.asUintN(64, v);
  }
  retPtr(region: Region, offset: number): void {
    this.regs[LO] = offset | 0;
    this.regs[HI] = REGION_TAG | region.id;
  }
  setArg(i: number, lo: number, hi: number): void {
    this.setReg(i, lo, hi);
  }

  /** Throw an EmulatorFault at the current instruction (for helpers). */
  fault(message: string, opts: { address?: bigint; region?: string; code?: string } = {}): never {
    throw makeFault(this, this.pc, message, opts);
  }

  /**
   * Run the BPF function that the function pointer (fnLo, fnHi) names, in a new frame, with
   * r1..r5 as set by `setArg`; its r0 is left in `vm.regs`. Used by bpf_loop & co.
   */
  invoke(fnLo: number, fnHi: number): void {
    const prog = this.current;
    if (prog === null) throw makeFault(this, this.pc, 'invoke: no program is running');
    const pc = fnLo >>> 0;
    if (fnHi !== FUNC_TAG || pc >= prog.analysis.n || prog.analysis.funcStart[pc] === 0) {
      throw makeFault(this, this.pc, `callback is not a function pointer (0x${hex64(fnLo, fnHi)})`);
    }
    const savedPc = this.pc;
    const depth = this.depth;
    if (depth + 1 >= MAX_FRAMES) {
      throw makeFault(this, this.pc, `call stack overflow: more than ${MAX_FRAMES} frames`, { code: 'CALL_DEPTH' });
    }
    this.depth = depth + 1;
    try {
      prog.exec(this, pc);
    } finally {
      this.depth = depth;
      this.pc = savedPc;
      this.current = prog;
    }
  }
}

export interface RunProgramOptions {
  budget?: number;
}

/**
 * One whole run: resets budget, frame and tail-call count, runs from slot 0 with r1..r5 as set in
 * `vm.regs`, returns r0 (unsigned 64-bit).
 */
export function runProgram(prog: CompiledProgram, vm: Vm, opts: RunProgramOptions = {}): bigint {
  vm.budget = opts.budget ?? DEFAULT_BUDGET;
  vm.depth = 0;
  vm.tailCalls = 0;
  vm.current = prog;
  prog.exec(vm, 0);
  return vm.regs64[0]!;
}

/**
 * `runProgram` for hot paths (packets): no options object, no bigint; returns r0's low 32 bits
 * unsigned (what BPF_PROG_TEST_RUN reports as retval). The full r0 stays in `vm.regs`.
 */
export function runProgram32(prog: CompiledProgram, vm: Vm, budget: number = DEFAULT_BUDGET): number {
  vm.budget = budget;
  vm.depth = 0;
  vm.tailCalls = 0;
  vm.current = prog;
  prog.exec(vm, 0);
  return vm.regs[LO]! >>> 0;
}

// ---- static analysis shared by both engines ---------------------------------------------

/** Decoded program and control-flow facts, by slot. */
export interface Analysis {
  /** Number of slots. */
  n: number;
  code: Uint8Array;
  dst: Uint8Array;
  src: Uint8Array;
  off: Int16Array;
  imm: Int32Array;
  /** For ld_imm64: the resolved 64-bit value (lo in imm64Lo, hi in imm64Hi). */
  imm64Lo: Int32Array;
  imm64Hi: Int32Array;
  /** 1 at the second slot of an ld_imm64. */
  inner: Uint8Array;
  /** 1 where a basic block starts. */
  leader: Uint8Array;
  /** At each leader: the number of instructions in its block. */
  blockLen: Int32Array;
  /** 1 at budget checkpoints: function starts and targets of backward jumps. */
  checkpoint: Uint8Array;
  /** 1 at the first slot of each function (entry, bpf-to-bpf call targets, function pointers). */
  funcStart: Uint8Array;
  /** Jump / call target slot of each jump / pseudo call, else -1. */
  target: Int32Array;
}

const MAP_PSEUDO = new Set([1, 2, 3, 5, 6]);

/** Decode and check a program; throws EmulatorFault (code INVALID_PROGRAM / UNKNOWN_HELPER). */
export function analyze(program: EngineProgram, helpers: HelperTable): Analysis {
  const bytes = program.insns;
  const fail = (pc: number, msg: string, code = 'INVALID_PROGRAM'): never => {
    throw new EmulatorFault(program.name, pc, msg, { code, ...srcOpt(program, pc) });
  };
  if (bytes.length === 0) fail(0, 'program is empty');
  if (bytes.length % 8 !== 0) fail(Math.floor(bytes.length / 8), `program length ${bytes.length} is not a multiple of 8`);
  const n = bytes.length / 8;
  const a: Analysis = {
    n,
    code: new Uint8Array(n), dst: new Uint8Array(n), src: new Uint8Array(n), off: new Int16Array(n),
    imm: new Int32Array(n), imm64Lo: new Int32Array(n), imm64Hi: new Int32Array(n), inner: new Uint8Array(n),
    leader: new Uint8Array(n + 1), blockLen: new Int32Array(n), checkpoint: new Uint8Array(n), funcStart: new Uint8Array(n),
    target: new Int32Array(n).fill(-1),
  };
  for (let pc = 0; pc < n; pc++) {
    const o = pc * 8;
    a.code[pc] = bytes[o]!;
    a.dst[pc] = bytes[o + 1]! & 15;
    a.src[pc] = bytes[o + 1]! >> 4;
    a.off[pc] = bytes[o + 2]! | (bytes[o + 3]! << 8);
    a.imm[pc] = bytes[o + 4]! | (bytes[o + 5]! << 8) | (bytes[o + 6]! << 16) | (bytes[o + 7]! << 24);
  }
  a.funcStart[0] = 1;
  a.leader[0] = 1;
  const checkTarget = (pc: number, t: number, what: string): void => {
    if (t < 0 || t >= n) fail(pc, `${what} target ${t} is out of range (program has ${n} slots)`);
    if (a.inner[t]) {
      fail(pc, `${what} target ${t} is the second slot of an ld_imm64`);
    }
  };
  // First pass: validity and ld_imm64 pairs.
  for (let pc = 0; pc < n; pc++) {
    const code = a.code[pc]!;
    const why = invalidReason(code, a.dst[pc]!, a.src[pc]!, a.off[pc]!, a.imm[pc]!);
    if (why !== null) fail(pc, why);
    if (code === 0xbf && a.off[pc] === 1) fail(pc, 'addr_space_cast (arena pointers) is not supported by the emulator');
    if (code === 0x18) {
      if (pc + 1 >= n) fail(pc, 'ld_imm64 is truncated (missing second slot)');
      const o = (pc + 1) * 8;
      if (bytes[o] !== 0 || bytes[o + 1] !== 0 || bytes[o + 2] !== 0 || bytes[o + 3] !== 0) {
        fail(pc, 'ld_imm64 second slot must have code, registers and offset 0');
      }
      a.inner[pc + 1] = 1;
      const src = a.src[pc]!;
      if (src === 0) {
        a.imm64Lo[pc] = a.imm[pc]!;
        a.imm64Hi[pc] = a.imm[pc + 1]!;
      } else if (src === 4) {
        a.imm64Lo[pc] = pc + a.imm[pc]! + 1;
        a.imm64Hi[pc] = FUNC_TAG;
      } else if (MAP_PSEUDO.has(src)) {
        const v = program.imm64?.get(pc);
        if (v === undefined) fail(pc, `ld_imm64 with pseudo source ${src} was not resolved by the loader`);
        a.imm64Lo[pc] = v![0];
        a.imm64Hi[pc] = v![1];
      }
      pc++;
    }
  }
  const ends = (pc: number): void => {
    if (pc + 1 <= n) a.leader[pc + 1] = 1;
  };
  for (let pc = 0; pc < n; pc++) {
    if (a.inner[pc]) continue;
    const code = a.code[pc]!;
    const cls = code & 7;
    if (cls === 5 || cls === 6) {
      const op = code & 0xf0;
      if (op === 0x80) {
        if (code === 0x8d) {
          ends(pc); // callx
        } else if (a.src[pc] === 1) {
          const t = pc + a.imm[pc]! + 1;
          checkTarget(pc, t, 'call');
          a.target[pc] = t;
          a.funcStart[t] = 1;
          a.leader[t] = 1;
          ends(pc);
        } else if (a.src[pc] === 2) {
          fail(pc, `kfunc calls (btf id ${a.imm[pc]}) are not supported by the emulator`, 'UNKNOWN_HELPER');
        } else {
          const id = a.imm[pc]!;
          if (id === TAIL_CALL_ID) ends(pc);
          else if (id < 0 || id >= helpers.length || helpers[id] === undefined) {
            const name = HELPER_NAMES[id];
            fail(
              pc,
              name !== undefined && id > 0
                ? `call to helper bpf_${name} (id ${id}), which the emulator does not provide here`
                : `call to unknown helper id ${id}`,
              'UNKNOWN_HELPER',
            );
          }
        }
      } else if (op === 0x90) {
        ends(pc);
      } else {
        const t = pc + (code === 0x06 ? a.imm[pc]! : a.off[pc]!) + 1;
        checkTarget(pc, t, 'jump');
        a.target[pc] = t;
        a.leader[t] = 1;
        ends(pc);
      }
    } else if (code === 0x18) {
      if (a.src[pc] === 4) {
        const t = a.imm64Lo[pc]!;
        checkTarget(pc, t, 'function pointer');
        a.funcStart[t] = 1;
        a.leader[t] = 1;
      }
    } else if (cls === 0 && code !== 0x18) {
      ends(pc); // legacy packet loads may exit the program
    }
  }
  // The last instruction must not fall through past the end.
  {
    let last = n - 1;
    if (a.inner[last]) last--;
    const code = a.code[last]!;
    const op = code & 0xf0;
    const isJmp = (code & 7) === 5 || (code & 7) === 6;
    if (!(isJmp && (op === 0x90 || op === 0x00))) fail(last, 'the last instruction falls through past the end of the program');
  }
  // Budget checkpoints: function starts and targets of backward jumps.
  for (let pc = 0; pc < n; pc++) {
    if (a.funcStart[pc]) a.checkpoint[pc] = 1;
    const t = a.target[pc]!;
    if (t >= 0 && t <= pc && !a.inner[pc] && a.code[pc] !== 0x85) a.checkpoint[t] = 1;
  }
  // Block lengths.
  let start = 0;
  let count = 0;
  for (let pc = 0; pc <= n; pc++) {
    if (pc === n || (a.leader[pc] && pc !== start)) {
      a.blockLen[start] = count;
      start = pc;
      count = 0;
    }
    if (pc < n && !a.inner[pc]) count++;
  }
  return a;
}

/** Build an EngineProgram from a ProgramSpec; `resolve` gives each map reference's 64-bit value. */
export function programFromSpec(
  spec: ProgramSpec,
  resolve: (ref: MapReference, src: number) => readonly [number, number],
): EngineProgram {
  const imm64 = new Map<number, readonly [number, number]>();
  for (const ref of spec.mapReferences) {
    const src = spec.instructions[ref.insn * 8 + 1]! >> 4;
    imm64.set(ref.insn, resolve(ref, src));
  }
  return { name: spec.name, insns: spec.instructions, imm64, lineInfo: spec.lineInfo };
}

// ---- faults -----------------------------------------------------------------------------

function srcOpt(program: EngineProgram, pc: number): { source?: SourceLocation } {
  const s = sourceAt(program, pc);
  return s ? { source: s } : {};
}

/** The C source line of slot `pc`, from line info (last entry at or before pc). */
export function sourceAt(program: EngineProgram, pc: number): SourceLocation | undefined {
  const li = program.lineInfo;
  if (!li || li.length === 0) return undefined;
  let lo = 0;
  let hi = li.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (li[mid]!.insn <= pc) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (best < 0) return undefined;
  const l = li[best]!;
  return { file: l.file, line: l.line, column: l.column, text: l.text };
}

export function hex64(lo: number, hi: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

export function makeFault(
  vm: Vm,
  pc: number,
  message: string,
  opts: { address?: bigint; region?: string; code?: string } = {},
): EmulatorFault {
  const prog = vm.current;
  const name = prog ? prog.program.name : '<none>';
  const source = prog ? sourceAt(prog.program, pc) : undefined;
  return new EmulatorFault(name, pc, message, { ...opts, ...(source ? { source } : {}) });
}

function memFault(vm: Vm, pc: number, hi: number, a: number, size: number, kind: string, why: string): EmulatorFault {
  const address = addressOf(hi, a);
  const region = vm.space.regionName(hi);
  return makeFault(vm, pc, `invalid ${kind} of ${size} byte${size === 1 ? '' : 's'} at 0x${address.toString(16)}: ${why}`, {
    address,
    ...(region !== undefined ? { region } : {}),
  });
}

/** Budget exhausted at the block starting at `pc`. */
export function budgetFault(vm: Vm, pc: number): never {
  throw makeFault(vm, pc, `instruction budget exhausted (the run executed more instructions than its budget; runaway loop?)`, {
    code: 'INSN_LIMIT',
  });
}

export function depthFault(vm: Vm, pc: number): never {
  throw makeFault(vm, pc, `call stack overflow: more than ${MAX_FRAMES} frames (unbounded recursion?)`, { code: 'CALL_DEPTH' });
}

export function callxFault(vm: Vm, pc: number, lo: number, hi: number): never {
  throw makeFault(vm, pc, `callx target 0x${hex64(lo, hi)} is not a function of this program`);
}

// ---- the checked memory access slow path (the definition for both engines) -------------

/**
 * Load `size` bytes (1, 2, 4, 8) from region offset `a` (lo + off as a JS number) of the region
 * named by `hi`; zero-extends (or sign-extends when `sx`) into vm.tmp[0] (lo) / vm.tmp[1] (hi).
 */
export function loadSlow(vm: Vm, pc: number, hi: number, a: number, size: number, sx: boolean): void {
  const space = vm.space;
  const id = (hi ^ REGION_TAG) >>> 0;
  const r = id < space.regions.length ? space.regions[id]! : undefined;
  const out = vm.tmp;
  if (r !== undefined && r.hooks !== null && a >= r.start && a + size <= r.end && r.hooks.load(r, a, size, out)) return;
  const why = space.check(hi, a, size, Access.Read);
  if (why !== null) throw memFault(vm, pc, hi, a, size, 'read', why);
  const v = r!.view;
  switch (size) {
    case 1:
      out[0] = sx ? v.getInt8(a) : v.getUint8(a);
      break;
    case 2:
      out[0] = sx ? v.getInt16(a, true) : v.getUint16(a, true);
      break;
    case 4:
      out[0] = v.getInt32(a, true);
      break;
    default:
      out[0] = v.getInt32(a, true);
      out[1] = v.getInt32(a + 4, true);
      return;
  }
  out[1] = sx ? out[0]! >> 31 : 0;
}

/** Store the low `size` bytes of (lo, vhi) at region offset `a` of the region named by `hi`. */
export function storeSlow(vm: Vm, pc: number, hi: number, a: number, size: number, lo: number, vhi: number): void {
  const space = vm.space;
  const id = (hi ^ REGION_TAG) >>> 0;
  const r = id < space.regions.length ? space.regions[id]! : undefined;
  if (r !== undefined && r.hooks !== null && a >= r.start && a + size <= r.end && r.hooks.store(r, a, size, lo, vhi)) return;
  const why = space.check(hi, a, size, Access.Write);
  if (why !== null) throw memFault(vm, pc, hi, a, size, 'write', why);
  const v = r!.view;
  switch (size) {
    case 1:
      v.setUint8(a, lo & 0xff);
      break;
    case 2:
      v.setUint16(a, lo & 0xffff, true);
      break;
    case 4:
      v.setInt32(a, lo, true);
      break;
    default:
      v.setInt32(a, lo, true);
      v.setInt32(a + 4, vhi, true);
  }
}

/**
 * Atomic read-modify-write (`op` = the STX|ATOMIC imm, not LOAD_ACQ/STORE_REL) of 4 or 8 bytes.
 * (sLo, sHi) = src register, (cLo, cHi) = r0 (cmpxchg comparand). Leaves the old memory value in
 * vm.tmp (zero-extended for 4 bytes); the engine writes it to src (fetch/xchg) or r0 (cmpxchg).
 */
export function atomicSlow(
  vm: Vm, pc: number, hi: number, a: number, size: number, op: number, sLo: number, sHi: number, cLo: number, cHi: number,
): void {
  const space = vm.space;
  const why = space.check(hi, a, size, Access.ReadWrite);
  if (why !== null) throw memFault(vm, pc, hi, a, size, 'atomic access', why);
  const r = space.regions[(hi ^ REGION_TAG) >>> 0]!;
  if (r.hooks !== null) throw memFault(vm, pc, hi, a, size, 'atomic access', `atomic operations on ${r.name} are not allowed`);
  const v = r.view;
  const oLo = v.getInt32(a, true);
  const oHi = size === 8 ? v.getInt32(a + 4, true) : 0;
  let nLo = oLo;
  let nHi = oHi;
  switch (op & 0xf0) {
    case 0x00: {
      const t = (oLo >>> 0) + (sLo >>> 0);
      nLo = t | 0;
      nHi = (oHi + sHi + (t > 0xffffffff ? 1 : 0)) | 0;
      break;
    }
    case 0x40: nLo = oLo | sLo; nHi = oHi | sHi; break;
    case 0x50: nLo = oLo & sLo; nHi = oHi & sHi; break;
    case 0xa0: nLo = oLo ^ sLo; nHi = oHi ^ sHi; break;
    case 0xe0: nLo = sLo; nHi = sHi; break;
    default: {
      // cmpxchg
      const eq = size === 8 ? oLo === cLo && oHi === cHi : oLo === cLo;
      if (eq) {
        nLo = sLo;
        nHi = sHi;
      }
    }
  }
  v.setInt32(a, nLo, true);
  if (size === 8) v.setInt32(a + 4, nHi, true);
  vm.tmp[0] = oLo;
  vm.tmp[1] = oHi;
}

/** Kernel SKF_NET_OFF / SKF_LL_OFF: negative legacy-load offsets relative to the L3 / L2 header. */
export const SKF_NET_OFF = -0x100000;
export const SKF_LL_OFF = -0x200000;

/**
 * Legacy LD_ABS/LD_IND: load `size` bytes big-endian at offset `k` of the skb data
 * (`vm.ldAbsRegion`'s window), as the kernel's bpf_skb_load_helper does: k >= 0 is relative to the
 * data start and must end by data_end; SKF_NET_OFF + n / SKF_LL_OFF + n address the network /
 * link-layer header and may reach back into the headroom. Returns false when out of bounds (the
 * program then exits with r0 = 0); else the zero-extended value is in vm.tmp[0].
 */
export function ldAbsSlow(vm: Vm, k: number, size: number): boolean {
  const r = vm.ldAbsRegion;
  if (r === null) return false;
  let p: number;
  if (k >= 0) {
    if (k + size > r.end - r.start) return false;
    p = r.start + k;
  } else {
    if (k >= SKF_NET_OFF) p = (vm.ldAbsNetHeader >= 0 ? vm.ldAbsNetHeader : r.start) + (k - SKF_NET_OFF);
    else if (k >= SKF_LL_OFF && vm.ldAbsMacHeader >= 0) p = vm.ldAbsMacHeader + (k - SKF_LL_OFF);
    else return false;
    if (p < 0 || p + size > r.end) return false;
  }
  const v = r.view;
  vm.tmp[0] = size === 4 ? v.getInt32(p, false) : size === 2 ? v.getUint16(p, false) : v.getUint8(p);
  vm.tmp[1] = 0;
  return true;
}

/** The ld_abs/ld_ind offset: imm (+ src as s32), computed as the kernel does (32-bit wrap). */
export function ldAbsOffset(imm: number, srcLo: number, ind: boolean): number {
  return ind ? (srcLo + imm) | 0 : imm;
}

export { RegionFlag, Access };
