/**
 * The JIT (default engine): compiles a program to one JavaScript function `run(vm, pc)` (see
 * `source` / `bpfkit run --dump-js`). Each 64-bit register is two int32 locals (`r3l`, `r3h`);
 * `B` is the instruction budget, charged per basic block and checked at checkpoints. The body
 * takes one of three shapes:
 *
 * - straight-line (loop-free programs without calls): blocks in a topological order inside nested
 *   labeled blocks, jumps are `break L<target>`;
 * - structured (reducible programs with loops, without calls): `C<header>: for (;;) { ... }` per
 *   loop, back edges `continue C<header>`, forward jumps `break B<target>` out of labeled blocks
 *   (dominator-tree emission after Ramsey, "Beyond Relooper");
 * - dispatch loop (bpf-to-bpf calls, callx, callbacks, irreducible or very large programs):
 *   `for (;;) switch (pc) { case <block>: ... }` with an explicit call stack.
 *
 * Memory accesses are inlined: a one-entry region cache in locals (high word → the region's fast
 * windows and DataView, refreshed after helpers), a window check, a DataView access; context
 * regions call their hook directly; everything else (strides, permissions, faults) goes to the
 * shared slow path in native-sim/engine.ts, so both engines have one definition of memory
 * semantics. A forward dataflow (facts.ts) finds registers whose high half is known, so
 * comparisons and additions of 32-bit values touch the low halves only. Helpers, budget, frames,
 * tail calls and faults behave exactly as in the interpreter (the differential tests check it).
 */
import {
  FUNC_TAG, HI, LO, MAP_TAG, MAX_FRAMES, MAX_TAIL_CALLS, MAY_GOTO_LIMIT, REGION_TAG, STACK_SIZE, TAIL_CALL_ID,
  DEAD_REGION, analyze, atomicSlow, budgetFault, callxFault, depthFault, ldAbsSlow, loadSlow, makeFault, storeSlow,
  type Analysis, type CompileOptions, type CompiledProgram, type Engine, type EngineProgram, type HelperTable, type Vm,
} from '../engine.js';
import type { PacketBuf } from '../context/packet.js';
import { XdpContext } from '../context/xdp.js';
import { mapLookupElem } from '../helpers/maps.js';
import type { Region } from '../memory/index.js';
import { ArrayMap } from '../maps/array.js';
import type { SimMap } from '../maps/base.js';
import { HashMap } from '../maps/hash.js';
import { MAP_TABLE } from '../maps/registry.js';
import { CodeBuilder } from './builder.js';
import { hiDemand, hiFacts, hiOut, liveAtEntry, liveIn, pktRegs, type HiFacts } from './facts.js';
import { bswap32, mul64, sdiv64, shift64, smod64, udiv64, umod64 } from './runtime.js';

/** struct xdp_md offsets of data / data_end / data_meta (XdpMd in context/xdp.ts). */
const XDP_MD_DATA = 0, XDP_MD_DATA_END = 4, XDP_MD_DATA_META = 8;

/** Saved words per frame in vm-owned call stacks: r6..r10 (10 halves) + return slot. */
const FRAME_WORDS = 11;

const callStacks = new WeakMap<Vm, Int32Array>();
function callStackOf(vm: Vm): Int32Array {
  let cs = callStacks.get(vm);
  if (cs === undefined) {
    cs = new Int32Array(MAX_FRAMES * FRAME_WORDS);
    callStacks.set(vm, cs);
  }
  return cs;
}

const RT = {
  loadSlow, storeSlow, atomicSlow, ldAbsSlow, budgetFault, depthFault, callxFault, callStackOf,
  mul64, udiv64, umod64, sdiv64, smod64, shift64, bswap32,
  EMPTY_VIEW: new DataView(new ArrayBuffer(0)),
  /**
   * The packet of an xdp_md ctx region (hooks an XdpContext from context/xdp.ts, window
   * [0, 24)), else null: the region whose 32-bit data/data_end/data_meta loads the JIT may answer
   * without the hook call. The packet's region never changes for a ctx (PacketBuf.region is
   * readonly; adjust_head/meta/tail and expand only move its window or bytes), so its tag may be
   * cached for a run; the offsets are read live.
   */
  xdpPacket(r: Region): PacketBuf | null {
    const k = r.hooks;
    return k instanceof XdpContext && r.start === 0 && r.end >= 12 ? k.pkt : null;
  },
  DEAD: DEAD_REGION,
  badPc(vm: Vm, pc: number): never {
    throw makeFault(vm, pc, `jump to slot ${pc}, which is not the start of a basic block`);
  },
};

function sizeOf(code: number): number {
  switch (code & 0x18) {
    case 0x00: return 4;
    case 0x08: return 2;
    case 0x10: return 1;
    default: return 8;
  }
}

const lo = (r: number): string => `r${r}l`;
const hi = (r: number): string => `r${r}h`;

class JitProgram implements CompiledProgram {
  readonly engine = 'jit' as const;
  readonly program: EngineProgram;
  readonly analysis: Analysis;
  readonly source: string;
  private readonly fn: (vm: Vm, pc: number) => void;

  constructor(program: EngineProgram, helpers: HelperTable) {
    this.program = program;
    this.analysis = analyze(program, helpers);
    const b = generate(this, this.analysis, helpers);
    this.source = b.dump();
    this.fn = b.build<(vm: Vm, pc: number) => void>();
  }

  exec(vm: Vm, pc: number): void {
    this.fn(vm, pc);
  }
}

/** Most nested labeled blocks in straight-line mode (JS parsers recurse per nesting level). */
const MAX_DAG_LABELS = 200;
/** Most blocks re-ordered for straight-line mode (the ordering is quadratic in blocks). */
const MAX_DAG_BLOCKS = 4000;

/** Straight-line layout of a loop-free program: blocks in an order where every edge goes forward. */
interface DagLayout {
  /** Block start slots in emission order. */
  order: number[];
  /** Block starts that need a label (targets of breaks). */
  labels: Set<number>;
  /** For each block start: the block its last instruction falls through to, or -1. */
  fallthrough: Map<number, number>;
}

/**
 * A layout for straight-line code when the control-flow graph is acyclic (in any slot order:
 * clang often places a shared tail before its users) and has no calls; undefined otherwise.
 */
function dagLayout(A: Analysis): DagLayout | undefined {
  const n = A.n;
  const starts: number[] = [];
  for (let pc = 0; pc < n; pc++) if (A.leader[pc] && !A.inner[pc]) starts.push(pc);
  if (starts.length > MAX_DAG_BLOCKS) return undefined;
  const index = new Map<number, number>();
  starts.forEach((s, i) => index.set(s, i));
  const succ: number[][] = [];
  const lastSlot: number[] = [];
  const fall = new Map<number, number>();
  for (let i = 0; i < starts.length; i++) {
    const first = starts[i]!;
    const stop = i + 1 < starts.length ? starts[i + 1]! : n;
    let last = first;
    for (let pc = first; pc < stop; pc++) if (!A.inner[pc]) last = pc;
    lastSlot.push(last);
    if (first > 0 && A.funcStart[first]) return undefined;
    const code = A.code[last]!;
    const cls = code & 7;
    const out: number[] = [];
    let falls = true;
    if (cls === 5 || cls === 6) {
      const op = code & 0xf0;
      if (code === 0x8d || (code === 0x85 && A.src[last] === 1)) return undefined;
      if (op === 0x90) falls = false;
      else if (op === 0x00) {
        out.push(A.target[last]!);
        falls = false;
      } else if (op !== 0x80) out.push(A.target[last]!);
    }
    if (falls && stop < n) {
      out.push(stop);
      fall.set(first, stop);
    }
    succ.push(out.map((t) => index.get(t)!));
  }
  // Kahn's algorithm, taking the lowest slot among ready blocks (keeps slot order when possible).
  const indeg = new Int32Array(starts.length);
  for (const o of succ) for (const t of o) indeg[t]!++;
  const ready: number[] = [];
  for (let i = 0; i < starts.length; i++) if (indeg[i] === 0) ready.push(i);
  const order: number[] = [];
  while (ready.length) {
    let k = 0;
    for (let j = 1; j < ready.length; j++) if (ready[j]! < ready[k]!) k = j;
    const i = ready.splice(k, 1)[0]!;
    order.push(starts[i]!);
    for (const t of succ[i]!) if (--indeg[t]! === 0) ready.push(t);
  }
  if (order.length !== starts.length || order[0] !== 0) return undefined; // a cycle (loop)
  const labels = new Set<number>();
  for (let k = 0; k < order.length; k++) {
    const i = index.get(order[k]!)!;
    const next = order[k + 1];
    const f = fall.get(order[k]!);
    for (const t of succ[i]!) {
      const ts = starts[t]!;
      // jump targets are always reached by `break`; a fallthrough only when not emitted next
      if (ts !== f || ts !== next) labels.add(ts);
    }
    const last = lastSlot[i]!;
    if (A.target[last]! >= 0) labels.add(A.target[last]!);
  }
  if (labels.size > MAX_DAG_LABELS) return undefined;
  return { order, labels, fallthrough: fall };
}

/** Straight-line programs with more instructions than this are cut into chunks of about this size. */
const CHUNK_INSNS = 200;

/** How a large straight-line program is cut into functions. */
interface ChunkPlan {
  /** Chunk of each block start (by slot; -1 elsewhere). */
  of: Int32Array;
  /** Per chunk: blocks entered from earlier chunks (the first block first). */
  entries: number[][];
  /** Per chunk: blocks that need a label (break targets and entries). */
  labels: Set<number>[];
  /** Per chunk: registers (bit mask) live at some entry, loaded from vm.regs. */
  load: Int32Array;
  /** Per slot: live registers handed over by a jump there (r10 only when the program writes it). */
  live: Int32Array;
}

/** Whether some instruction may write r10 (only unverified raw programs do). */
function writesR10(A: Analysis): boolean {
  for (let pc = 0; pc < A.n; pc++) {
    if (A.inner[pc]) continue;
    const c = A.code[pc]!;
    const cls = c & 7;
    if ((cls === 4 || cls === 7 || cls === 1 || c === 0x18) && A.dst[pc] === 10) return true;
    // atomics: fetch forms write src, load-acquire writes dst
    if (cls === 3 && (c & 0xe0) === 0xc0 && ((A.imm[pc]! & 1 && A.src[pc] === 10) || (A.imm[pc] === 0x100 && A.dst[pc] === 10))) return true;
  }
  return false;
}

function chunkPlan(A: Analysis, layout: DagLayout): ChunkPlan | undefined {
  let total = 0;
  for (let pc = 0; pc < A.n; pc++) if (!A.inner[pc]) total++;
  if (total <= CHUNK_INSNS * 1.5) return undefined;
  const of = new Int32Array(A.n).fill(-1);
  let k = 0;
  let size = 0;
  for (const st of layout.order) {
    const len = A.blockLen[st]!;
    if (size > 0 && size + len > CHUNK_INSNS) {
      k++;
      size = 0;
    }
    of[st] = k;
    size += len;
  }
  const nchunks = k + 1;
  const live = liveIn(A);
  if (!writesR10(A)) for (let pc = 0; pc < A.n; pc++) live[pc] = live[pc]! & ~(1 << 10);
  const entries: number[][] = Array.from({ length: nchunks }, () => []);
  const labels: Set<number>[] = Array.from({ length: nchunks }, () => new Set<number>());
  const load = new Int32Array(nchunks);
  const addEntry = (t: number): void => {
    const c = of[t]!;
    if (!entries[c]!.includes(t)) {
      entries[c]!.push(t);
      load[c] = load[c]! | live[t]!;
    }
  };
  for (const st of layout.order) if (entries[of[st]!]!.length === 0) addEntry(st); // first block of each chunk
  for (const t of layout.labels) labels[of[t]!]!.add(t);
  for (const st of layout.order) {
    const f = layout.fallthrough.get(st);
    if (f !== undefined && of[f] !== of[st]) addEntry(f);
    let last = st;
    for (let pc = st; pc < A.n && (pc === st || !A.leader[pc]); pc++) if (!A.inner[pc]) last = pc;
    const t = A.target[last]!;
    if (t >= 0 && of[t] !== of[st]) addEntry(t);
  }
  for (let c = 0; c < nchunks; c++) for (const e of entries[c]!.slice(1)) labels[c]!.add(e);
  return { of, entries, labels, load, live };
}

/** Deepest code nesting structured mode may produce (JS parsers recurse per level). */
const MAX_NESTING = 120;
/** Most blocks for structured mode. */
const MAX_STRUCT_BLOCKS = 1000;

class Unstructurable extends Error {}

/** The control-flow facts structured emission needs (blocks keyed by their first slot). */
interface Structure {
  /** Reverse-postorder number of each reachable block. */
  rpo: Map<number, number>;
  /** Dominator-tree children of each block. */
  children: Map<number, number[]>;
  /** Blocks with two or more forward predecessors. */
  merge: Set<number>;
  /** Loop headers (targets of back edges). */
  loop: Set<number>;
  /** The slot after each block. */
  next: Map<number, number>;
}

/** Structure of a reducible program without calls; undefined when not applicable. */
function structureOf(A: Analysis): Structure | undefined {
  const n = A.n;
  const starts: number[] = [];
  for (let pc = 0; pc < n; pc++) if (A.leader[pc] && !A.inner[pc]) starts.push(pc);
  if (starts.length > MAX_STRUCT_BLOCKS) return undefined;
  const next = new Map<number, number>();
  const succ = new Map<number, number[]>();
  for (let i = 0; i < starts.length; i++) {
    const first = starts[i]!;
    const stop = i + 1 < starts.length ? starts[i + 1]! : n;
    next.set(first, stop);
    if (first > 0 && A.funcStart[first]) return undefined;
    let last = first;
    for (let pc = first; pc < stop; pc++) if (!A.inner[pc]) last = pc;
    const code = A.code[last]!;
    const cls = code & 7;
    const out: number[] = [];
    let falls = true;
    if (cls === 5 || cls === 6) {
      const op = code & 0xf0;
      if (code === 0x8d || (code === 0x85 && A.src[last] === 1)) return undefined;
      if (op === 0x90) falls = false;
      else if (op === 0x00) {
        out.push(A.target[last]!);
        falls = false;
      } else if (op !== 0x80) out.push(A.target[last]!);
    }
    if (falls && stop < n) out.push(stop);
    succ.set(first, out);
  }
  // Reverse postorder from the entry (iterative DFS).
  const post: number[] = [];
  const seen = new Set<number>([0]);
  const stack: [number, number][] = [[0, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const out = succ.get(top[0])!;
    if (top[1] < out.length) {
      const t = out[top[1]++]!;
      if (!seen.has(t)) {
        seen.add(t);
        stack.push([t, 0]);
      }
    } else {
      post.push(top[0]);
      stack.pop();
    }
  }
  const order = post.reverse();
  const rpo = new Map<number, number>();
  order.forEach((blk, k) => rpo.set(blk, k));
  const preds = new Map<number, number[]>();
  for (const blk of order) for (const t of succ.get(blk)!) preds.set(t, [...(preds.get(t) ?? []), blk]);
  // Dominators (Cooper, Harvey, Kennedy).
  const idom = new Map<number, number>([[0, 0]]);
  const intersect = (a0: number, b0: number): number => {
    let x = a0;
    let y = b0;
    while (x !== y) {
      while (rpo.get(x)! > rpo.get(y)!) x = idom.get(x)!;
      while (rpo.get(y)! > rpo.get(x)!) y = idom.get(y)!;
    }
    return x;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const blk of order) {
      if (blk === 0) continue;
      let d: number | undefined;
      for (const p of preds.get(blk) ?? []) {
        if (!idom.has(p)) continue;
        d = d === undefined ? p : intersect(p, d);
      }
      if (d !== undefined && idom.get(blk) !== d) {
        idom.set(blk, d);
        changed = true;
      }
    }
  }
  const dominates = (a0: number, b0: number): boolean => {
    let x = b0;
    for (;;) {
      if (x === a0) return true;
      if (x === 0) return false;
      x = idom.get(x)!;
    }
  };
  const merge = new Set<number>();
  const loop = new Set<number>();
  for (const blk of order) {
    let forward = 0;
    for (const p of preds.get(blk) ?? []) {
      if (rpo.get(p)! < rpo.get(blk)!) forward++;
      else if (dominates(blk, p)) loop.add(blk);
      else return undefined; // irreducible
    }
    if (forward >= 2) merge.add(blk);
  }
  const children = new Map<number, number[]>();
  for (const blk of order) {
    if (blk === 0) continue;
    const d = idom.get(blk)!;
    children.set(d, [...(children.get(d) ?? []), blk]);
  }
  return { rpo, children, merge, loop, next };
}

function generate(self: JitProgram, A: Analysis, helpers: HelperTable): CodeBuilder {
  const newBuilder = (): CodeBuilder => {
    const nb = new CodeBuilder();
    nb.param('self', self);
    nb.param('RT', RT);
    nb.param('F', A.funcStart);
    return nb;
  };
  let b = newBuilder();
  const facts = hiFacts(A);
  const layout = dagLayout(A);
  // Loop-free programs become straight-line labeled blocks, reducible programs with loops
  // structured JS loops, the rest (calls, irreducible flow, very large) a dispatch loop.
  if (layout !== undefined) {
    emitFunction(b, A, helpers, facts, layout, undefined, 'run');
  } else {
    const st = structureOf(A);
    let done = false;
    if (st !== undefined) {
      try {
        emitFunction(b, A, helpers, facts, undefined, st, 'run');
        done = true;
      } catch (e) {
        if (!(e instanceof Unstructurable)) throw e;
      }
    }
    if (!done) {
      b = newBuilder();
      emitFunction(b, A, helpers, facts, undefined, undefined, 'run');
    }
  }
  b.line('return run;');
  return b;
}

function emitFunction(
  b: CodeBuilder, A: Analysis, helpers: HelperTable, facts: HiFacts, layout: DagLayout | undefined, structure: Structure | undefined, name: string,
): void {
  const n = A.n;
  const dag = layout !== undefined;
  let usesCalls = false;
  let usesMayGoto = false;
  let usesHelpers = false;
  const used = new Uint8Array(11);
  used[0] = 1;
  for (let pc = 0; pc < n; pc++) {
    if (A.inner[pc]) continue;
    const c = A.code[pc]!;
    if (c === 0x8d || (c === 0x85 && A.src[pc] === 1)) usesCalls = true;
    if (c === 0xe5) usesMayGoto = true;
    if (c === 0x85) usesHelpers = true;
    used[A.dst[pc]!] = 1;
    if (c !== 0x18 && c !== 0x85) used[A.src[pc]!] = 1;
  }
  if (usesCalls) used.fill(1);
  if (usesHelpers) used.fill(1, 1, 6);
  // 32-bit loads at xdp_md data/data_end/data_meta offsets (from any register but r10): guarded
  // by the ctx region's tag (XH) and the exact offset, they read the packet offset directly.
  const isCtxPktLoad = (pc: number): boolean => {
    if (A.code[pc] !== 0x61 || A.src[pc] === 10) return false;
    const off = A.off[pc]!;
    return off === XDP_MD_DATA || off === XDP_MD_DATA_END || off === XDP_MD_DATA_META;
  };
  let ctxPktLoads = false;
  for (let pc = 0; pc < n; pc++) if (!A.inner[pc] && isCtxPktLoad(pc)) ctxPktLoads = true;
  // Only registers that may be read before written need their entry value; a function entered
  // elsewhere than slot 0 (callbacks) takes all arguments.
  const live = liveAtEntry(A);
  // High halves read later (hiDemand): an ALU64 add/sub/mul/lsh whose result's high half nobody
  // reads computes the low half only (e.g. `r *= K` followed by a 32-bit mask or `<<= 32`).
  const demand = hiDemand(A, facts);
  const pkt = pktRegs(A);
  /** A memory access whose base register (src for loads and load-acquire, else dst) may hold a packet pointer. */
  const viaPktCache = (pc: number): boolean => {
    const code = A.code[pc]!;
    const cls = code & 7;
    if ((cls !== 1 && cls !== 2 && cls !== 3) || isCtxPktLoad(pc)) return false;
    const base = cls === 1 || (cls === 3 && A.imm[pc] === 0x100 && (code & 0xe0) === 0xc0) ? A.src[pc]! : A.dst[pc]!;
    return (pkt[pc]! & (1 << base)) !== 0;
  };
  let usesPktCache = false;
  for (let pc = 0; pc < n; pc++) if (!A.inner[pc] && viaPktCache(pc)) usesPktCache = true;
  // r10-relative accesses at constant offsets inside the frame go straight to the frame's stack
  // (bounds known at compile time) when r10 is never written and the frame cannot change.
  const stackFast = !usesCalls && !writesR10(A);
  const TAG = REGION_TAG;
  // Large straight-line programs are cut into chunks (consecutive blocks of the layout), one JS
  // function each, so that every function stays small enough for V8's optimizing compiler.
  const chunks = layout !== undefined ? chunkPlan(A, layout) : undefined;
  let curChunk = -1;
  /** A jump to block `t` in a later chunk: hand its live registers over in vm.regs and return `t`. */
  const transfer = (t: number): string => {
    const st: string[] = [];
    const m = chunks!.live[t]!;
    for (let i = 0; i <= 10; i++) if (m & (1 << i)) st.push(`RG[${2 * i + LO}] = ${lo(i)}; RG[${2 * i + HI}] = ${hi(i)};`);
    return `${st.join(' ')} vm.budget = B; return ${t};`;
  };
  const jump = (t: number): string =>
    dag ? (chunks !== undefined && chunks.of[t] !== curChunk ? transfer(t) : `break L${t};`) : `pc = ${t}; continue;`;
  /** Emit a transfer of control to block `t` (structured mode replaces it). */
  let branchTo = (t: number): void => {
    b.line(jump(t));
  };
  /**
   * Function header and locals. The program's entry (`load` = -1) takes its arguments from
   * vm.regs; a later chunk (`load` = registers as a bit mask) takes the registers handed over.
   */
  const prologue = (fname: string, load: number): void => {
    b.line(`function ${fname}(vm, pc) {`);
    b.indent();
    b.line(`const RG = vm.regs, T = vm.tmp, M = vm.space.regions;`);
    // SR/SV: this frame's stack region and view, for r10-relative accesses at constant offsets
    // (SOK: the region still has its full plain window, as every Vm stack region does)
    if (stackUsed) {
      b.line(`const SR = vm.stack[vm.depth], SV = SR.view;`);
      b.line(`const SOK = SR.rs === 0 && SR.re === ${STACK_SIZE} && SR.ws === 0 && SR.we === ${STACK_SIZE};`);
    }
    const regInit: string[] = [];
    for (let i = 0; i <= 10; i++) {
      if (load >= 0 && load & (1 << i)) regInit.push(`${lo(i)} = RG[${2 * i + LO}]`, `${hi(i)} = RG[${2 * i + HI}]`);
      else if (i === 0 || i > 5 || load >= 0) regInit.push(`${lo(i)} = ${i === 10 ? STACK_SIZE : 0}`, `${hi(i)} = ${i === 10 && used[10] ? `${TAG} | ${stackUsed ? 'SR' : 'vm.stack[vm.depth]'}.id` : 0}`);
      else if (used[i] && (structure === undefined && !dag ? true : (live & (1 << i)) !== 0)) regInit.push(`${lo(i)} = RG[${2 * i + LO}]`, `${hi(i)} = RG[${2 * i + HI}]`);
      else regInit.push(`${lo(i)} = 0`, `${hi(i)} = 0`);
    }
    b.line(`let ${regInit.join(', ')};`);
    b.line(`let B = vm.budget, t = 0, a = 0, R = null, P = null, o = 0;`);
    b.line(`let cH = 0, cS = 0, cE = -1, wS = 0, wE = -1, cV = RT.EMPTY_VIEW, cR = RT.DEAD, cK = null;`);
    if (usesPktCache) b.line(`let pH = 0, pS = 0, pE = -1, qS = 0, qE = -1, pV = RT.EMPTY_VIEW, pR = RT.DEAD, pK = null;`);
    // E: the emulator environment; CPU: the CPU this run is on (constant during a run)
    if (ctxPktLoads || directLookups) b.line(`const E = vm.env.sim;`);
    if (directLookups) b.line(`const CPU = E === undefined ? 0 : E.cpu;`);
    if (ctxPktLoads) {
      // XP: the xdp_md ctx's packet (null until known), XH: the ctx region's tag, XT: the packet
      // region's tag. Known up front when the run's XDP context (E.xdp) is live in the address
      // space. (Starting the region cache at the packet costs more than it saves: programs
      // usually look a map up before touching the packet.)
      b.line(`let XP = null, XH = 0, XT = 0;`);
      b.line(
        `if (E !== undefined && E.xdp !== null) { P = E.xdp.region; if (M[P.id] === P) { XH = ${TAG} | P.id; XP = E.xdp.pkt; XT = ${TAG} | XP.region.id; } P = null; }`,
      );
    }
  };
  /**
   * A map_lookup_elem call at `pc` whose r1 is a map loaded by ld_imm64 and whose r2 is r10 + K
   * (the key in this frame), both set earlier in the same block: the map and the key's offset.
   */
  const directLookup = (pc: number): { map: SimMap; slot: number } | undefined => {
    if (!stackFast) return undefined;
    let map: SimMap | undefined;
    let k: number | undefined;
    let r2done = false;
    for (let p = pc - 1; p >= 0; p--) {
      if (A.inner[p]) continue;
      const c = A.code[p]!;
      const cls = c & 7;
      if (cls === 5 || cls === 6) return undefined; // a call or jump: stop
      const writes = (cls === 4 || cls === 7 || cls === 1 || c === 0x18) ? A.dst[p]! : cls === 3 && (c & 0xe0) === 0xc0 ? -2 : -1;
      if (writes === -2) return undefined; // atomics: keep it simple
      if (writes === 1 && map === undefined) {
        if (c !== 0x18 || A.src[p] !== 1 || A.imm64Hi[p] !== MAP_TAG) return undefined;
        const mm = MAP_TABLE[A.imm64Lo[p]! >>> 0] as SimMap | undefined;
        if (mm === undefined || mm.isMapInMap) return undefined;
        map = mm;
      } else if (writes === 2 && !r2done) {
        if (k === undefined && c === 0x07) k = A.imm[p]!;
        else if (c === 0xbf && A.src[p] === 10 && A.off[p] === 0) {
          k ??= 0;
          r2done = true;
        } else return undefined;
      }
      if (map !== undefined && r2done) {
        const slot = STACK_SIZE + k!;
        return slot >= 0 && slot + map.info.keySize <= STACK_SIZE ? { map, slot } : undefined;
      }
      if (A.leader[p]) return undefined; // block start reached
    }
    return undefined;
  };
  /** Stack offset of a [r10 + off] access of `size` bytes known to lie inside the frame, else -1. */
  const stackSlot = (base: number, off: number, size: number): number => {
    const a0 = STACK_SIZE + off;
    return stackFast && base === 10 && a0 >= 0 && a0 + size <= STACK_SIZE ? a0 : -1;
  };
  // Straight-line mode: open one labeled block per break target, outermost = emitted last.
  const isTarget = new Set<number>();
  const openLabels = (targets: Iterable<number>): void => {
    const pos = new Map<number, number>();
    layout!.order.forEach((st, k) => pos.set(st, k));
    const sorted = [...targets].sort((x, y) => pos.get(y)! - pos.get(x)!);
    for (const t of sorted) {
      isTarget.add(t);
      b.line(`L${t}: {`);
      b.indent();
    }
  };
  // Whether some instruction takes the frame's stack fast path (else the prologue skips SR/SOK),
  // and whether some map lookup is called directly.
  let stackUsed = false;
  let directLookups = false;
  for (let pc = 0; pc < n && stackFast; pc++) {
    if (A.inner[pc]) continue;
    const c = A.code[pc]!;
    const cls = c & 7;
    const size = sizeOf(c);
    if (cls === 1 && stackSlot(A.src[pc]!, A.off[pc]!, size) >= 0) stackUsed = true;
    else if (cls === 2 && stackSlot(A.dst[pc]!, A.off[pc]!, size) >= 0) stackUsed = true;
    else if (cls === 3) {
      const imm = A.imm[pc]!;
      if (((c & 0xe0) === 0x60 || imm === 0x110) && stackSlot(A.dst[pc]!, A.off[pc]!, size) >= 0) stackUsed = true;
      else if ((c & 0xe0) !== 0x60 && imm === 0x100 && stackSlot(A.src[pc]!, A.off[pc]!, size) >= 0) stackUsed = true;
    } else if (c === 0x85 && A.src[pc] !== 1 && A.imm[pc] === 1 && helpers[1] === mapLookupElem && directLookup(pc) !== undefined) {
      stackUsed = true;
      directLookups = true;
    }
  }
  if (chunks === undefined) {
    prologue(name, -1);
    if (usesCalls) b.line(`const base = vm.depth;`);
    if (usesCalls) b.line(`const CS = RT.callStackOf(vm);`);
    if (usesMayGoto) b.line(`vm.mayGoto[vm.depth] = ${MAY_GOTO_LIMIT};`);
    if (layout !== undefined) openLabels(layout.labels);
  }
  const blockOf = (pc: number): number => {
    let p = pc;
    while (p > 0 && !A.leader[p]) p--;
    return p;
  };
  // Slots in emission order: blocks in layout order (or slot order for the dispatch loop).
  const slots: number[] = [];
  if (layout !== undefined) {
    for (const st of layout.order) {
      slots.push(st);
      for (let pc = st + 1; pc < n && !A.leader[pc]; pc++) slots.push(pc);
    }
  } else for (let pc = 0; pc < n; pc++) slots.push(pc);

  const exitSeq = (): void => {
    if (chunks !== undefined) {
      b.line(`RG[${LO}] = r0l; RG[${HI}] = r0h; vm.budget = B; return -1;`);
    } else if (usesCalls) {
      b.block('if (vm.depth === base)', () => {
        b.line(`RG[${LO}] = r0l; RG[${HI}] = r0h; vm.budget = B; return;`);
      });
      b.line(`t = vm.depth - 1; o = t * ${FRAME_WORDS};`);
      const rs: string[] = [];
      for (let i = 6; i <= 10; i++) rs.push(`${lo(i)} = CS[o + ${2 * (i - 6)}]`, `${hi(i)} = CS[o + ${2 * (i - 6) + 1}]`);
      b.line(`${rs.join('; ')};`);
      b.line(`pc = CS[o + 10]; vm.depth = t; continue;`);
    } else {
      b.line(`RG[${LO}] = r0l; RG[${HI}] = r0h; vm.budget = B; return;`);
    }
  };

  const callSeq = (pc: number, targetExpr: string): void => {
    b.line(`if (vm.depth + 1 >= ${MAX_FRAMES}) RT.depthFault(vm, ${pc});`);
    const ss: string[] = [`o = vm.depth * ${FRAME_WORDS}`];
    for (let i = 6; i <= 10; i++) ss.push(`CS[o + ${2 * (i - 6)}] = ${lo(i)}`, `CS[o + ${2 * (i - 6) + 1}] = ${hi(i)}`);
    ss.push(`CS[o + 10] = ${pc + 1}`);
    b.line(`${ss.join('; ')};`);
    b.line(`vm.depth++; r10l = ${STACK_SIZE}; r10h = ${TAG} | vm.stack[vm.depth].id;`);
    if (usesMayGoto) b.line(`vm.mayGoto[vm.depth] = ${MAY_GOTO_LIMIT};`);
    b.line(`pc = ${targetExpr}; continue;`);
  };

  /** Emit a checked load of `size` bytes at (h, a) into dst (a already computed). */
  // One-entry region cache in locals: the high word last looked up (cH) and that region's fast
  // windows and view. Invalidated at entry and after anything that may change regions (helpers,
  // tail calls). A miss looks the region up; a non-pointer gets empty windows (→ slow path).
  // A second such cache (pH, pS, ...) serves accesses through registers that may hold packet
  // pointers (pktRegs, a hint): code that alternates between the packet and a map value (copies,
  // header rewrites from map data) no longer refills one cache on every access.
  const CACHE_C = { H: 'cH', S: 'cS', E: 'cE', WS: 'wS', WE: 'wE', V: 'cV', R: 'cR', K: 'cK' };
  const CACHE_P = { H: 'pH', S: 'pS', E: 'pE', WS: 'qS', WE: 'qE', V: 'pV', R: 'pR', K: 'pK' };
  let C = CACHE_C;
  type Cache = typeof CACHE_C;
  /** Cache `c` takes region R's windows, view and hooks. */
  const fromR = (c: Cache): string => `${c.S} = R.rs; ${c.E} = R.re; ${c.WS} = R.ws; ${c.WE} = R.we; ${c.V} = R.view; ${c.R} = R; ${c.K} = R.hooks;`;
  /** Cache `c` gets empty windows (every access takes the slow path). */
  const empty = (c: Cache): string => `${c.S} = 0; ${c.E} = -1; ${c.WS} = 0; ${c.WE} = -1; ${c.K} = null;`;
  const lookup = (h: string): void => {
    b.line(`if (${h} !== ${C.H}) { ${C.H} = ${h}; t = (${h} ^ ${TAG}) >>> 0; if (t < M.length) { R = M[t]; ${fromR(C)} } else { ${empty(C)} } }`);
  };
  const invalidate = `cH = 0; ${empty(CACHE_C)}` + (usesPktCache ? ` pH = 0; ${empty(CACHE_P)}` : '');

  const emitLoad = (pc: number, dst: number, hExpr: string, size: number, sx: boolean, slot = -1): void => {
    const fast = (v: string, a0: string, a4: string): string => {
      switch (size) {
        case 1: return `${lo(dst)} = ${v}.${sx ? 'getInt8' : 'getUint8'}(${a0}); ${hi(dst)} = ${sx ? `${lo(dst)} >> 31` : '0'};`;
        case 2: return `${lo(dst)} = ${v}.${sx ? 'getInt16' : 'getUint16'}(${a0}, true); ${hi(dst)} = ${sx ? `${lo(dst)} >> 31` : '0'};`;
        case 4: return `${lo(dst)} = ${v}.getInt32(${a0}, true); ${hi(dst)} = ${sx ? `${lo(dst)} >> 31` : '0'};`;
        default: return `${lo(dst)} = ${v}.getInt32(${a0}, true); ${hi(dst)} = ${v}.getInt32(${a4}, true);`;
      }
    };
    if (slot >= 0) b.line(`if (SOK) { ${fast('SV', String(slot), String(slot + 4))} } else {`);
    lookup(hExpr);
    b.line(`if (a >= ${C.S} && a + ${size} <= ${C.E}) { ${fast(C.V, 'a', 'a + 4')} }`);
    // context regions: the region's hook first (as the slow path does), without the round trip
    b.line(`else if (${C.K} !== null && a >= ${C.R}.start && a + ${size} <= ${C.R}.end && ${C.K}.load(${C.R}, a, ${size}, T)) { ${lo(dst)} = T[0]; ${hi(dst)} = T[1]; }`);
    b.line(`else { RT.loadSlow(vm, ${pc}, ${hExpr}, a, ${size}, ${sx}); ${lo(dst)} = T[0]; ${hi(dst)} = T[1]; }`);
    if (slot >= 0) b.line('}');
  };

  const emitStore = (pc: number, hExpr: string, size: number, vl: string, vh: string, slot = -1): void => {
    const fast = (v: string, a0: string, a4: string): string => {
      switch (size) {
        case 1: return `${v}.setUint8(${a0}, ${vl} & 255);`;
        case 2: return `${v}.setUint16(${a0}, ${vl} & 65535, true);`;
        case 4: return `${v}.setInt32(${a0}, ${vl}, true);`;
        default: return `${v}.setInt32(${a0}, ${vl}, true); ${v}.setInt32(${a4}, ${vh}, true);`;
      }
    };
    if (slot >= 0) b.line(`if (SOK) { ${fast('SV', String(slot), String(slot + 4))} } else {`);
    lookup(hExpr);
    b.line(`if (a >= ${C.WS} && a + ${size} <= ${C.WE}) { ${fast(C.V, 'a', 'a + 4')} }`);
    b.line(`else RT.storeSlow(vm, ${pc}, ${hExpr}, a, ${size}, ${vl}, ${vh});`);
    if (slot >= 0) b.line('}');
  };

  const dispatch = !dag && structure === undefined;
  if (dispatch) {
    b.line('for (;;) {');
    b.indent();
    b.line('switch (pc) {');
    b.indent();
  }
  const emitInsn = (pc: number): void => {
    const code = A.code[pc]!;
    const dst = A.dst[pc]!;
    const src = A.src[pc]!;
    const off = A.off[pc]!;
    const imm = A.imm[pc]!;
    const cls = code & 7;
    const x = (code & 0x08) !== 0;
    const dl = lo(dst);
    const dh = hi(dst);
    /** The known high half of register r before this instruction, or undefined. */
    const kh = (r: number): number | undefined => (facts.known[pc * 11 + r] ? facts.value[pc * 11 + r] : undefined);
    b.line(`// ${pc}: op 0x${code.toString(16).padStart(2, '0')} dst r${dst} src r${src} off ${off} imm ${imm}`);
    C = usesPktCache && viaPktCache(pc) ? CACHE_P : CACHE_C;
    switch (cls) {
      case 7: { // ALU64
        const sl = x ? lo(src) : String(imm);
        const sh = x ? hi(src) : String(imm >> 31);
        const op = code & 0xf0;
        if ((hiOut(A, pc, demand) & (1 << dst)) === 0 && (op === 0x00 || op === 0x10 || op === 0x20 || (op === 0x60 && !x && (imm & 63) < 32))) {
          // the result's high half is dead: low half only (it depends on the low halves only)
          if (op === 0x00) b.line(`${dl} = (${dl} + ${sl}) | 0;`);
          else if (op === 0x10) b.line(`${dl} = (${dl} - ${sl}) | 0;`);
          else if (op === 0x20) b.line(`${dl} = Math.imul(${dl}, ${sl});`);
          else if ((imm & 63) !== 0) b.line(`${dl} = ${dl} << ${imm & 63};`);
          break;
        }
        switch (op) {
          case 0x00:
            if (x && kh(src) === 0) b.line(`t = (${dl} >>> 0) + (${sl} >>> 0); if (t > 4294967295) ${dh} = (${dh} + 1) | 0; ${dl} = t | 0;`);
            else if (x) b.line(`t = (${dl} >>> 0) + (${sl} >>> 0); ${dh} = (${dh} + ${sh} + (t > 4294967295 ? 1 : 0)) | 0; ${dl} = t | 0;`);
            else if (imm >= 0) b.line(`t = (${dl} >>> 0) + ${imm}; if (t > 4294967295) ${dh} = (${dh} + 1) | 0; ${dl} = t | 0;`);
            else b.line(`t = (${dl} >>> 0) + ${imm}; if (t < 0) ${dh} = (${dh} - 1) | 0; ${dl} = t | 0;`);
            break;
          case 0x10:
            b.line(`t = (${dl} >>> 0) - (${sl} >>> 0); ${dh} = (${dh} - ${sh} - (t < 0 ? 1 : 0)) | 0; ${dl} = t | 0;`);
            break;
          case 0x20: {
            // inline (RT.mul64 is a call V8 does not inline into these large functions):
            // lo = lo·lo mod 2^32, hi = mulhu(lo, lo) + lo·sh + dh·lo (mod 2^32), where mulhu
            // is the high word of the u32 product from 16-bit partial products (each < 2^32)
            const b0 = x ? `(${sl} & 65535)` : String(imm & 0xffff);
            const b1 = x ? `(${sl} >>> 16)` : String(imm >>> 16);
            const a0 = `(${dl} & 65535)`;
            const a1 = `(${dl} >>> 16)`;
            const mid = `((((${a0} * ${b0}) >>> 16) + ((${a0} * ${b1}) & 65535) + ((${a1} * ${b0}) & 65535)) >>> 16)`;
            const mulhu = `(${a1} * ${b1} + ((${a0} * ${b1}) >>> 16) + ((${a1} * ${b0}) >>> 16) + ${mid})`;
            b.line(`t = Math.imul(${dl}, ${sl}); ${dh} = (${mulhu} + Math.imul(${dl}, ${sh}) + Math.imul(${dh}, ${sl})) | 0; ${dl} = t;`);
            break;
          }
          case 0x30:
            b.line(`RT.${off === 1 ? 'sdiv64' : 'udiv64'}(T, ${dl}, ${dh}, ${sl}, ${sh}); ${dl} = T[0]; ${dh} = T[1];`);
            break;
          case 0x90:
            b.line(`RT.${off === 1 ? 'smod64' : 'umod64'}(T, ${dl}, ${dh}, ${sl}, ${sh}); ${dl} = T[0]; ${dh} = T[1];`);
            break;
          case 0x40: b.line(`${dl} |= ${sl}; ${dh} |= ${sh};`); break;
          case 0x50: b.line(`${dl} &= ${sl}; ${dh} &= ${sh};`); break;
          case 0xa0: b.line(`${dl} ^= ${sl}; ${dh} ^= ${sh};`); break;
          case 0x60: case 0x70: case 0xc0: {
            const kind = op === 0x60 ? 0 : op === 0x70 ? 1 : 2;
            if (x) {
              b.line(`RT.shift64(T, ${kind}, ${dl}, ${dh}, ${sl} & 63); ${dl} = T[0]; ${dh} = T[1];`);
            } else {
              const s = imm & 63;
              if (s === 0) break;
              if (kind === 0) {
                if (s < 32) b.line(`${dh} = (${dh} << ${s}) | (${dl} >>> ${32 - s}); ${dl} = ${dl} << ${s};`);
                else b.line(`${dh} = ${dl} << ${s - 32}; ${dl} = 0;`);
              } else if (kind === 1) {
                if (s < 32) b.line(`${dl} = (${dl} >>> ${s}) | (${dh} << ${32 - s}); ${dh} = (${dh} >>> ${s}) | 0;`);
                else b.line(`${dl} = (${dh} >>> ${s - 32}) | 0; ${dh} = 0;`);
              } else if (s < 32) b.line(`${dl} = (${dl} >>> ${s}) | (${dh} << ${32 - s}); ${dh} = ${dh} >> ${s};`);
              else b.line(`${dl} = ${dh} >> ${s - 32}; ${dh} = ${dh} >> 31;`);
            }
            break;
          }
          case 0x80:
            b.line(`t = 0 - (${dl} >>> 0); ${dh} = (0 - ${dh} - (t < 0 ? 1 : 0)) | 0; ${dl} = t | 0;`);
            break;
          case 0xb0:
            if (off === 0) b.line(`${dl} = ${sl}; ${dh} = ${sh};`);
            else if (off === 8) b.line(`${dl} = (${sl} << 24) >> 24; ${dh} = ${dl} >> 31;`);
            else if (off === 16) b.line(`${dl} = (${sl} << 16) >> 16; ${dh} = ${dl} >> 31;`);
            else b.line(`${dl} = ${sl}; ${dh} = ${dl} >> 31;`);
            break;
          default: // 0xd0: ALU64 bswap
            if (imm === 16) b.line(`${dl} = ((${dl} & 255) << 8) | ((${dl} >>> 8) & 255); ${dh} = 0;`);
            else if (imm === 32) b.line(`${dl} = RT.bswap32(${dl}); ${dh} = 0;`);
            else b.line(`t = RT.bswap32(${dl}); ${dl} = RT.bswap32(${dh}); ${dh} = t;`);
        }
        break;
      }
      case 4: { // ALU32
        let zext = true;
        const sl = x ? lo(src) : String(imm);
        const op = code & 0xf0;
        switch (op) {
          case 0x00: b.line(`${dl} = (${dl} + ${sl}) | 0;`); break;
          case 0x10: b.line(`${dl} = (${dl} - ${sl}) | 0;`); break;
          case 0x20: b.line(`${dl} = Math.imul(${dl}, ${sl});`); break;
          case 0x30:
            if (off === 1) b.line(`${dl} = ${sl} === 0 ? 0 : (${dl} / ${sl}) | 0;`);
            else b.line(`${dl} = ${sl} === 0 ? 0 : ((${dl} >>> 0) / (${sl} >>> 0)) | 0;`);
            break;
          case 0x90:
            if (off === 1) b.line(`${dl} = ${sl} === 0 ? ${dl} : (${dl} % ${sl}) | 0;`);
            else b.line(`${dl} = ${sl} === 0 ? ${dl} : ((${dl} >>> 0) % (${sl} >>> 0)) | 0;`);
            break;
          case 0x40: b.line(`${dl} |= ${sl};`); break;
          case 0x50: b.line(`${dl} &= ${sl};`); break;
          case 0xa0: b.line(`${dl} ^= ${sl};`); break;
          case 0x60: b.line(`${dl} = ${dl} << (${x ? sl : imm & 31} & 31);`); break;
          case 0x70: b.line(`${dl} = (${dl} >>> (${x ? sl : imm & 31} & 31)) | 0;`); break;
          case 0xc0: b.line(`${dl} = ${dl} >> (${x ? sl : imm & 31} & 31);`); break;
          case 0x80: b.line(`${dl} = (0 - ${dl}) | 0;`); break;
          case 0xb0:
            if (off === 0) b.line(`${dl} = ${sl};`);
            else if (off === 8) b.line(`${dl} = (${sl} << 24) >> 24;`);
            else b.line(`${dl} = (${sl} << 16) >> 16;`);
            break;
          default: // END
            if (x) {
              // to big endian: byte swap the low imm bits
              if (imm === 16) b.line(`${dl} = ((${dl} & 255) << 8) | ((${dl} >>> 8) & 255);`);
              else if (imm === 32) b.line(`${dl} = RT.bswap32(${dl});`);
              else {
                b.line(`t = RT.bswap32(${dl}); ${dl} = RT.bswap32(${dh}); ${dh} = t;`);
                zext = false;
              }
            } else if (imm === 16) b.line(`${dl} = ${dl} & 65535;`);
            else if (imm === 64) zext = false; // to little endian, 64 bits: no-op
        }
        if (zext) b.line(`${dh} = 0;`);
        break;
      }
      case 5: case 6: { // JMP, JMP32
        const op = code & 0xf0;
        const tgt = A.target[pc]!;
        if (op === 0x00) {
          branchTo(tgt);
          break;
        }
        if (op === 0x90) {
          exitSeq();
          break;
        }
        if (op === 0x80) {
          if (code === 0x8d) {
            b.line(`if (${dh} !== ${FUNC_TAG} || (${dl} >>> 0) >= ${n} || F[${dl}] !== 1) RT.callxFault(vm, ${pc}, ${dl}, ${dh});`);
            callSeq(pc, dl);
          } else if (src === 1) {
            callSeq(pc, String(tgt));
          } else if (imm === TAIL_CALL_ID) {
            b.block(`if (vm.tailCalls < ${MAX_TAIL_CALLS} && vm.tailCallHook !== null)`, () => {
              b.line(`vm.pc = ${pc}; vm.budget = B;`);
              b.line(`P = vm.tailCallHook(vm, r2l, r2h, r3l >>> 0); B = vm.budget; ${invalidate}`);
              b.block('if (P !== null)', () => {
                b.line(`vm.tailCalls++; RG[${2 + LO}] = r1l; RG[${2 + HI}] = r1h; vm.current = P;`);
                b.line(`P.exec(vm, 0); vm.current = self; B = vm.budget; r0l = RG[${LO}]; r0h = RG[${HI}];`);
                exitSeq();
              });
            });
          } else {
            const h = b.param(`h${imm}`, helpers[imm]);
            const direct = imm === 1 && helpers[1] === mapLookupElem ? directLookup(pc) : undefined;
            if (direct !== undefined) {
              // bpf_map_lookup_elem(&map, &key-on-stack): the helper's own fast path, called directly
              const m = b.param(`MAP${direct.map.info.id}`, direct.map);
              const dm = direct.map;
              if (dm instanceof ArrayMap && dm.info.keySize === 4) {
                // array: ArrayMap.progLookupRegion inline (u32 key, index check, the element's
                // region of this CPU's slot, created on first use by elementRegion)
                b.line(`if (SOK) { t = SV.getUint32(${direct.slot}, true); ` +
                  `if (t >= ${dm.info.maxEntries}) { r0l = 0; r0h = 0; } else { R = ${m}.regions[${dm.percpu ? 'CPU' : '0'}][t]; ` +
                  `if (R === undefined) R = ${m}.elementRegion(t, CPU); r0l = (t * ${dm.stride}) | 0; r0h = ${TAG} | R.id; ` +
                  `cH = r0h; ${fromR(CACHE_C)} } } else {`);
              } else if (dm instanceof HashMap && Object.getPrototypeOf(dm) === HashMap.prototype && dm.direct !== null && !dm.lru && !dm.percpu && dm.info.keySize <= 2) {
                // hash with a 1- or 2-byte key: the entry indexed by the key value; the value's
                // region (offset 0) as HashMap.progLookupRegion gives it, which creates it on first use
                const key = dm.info.keySize === 1 ? `SV.getUint8(${direct.slot})` : `SV.getUint16(${direct.slot}, true)`;
                b.line(`if (SOK) { P = ${m}.direct[${key}]; if (P === undefined) { r0l = 0; r0h = 0; } else { ` +
                  `R = P.region; if (R === null) R = ${m}.progLookupRegion(SR.bytes, ${direct.slot}, CPU); P = null; r0l = 0; r0h = ${TAG} | R.id; ` +
                  `cH = r0h; ${fromR(CACHE_C)} } } else {`);
              } else
              b.line(`if (SOK) { R = ${m}.progLookupRegion(SR.bytes, ${direct.slot}, CPU); ` +
                `if (R === null) { r0l = 0; r0h = 0; } else { r0l = ${m}.refOffset | 0; r0h = ${TAG} | R.id; ` +
                // lookups only add regions (never move or release one): the cache stays valid,
                // and the value's region is the one the next accesses use
                `cH = r0h; ${fromR(CACHE_C)} } } else {`);
            }
            const st: string[] = [];
            for (let i = 1; i <= 5; i++) st.push(`RG[${2 * i + LO}] = ${lo(i)}`, `RG[${2 * i + HI}] = ${hi(i)}`);
            b.line(`${st.join('; ')}; RG[0] = 0; RG[1] = 0;`);
            b.line(`vm.pc = ${pc}; vm.budget = B; ${h}(vm); B = vm.budget; ${invalidate}`);
            b.line(`r0l = RG[${LO}]; r0h = RG[${HI}];`);
            if (direct !== undefined) b.line('}');
          }
          break;
        }
        if (op === 0xe0) {
          b.line('t = vm.mayGoto[vm.depth];');
          b.block('if (t === 0)', () => branchTo(tgt));
          b.line('vm.mayGoto[vm.depth] = t - 1;');
          break;
        }
        let cond: string;
        if (cls === 6) {
          const sl = x ? lo(src) : String(imm);
          switch (op) {
            case 0x10: cond = `${dl} === ${sl}`; break;
            case 0x50: cond = `${dl} !== ${sl}`; break;
            case 0x20: cond = `(${dl} >>> 0) > (${sl} >>> 0)`; break;
            case 0x30: cond = `(${dl} >>> 0) >= (${sl} >>> 0)`; break;
            case 0xa0: cond = `(${dl} >>> 0) < (${sl} >>> 0)`; break;
            case 0xb0: cond = `(${dl} >>> 0) <= (${sl} >>> 0)`; break;
            case 0x40: cond = `(${dl} & ${sl}) !== 0`; break;
            case 0x60: cond = `${dl} > ${sl}`; break;
            case 0x70: cond = `${dl} >= ${sl}`; break;
            case 0xc0: cond = `${dl} < ${sl}`; break;
            default: cond = `${dl} <= ${sl}`; break;
          }
        } else if (kh(dst) !== undefined && (x ? kh(src) : imm >> 31) !== undefined) {
          // Both high halves known: decide on them, or compare the low halves only.
          const dH = kh(dst)!;
          const sH = (x ? kh(src) : imm >> 31)!;
          const sl = x ? lo(src) : String(imm);
          const same = dH === sH;
          const uhi = (dH >>> 0) > (sH >>> 0);
          const shi = dH > sH;
          const lou = (rel: string): string => `(${dl} >>> 0) ${rel} (${sl} >>> 0)`;
          switch (op) {
            case 0x10: cond = same ? `${dl} === ${sl}` : 'false'; break;
            case 0x50: cond = same ? `${dl} !== ${sl}` : 'true'; break;
            case 0x20: cond = same ? lou('>') : String(uhi); break;
            case 0x30: cond = same ? lou('>=') : String(uhi); break;
            case 0xa0: cond = same ? lou('<') : String(!uhi); break;
            case 0xb0: cond = same ? lou('<=') : String(!uhi); break;
            case 0x40: cond = (dH & sH) !== 0 ? 'true' : `(${dl} & ${sl}) !== 0`; break;
            case 0x60: cond = same ? lou('>') : String(shi); break;
            case 0x70: cond = same ? lou('>=') : String(shi); break;
            case 0xc0: cond = same ? lou('<') : String(!shi); break;
            default: cond = same ? lou('<=') : String(!shi); break;
          }
        } else {
          const sl = x ? lo(src) : String(imm);
          const sh = x ? hi(src) : String(imm >> 31);
          const ucmp = (rel: string): string =>
            `((${dh} >>> 0) ${rel[0]} (${sh} >>> 0) || (${dh} === ${sh} && (${dl} >>> 0) ${rel} (${sl} >>> 0)))`;
          const scmp = (rel: string): string =>
            `(${dh} ${rel[0]} ${sh} || (${dh} === ${sh} && (${dl} >>> 0) ${rel} (${sl} >>> 0)))`;
          switch (op) {
            case 0x10: cond = `${dl} === ${sl} && ${dh} === ${sh}`; break;
            case 0x50: cond = `${dl} !== ${sl} || ${dh} !== ${sh}`; break;
            case 0x20: cond = ucmp('>'); break;
            case 0x30: cond = ucmp('>='); break;
            case 0xa0: cond = ucmp('<'); break;
            case 0xb0: cond = ucmp('<='); break;
            case 0x40: cond = `(${dl} & ${sl}) !== 0 || (${dh} & ${sh}) !== 0`; break;
            case 0x60: cond = scmp('>'); break;
            case 0x70: cond = scmp('>='); break;
            case 0xc0: cond = scmp('<'); break;
            default: cond = scmp('<='); break;
          }
        }
        if (cond === 'true') branchTo(tgt);
        else if (cond !== 'false') b.block(`if (${cond})`, () => branchTo(tgt));
        break;
      }
      case 0: { // LD
        if (code === 0x18) {
          b.line(`${dl} = ${A.imm64Lo[pc]}; ${dh} = ${A.imm64Hi[pc]};`);
          break;
        }
        const size = sizeOf(code);
        const k = (code & 0xe0) === 0x40 ? `(${lo(src)} + ${imm}) | 0` : String(imm);
        b.line(`if (RT.ldAbsSlow(vm, ${k}, ${size})) { r0l = T[0]; r0h = 0; }`);
        b.block('else', () => {
          b.line('r0l = 0; r0h = 0;');
          exitSeq();
        });
        break;
      }
      case 1: { // LDX
        b.line(`a = (${lo(src)} >>> 0) + ${off};`);
        if (isCtxPktLoad(pc)) {
          // exactly what XdpContext.load answers: packetPointer(pkt, pkt.data / end / meta)
          const field = off === XDP_MD_DATA ? 'data' : off === XDP_MD_DATA_END ? 'end' : 'meta';
          b.line(`if (${hi(src)} === XH && a === ${off} && XP !== null) { ${dl} = XP.${field} | 0; ${dh} = XT; } else {`);
          emitLoad(pc, dst, hi(src), 4, false);
          // learn the ctx from the generic path (lookup left cH/cR/cK at the source's region)
          b.line(`if (XP === null && cK !== null && a === ${off}) { XP = RT.xdpPacket(cR); if (XP !== null) { XH = cH; XT = ${TAG} | XP.region.id; } } }`);
          break;
        }
        emitLoad(pc, dst, hi(src), sizeOf(code), (code & 0xe0) === 0x80, stackSlot(src, off, sizeOf(code)));
        break;
      }
      case 2: { // ST
        b.line(`a = (${dl} >>> 0) + ${off};`);
        emitStore(pc, dh, sizeOf(code), String(imm), String(imm >> 31), stackSlot(dst, off, sizeOf(code)));
        break;
      }
      default: { // STX
        const size = sizeOf(code);
        if ((code & 0xe0) === 0x60 || imm === 0x110) {
          b.line(`a = (${dl} >>> 0) + ${off};`);
          emitStore(pc, dh, size, lo(src), hi(src), stackSlot(dst, off, size));
        } else if (imm === 0x100) {
          b.line(`a = (${lo(src)} >>> 0) + ${off};`);
          emitLoad(pc, dst, hi(src), size, false, stackSlot(src, off, size));
        } else {
          b.line(`a = (${dl} >>> 0) + ${off};`);
          b.line(`RT.atomicSlow(vm, ${pc}, ${dh}, a, ${size}, ${imm}, ${lo(src)}, ${hi(src)}, r0l, r0h);`);
          if (imm & 1) {
            const r = imm === 0xf1 ? 0 : src;
            b.line(`${lo(r)} = T[0]; ${hi(r)} = ${size === 8 ? 'T[1]' : '0'};`);
          }
        }
      }
    }
  };

  /**
   * Structured emission of a reducible CFG (after Ramsey, "Beyond Relooper"): a block's code, then
   * its dominator-tree children that are merge points after labeled blocks it can `break` out of;
   * loop headers wrap their subtree in a labeled `for (;;)` that back edges `continue`; a branch
   * to a block with a single forward predecessor inlines that block.
   */
  const emitStructured = (st: Structure): void => {
    const doBranch = (src: number, t: number): void => {
      if (st.rpo.get(t)! <= st.rpo.get(src)!) b.line(`continue C${t};`);
      else if (st.merge.has(t)) b.line(`break B${t};`);
      else doTree(t);
    };
    let current = 0;
    branchTo = (t: number): void => doBranch(current, t);
    const emitBlock = (x: number): void => {
      if (b.level > MAX_NESTING) throw new Unstructurable();
      const next = st.next.get(x)!;
      const len = A.blockLen[x]!;
      if (A.checkpoint[x]) b.line(`if (B < ${len}) { vm.budget = B; RT.budgetFault(vm, ${x}); }`);
      b.line(`B -= ${len};`);
      let last = x;
      for (let pc = x; pc < next; pc++) {
        if (A.inner[pc]) continue;
        last = pc;
        current = x;
        emitInsn(pc);
      }
      const code = A.code[last]!;
      const cls = code & 7;
      const op = code & 0xf0;
      const falls = !((cls === 5 || cls === 6) && (op === 0x00 || op === 0x90));
      if (falls && next < n) {
        current = x;
        doBranch(x, next);
      }
    };
    const nodeWithin = (x: number, ys: number[]): void => {
      if (ys.length === 0) {
        emitBlock(x);
        return;
      }
      const [y, ...rest] = ys;
      b.block(`B${y}:`, () => nodeWithin(x, rest));
      doTree(y!);
    };
    const doTree = (x: number): void => {
      const merges = (st.children.get(x) ?? []).filter((c) => st.merge.has(c)).sort((p, q) => st.rpo.get(q)! - st.rpo.get(p)!);
      if (st.loop.has(x)) b.block(`C${x}: for (;;)`, () => nodeWithin(x, merges));
      else nodeWithin(x, merges);
    };
    doTree(0);
  };

  if (structure !== undefined) {
    emitStructured(structure);
  } else {
  for (let si = 0; si < slots.length; si++) {
    const pc = slots[si]!;
    if (A.inner[pc]) continue;
    if (A.leader[pc]) {
      const len = A.blockLen[pc]!;
      if (dag) {
        // The previous block falls through to a block that is not emitted next: jump there.
        const prevStart = si > 0 ? blockOf(slots[si - 1]!) : -1;
        const f = prevStart >= 0 ? layout!.fallthrough.get(prevStart) : undefined;
        if (chunks !== undefined && chunks.of[pc] !== curChunk) {
          if (curChunk >= 0) {
            if (f !== undefined) b.line(jump(f));
            b.line('return -1;');
            b.dedent();
            b.line('}');
          }
          curChunk = chunks.of[pc]!;
          prologue(`seg${curChunk}`, curChunk === 0 ? -1 : chunks.load[curChunk]!);
          openLabels(chunks.labels[curChunk]!);
          const entries = chunks.entries[curChunk]!.filter((e) => e !== pc);
          if (entries.length) b.line(`switch (pc) { ${entries.map((e) => `case ${e}: break L${e};`).join(' ')} }`);
        } else if (f !== undefined && f !== pc) b.line(jump(f));
        if (isTarget.has(pc)) {
          b.dedent();
          b.line(`} // L${pc}`);
        }
      } else {
        b.dedent();
        b.line(`case ${pc}:`);
        b.indent();
      }
      if (A.checkpoint[pc]) b.line(`if (B < ${len}) { vm.budget = B; RT.budgetFault(vm, ${pc}); }`);
      b.line(`B -= ${len};`);
    }
    emitInsn(pc);
  }
  }
  if (chunks !== undefined) {
    // close the last chunk (its last block cannot fall through: the program ends there)
    b.line('return -1;');
    b.dedent();
    b.line('}');
    const cases = chunks.entries.map((_, k) => `case ${k}: pc = seg${k}(vm, pc); break;`).join(' ');
    b.line(`function ${name}(vm, pc) {`);
    b.indent();
    b.line(`for (pc = 0; pc >= 0; ) switch (CH[pc]) { ${cases} default: RT.badPc(vm, pc); }`);
    b.dedent();
    b.line('}');
    b.param('CH', chunks.of);
    return;
  }
  if (dispatch) {
    b.dedent();
    b.line(`default: RT.badPc(vm, pc);`);
    b.line('}');
    b.dedent();
    b.line('}');
  }
  b.dedent();
  b.line('}');
}

export const jit: Engine = {
  kind: 'jit',
  compile(program: EngineProgram, opts: CompileOptions = {}): CompiledProgram {
    return new JitProgram(program, opts.helpers ?? []);
  },
};
