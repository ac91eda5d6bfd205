/**
 * The emulator's verifier: a static safety proof of a BPF program after the model of the Linux
 * verifier (kernel/bpf/verifier.c) as it behaves for a privileged (CAP_BPF + CAP_PERFMON) loader.
 *
 * Pass 1 checks the control-flow graph (jump targets, unreachable code, fall-through past the end,
 * subprogram boundaries). Pass 2 walks every path with abstract register/stack states, pruning
 * paths whose state is subsumed by one already proven safe at the same instruction.
 */
import type { AttachType, MapType, ProgType, ProgramSpec } from '../../lib/spec/index.js';
import type { SourceLocation } from '../../lib/errors.js';
import {
  Reg, Frame, State, T, Slot, MAX_STACK, type Checkpoint, type RefState,
} from './state.js';
import {
  Scalar, U64, S64_MAX, S64_MIN, U32, S32_MAX, S32_MIN, toS64, toU64, tnumAdd, tnumSub, tnumAnd, tnumOr, tnumXor,
  tnumMul, tnumIn,
} from './scalar.js';
import { Arg, CtxField, PROTOS, Ret, ctxAccess, helperAllowed, progTypeModelled, returnRange } from './protos.js';
import { formatState, insnText } from './log.js';
import { helperName } from '../../lib/isa/helpers.js';
import { BtfKind, type Btf } from '../../lib/btf/index.js';

export interface VerifierMap {
  name?: string;
  type: MapType;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  initialData?: Uint8Array;
  section?: string;
  freeze?: boolean;
  /** Template of the inner map (array_of_maps / hash_of_maps). */
  innerMap?: VerifierMap;
}

export interface VerifyOptions {
  programType: ProgType;
  attachType?: AttachType;
  logLevel: number;
  /** The object's BTF: identifies global functions (verified on their own, as the kernel does). */
  btf?: Btf;
}

/** A global function parameter: 0 scalar, 1 ctx, 2 pointer to `size` bytes (or NULL). */
interface GlobalParam { kind: 0 | 1 | 2; size: number }

const CTX_STRUCT: Partial<Record<ProgType, string>> = {
  xdp: 'xdp_md', sched_cls: '__sk_buff', sched_act: '__sk_buff', socket_filter: '__sk_buff', cgroup_skb: '__sk_buff',
  kprobe: 'pt_regs', tracepoint: '', perf_event: 'bpf_perf_event_data', raw_tracepoint: 'bpf_raw_tracepoint_args',
};

/** Internal rejection: converted to a VerifierError by the caller. */
export class Reject {
  constructor(
    readonly insn: number,
    readonly message: string,
    readonly hint: string | undefined,
    readonly log: string,
  ) {}
}

const U32N = 0xffffffffn;
const INSN_LIMIT = 1_000_000;
const MAX_CALL_FRAMES = 8;
const MAX_VAR_OFF = 1 << 29;
const MAX_PACKET_OFF = 0xffff;
const JMP_SEQ_LIMIT = 8192;
const BEYOND_PKT_END = -1;
const AT_PKT_END = -2;
const RDONLY_PROG = 1 << 7;

const enum Cls { LD = 0, LDX = 1, ST = 2, STX = 3, ALU = 4, JMP = 5, JMP32 = 6, ALU64 = 7 }
const enum Op {
  ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80,
  MOD = 0x90, XOR = 0xa0, MOV = 0xb0, ARSH = 0xc0, END = 0xd0,
}
const enum J {
  JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40, JNE = 0x50, JSGT = 0x60, JSGE = 0x70, CALL = 0x80,
  EXIT = 0x90, JLT = 0xa0, JLE = 0xb0, JSLT = 0xc0, JSLE = 0xd0, JCOND = 0xe0,
  /** internal: "bits not set" (false branch of JSET) */
  JNSET = 0x100,
}

const SIZE_BYTES = [4, 2, 1, 8];

/** Why a program failed, with a hint; thrown inside the walk. */
class Fail {
  constructor(readonly insn: number, readonly msg: string, readonly hint?: string) {}
}

export interface VerifyOutput {
  insnsProcessed: number;
  log: string;
  totalStates: number;
  peakStates: number;
}

export class Verifier {
  // decoded program
  readonly n: number;
  readonly code: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;
  /** map index per ld_imm64 insn (-1 none) and value offset for PSEUDO_MAP_VALUE */
  readonly insnMap: Int32Array;
  readonly insnMapOff: Int32Array;
  readonly maps: VerifierMap[] = [];
  readonly mapNames: string[] = [];
  /** subprogram index of each insn */
  readonly fnOf: Int32Array;
  readonly fnStart: number[] = [];
  readonly fnDepth: number[] = [];
  readonly prune: Uint8Array;
  /** Insns calling a helper that calls back (bpf_loop): iterated until the caller state converges. */
  readonly cbCall: Uint8Array;
  readonly live: Uint16Array;
  readonly explored = new Map<number, Checkpoint[]>();
  readonly type: ProgType;
  readonly attach: AttachType | undefined;
  readonly logLevel: number;
  /** Parameters of each global function (by function index); undefined for static ones. */
  readonly globals: (GlobalParam[] | undefined)[] = [];
  private globalMode = false;

  private readonly btf: Btf | undefined;
  idGen = 0;
  failState: State | null = null;
  processed = 0;
  totalStates = 0;
  peakStates = 0;
  curStates = 0;
  readonly trail = new Int32Array(64);
  trailPos = 0;
  logParts: string[] = [];
  readonly tailCallFns = new Set<number>();
  readonly callEdges = new Map<number, Set<number>>();
  /** Scratch scalars (no allocation in ALU paths). */
  private readonly sa = new Scalar();
  private readonly sb = new Scalar();
  private readonly sc = new Scalar();
  private readonly sd = new Scalar();
  private readonly tmpReg = new Reg();

  constructor(readonly spec: ProgramSpec, maps: ReadonlyMap<string, VerifierMap>, opts: VerifyOptions) {
    this.type = opts.programType;
    this.attach = opts.attachType;
    this.logLevel = opts.logLevel;
    this.btf = opts.btf;
    const bytes = spec.instructions;
    if (bytes.length % 8 !== 0) throw new Fail(0, `program size ${bytes.length} is not a multiple of 8`);
    const n = (this.n = bytes.length / 8);
    this.code = new Uint8Array(n);
    this.dst = new Uint8Array(n);
    this.src = new Uint8Array(n);
    this.off = new Int16Array(n);
    this.imm = new Int32Array(n);
    this.insnMap = new Int32Array(n).fill(-1);
    this.insnMapOff = new Int32Array(n);
    this.fnOf = new Int32Array(n);
    this.prune = new Uint8Array(n);
    this.cbCall = new Uint8Array(n);
    this.live = new Uint16Array(n);
    this.stackViaPtr = new Uint8Array(n);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) {
      this.code[i] = bytes[i * 8]!;
      const regs = bytes[i * 8 + 1]!;
      this.dst[i] = regs & 0xf;
      this.src[i] = regs >> 4;
      this.off[i] = dv.getInt16(i * 8 + 2, true);
      this.imm[i] = dv.getInt32(i * 8 + 4, true);
    }
    for (const ref of spec.mapReferences) {
      const m = maps.get(ref.map);
      if (!m) throw new Fail(ref.insn, `instruction refers to map '${ref.map}' that was not provided`, 'load the object\'s maps before its programs');
      let idx = this.mapNames.indexOf(ref.map);
      if (idx < 0) {
        idx = this.maps.length;
        this.maps.push(m);
        this.mapNames.push(ref.map);
      }
      if (ref.insn >= 0 && ref.insn < n) {
        this.insnMap[ref.insn] = idx;
        this.insnMapOff[ref.insn] = ref.offset;
      }
    }
  }

  // ---------------------------------------------------------------- pass 1: CFG

  private isLdImm64(i: number): boolean {
    return this.code[i] === 0x18;
  }

  checkCfg(): void {
    const n = this.n;
    if (n === 0) throw new Fail(0, 'empty program', 'a program needs at least `r0 = 0; exit`');
    // function boundaries
    const starts = new Set<number>([0]);
    for (let i = 0; i < n; i++) {
      const c = this.code[i]!;
      if (c === 0x85 && this.src[i] === 1) {
        const t = i + this.imm[i]! + 1;
        if (t < 0 || t >= n) throw new Fail(i, `function call target out of range: call to insn ${t} (program has ${n} insns)`);
        starts.add(t);
      }
      if (c === 0x18 && this.src[i] === 4) {
        const t = i + this.imm[i]! + 1;
        if (t < 0 || t >= n) throw new Fail(i, `function pointer target out of range: insn ${t}`);
        starts.add(t);
      }
      if (c === 0x85 && this.src[i] === 0 && this.imm[i] === 181) this.cbCall[i] = 1;
      if (this.isLdImm64(i)) {
        if (i + 1 >= n || this.code[i + 1] !== 0) throw new Fail(i, 'invalid BPF_LD_IMM insn');
        i++;
      }
    }
    const sorted = [...starts].sort((a, b) => a - b);
    for (let f = 0; f < sorted.length; f++) {
      const s = sorted[f]!;
      const e = f + 1 < sorted.length ? sorted[f + 1]! : n;
      this.fnStart.push(s);
      this.fnDepth.push(0);
      for (let i = s; i < e; i++) this.fnOf[i] = f;
      const last = e - 1;
      const lc = this.code[last]!;
      const lclass = lc & 7;
      // the last slot may be the second half of ld_imm64
      if (!(lclass === Cls.JMP || lclass === Cls.JMP32) || (lc !== 0x95 && (lc & 0xf0) !== J.JA)) {
        throw new Fail(last, 'last insn is not an exit or jmp', 'every function must end with `exit` or an unconditional jump');
      }
    }
    for (let i = 0; i < n; i++) {
      const c = this.code[i]!;
      const cls = c & 7;
      if (this.isLdImm64(i)) { i++; continue; }
      if (cls !== Cls.JMP && cls !== Cls.JMP32) continue;
      const op = c & 0xf0;
      if (op === J.CALL || op === J.EXIT) continue;
      const delta = cls === Cls.JMP32 && op === J.JA ? this.imm[i]! : this.off[i]!;
      const t = i + delta + 1;
      if (t < 0 || t >= n) throw new Fail(i, `jump out of range from insn ${i} to ${t}`);
      if (this.fnOf[t] !== this.fnOf[i]) throw new Fail(i, `jump out of range from insn ${i} to ${t}`, 'jumps may not cross function boundaries');
      if (this.code[t] === 0 && t > 0 && this.isLdImm64(t - 1)) throw new Fail(i, `jump into the middle of ldimm64 insn ${t - 1}`);
      this.prune[t] = 1;
      if (op !== J.JA) this.prune[i + 1] = 1;
    }
    for (const s of this.fnStart) this.prune[s] = 1;
    for (let i = 0; i < n; i++) if (this.cbCall[i]) this.prune[i] = 1;
    // reachability (DFS from every function start; all functions must be reachable from main)
    const seen = new Uint8Array(n);
    const stack: number[] = [0];
    seen[0] = 1;
    let i = 0;
    function push(t: number): void {
      if (t >= n) throw new Fail(i, `jump out of range from insn ${i} to ${t}`, 'the code falls off the end of the program');
      if (!seen[t]) { seen[t] = 1; stack.push(t); }
    }
    while (stack.length) {
      i = stack.pop()!;
      const c = this.code[i]!;
      const cls = c & 7;
      const op = c & 0xf0;
      if (this.isLdImm64(i)) {
        seen[i + 1] = 1;
        if (this.src[i] === 4) push(i + this.imm[i]! + 1);
        push(i + 2);
        continue;
      }
      if (cls === Cls.JMP || cls === Cls.JMP32) {
        if (op === J.EXIT) continue;
        if (op === J.CALL) {
          if (this.src[i] === 1) push(i + this.imm[i]! + 1);
          push(i + 1);
          continue;
        }
        const delta = cls === Cls.JMP32 && op === J.JA ? this.imm[i]! : this.off[i]!;
        push(i + delta + 1);
        if (op !== J.JA) push(i + 1);
        continue;
      }
      if (i + 1 < n && this.fnOf[i + 1] !== this.fnOf[i]) throw new Fail(i, `jump out of range from insn ${i} to ${i + 1}`);
      push(i + 1);
    }
    for (let i = 0; i < n; i++) if (!seen[i]) throw new Fail(i, `unreachable insn ${i}`, 'remove dead code or the jump around it');
    this.computeLiveness();
  }

  /** Per-instruction live-in register masks (function-local backward dataflow). */
  private computeLiveness(): void {
    const n = this.n;
    const use = new Uint16Array(n), def = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const c = this.code[i]!, cls = c & 7, op = c & 0xf0, d = this.dst[i]!, s = this.src[i]!;
      switch (cls) {
        case Cls.ALU: case Cls.ALU64:
          if (op === Op.MOV) { use[i] = c & 8 ? (1 << (s)) : 0; def[i] = (1 << (d)); }
          else if (op === Op.NEG || op === Op.END) { use[i] = (1 << (d)); def[i] = (1 << (d)); }
          else { use[i] = (1 << (d)) | (c & 8 ? (1 << (s)) : 0); def[i] = (1 << (d)); }
          break;
        case Cls.LDX: use[i] = (1 << (s)); def[i] = (1 << (d)); break;
        case Cls.ST: use[i] = (1 << (d)); break;
        case Cls.STX: {
          use[i] = (1 << (d)) | (1 << (s));
          if ((c & 0xe0) === 0xc0) {
            const im = this.imm[i]!;
            if (im === 0xf1) { use[i] |= 1; def[i] = 1; } else if (im & 1) def[i] = (1 << (s));
          }
          break;
        }
        case Cls.LD:
          if (c === 0x18) { def[i] = (1 << (d)); i++; }
          else { use[i] = (1 << (6)) | ((c & 0xe0) === 0x40 ? (1 << (s)) : 0); def[i] = 0x3f; }
          break;
        case Cls.JMP: case Cls.JMP32:
          if (op === J.CALL) { use[i] = 0x3e; def[i] = 0x3f; }
          else if (op === J.EXIT) use[i] = 1;
          else if (op !== J.JA) use[i] = (1 << (d)) | (c & 8 ? (1 << (s)) : 0);
          break;
      }
    }
    const liveIn = this.live;
    let changed = true;
    while (changed) {
      changed = false;
      for (let i = n - 1; i >= 0; i--) {
        const c = this.code[i]!, cls = c & 7, op = c & 0xf0;
        let out = 0;
        if (c === 0 && i > 0 && this.isLdImm64(i - 1)) continue;
        if (cls === Cls.JMP || cls === Cls.JMP32) {
          if (op === J.EXIT) out = 0;
          else if (op === J.CALL) out = i + 1 < n ? liveIn[i + 1]! : 0;
          else {
            const delta = cls === Cls.JMP32 && op === J.JA ? this.imm[i]! : this.off[i]!;
            out = liveIn[i + delta + 1]!;
            if (op !== J.JA && i + 1 < n) out |= liveIn[i + 1]!;
          }
        } else {
          const nx = c === 0x18 ? i + 2 : i + 1;
          out = nx < n ? liveIn[nx]! : 0;
        }
        const v = (use[i]! | (out & ~def[i]!)) & 0x7ff;
        if (v !== liveIn[i]) { liveIn[i] = v; changed = true; }
      }
    }
  }

  // ---------------------------------------------------------------- pass 2: walk

  /** Global (non-static) functions from BTF func_info: the kernel verifies them on their own. */
  private findGlobals(): void {
    const btf = this.btf;
    if (!btf) return;
    for (let f = 1; f < this.fnStart.length; f++) {
      const fi = this.spec.funcInfo.find((x) => x.insn === this.fnStart[f]);
      if (!fi) continue;
      const fn = btf.typeById(fi.typeId);
      if (!fn || fn.kind !== BtfKind.Func || fn.linkage !== 1) continue;
      const proto = btf.typeById(fn.type);
      if (!proto || proto.kind !== BtfKind.FuncProto) continue;
      if (proto.params.length > 5) throw new Fail(this.fnStart[f]!, `global function ${fn.name} has more than 5 arguments`);
      const params: GlobalParam[] = [];
      for (const p of proto.params) {
        const t = btf.resolve(p.type);
        if (t && (t.kind === BtfKind.Int || t.kind === BtfKind.Enum || t.kind === BtfKind.Enum64)) { params.push({ kind: 0, size: 0 }); continue; }
        if (t && t.kind === BtfKind.Ptr) {
          const pointee = btf.resolve(t.type);
          const ctxName = CTX_STRUCT[this.type];
          if (pointee && pointee.kind === BtfKind.Struct && ctxName !== undefined && pointee.name === ctxName) { params.push({ kind: 1, size: 0 }); continue; }
          const size = btf.sizeof(t.type);
          if (size !== undefined && size > 0) { params.push({ kind: 2, size }); continue; }
        }
        throw new Fail(this.fnStart[f]!, `global function ${fn.name}: argument ${p.name || params.length} has a type the emulator verifier does not model`, 'make the function static or pass scalars, the context or pointers to sized types');
      }
      this.globals[f] = params;
    }
  }

  run(): VerifyOutput {
    this.checkCfg();
    this.findGlobals();
    const init = new State();
    const f = new Frame();
    f.regs[1]!.ptr(T.Ctx, 0);
    f.regs[10]!.ptr(T.Stack, 0);
    init.frames.push(f);
    const stack: State[] = [init];
    let lastPath = -1;
    while (stack.length) {
      const st = stack.pop()!;
      if (this.logLevel > 0 && st.from >= 0) this.logParts.push(`from ${st.from} to ${st.insn}: ${formatState(this, st)}`);
      this.trailMark(st.from, st.insn);
      lastPath++;
      this.failState = st;
      this.walk(st, stack);
    }
    // global functions: verified once each, from their BTF-typed arguments
    this.globalMode = true;
    for (let fn = 1; fn < this.fnStart.length; fn++) {
      const params = this.globals[fn];
      if (!params) continue;
      const g = new State();
      const fr = new Frame();
      fr.fn = fn;
      g.insn = this.fnStart[fn]!;
      for (let a = 0; a < params.length; a++) {
        const r = fr.regs[a + 1]!;
        const p = params[a]!;
        if (p.kind === 0) r.unknown();
        else if (p.kind === 1) r.ptr(T.Ctx, 0);
        else { r.ptr(T.Mem, 0); r.mem = p.size; r.nul = true; r.id = ++this.idGen; }
      }
      fr.regs[10]!.ptr(T.Stack, 0);
      g.frames.push(fr);
      stack.push(g);
      while (stack.length) {
        const st = stack.pop()!;
        this.trailMark(st.from, st.insn);
        this.failState = st;
        this.walk(st, stack);
      }
    }
    this.globalMode = false;
    this.checkStackDepth();
    return { insnsProcessed: this.processed, log: this.logParts.join('\n'), totalStates: this.totalStates, peakStates: this.peakStates };
  }

  private trailMark(from: number, to: number): void {
    this.trail[this.trailPos++ & 63] = -2 - to;
    void from;
  }

  private walk(st: State, stack: State[]): void {
    let i = st.insn;
    for (;;) {
      if (++this.processed > INSN_LIMIT) {
        throw new Fail(i, `BPF program is too large. Processed ${this.processed} insn`, 'the verifier explores every path: bound loops with small constants or split the program with tail calls');
      }
      if (this.prune[i]) {
        st.insn = i;
        const r = this.isStateVisited(st, i);
        if (r) { this.pathDone(st); return; }
      }
      this.trail[this.trailPos++ & 63] = i;
      if (this.logLevel > 1) this.logParts.push(`${i}: ${insnText(this, i)}`);
      this.linked = 0;
      const next = this.step(st, i, stack);
      if (next < 0) { this.pathDone(st); return; }
      if (this.linked !== 0 || next !== (this.code[i] === 0x18 ? i + 2 : i + 1)) st.hist.push(i, next, this.linked);
      i = next;
    }
  }

  private pathDone(st: State): void {
    let p = st.parent;
    while (p) {
      p.branches--;
      if (p.branches > 0) break;
      p = p.parent;
    }
  }

  private pushBranch(st: State, target: number, from: number, stack: State[]): State {
    if (stack.length >= JMP_SEQ_LIMIT) throw new Fail(from, `The sequence of ${stack.length} jumps is too complex.`, 'simplify the control flow or split the program');
    const c = st.clone();
    c.insn = target;
    c.from = from;
    c.hist.push(from, target, this.linked);
    if (st.parent) st.parent.branches++;
    stack.push(c);
    return c;
  }

  // ---------------------------------------------------------------- pruning

  private isStateVisited(st: State, i: number): boolean {
    let list = this.explored.get(i);
    if (!list) this.explored.set(i, (list = []));
    const live = this.live[i]!;
    const cb = this.cbCall[i] === 1;
    let addNew = cb || (this.jmps - this.prevJmps >= 2 && this.processed - this.prevInsns >= 8);
    for (let k = 0; k < list.length; k++) {
      const ck = list[k]!;
      if (cb && ck.branches > 0) {
        // callback iteration: the helper bounds the iterations, so a covered state is done
        this.setCmp(null);
        if (this.statesEqual(ck.st, st, live, false)) { ck.hit++; this.markAllChain(st.parent); return true; }
        // widen what changed since the previous iteration to unknown (sound: only loses precision)
        if (this.sameCallsites(ck.st, st)) this.widen(ck.st, st);
        continue;
      }
      if (ck.branches > 0) {
        if (this.sameCallsites(ck.st, st) && this.statesEqual(ck.st, st, live, true)) {
          throw new Fail(i, `infinite loop detected at insn ${i}`, 'the loop makes no progress: its state repeats exactly');
        }
        // inside a loop: do not add states too often
        if (this.jmps - this.prevJmps < 20 && this.processed - this.prevInsns < 100) addNew = false;
      } else {
        this.setCmp(ck);
        if (this.statesEqual(ck.st, st, live, false)) {
          ck.hit++;
          // the old state's exploration relied on its precise scalars: so does this path's
          this.propagatePrecision(st, i, ck, live);
          return true;
        }
      }
      ck.miss++;
      if (ck.miss > ck.hit * 3 + 3) {
        // unlikely to help pruning: drop it (its parentage chain stays referenced by children)
        list.splice(k, 1);
        k--;
        this.curStates--;
      }
    }
    if (!addNew) return false;
    this.prevJmps = this.jmps;
    this.prevInsns = this.processed;
    const all = this.globalMode || st.frames.length > 1;
    const ck: Checkpoint = { st: st.clone(), branches: 1, parent: st.parent, insn: i, hit: 0, miss: 0,
      preg: 0, pslot: new Uint8Array(MAX_STACK / 8), all, allUp: false, hist: st.hist };
    ck.st.parent = null;
    ck.st.hist = [];
    st.parent = ck;
    st.hist = [];
    list.push(ck);
    this.totalStates++;
    this.curStates++;
    if (this.curStates > this.peakStates) this.peakStates = this.curStates;
    return false;
  }
  private widen(old: State, cur: State): void {
    for (let f = 0; f < cur.frames.length; f++) {
      const fo = old.frames[f]!, fc = cur.frames[f]!;
      for (let r = 0; r < 10; r++) {
        const a = fo.regs[r]!, b = fc.regs[r]!;
        if (a.type === T.Scalar && b.type === T.Scalar && !this.rangeWithin(a, b)) b.unknown();
      }
      for (let k = 0; k < fc.spill.length; k++) {
        const a = fo.spill[k], b = fc.spill[k];
        if (a && b && a.type === T.Scalar && b.type === T.Scalar && !this.rangeWithin(a, b)) b.unknown();
      }
      for (let b = 0; b < MAX_STACK; b++) {
        const x = fo.slot[b]!, y = fc.slot[b]!;
        if (x !== y && y === Slot.Zero) fc.ownSlot()[b] = Slot.Misc;
      }
    }
  }
  private jmps = 0;
  private prevJmps = 0;
  private prevInsns = 0;

  private sameCallsites(a: State, b: State): boolean {
    if (a.frames.length !== b.frames.length) return false;
    for (let f = 0; f < a.frames.length; f++) if (a.frames[f]!.callsite !== b.frames[f]!.callsite) return false;
    return true;
  }

  private idmapOld: number[] = [];
  private idmapCur: number[] = [];

  private checkIds(oldId: number, curId: number): boolean {
    if (oldId === 0 && curId === 0) return true;
    if (oldId === 0 || curId === 0) return false;
    const m = this.idmapOld, c = this.idmapCur;
    for (let k = 0; k < m.length; k++) {
      if (m[k] === oldId) return c[k] === curId;
      if (c[k] === curId) return false;
    }
    m.push(oldId); c.push(curId);
    return true;
  }

  private statesEqual(old: State, cur: State, live: number, exact: boolean): boolean {
    if (!this.sameCallsites(old, cur)) return false;
    if (old.refs.length !== cur.refs.length || old.lockMap !== cur.lockMap || old.lockOff !== cur.lockOff) return false;
    this.idmapOld.length = 0; this.idmapCur.length = 0;
    for (let k = 0; k < old.refs.length; k++) if (!this.checkIds(old.refs[k]!.id, cur.refs[k]!.id)) return false;
    const top = old.frames.length - 1;
    for (let f = 0; f <= top; f++) {
      const fo = old.frames[f]!, fc = cur.frames[f]!;
      const mask = f === top ? live : 0x3c0; // callers: r6-r9 survive the call
      const all = this.cmpAll || f > 0;
      for (let r = 0; r < 10; r++) {
        if (!(mask & (1 << r))) continue;
        if (!this.regSafe(fo.regs[r]!, fc.regs[r]!, exact, all || (this.cmpPreg & (1 << r)) !== 0)) return false;
      }
      if (!this.stackSafe(fo, fc, exact, all)) return false;
    }
    return true;
  }

  /** Precision of the checkpoint being compared against (null: every scalar precise). */
  private cmpAll = true;
  private cmpPreg = 0;
  private cmpPslot: Uint8Array | null = null;
  private tmpIds = 0;
  private setCmp(ck: Checkpoint | null): void {
    this.cmpAll = ck === null || ck.all;
    this.cmpPreg = ck ? ck.preg : 0;
    this.cmpPslot = ck ? ck.pslot : null;
  }

  private regSafe(o: Reg, c: Reg, exact: boolean, precise: boolean): boolean {
    if (o.type === T.NotInit) return !exact || c.type === T.NotInit;
    if (o.type !== c.type || o.nul !== c.nul) return false;
    if (exact) {
      return o.off === c.off && o.tv === c.tv && o.tm === c.tm && o.smin === c.smin && o.smax === c.smax &&
        o.umin === c.umin && o.umax === c.umax && o.s32min === c.s32min && o.s32max === c.s32max &&
        o.u32min === c.u32min && o.u32max === c.u32max && o.range === c.range && o.map === c.map &&
        o.mem === c.mem && o.frame === c.frame && this.checkIds(o.id, c.id) && this.checkIds(o.ref, c.ref);
    }
    if (o.type === T.Scalar) {
      // an imprecise scalar: no check below it depended on its value
      if (!precise) return true;
      if (!this.rangeWithin(o, c)) return false;
      // linked scalars (a bound check on one narrows the others) must be linked alike
      if (o.id === 0) return true;
      return this.checkIds(o.id, c.id === 0 ? -(++this.tmpIds) : c.id);
    }
    if (!this.rangeWithin(o, c)) return false;
    switch (o.type) {
      case T.Pkt: case T.PktMeta:
        if (o.off !== c.off) return false;
        if (o.range < 0 ? o.range !== c.range : c.range < o.range) return false;
        return this.checkIds(o.id, c.id);
      case T.MapValue: case T.MapKey: case T.MapPtr:
        return o.map === c.map && o.off === c.off && this.checkIds(o.id, c.id) && this.checkIds(o.ref, c.ref);
      case T.Stack:
        return o.off === c.off && o.frame === c.frame;
      case T.Mem:
        return o.off === c.off && o.mem === c.mem && this.checkIds(o.id, c.id) && this.checkIds(o.ref, c.ref);
      default:
        return o.off === c.off && this.checkIds(o.id, c.id) && this.checkIds(o.ref, c.ref);
    }
  }

  private rangeWithin(o: Scalar, c: Scalar): boolean {
    return o.umin <= c.umin && o.umax >= c.umax && o.smin <= c.smin && o.smax >= c.smax &&
      o.u32min <= c.u32min && o.u32max >= c.u32max && o.s32min <= c.s32min && o.s32max >= c.s32max &&
      tnumIn(o.tv, o.tm, c.tv, c.tm);
  }

  private stackSafe(o: Frame, c: Frame, exact: boolean, all: boolean): boolean {
    const pslot = this.cmpPslot;
    const from = (MAX_STACK - (o.used > c.used ? o.used : c.used)) & ~7;
    for (let base = from; base < MAX_STACK; base += 8) {
      const ro = o.spill[base >> 3] ?? null, rc = c.spill[base >> 3] ?? null;
      if (exact) {
        for (let b = base; b < base + 8; b++) if (o.slot[b] !== c.slot[b]) return false;
        if (ro && rc) { if (!this.regSafe(ro, rc, true, true)) return false; }
        else if (ro !== rc) return false;
        continue;
      }
      if (ro && o.slot[base] === Slot.Spill) {
        const precise = all || pslot === null || pslot[base >> 3] !== 0;
        // an unknown (or imprecise) spilled scalar covers any initialised non-pointer contents
        if (ro.type === T.Scalar && (!precise || ro.isUnbounded()) && this.scalarContents(c, base, rc)) continue;
        if (rc && c.slot[base] === Slot.Spill) { if (!this.regSafe(ro, rc, false, precise)) return false; continue; }
        // eight zero bytes read back as the constant 0
        let zero = true;
        for (let b = base; b < base + 8; b++) if (c.slot[b] !== Slot.Zero) { zero = false; break; }
        if (zero && ro.type === T.Scalar && ro.umin === 0n && ro.smin <= 0n && ro.smax >= 0n && (ro.tv === 0n) && ro.u32min === 0 && ro.s32min <= 0 && ro.s32max >= 0) continue;
        return false;
      }
      // zero bytes whose value no check depended on: any contents but a spilled pointer
      if (!all && pslot !== null && pslot[base >> 3] === 0 && !(rc !== null && c.slot[base] === Slot.Spill && rc.isPtr())) continue;
      for (let b = base; b < base + 8; b++) {
        const os = o.slot[b]!, cs = c.slot[b]!;
        if (os === Slot.Invalid || os === Slot.Misc) continue;
        if (os === Slot.Zero) { if (cs === Slot.Zero) continue; return false; }
        // a Spill byte without a spilled register (partially overwritten slot): require the same
        if (cs !== os) return false;
      }
    }
    return true;
  }

  /** The 8 bytes at `base` of `c` read back as some scalar (initialised, no pointer). */
  private scalarContents(c: Frame, base: number, rc: Reg | null): boolean {
    for (let b = base; b < base + 8; b++) {
      const t = c.slot[b]!;
      if (t === Slot.Spill && (rc === null || c.slot[base] !== Slot.Spill || rc.type !== T.Scalar)) return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- precision (backtracking)

  /** Sticky per-insn flag: a stack access not through r10 of the current frame happened here. */
  private stackViaPtr: Uint8Array = new Uint8Array(0);
  /** Set by checkJmp: the compared registers carry scalar ids (linked scalars were narrowed). */
  private linked = 0;
  private btR = 0;
  private readonly btS = new Uint8Array(MAX_STACK / 8);
  private btN = 0;
  private btGiveUp = false;

  private btAddSlots(lo: number, hi: number): void {
    if (lo < -MAX_STACK) lo = -MAX_STACK;
    if (hi > 0) hi = 0;
    for (let s = (MAX_STACK + lo) >> 3; s <= (MAX_STACK + hi - 1) >> 3 && s < MAX_STACK / 8; s++) {
      if (s >= 0 && this.btS[s] === 0) { this.btS[s] = 1; this.btN++; }
    }
  }
  private btClear(): void {
    this.btR = 0;
    if (this.btN) { this.btS.fill(0); this.btN = 0; }
    this.btGiveUp = false;
  }

  /** Every scalar of `ck` and its ancestors becomes precise. */
  private markAllChain(ck: Checkpoint | null): void {
    for (let p = ck; p && !p.allUp; p = p.parent) { p.all = true; p.allUp = true; }
  }

  /**
   * A safety check at insn `i` of `st` depended on the exact value of the scalar registers in
   * `regs` (bit mask, current frame): mark them, and everything they were computed from, precise
   * in the checkpoints `st` descends from.
   */
  private markPrecise(st: State, i: number, regs: number): void {
    const cur = st.cur.regs;
    let m = 0;
    for (let r = 0; r < 10; r++) if ((regs & (1 << r)) && cur[r]!.type === T.Scalar) m |= 1 << r;
    if (m === 0) return;
    this.btClear();
    this.btR = m;
    this.backtrackChain(st, i);
  }

  /** Helper arguments: scalar values (sizes, flags, indexes) and the stack memory passed in. */
  private helperPrecision(st: State, i: number, args: readonly Arg[]): void {
    if (this.globalMode || st.frames.length > 1) { this.markAllChain(st.parent); return; }
    this.btClear();
    const regs = st.cur.regs;
    let keySize = MAX_STACK;
    for (let a = 0; a < args.length && a < 5; a++) {
      const x = regs[a + 1]!;
      if (x.type === T.Scalar) this.btR |= 1 << (a + 1);
      else if (args[a] === Arg.Map && x.type === T.MapPtr && x.map >= 0) keySize = this.maps[x.map]!.keySize;
      else if (args[a] === Arg.Key && x.type === T.Stack) {
        // a constant key on the stack decides whether an array lookup may return NULL
        const lo = x.off + (x.isConst() ? Number(toS64(x.tv)) : Number(x.smin < -1024n ? -1024n : x.smin));
        this.btAddSlots(lo, x.isConst() ? lo + keySize : 0);
      }
    }
    if (this.btR !== 0 || this.btN !== 0) this.backtrackChain(st, i);
  }

  private propagatePrecision(st: State, i: number, ck: Checkpoint, live: number): void {
    if (ck.all) { this.markAllChain(st.parent); return; }
    this.btClear();
    this.btR = ck.preg & live & 0x3ff;
    for (let k = 0; k < ck.pslot.length; k++) if (ck.pslot[k]) { this.btS[k] = 1; this.btN++; }
    if (this.btR !== 0 || this.btN !== 0) this.backtrackChain(st, i);
  }

  private backtrackChain(st: State, pos: number): void {
    if (this.globalMode || st.frames.length > 1) { this.markAllChain(st.parent); return; }
    let hist = st.hist;
    let h = hist.length;
    let ck = st.parent;
    let start = ck ? ck.insn : 0;
    for (;;) {
      while (!(pos === start && h === 0)) {
        let prev: number, flag = 0;
        if (h >= 3 && hist[h - 2] === pos) {
          prev = hist[h - 3]!; flag = hist[h - 1]!; h -= 3;
        } else {
          prev = pos >= 2 && this.code[pos - 2] === 0x18 && this.code[pos - 1] === 0 ? pos - 2 : pos - 1;
        }
        if (prev < 0) { this.markAllChain(ck); return; }
        this.backtrackInsn(prev, flag);
        if (this.btGiveUp) { this.markAllChain(ck); return; }
        if (this.btR === 0 && this.btN === 0) return;
        pos = prev;
      }
      if (!ck) return;
      if (ck.st.frames.length > 1) { this.markAllChain(ck); return; }
      // record the marks on the checkpoint; stop when it already had them all
      let added = (this.btR & ~ck.preg) !== 0;
      ck.preg |= this.btR;
      if (this.btN) {
        const ps = ck.pslot, bs = this.btS;
        for (let k = 0; k < bs.length; k++) if (bs[k] && !ps[k]) { ps[k] = 1; added = true; }
      }
      if (!added && !ck.all) return;
      if (ck.allUp) return;
      hist = ck.hist;
      h = hist.length;
      pos = ck.insn;
      ck = ck.parent;
      start = ck ? ck.insn : 0;
    }
  }

  /** Undo insn `p` on the backtracking masks (registers/slots needed after it → before it). */
  private backtrackInsn(p: number, flag: number): void {
    const c = this.code[p]!, cls = c & 7, op = c & 0xf0, d = this.dst[p]!, s = this.src[p]!;
    const db = 1 << d, sb = 1 << s;
    switch (cls) {
      case Cls.ALU: case Cls.ALU64:
        if (op === Op.END || op === Op.NEG) return;
        if (op === Op.MOV) {
          if (this.btR & db) { this.btR &= ~db; if (c & 8) this.btR |= sb; }
        } else if ((c & 8) && (this.btR & db)) this.btR |= sb;
        this.btR &= 0x3ff;
        return;
      case Cls.LDX: {
        if (!(this.btR & db)) return;
        this.btR &= ~db;
        if (this.stackViaPtr[p]) { this.btGiveUp = true; return; }
        if (s === 10) { const off = this.off[p]!; this.btAddSlots(off, off + sizeOf(c)); }
        return;
      }
      case Cls.ST: case Cls.STX: {
        if ((c & 0xe0) === 0xc0) { if (this.btR !== 0 || this.btN !== 0) this.btGiveUp = true; return; }
        if (this.btN === 0) return;
        if (this.stackViaPtr[p]) { this.btGiveUp = true; return; }
        if (d !== 10) return;
        const off = this.off[p]!, size = sizeOf(c);
        const k = (MAX_STACK + off) >> 3;
        const k2 = (MAX_STACK + off + size - 1) >> 3;
        let hit = false;
        for (let x = k; x <= k2; x++) if (x >= 0 && x < this.btS.length && this.btS[x]) hit = true;
        if (!hit) return;
        if (size === 8 && ((MAX_STACK + off) & 7) === 0) { this.btS[k] = 0; this.btN--; }
        if (cls === Cls.STX) this.btR |= sb;
        this.btR &= 0x3ff;
        return;
      }
      case Cls.LD:
        if (c === 0x18) { this.btR &= ~db; return; }
        if (this.btR !== 0 || this.btN !== 0) this.btGiveUp = true;
        return;
      default: {
        if (op === J.JA) return;
        if (op === J.CALL) {
          if (s !== 0 || this.cbCall[p]) { this.btGiveUp = true; return; }
          this.btR &= ~0x3f;
          return;
        }
        if (op === J.EXIT || op === J.JCOND) { this.btGiveUp = true; return; }
        const x = (c & 8) !== 0;
        if (flag && (this.btR !== 0 || this.btN !== 0)) this.btR |= db | (x ? sb : 0);
        else if (x && (this.btR & (db | sb))) this.btR |= db | sb;
        this.btR &= 0x3ff;
        return;
      }
    }
  }

  // ---------------------------------------------------------------- helpers for errors

  private fail(i: number, msg: string, hint?: string): never {
    throw new Fail(i, msg, hint);
  }

  private regName(r: number): string {
    return `R${r}`;
  }

  private readReg(st: State, i: number, r: number): Reg {
    const reg = st.cur.regs[r]!;
    if (reg.type === T.NotInit) {
      this.fail(i, `R${r} !read_ok`, r === 0 ? 'set a return value before `exit`' : `R${r} is read before anything was written to it on this path`);
    }
    return reg;
  }

  private readonly scratch = new Reg();
  private writeReg(st: State, i: number, r: number): Reg {
    if (r < 0) return this.scratch;
    if (r === 10) this.fail(i, 'frame pointer is read only', 'r10 cannot be written; copy it to another register first');
    if (r > 10) this.fail(i, `R${r} is invalid`);
    return st.cur.regs[r]!;
  }

  // ---------------------------------------------------------------- step

  private step(st: State, i: number, stack: State[]): number {
    const c = this.code[i]!;
    const cls = c & 7;
    if (this.dst[i]! > 10 || this.src[i]! > 10) this.fail(i, `R${Math.max(this.dst[i]!, this.src[i]!)} is invalid`);
    switch (cls) {
      case Cls.ALU:
      case Cls.ALU64:
        this.checkAlu(st, i, cls === Cls.ALU64);
        return i + 1;
      case Cls.LDX:
        this.checkLdx(st, i);
        return i + 1;
      case Cls.ST:
      case Cls.STX:
        this.checkStore(st, i);
        return i + 1;
      case Cls.LD:
        return this.checkLd(st, i);
      default:
        return this.checkJmp(st, i, stack);
    }
  }

  // ---------------------------------------------------------------- ALU

  private checkAlu(st: State, i: number, is64: boolean): void {
    const c = this.code[i]!;
    const op = c & 0xf0;
    const isX = (c & 8) !== 0;
    const d = this.dst[i]!, s = this.src[i]!;
    const imm = this.imm[i]!;
    const off = this.off[i]!;
    const regs = st.cur.regs;

    if (op === Op.END) {
      if (!(imm === 16 || imm === 32 || imm === 64)) this.fail(i, 'BPF_END uses reserved fields');
      const r = this.readReg(st, i, d);
      if (r.isPtr()) this.fail(i, `R${d} pointer arithmetic prohibited`);
      const dr = this.writeReg(st, i, d);
      dr.unknown();
      // le16/be16/bswap16 leave a zero-extended 16-bit value, the 32-bit forms a 32-bit one.
      if (imm === 16) { dr.u32min = 0; dr.u32max = 0xffff; dr.zext32(); } else if (imm === 32) dr.zext32();
      return;
    }
    if (op === Op.NEG) {
      const r = this.readReg(st, i, d);
      if (r.isPtr()) this.fail(i, `R${d} pointer arithmetic prohibited`);
      const dr = this.writeReg(st, i, d);
      dr.unknown();
      if (!is64) dr.zext32();
      return;
    }
    if (op === Op.MOV) {
      if (isX) {
        const sr = this.readReg(st, i, s);
        const dr = this.writeReg(st, i, d);
        if (off !== 0) {
          // movsx
          if (!(off === 8 || off === 16 || (off === 32 && is64))) this.fail(i, 'BPF_MOV uses reserved fields');
          if (sr.isPtr()) { dr.unknown(); if (!is64) dr.zext32(); return; }
          this.movSx(dr, sr, off, is64);
          return;
        }
        if (is64) {
          if (d !== s) dr.copy(sr);
          if (sr.type === T.Scalar && sr.id === 0 && !sr.isConst()) {
            // link the two scalars so a later bound check refines both (kernel: find_equal_scalars)
            sr.id = dr.id = ++this.idGen;
          }
        } else {
          if (sr.isPtr()) { dr.unknown(); dr.zext32(); return; }
          this.sa.copyScalar(sr);
          dr.type = T.Scalar; dr.clearPtr(); dr.copyScalar(this.sa);
          dr.zext32();
        }
      } else {
        if (off !== 0) this.fail(i, 'BPF_MOV uses reserved fields');
        const dr = this.writeReg(st, i, d);
        if (is64) dr.known(BigInt(imm));
        else dr.known(BigInt(imm >>> 0));
      }
      return;
    }
    // binary ops
    if (!isX && (op === Op.DIV || op === Op.MOD) && imm === 0) this.fail(i, 'div by zero', 'dividing by a constant zero is rejected; division by a register holding zero yields 0 at run time');
    if (!isX && (op === Op.LSH || op === Op.RSH || op === Op.ARSH) && (imm < 0 || imm >= (is64 ? 64 : 32))) this.fail(i, `invalid shift ${imm}`);
    if ((op === Op.DIV || op === Op.MOD) && !(off === 0 || off === 1)) this.fail(i, 'BPF_ALU uses reserved fields');
    const dr = this.readReg(st, i, d);
    if (d === 10) this.fail(i, 'frame pointer is read only', 'r10 cannot be written; copy it to another register first');
    let sr: Reg;
    if (isX) sr = this.readReg(st, i, s);
    else { sr = this.tmpReg; sr.known(is64 ? BigInt(imm) : BigInt(imm >>> 0)); }

    if (dr.isPtr() || sr.isPtr()) {
      this.pointerAlu(st, i, op, dr, sr, d, s, is64, isX);
      return;
    }
    dr.id = 0;
    this.scalarAlu(op, dr, sr, is64, off === 1);
  }

  private movSx(dr: Reg, sr: Reg, bits: number, is64: boolean): void {
    const half = 1n << BigInt(bits - 1);
    const lo = -half, hi = half - 1n;
    if (sr.isConst()) {
      const v = BigInt.asIntN(bits, sr.tv);
      dr.known(is64 ? v : BigInt.asUintN(32, v));
      return;
    }
    const full = 1n << BigInt(bits);
    // fits in the narrow signed range already?
    let smin: bigint, smax: bigint;
    if (sr.smin >= lo && sr.smax <= hi) { smin = sr.smin; smax = sr.smax; }
    else if (sr.umax < half) { smin = sr.umin; smax = sr.umax; }
    else { smin = lo; smax = hi; }
    void full;
    dr.unknown();
    if (is64) {
      dr.smin = smin; dr.smax = smax;
      dr.sync();
    } else {
      dr.s32min = Number(smin); dr.s32max = Number(smax);
      dr.sync();
      dr.zext32();
    }
  }

  /** Scalar ⊕ scalar, 64- or 32-bit. */
  scalarAlu(op: number, dr: Reg, sr: Scalar, is64: boolean, signed: boolean): void {
    dr.type = T.Scalar;
    dr.clearPtr();
    if (dr.tm === 0n && sr.tm === 0n) {
      // both known: the kernel's tnum and bounds transfer functions give the exact constant
      const v = constAlu(op, dr.tv, sr.tv, is64);
      if (v !== undefined) { dr.setConst(v); return; }
    }
    if (is64) {
      this.alu64(op, dr, sr, signed);
      return;
    }
    // an unknown 32-bit operand makes +, -, ^ (and * by an odd constant) fully unknown
    if (op === Op.ADD || op === Op.SUB || op === Op.XOR || op === Op.MUL) {
      const du = unknown32(dr), su = unknown32(sr);
      if (op === Op.MUL ? (du && sr.tm === 0n && (sr.tv & 1n) === 1n) || (su && dr.tm === 0n && (dr.tv & 1n) === 1n) : du || su) {
        dr.setUnknown();
        dr.tm = U32N; dr.umax = U32N; dr.smin = 0n; dr.smax = U32N;
        return;
      }
    }
    // 32-bit: compute in a zero-extended view and a sign-extended view, keep the low halves.
    const zu = this.sa, zs = this.sb, xu = this.sc, xs = this.sd;
    zview(zu, dr); zview(zs, sr);
    xview(xu, dr); xview(xs, sr);
    const useZ = op !== Op.ARSH;
    const useX = op !== Op.RSH;
    if (useZ) this.alu64(op, zu, zs, signed, 32, false, false);
    // the sign-extended view only contributes s32 bounds
    if (useX && !(op === Op.MUL && (xu.smin < 0n || xs.smin < 0n))) this.alu64(op, xu, xs, signed, 32, false, useZ);
    else if (useX) xu.setUnknown();
    const t = useZ ? zu : xu;
    dr.setUnknown();
    dr.tv = t.tv & U32N; dr.tm = t.tm & U32N;
    if (useZ && (zu.umin ^ zu.umax) <= U32N) { dr.u32min = Number(zu.umin & U32N); dr.u32max = Number(zu.umax & U32N); if (dr.u32min > dr.u32max) { dr.u32min = 0; dr.u32max = U32; } }
    if (useX && xu.smin >= S32_MIN_N && xu.smax <= S32_MAX_N) { dr.s32min = Number(xu.smin); dr.s32max = Number(xu.smax); }
    dr.umin = 0n; dr.umax = U32N; dr.smin = 0n; dr.smax = U32N;
    dr.zext32();
  }

  /** 64-bit scalar op on the 64-bit fields; 32-bit fields are recomputed by sync. */
  private alu64(op: number, d: Scalar, s: Scalar, signed: boolean, width = 64, doSync = true, boundsOnly = false): void {
    const bw = width === 64 ? 64n : 32n;
    const keep = width === 64 ? U64 : U32N;
    switch (op) {
      case Op.ADD: {
        const t = boundsOnly ? UNKNOWN_T : tnumAdd(d.tv, d.tm, s.tv, s.tm);
        const smin = d.smin + s.smin, smax = d.smax + s.smax;
        const umin = d.umin + s.umin, umax = d.umax + s.umax;
        d.setUnknown(); d.tv = t.v; d.tm = t.m;
        if (smin >= S64_MIN && smax <= S64_MAX) { d.smin = smin; d.smax = smax; }
        if (umax <= U64) { d.umin = umin; d.umax = umax; }
        break;
      }
      case Op.SUB: {
        const t = boundsOnly ? UNKNOWN_T : tnumSub(d.tv, d.tm, s.tv, s.tm);
        const smin = d.smin - s.smax, smax = d.smax - s.smin;
        const ok = d.umin >= s.umax;
        const umin = d.umin - s.umax, umax = d.umax - s.umin;
        d.setUnknown(); d.tv = t.v; d.tm = t.m;
        if (smin >= S64_MIN && smax <= S64_MAX) { d.smin = smin; d.smax = smax; }
        if (ok) { d.umin = umin; d.umax = umax; }
        break;
      }
      case Op.MUL: {
        const t = boundsOnly ? UNKNOWN_T : tnumMul(d.tv, d.tm, s.tv, s.tm, keep);
        const tv = t.v, tm = t.m;
        const neg = d.smin < 0n || s.smin < 0n;
        const umin = d.umin * s.umin, umax = d.umax * s.umax;
        d.setUnknown(); d.tv = tv; d.tm = tm;
        if (!neg && umax <= U64) {
          d.umin = umin; d.umax = umax;
          if (umax <= S64_MAX) { d.smin = umin; d.smax = umax; }
        }
        break;
      }
      case Op.AND: {
        const t = tnumAnd(d.tv, d.tm, s.tv, s.tm);
        const umax = d.umax < s.umax ? d.umax : s.umax;
        const pos = d.smin >= 0n && s.smin >= 0n;
        d.setUnknown(); d.tv = t.v; d.tm = t.m;
        d.umin = t.v; d.umax = umax;
        if (pos) { d.smin = d.umin; d.smax = d.umax; }
        break;
      }
      case Op.OR: {
        const t = tnumOr(d.tv, d.tm, s.tv, s.tm);
        const umin = d.umin > s.umin ? d.umin : s.umin;
        const pos = d.smin >= 0n && s.smin >= 0n;
        d.setUnknown(); d.tv = t.v; d.tm = t.m;
        d.umin = umin; d.umax = t.v | t.m;
        if (pos) { d.smin = d.umin; d.smax = d.umax; }
        break;
      }
      case Op.XOR: {
        const t = tnumXor(d.tv, d.tm, s.tv, s.tm);
        const pos = d.smin >= 0n && s.smin >= 0n;
        d.setUnknown(); d.tv = t.v; d.tm = t.m;
        d.umin = t.v; d.umax = t.v | t.m;
        if (pos) { d.smin = d.umin; d.smax = d.umax; }
        break;
      }
      case Op.LSH: case Op.RSH: case Op.ARSH: {
        if (!s.isConst() || s.tv >= bw) { d.setUnknown(); break; }
        const k = s.tv;
        if (op === Op.LSH) {
          const tv = (d.tv << k) & U64, tm = (d.tm << k) & U64;
          const ovf = (d.umax >> (64n - k)) !== 0n || k === 0n ? (k === 0n ? false : true) : false;
          const umin = d.umin << k, umax = d.umax << k;
          d.setUnknown(); d.tv = tv; d.tm = tm;
          if (!ovf) { d.umin = umin; d.umax = umax; }
        } else if (op === Op.RSH) {
          const tv = d.tv >> k, tm = d.tm >> k;
          const umin = d.umin >> k, umax = d.umax >> k;
          d.setUnknown(); d.tv = tv; d.tm = tm; d.umin = umin; d.umax = umax;
        } else {
          const tv = toU64(toS64(d.tv) >> k), tm = toU64(toS64(d.tm) >> k);
          const smin = d.smin >> k, smax = d.smax >> k;
          d.setUnknown(); d.tv = tv & ~tm & U64; d.tm = tm; d.smin = smin; d.smax = smax;
        }
        break;
      }
      default:
        // DIV, MOD (signed or not): unknown, as the kernel
        void signed;
        d.setUnknown();
        break;
    }
    if (doSync) d.sync();
  }

  private pointerAlu(st: State, i: number, op: number, dr: Reg, sr: Reg, d: number, s: number, is64: boolean, isX: boolean): void {
    const dptr = dr.isPtr(), sptr = sr.isPtr();
    if (dptr && sptr) {
      // pointer - pointer is an arbitrary scalar for privileged loaders
      if (op === Op.SUB) { dr.unknown(); return; }
      this.fail(i, `R${d} pointer ${opName(op)} pointer prohibited`);
    }
    if (!is64) {
      if (op === Op.SUB) { dr.unknown(); return; }
      this.fail(i, `R${d} 32-bit pointer arithmetic prohibited`);
    }
    let ptr: Reg, off: Reg, ptrReg: number;
    // the scalar operand's bounds decide the pointer's
    if (isX || !dptr) this.markPrecise(st, i, 1 << (dptr ? s : d));
    if (dptr) { ptr = dr; off = sr; ptrReg = d; } else {
      if (op !== Op.ADD) this.fail(i, `R${d} tried to ${op === Op.SUB ? 'subtract pointer from scalar' : `${opName(op)} pointer`}`);
      ptr = sr; off = dr; ptrReg = s;
    }
    if (op !== Op.ADD && op !== Op.SUB) {
      if (op === Op.AND || op === Op.OR || op === Op.XOR) this.fail(i, `R${d} bitwise operator ${opName(op)} on pointer prohibited`);
      this.fail(i, `R${d} pointer arithmetic with ${opName(op)} operator prohibited`);
    }
    if (ptr.nul) this.fail(i, `R${ptrReg} pointer arithmetic on ${typeName(ptr)} prohibited, null-check it first`, 'compare the pointer with NULL before doing arithmetic on it');
    switch (ptr.type) {
      case T.PktEnd: case T.Sock: case T.SockCommon: case T.TcpSock:
        this.fail(i, `R${ptrReg} pointer arithmetic on ${typeName(ptr)} prohibited`);
        break;
      case T.MapPtr:
        if (!(off.isConst() && off.tv === 0n && op === Op.ADD)) this.fail(i, `R${ptrReg} pointer arithmetic on ${typeName(ptr)} prohibited`);
        break;
    }
    this.saneOffset(i, off, ptr);
    this.saneOffset(i, ptr, ptr);
    const res = this.tmpRes;
    res.copy(ptr);
    if (op === Op.SUB && !dptr) this.fail(i, `R${d} tried to subtract pointer from scalar`);
    if (off.isConst()) {
      const v = Number(toS64(off.tv));
      res.off = op === Op.ADD ? ptr.off + v : ptr.off - v;
      if (res.off >= MAX_VAR_OFF || res.off <= -MAX_VAR_OFF) this.fail(i, `${typeName(ptr)} pointer offset ${res.off} is not allowed`);
    } else {
      // variable offset
      this.sa.copyScalar(ptr);
      if (op === Op.ADD) this.alu64(Op.ADD, this.sa, off, false);
      else this.alu64(Op.SUB, this.sa, off, false);
      res.copyScalar(this.sa);
      if (res.type === T.Pkt || res.type === T.PktMeta) { res.id = ++this.idGen; res.range = 0; }
      if (res.smin <= -BigInt(MAX_VAR_OFF) || res.smax >= BigInt(MAX_VAR_OFF)) {
        if (res.type !== T.Stack && res.type !== T.Ctx) {
          // unbounded variable part: allowed to exist, rejected at access
        }
      }
    }
    this.saneOffset(i, res, ptr);
    const out = this.writeReg(st, i, d);
    out.copy(res);
  }

  /** The kernel's check_reg_sane_offset. */
  private saneOffset(i: number, reg: Reg, ptr: Reg): void {
    const t = typeName(ptr);
    const M = BigInt(MAX_VAR_OFF);
    if (reg.isConst()) {
      const v = toS64(reg.tv);
      if (v >= M || v <= -M) this.fail(i, `math between ${t} pointer and ${v} is not allowed`);
    }
    if (reg.off >= MAX_VAR_OFF || reg.off <= -MAX_VAR_OFF) this.fail(i, `${t} pointer offset ${reg.off} is not allowed`);
    if (reg.smin === S64_MIN) this.fail(i, `math between ${t} pointer and register with unbounded min value is not allowed`, 'bound the value (e.g. mask it or compare it against a limit) before adding it to the pointer');
    if (reg.smin >= M || reg.smin <= -M) this.fail(i, `value ${reg.smin} makes ${t} pointer be out of bounds`);
  }
  private readonly tmpRes = new Reg();

  // ---------------------------------------------------------------- memory

  private checkLd(st: State, i: number): number {
    const c = this.code[i]!;
    const d = this.dst[i]!;
    if (c === 0x18) {
      if (i + 1 >= this.n) this.fail(i, 'invalid BPF_LD_IMM insn');
      const srcKind = this.src[i]!;
      const r = this.writeReg(st, i, d);
      if (srcKind === 0) {
        const lo = BigInt(this.imm[i]! >>> 0), hi = BigInt(this.imm[i + 1]! >>> 0);
        r.known((hi << 32n) | lo);
      } else if (srcKind === 1 || srcKind === 2 || srcKind === 5 || srcKind === 6) {
        const m = this.insnMap[i]!;
        if (m < 0) this.fail(i, `ld_imm64 with src ${srcKind} has no map relocation`, 'the ELF object lacks the map reference for this instruction');
        if (srcKind === 1 || srcKind === 5) { r.ptr(T.MapPtr, 0); r.map = m; }
        else {
          const mp = this.maps[m]!;
          const voff = this.insnMapOff[i]! || this.imm[i + 1]!;
          if (voff < 0 || voff >= Math.max(1, mp.valueSize)) this.fail(i, `invalid access to map value pointer, value_size=${mp.valueSize} off=${voff}`);
          r.ptr(T.MapValue, voff); r.map = m;
        }
      } else if (srcKind === 4) {
        r.ptr(T.Func, i + this.imm[i]! + 1);
      } else {
        this.fail(i, `ld_imm64 with src_reg ${srcKind} (BTF/kfunc) is not supported by the emulator verifier`);
      }
      return i + 2;
    }
    const mode = c & 0xe0;
    if (mode === 0x20 || mode === 0x40) {
      // legacy LD_ABS / LD_IND
      if (!(this.type === 'socket_filter' || this.type === 'sched_cls' || this.type === 'sched_act')) {
        this.fail(i, 'BPF_LD_[ABS|IND] instructions not allowed for this program type');
      }
      if (st.frames.length > 1) this.fail(i, 'BPF_LD_[ABS|IND] instructions cannot be mixed with bpf-to-bpf calls');
      const r6 = this.readReg(st, i, 6);
      if (r6.type !== T.Ctx) this.fail(i, 'at the time of BPF_LD_ABS|IND R6 != pointer to skb');
      if (mode === 0x40) this.readReg(st, i, this.src[i]!);
      if (st.refs.length) this.fail(i, 'BPF_LD_[ABS|IND] cannot be mixed with socket references');
      const regs = st.cur.regs;
      for (let r = 1; r <= 5; r++) regs[r]!.notInit();
      regs[0]!.unknown();
      const sz = SIZE_BYTES[(c >> 3) & 3]!;
      if (sz < 8) { regs[0]!.u32min = 0; regs[0]!.u32max = sz === 4 ? U32 : (1 << (sz * 8)) - 1; regs[0]!.zext32(); }
      return i + 1;
    }
    this.fail(i, `invalid BPF_LD mode 0x${mode.toString(16)}`);
  }

  private checkLdx(st: State, i: number): void {
    const c = this.code[i]!;
    const mode = c & 0xe0;
    if (mode !== 0x60 && mode !== 0x80) this.fail(i, 'BPF_LDX uses reserved fields');
    const size = SIZE_BYTES[(c >> 3) & 3]!;
    if (mode === 0x80 && size === 8) this.fail(i, 'BPF_LDX uses reserved fields');
    const s = this.src[i]!, d = this.dst[i]!;
    const base = this.readReg(st, i, s);
    if (d === 10) this.fail(i, 'frame pointer is read only');
    this.memAccess(st, i, s, base, this.off[i]!, size, false, d, mode === 0x80);
  }

  private checkStore(st: State, i: number): void {
    const c = this.code[i]!;
    const cls = c & 7;
    const mode = c & 0xe0;
    const size = SIZE_BYTES[(c >> 3) & 3]!;
    const d = this.dst[i]!, s = this.src[i]!;
    if (cls === Cls.STX && mode === 0xc0) { this.checkAtomic(st, i, size); return; }
    if (mode !== 0x60) this.fail(i, `BPF_${cls === Cls.ST ? 'ST' : 'STX'} uses reserved fields`);
    const base = this.readReg(st, i, d);
    if (cls === Cls.STX) {
      this.readReg(st, i, s);
      this.memAccess(st, i, d, base, this.off[i]!, size, true, s, false);
    } else {
      this.memAccess(st, i, d, base, this.off[i]!, size, true, -1, false);
    }
  }

  private checkAtomic(st: State, i: number, size: number): void {
    const d = this.dst[i]!, s = this.src[i]!;
    const imm = this.imm[i]!;
    const ok = [0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1].includes(imm);
    if (!ok) this.fail(i, `BPF_ATOMIC uses invalid atomic opcode 0x${imm.toString(16)}`);
    if (size !== 4 && size !== 8) this.fail(i, 'invalid atomic operand size');
    const sr = this.readReg(st, i, s);
    const base = this.readReg(st, i, d);
    if (imm === 0xf1) this.readReg(st, i, 0);
    if (base.type === T.Ctx || base.type === T.Pkt || base.type === T.PktMeta || base.type === T.Sock || base.type === T.SockCommon || base.type === T.TcpSock) {
      this.fail(i, `BPF_ATOMIC stores into R${d} ${typeName(base)} is not allowed`);
    }
    if (sr.isPtr()) this.fail(i, `R${s} leaks addr into mem`);
    // read then write
    this.memAccess(st, i, d, base, this.off[i]!, size, false, -1, false);
    this.memAccess(st, i, d, base, this.off[i]!, size, true, -1, false);
    if (imm === 0xf1) { st.cur.regs[0]!.unknown(); if (size === 4) st.cur.regs[0]!.zext32(); }
    else if (imm & 1) { const r = this.writeReg(st, i, s); r.unknown(); if (size === 4) r.zext32(); }
  }

  /**
   * Check a memory access through register `regno` (state `reg`) at insn offset `ioff` of `size`
   * bytes. For loads, `valReg` receives the value; for stores it is the source register (-1 for
   * an immediate store).
   */
  private memAccess(st: State, i: number, regno: number, reg: Reg, ioff: number, size: number, write: boolean,
    valReg: number, signExt: boolean): void {
    const regs = st.cur.regs;
    if (reg.nul) {
      this.fail(i, `R${regno} invalid mem access '${typeName(reg)}'`, nullHint(reg));
    }
    const off = reg.off + ioff;
    switch (reg.type) {
      case T.Scalar:
        this.fail(i, `R${regno} invalid mem access 'scalar'`, 'the register holds a number, not a pointer the program may dereference');
        break;
      case T.Stack:
        this.stackAccess(st, i, regno, reg, off, size, write, valReg, signExt);
        return;
      case T.MapValue: {
        const m = this.maps[reg.map]!;
        if (write && isRdonly(m)) this.fail(i, `write into map forbidden, value_size=${m.valueSize} off=${off} size=${size}`, 'the map is read-only for programs (.rodata / BPF_F_RDONLY_PROG)');
        this.regionAccess(i, regno, reg, off, size, m.valueSize, 'map value', `value_size=${m.valueSize}`);
        if (!write) {
          const known = this.rodataConst(reg, off, size);
          if (known !== undefined) { this.writeReg(st, i, valReg).known(known); return; }
          this.loadUnknown(st, i, valReg, size, signExt);
        }
        return;
      }
      case T.MapKey: {
        const m = this.maps[reg.map]!;
        if (write) this.fail(i, `R${regno} cannot write into map_key`);
        this.regionAccess(i, regno, reg, off, size, m.keySize, 'map key', `key_size=${m.keySize}`);
        this.loadUnknown(st, i, valReg, size, signExt);
        return;
      }
      case T.Mem: {
        this.regionAccess(i, regno, reg, off, size, reg.mem, 'memory', `mem_size=${reg.mem}`);
        if (!write) this.loadUnknown(st, i, valReg, size, signExt);
        return;
      }
      case T.Pkt: case T.PktMeta: {
        if (write && !this.pktWritable()) this.fail(i, `cannot write into packet`, 'this program type may only read packet data directly');
        if (!write && !this.pktReadable()) this.fail(i, `invalid mem access '${typeName(reg)}'`);
        if (reg.smin < 0n) this.fail(i, `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
        const range = reg.range < 0 ? 0 : reg.range;
        if (reg.range < 0 || off < 0 || off + size > range) {
          this.fail(i, `invalid access to packet, off=${off} size=${size}, R${regno}(id=${reg.id},off=${reg.off},r=${range})`,
            reg.isConst() && reg.id === 0
              ? `add a bounds check against data_end covering ${off + size} bytes before this access, e.g. \`if (data + ${off + size} > data_end) return ...\``
              : 'add a bounds check against data_end after computing this header pointer, e.g. `if ((void *)(hdr + 1) > data_end) return ...`');
        }
        if (!write) this.loadUnknown(st, i, valReg, size, signExt);
        return;
      }
      case T.Ctx: {
        if (reg.off !== 0 || !reg.isConst()) {
          if (!reg.isConst()) this.fail(i, `variable ctx access var_off=${tnumStr(reg)} disallowed`);
          this.fail(i, `dereference of modified ctx ptr R${regno} off=${reg.off} disallowed`, 'access context fields through the unmodified ctx pointer');
        }
        if (write && valReg >= 0 && regs[valReg]!.isPtr()) this.fail(i, `R${valReg} leaks addr into ctx`);
        const f = ctxAccess(this.type, this.attach, off, size, write);
        if (f === CtxField.Invalid) {
          this.fail(i, `invalid bpf_context access off=${off} size=${size}`, `${this.type} programs may not ${write ? 'write' : 'read'} ${size} byte(s) at offset ${off} of their context`);
        }
        if (!write) {
          const r = this.writeReg(st, i, valReg);
          switch (f) {
            case CtxField.Pkt: r.ptr(T.Pkt, 0); r.id = 0; r.range = 0; break;
            case CtxField.PktEnd: r.ptr(T.PktEnd, 0); break;
            case CtxField.PktMeta: r.ptr(T.PktMeta, 0); break;
            case CtxField.SockCommonOrNull: r.ptr(T.SockCommon, 0); r.nul = true; r.id = ++this.idGen; break;
            default: this.loadUnknown(st, i, valReg, size, signExt);
          }
        }
        return;
      }
      case T.Sock: case T.SockCommon: case T.TcpSock: {
        if (write) this.fail(i, `R${regno} cannot write into ${typeName(reg)}`);
        if (off < 0 || off % size !== 0 || off + size > 80 || reg.off !== 0) this.fail(i, `R${regno} invalid ${typeName(reg)} access off=${off} size=${size}`);
        this.loadUnknown(st, i, valReg, size, signExt);
        return;
      }
      default:
        this.fail(i, `R${regno} invalid mem access '${typeName(reg)}'`);
    }
  }

  private pktWritable(): boolean {
    return this.type === 'xdp' || this.type === 'sched_cls' || this.type === 'sched_act' || this.type === 'lwt_xmit' || this.type === 'sk_skb';
  }
  private pktReadable(): boolean {
    return this.pktWritable() || this.type === 'cgroup_skb' || this.type === 'lwt_in' || this.type === 'lwt_out' || this.type === 'flow_dissector';
  }

  /** Known constant read from a frozen read-only map (the kernel reads .rodata at verification). */
  private rodataConst(reg: Reg, off: number, size: number): bigint | undefined {
    const m = this.maps[reg.map]!;
    if (!isRdonly(m) || !m.initialData || !reg.isConst()) return undefined;
    const o = off + Number(reg.tv);
    if (o < 0 || o + size > m.initialData.length) return undefined;
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(m.initialData[o + k]!);
    return v;
  }

  private loadUnknown(st: State, i: number, valReg: number, size: number, signExt: boolean): void {
    if (valReg < 0) return;
    const r = this.writeReg(st, i, valReg);
    r.unknown();
    if (size < 8) {
      if (signExt) {
        const half = 1 << (size * 8 - 1);
        r.smin = BigInt(-half); r.smax = BigInt(half - 1);
        r.sync();
      } else {
        r.u32min = 0; r.u32max = size === 4 ? U32 : (1 << (size * 8)) - 1;
        r.umax = BigInt(r.u32max); r.smin = 0n; r.smax = r.umax;
        r.sync();
        r.zext32();
      }
    }
  }

  /** Bounds of an access into a fixed-size region (map value/key, ringbuf memory). */
  private regionAccess(i: number, regno: number, reg: Reg, off: number, size: number, limit: number, what: string, detail: string): void {
    if (reg.smin < 0n) {
      this.fail(i, `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`, 'compare the index against 0 (or make it unsigned) before using it as an offset');
    }
    if (reg.umax >= BigInt(MAX_VAR_OFF)) {
      this.fail(i, `R${regno} unbounded memory access, make sure to bounds check any such access`, `bound the offset with a check such as \`if (idx >= N) return ...\` before the access`);
    }
    const lo = Number(reg.smin) + off;
    const hi = Number(reg.umax) + off + size;
    if (lo < 0 || hi > limit) {
      const vo = reg.isConst() ? off + Number(reg.tv) : off;
      if (reg.isConst()) this.fail(i, `invalid access to ${what}, ${detail} off=${vo} size=${size}`, `the access ends at byte ${vo + size} but the ${what} has ${limit} bytes`);
      this.fail(i, `R${regno} max value is outside of the allowed memory range`, `the access may reach byte ${hi} of a ${limit}-byte ${what}: tighten the bounds check on the index`);
    }
  }

  private stackAccess(st: State, i: number, regno: number, reg: Reg, off: number, size: number, write: boolean,
    valReg: number, signExt: boolean): void {
    if (regno !== 10 || reg.frame !== st.frames.length - 1 || !reg.isConst()) this.stackViaPtr[i] = 1;
    const frame = st.frames[reg.frame]!;
    if (!reg.isConst()) {
      // variable offset
      const lo = Number(reg.smin) + off, hi = Number(reg.smax) + off + size;
      if (reg.smin < -BigInt(MAX_STACK) || reg.smax > BigInt(MAX_STACK) || lo < -MAX_STACK || hi > 0) {
        this.fail(i, `invalid variable-offset ${write ? 'write to' : 'read from'} stack R${regno} var_off=${tnumStr(reg)} off=${off} size=${size}`, 'bound the index so the whole access stays inside the 512-byte stack');
      }
      this.noteDepth(st, reg.frame, lo);
      for (let b = lo; b < hi; b++) {
        const idx = MAX_STACK + b;
        if (write) {
          frame.ownSlot()[idx] = Slot.Misc;
          frame.spill[idx >> 3] = null;
        }
      }
      if (write) this.fixSpills(frame, lo, hi);
      if (!write) this.loadUnknown(st, i, valReg, size, signExt);
      return;
    }
    const o = off + Number(toS64(reg.tv));
    if (o < -MAX_STACK || o + size > 0) {
      this.fail(i, `invalid ${write ? 'write to' : 'read from'} stack R${regno} off=${o} size=${size}`, 'the BPF stack is 512 bytes: offsets from r10 must lie in [-512, -1]');
    }
    if (o % size !== 0) this.fail(i, `misaligned stack access off ${o}+0 size ${size}`, 'stack accesses must be aligned to their size');
    this.noteDepth(st, reg.frame, o);
    const idx = MAX_STACK + o;
    const slotIdx = idx >> 3;
    if (write) {
      const v = valReg >= 0 ? st.cur.regs[valReg]! : null;
      if (v && v.isPtr()) {
        if (size !== 8) this.fail(i, 'invalid size of register spill', 'pointers can only be spilled as whole 8-byte values');
      }
      if (v && size === 8 && (v.isPtr() || v.type === T.Scalar)) {
        for (let b = 0; b < 8; b++) frame.ownSlot()[idx + b] = Slot.Spill;
        const sp = frame.spill[slotIdx] ?? new Reg();
        sp.copy(v);
        frame.spill[slotIdx] = sp;
        return;
      }
      const zero = v ? v.type === T.Scalar && v.isZero() : this.imm[i] === 0;
      if (!v && size === 8) {
        // BPF_ST of a constant: a spilled known scalar
        for (let b = 0; b < 8; b++) frame.ownSlot()[idx + b] = Slot.Spill;
        const sp = frame.spill[slotIdx] ?? new Reg();
        sp.known(BigInt(this.imm[i]!));
        frame.spill[slotIdx] = sp;
        return;
      }
      // partial write scrubs a spilled register in the slot
      if (frame.spill[slotIdx]) {
        const base = slotIdx << 3;
        for (let b = 0; b < 8; b++) if (frame.slot[base + b] === Slot.Spill) frame.ownSlot()[base + b] = Slot.Misc;
        frame.spill[slotIdx] = null;
      }
      for (let b = 0; b < size; b++) frame.ownSlot()[idx + b] = zero ? Slot.Zero : Slot.Misc;
      return;
    }
    // read
    const sp = frame.spill[slotIdx];
    if (sp && frame.slot[idx] === Slot.Spill) {
      if (size === 8) {
        this.writeReg(st, i, valReg).copy(sp);
        return;
      }
      if (sp.isPtr()) this.fail(i, 'invalid size of register fill', 'a spilled pointer must be read back as a whole 8-byte value');
      this.loadUnknown(st, i, valReg, size, signExt);
      return;
    }
    let allZero = true;
    for (let b = 0; b < size; b++) {
      const t = frame.slot[idx + b]!;
      if (t !== Slot.Zero) allZero = false;
    }
    if (allZero) { this.writeReg(st, i, valReg).known(0n); return; }
    this.loadUnknown(st, i, valReg, size, signExt);
  }

  private fixSpills(frame: Frame, lo: number, hi: number): void {
    for (let s = (MAX_STACK + lo) >> 3; s <= (MAX_STACK + hi - 1) >> 3; s++) {
      if (frame.spill[s]) {
        frame.spill[s] = null;
        for (let b = 0; b < 8; b++) if (frame.slot[s * 8 + b] === Slot.Spill) frame.ownSlot()[s * 8 + b] = Slot.Misc;
      }
    }
  }

  private noteDepth(st: State, frameNo: number, off: number): void {
    const fr = st.frames[frameNo]!;
    if (-off > fr.used) fr.used = Math.min(MAX_STACK, -off);
    const fn = fr.fn;
    if (-off > this.fnDepth[fn]!) this.fnDepth[fn] = -off;
  }

  // ---------------------------------------------------------------- jumps and calls

  private checkJmp(st: State, i: number, stack: State[]): number {
    this.jmps++;
    const c = this.code[i]!;
    const cls = c & 7;
    const op = c & 0xf0;
    const isX = (c & 8) !== 0;
    const d = this.dst[i]!, s = this.src[i]!;
    if (op === J.JA) {
      if (cls === Cls.JMP32) return i + this.imm[i]! + 1;
      return i + this.off[i]! + 1;
    }
    if (op === J.EXIT) return this.checkExit(st, i);
    if (op === J.CALL) {
      if (cls !== Cls.JMP) this.fail(i, 'BPF_CALL uses reserved fields');
      if (isX) this.fail(i, 'indirect calls (callx) are not supported');
      if (s === 1) return this.callSubprog(st, i);
      if (s === 2) this.fail(i, 'kfunc calls are not supported by the emulator verifier', 'use helper functions instead of kfuncs when targeting the emulator');
      return this.callHelper(st, i, stack);
    }
    if (op === J.JCOND) {
      this.fail(i, 'may_goto is not supported by the emulator verifier');
    }
    const is32 = cls === Cls.JMP32;
    const target = i + this.off[i]! + 1;
    const dr = this.readReg(st, i, d);
    let sr: Reg;
    if (isX) sr = this.readReg(st, i, s);
    else { sr = this.tmpReg; sr.known(is32 ? BigInt(this.imm[i]! >>> 0) : BigInt(this.imm[i]!)); }

    // decide
    const taken = this.branchTaken(op, dr, sr, is32);
    const cmpRegs = (1 << d) | (isX ? 1 << s : 0);
    this.linked = (dr.type === T.Scalar && dr.id !== 0) || (isX && sr.type === T.Scalar && sr.id !== 0) ? 1 : 0;
    if (taken >= 0) this.markPrecise(st, i, cmpRegs);
    if (taken === 1) {
      // the fall-through is dead: apply the (trivially true) refinement on the taken path
      return target;
    }
    if (taken === 0) return i + 1;

    // both paths: the taken branch is a copy
    const other = this.pushBranch(st, target, i, stack);
    const odr = other.cur.regs[d]!;
    const osr = isX ? other.cur.regs[s]! : sr;
    let dead = false;
    // packet pointer comparisons
    if (isX && !is32 && (dr.isPtr() || sr.isPtr())) {
      this.pktCompare(op, st, other, d, s);
    }
    // null checks
    if ((op === J.JEQ || op === J.JNE) && !is32 && sr.type === T.Scalar && sr.isZero() && dr.nul) {
      // other = taken branch: JEQ → null, JNE → non-null
      this.markNull(other, odr.id, odr.ref, op === J.JEQ);
      this.markNull(st, dr.id, dr.ref, op !== J.JEQ);
      if (dr.ref && op === J.JEQ) this.releaseRef(other, dr.ref);
      if (dr.ref && op === J.JNE) this.releaseRef(st, dr.ref);
    } else if (dr.type === T.Scalar && sr.type === T.Scalar) {
      const okT = this.refine(op, odr, osr, is32, true, other);
      const okF = this.refine(op, dr, sr, is32, false, st);
      if (!okT || !okF) this.markPrecise(st, i, cmpRegs);
      if (!okT) { other.insn = -1; }
      if (!okF) dead = true;
    }
    if (other.insn === -1) {
      // impossible branch: drop it
      stack.pop();
      if (st.parent) st.parent.branches--;
    }
    if (dead) return -1;
    return i + 1;
  }

  private markNull(st: State, id: number, ref: number, isNull: boolean): void {
    if (id === 0) return;
    for (const f of st.frames) {
      for (const r of f.regs) this.markNullReg(r, id, isNull);
      for (const sp of f.spill) if (sp) this.markNullReg(sp, id, isNull);
    }
    void ref;
  }
  private markNullReg(r: Reg, id: number, isNull: boolean): void {
    if (!r.nul || r.id !== id) return;
    if (isNull) { r.known(0n); return; }
    r.nul = false;
    if (r.type !== T.Sock && r.type !== T.SockCommon && r.type !== T.TcpSock && r.type !== T.Mem) r.id = 0;
  }

  private releaseRef(st: State, ref: number): void {
    const k = st.refs.findIndex((r) => r.id === ref);
    if (k >= 0) st.refs.splice(k, 1);
  }

  private pktCompare(op: number, fall: State, taken: State, d: number, s: number): void {
    const dr = fall.cur.regs[d]!, sr = fall.cur.regs[s]!;
    const dt = dr.type, stp = sr.type;
    const isPktEnd = (a: T, b: Reg): boolean => (a === T.Pkt && b.type === T.PktEnd) || (a === T.PktMeta && b.type === T.Pkt && b.off === 0 && b.isZero());
    const fwd = isPktEnd(dt, sr);
    const rev = (dt === T.PktEnd && stp === T.Pkt) || (dt === T.Pkt && dr.off === 0 && dr.isZero() && stp === T.PktMeta);
    if (!fwd && !rev) return;
    // which register carries the pointer, which state gets the range, right-open?
    switch (op) {
      case J.JGT:
        if (fwd) { this.goodPkt(fall, d, false); this.pktEnd(taken, d, true); }
        else { this.goodPkt(taken, s, true); this.pktEnd(fall, s, false); }
        break;
      case J.JLT:
        if (fwd) { this.goodPkt(taken, d, true); this.pktEnd(fall, d, false); }
        else { this.goodPkt(fall, s, false); this.pktEnd(taken, s, true); }
        break;
      case J.JGE:
        if (fwd) { this.goodPkt(fall, d, true); this.pktEnd(taken, d, false); }
        else { this.goodPkt(taken, s, false); this.pktEnd(fall, s, true); }
        break;
      case J.JLE:
        if (fwd) { this.goodPkt(taken, d, false); this.pktEnd(fall, d, true); }
        else { this.goodPkt(fall, s, true); this.pktEnd(taken, s, false); }
        break;
    }
  }

  private goodPkt(st: State, regno: number, rightOpen: boolean): void {
    const r = st.cur.regs[regno]!;
    if (r.off < 0 || (r.off === 0 && rightOpen)) return;
    if (r.umax > BigInt(MAX_PACKET_OFF) || r.umax + BigInt(r.off) > BigInt(MAX_PACKET_OFF)) return;
    // pkt' <= end proves `off` bytes; pkt' < end one more
    const nr = rightOpen ? r.off + 1 : r.off;
    const type = r.type, id = r.id;
    for (const f of st.frames) {
      for (const x of f.regs) if (x.type === type && x.id === id && x.range < nr) x.range = nr;
      for (const x of f.spill) if (x && x.type === type && x.id === id && x.range < nr) x.range = nr;
    }
  }

  private pktEnd(st: State, regno: number, open: boolean): void {
    const r = st.cur.regs[regno]!;
    if (r.type !== T.Pkt) return;
    r.range = open ? BEYOND_PKT_END : AT_PKT_END;
  }

  /** 1 always taken, 0 never, -1 unknown. */
  private branchTaken(op: number, a: Reg, b: Reg, is32: boolean): number {
    if (a.isPtr() || b.isPtr()) {
      if (a.isPtr() && b.isPtr()) {
        if (a.type === T.PktEnd || b.type === T.PktEnd) return this.pktBranchTaken(op, a, b);
        return -1;
      }
      const p = a.isPtr() ? a : b, sc = a.isPtr() ? b : a;
      if (is32 || p.nul || !sc.isConst() || sc.tv !== 0n) return -1;
      if (p.type === T.Scalar) return -1;
      if (op === J.JEQ) return 0;
      if (op === J.JNE) return 1;
      return -1;
    }
    if (is32) {
      const au = a.u32min, aU = a.u32max, bu = b.u32min, bU = b.u32max;
      const as = a.s32min, aS = a.s32max, bs = b.s32min, bS = b.s32max;
      const atv = a.tv & U32N, atm = a.tm & U32N, btv = b.tv & U32N, btm = b.tm & U32N;
      return decide(op, au, aU, bu, bU, as, aS, bs, bS, atv, atm, btv, btm);
    }
    return decide(op, a.umin, a.umax, b.umin, b.umax, a.smin, a.smax, b.smin, b.smax, a.tv, a.tm, b.tv, b.tm);
  }

  private pktBranchTaken(op: number, a: Reg, b: Reg): number {
    let pkt: Reg;
    if (b.type === T.PktEnd) pkt = a;
    else { pkt = b; op = flipOp(op); }
    if (pkt.type !== T.Pkt || pkt.range >= 0) return -1;
    switch (op) {
      case J.JLE: case J.JGT:
        if (pkt.range === BEYOND_PKT_END) return op === J.JGT ? 1 : 0;
        break;
      case J.JLT: case J.JGE:
        if (pkt.range === BEYOND_PKT_END || pkt.range === AT_PKT_END) return op === J.JGE ? 1 : 0;
        break;
    }
    return -1;
  }

  /**
   * Narrow scalar `a` (and `b`) assuming `a op b` is `outcome`. Returns false when that is
   * impossible. Scalars linked by id to `a`/`b` get the same bounds.
   */
  private refine(op: number, a: Reg, b: Scalar, is32: boolean, outcome: boolean, st: State): boolean {
    let o = op;
    if (!outcome) o = negateOp(op);
    const bIsReg = b instanceof Reg && b !== this.tmpReg;
    if (is32) {
      refine32(o, a, b);
    } else {
      refine64(o, a, b);
    }
    a.sync();
    if (bIsReg) (b as Reg).sync();
    if (a.isEmpty() || (bIsReg && (b as Reg).isEmpty())) return false;
    // propagate to linked scalars
    if (a.id) this.propagate(st, a);
    if (bIsReg && (b as Reg).id) this.propagate(st, b as Reg);
    return true;
  }

  private propagate(st: State, r: Reg): void {
    for (const f of st.frames) {
      for (const x of f.regs) if (x !== r && x.type === T.Scalar && x.id === r.id) x.copy(r);
      for (const x of f.spill) if (x && x !== r && x.type === T.Scalar && x.id === r.id) x.copy(r);
    }
  }

  private callSubprog(st: State, i: number): number {
    const target = i + this.imm[i]! + 1;
    if (st.frames.length >= MAX_CALL_FRAMES) this.fail(i, `the call stack of ${st.frames.length + 1} frames is too deep !`, 'reduce the nesting of non-inlined functions (at most 8 frames)');
    if (st.lockMap) this.fail(i, 'function calls are not allowed while holding a lock');
    const caller = st.cur;
    const fn = this.fnOf[target]!;
    let edges = this.callEdges.get(caller.fn);
    if (!edges) this.callEdges.set(caller.fn, (edges = new Set()));
    edges.add(fn);
    const params = this.globals[fn];
    if (params) {
      // a global function was (or will be) verified on its own: check the arguments, R0 = scalar
      for (let a = 0; a < params.length; a++) {
        const rn = a + 1;
        const r = this.readReg(st, i, rn);
        const p = params[a]!;
        if (p.kind === 0 && r.type !== T.Scalar) this.fail(i, `R${rn} is not a scalar`, `argument ${a + 1} of the global function is an integer`);
        if (p.kind === 1 && (r.type !== T.Ctx || r.off !== 0 || !r.isConst())) this.fail(i, `arg#${a} expected pointer to ctx, but got ${typeName(r)}`);
        if (p.kind === 2 && !(r.type === T.Scalar && r.isZero())) this.helperMem(st, i, rn, r, p.size, false, false);
      }
      for (let r = 1; r <= 5; r++) caller.regs[r]!.notInit();
      caller.regs[0]!.unknown();
      return i + 1;
    }
    const callee = new Frame();
    callee.callsite = i + 1;
    callee.fn = fn;
    callee.no = st.frames.length;
    for (let r = 1; r <= 5; r++) callee.regs[r]!.copy(caller.regs[r]!);
    callee.regs[10]!.ptr(T.Stack, 0);
    callee.regs[10]!.frame = callee.no;
    st.frames.push(callee);
    // caller's r1-r5 are scratched once the call returns; r0 set at exit
    return target;
  }

  private checkExit(st: State, i: number): number {
    const f = st.cur;
    if (st.frames.length > 1 && f.callback) {
      const r0 = this.readReg(st, i, 0);
      if (r0.type !== T.Scalar) this.fail(i, `At callback return the register R0 is not a known value (${typeName(r0)})`);
      this.markPrecise(st, i, 1);
      if (r0.smin < 0n || r0.smax > 1n) this.fail(i, `At callback return the register R0 has ${r0.isConst() ? `value ${r0.smin}` : 'unknown scalar value'} should have been in [0, 1]`, 'a bpf_loop callback returns 0 (continue) or 1 (stop)');
      st.frames.pop();
      // back to the bpf_loop call: the callback may run again with the updated caller state
      return f.callsite;
    }
    if (st.frames.length > 1) {
      // returning from a subprogram: R0 may be uninitialised (the caller then cannot read it)
      const r0 = st.cur.regs[0]!;
      if (r0.type === T.Stack) this.fail(i, 'cannot return stack pointer to the caller', 'return values may not point into any stack frame');
      st.frames.pop();
      const caller = st.cur;
      caller.regs[0]!.copy(r0);
      for (let r = 1; r <= 5; r++) caller.regs[r]!.notInit();
      return f.callsite;
    }
    const r0 = this.readReg(st, i, 0);
    if (this.globalMode && st.frames.length === 1 && st.frames[0]!.fn !== 0) {
      if (r0.type !== T.Scalar) this.fail(i, `At subprogram exit the register R0 is not a scalar value (${typeName(r0)})`, 'global functions return an integer');
      if (st.refs.length) this.fail(i, `Unreleased reference id=${st.refs[0]!.id} alloc_insn=${st.refs[0]!.insn}`);
      return -1;
    }
    if (st.lockMap) this.fail(i, 'bpf_spin_unlock is missing', 'release the spin lock on every path before returning');
    if (st.refs.length) {
      const ref = st.refs[0]!;
      this.fail(i, `Unreleased reference id=${ref.id} alloc_insn=${ref.insn}`,
        ref.kind === 0 ? 'call bpf_ringbuf_submit() or bpf_ringbuf_discard() on every path after bpf_ringbuf_reserve()' : 'call bpf_sk_release() on every path after a socket lookup');
    }
    const rr = returnRange(this.type, this.attach);
    if (rr) {
      this.markPrecise(st, i, 1);
      if (r0.type !== T.Scalar) this.fail(i, `At program exit the register R0 is not a known value (${typeName(r0)})`, `return a value in [${rr[0]}, ${rr[1]}]`);
      if (r0.smin < BigInt(rr[0]) || r0.smax > BigInt(rr[1])) {
        this.fail(i, `At program exit the register R0 has ${r0.isConst() ? `value ${r0.smin}` : 'unknown scalar value'} should have been in [${rr[0]}, ${rr[1]}]`, `${this.type} programs must return a value in [${rr[0]}, ${rr[1]}]`);
      }
    }
    return -1;
  }

  /**
   * bpf_loop(nr, cb, ctx, flags): one path continues after the call (the loop finished), the
   * other runs the callback once and comes back to the call, until the caller state converges.
   */
  private callLoop(st: State, i: number, stack: State[]): number {
    const regs = st.cur.regs;
    const target = regs[2]!.off;
    if (st.frames.length >= MAX_CALL_FRAMES) this.fail(i, `the call stack of ${st.frames.length + 1} frames is too deep !`);
    const done = this.pushBranch(st, i + 1, i, stack);
    const dr = done.cur.regs;
    for (let r = 1; r <= 5; r++) dr[r]!.notInit();
    dr[0]!.unknown();
    const caller = st.cur;
    const fn = this.fnOf[target]!;
    let edges = this.callEdges.get(caller.fn);
    if (!edges) this.callEdges.set(caller.fn, (edges = new Set()));
    edges.add(fn);
    const callee = new Frame();
    callee.callsite = i;
    callee.callback = true;
    callee.fn = fn;
    callee.no = st.frames.length;
    callee.regs[1]!.unknown();
    callee.regs[2]!.copy(caller.regs[3]!);
    callee.regs[10]!.ptr(T.Stack, 0);
    callee.regs[10]!.frame = callee.no;
    st.frames.push(callee);
    return target;
  }

  private callHelper(st: State, i: number, stack: State[]): number {
    const id = this.imm[i]!;
    const name = helperName(id) ?? `${id}`;
    const proto = PROTOS.get(id);
    if (!proto || !helperAllowed(this.type, id)) {
      if (!progTypeModelled(this.type)) this.fail(i, `program type ${this.type} is not supported by the emulator verifier`);
      if (!proto && helperName(id) === undefined) this.fail(i, `invalid func unknown#${id}`);
      this.fail(i, `program of this type cannot use helper bpf_${name}#${id}`, `bpf_${name} is not available to ${this.type} programs (or not modelled by the emulator)`);
    }
    const regs = st.cur.regs;
    this.helperPrecision(st, i, proto.args);
    this.keyConstVal = -1;
    let mapIdx = -1;
    let memReg = -1;
    let allocSize = 0;
    let releaseRef = 0;
    let spinArg = -1;
    for (let a = 0; a < proto.args.length; a++) {
      const kind = proto.args[a]!;
      const rn = a + 1;
      const r = this.readReg(st, i, rn);
      switch (kind) {
        case Arg.Any:
          break;
        case Arg.Map:
          if (r.type !== T.MapPtr) this.argType(i, rn, r, 'map_ptr');
          mapIdx = r.map;
          this.checkMapCompat(i, id, mapIdx);
          break;
        case Arg.Key: case Arg.Value: case Arg.ValueOut: {
          if (mapIdx < 0) this.fail(i, `invalid map_ptr to access map->${kind === Arg.Key ? 'key' : 'value'}`);
          const m = this.maps[mapIdx]!;
          const sz = kind === Arg.Key ? m.keySize : m.valueSize;
          this.helperMem(st, i, rn, r, sz, kind === Arg.ValueOut, false);
          break;
        }
        case Arg.Mem: case Arg.MemOut: case Arg.MemOrNull:
          if (kind === Arg.MemOrNull && r.type === T.Scalar && r.isZero()) { memReg = -2; break; }
          memReg = rn;
          break;
        case Arg.Size: case Arg.Size0: {
          if (r.type !== T.Scalar) this.argType(i, rn, r, 'scalar');
          if (r.smin < 0n) this.fail(i, `R${rn} min value is negative, either use unsigned or 'var &= const'`);
          if (r.umin === 0n && kind === Arg.Size) {
            this.fail(i, `invalid zero-sized read`, `make sure the size passed in R${rn} is at least 1`);
          }
          if (r.umax >= 1n << 29n) this.fail(i, `R${rn} unbounded memory access, use 'var &= const' or 'if (var < const)'`, 'bound the size argument before the call');
          if (memReg === -2) { memReg = -1; break; }
          if (memReg < 0) this.fail(i, `R${rn} size argument without a memory argument`);
          const pr = regs[memReg]!;
          const size = Number(r.umax);
          if (size > 0) {
            const out = proto.args[memReg - 1] === Arg.MemOut;
            this.helperMem(st, i, memReg, pr, size, out, kind === Arg.Size0);
          } else if (pr.type === T.Scalar && !pr.isZero()) {
            this.argType(i, memReg, pr, 'mem');
          }
          memReg = -1;
          break;
        }
        case Arg.Ctx:
          if (r.type !== T.Ctx) this.argType(i, rn, r, 'ctx');
          if (r.off !== 0 || !r.isConst()) this.fail(i, `dereference of modified ctx ptr R${rn} off=${r.off} disallowed`);
          break;
        case Arg.AllocSize:
          if (r.type !== T.Scalar || !r.isConst()) this.fail(i, `R${rn} is not a known constant'`, 'bpf_ringbuf_reserve needs a compile-time constant size');
          allocSize = Number(r.tv);
          break;
        case Arg.RingbufRelease:
          if (r.type !== T.Mem || r.nul) this.argType(i, rn, r, 'ringbuf_mem', r.nul ? 'check the reserved pointer for NULL before submitting or discarding it' : undefined);
          if (r.off !== 0 || !r.isConst()) this.fail(i, `R${rn} must have zero offset when passed to release func`, 'pass the pointer returned by bpf_ringbuf_reserve unchanged');
          if (!r.ref) this.fail(i, `R${rn} must be referenced when passed to release function`);
          releaseRef = r.ref;
          break;
        case Arg.SockCommon:
          if (r.nul || !(r.type === T.Sock || r.type === T.SockCommon || r.type === T.TcpSock)) this.argType(i, rn, r, 'sock_common');
          break;
        case Arg.SockRelease:
          if (r.nul || !(r.type === T.Sock || r.type === T.SockCommon || r.type === T.TcpSock)) this.argType(i, rn, r, 'sock', r.nul ? 'check the socket for NULL before releasing it' : undefined);
          if (!r.ref) this.fail(i, `R${rn} must be referenced when passed to release function`);
          releaseRef = r.ref;
          break;
        case Arg.Func:
          if (r.type !== T.Func) this.argType(i, rn, r, 'func');
          break;
        case Arg.StackOrNull:
          if (!(r.type === T.Stack || (r.type === T.Scalar && r.isZero()))) this.argType(i, rn, r, 'fp');
          break;
        case Arg.SpinLock:
          if (r.type !== T.MapValue || r.nul) this.argType(i, rn, r, 'map_value');
          spinArg = rn;
          this.fail(i, 'bpf_spin_lock needs map BTF, which the emulator verifier does not model', 'spin locks are verified by the kernel backend only');
          break;
      }
    }
    void spinArg;
    if (id === 181) return this.callLoop(st, i, stack);
    if (id === 12) {
      // bpf_tail_call
      if (st.refs.length) this.fail(i, 'tail_call would lead to reference leak', 'release references before bpf_tail_call');
      if (st.lockMap) this.fail(i, 'tail_call cannot be used inside bpf_spin_lock-ed region');
      this.tailCallFns.add(st.cur.fn);
      if (st.frames.length > 1) {
        let depth = 0;
        for (let f = 0; f < st.frames.length - 1; f++) depth += round32(this.fnDepth[st.frames[f]!.fn]!);
        if (depth > 256) this.fail(i, `tail_calls are not allowed when call stack of previous frames is ${depth} bytes. Too large`);
      }
    }
    if (releaseRef) {
      const k = st.refs.findIndex((r) => r.id === releaseRef);
      if (k < 0) this.fail(i, `R1 must be referenced when passed to release function`);
      st.refs.splice(k, 1);
      // every copy of the released pointer becomes unusable
      for (const f of st.frames) {
        for (const r of f.regs) if (r.ref === releaseRef) r.unknown();
        for (let s = 0; s < f.spill.length; s++) {
          const sp = f.spill[s];
          if (sp && sp.ref === releaseRef) sp.unknown();
        }
      }
    }
    for (let r = 1; r <= 5; r++) regs[r]!.notInit();
    const r0 = regs[0]!;
    switch (proto.ret) {
      case Ret.Int: r0.unknown(); break;
      case Ret.Void: r0.notInit(); break;
      case Ret.MapValue: r0.ptr(T.MapValue, 0); r0.map = mapIdx; break;
      case Ret.MapValueOrNull: {
        const m = this.maps[mapIdx]!;
        if (m.type === 'array_of_maps' || m.type === 'hash_of_maps') {
          if (!m.innerMap) this.fail(i, `map ${this.mapNames[mapIdx]} has no inner map template`);
          r0.ptr(T.MapPtr, 0); r0.map = this.innerIndex(mapIdx); r0.nul = true; r0.id = ++this.idGen;
          break;
        }
        r0.ptr(T.MapValue, 0); r0.map = mapIdx;
        if (!this.constKeyInRange(st, i, m)) { r0.nul = true; r0.id = ++this.idGen; }
        break;
      }
      case Ret.RingbufOrNull: {
        r0.ptr(T.Mem, 0); r0.mem = allocSize; r0.nul = true; r0.id = ++this.idGen;
        const ref = ++this.idGen;
        r0.ref = ref;
        st.refs.push({ id: ref, insn: i, kind: 0 });
        break;
      }
      case Ret.SockOrNull: case Ret.SockCommonOrNull: case Ret.TcpSockOrNull: {
        r0.ptr(proto.ret === Ret.SockOrNull ? T.Sock : proto.ret === Ret.TcpSockOrNull ? T.TcpSock : T.SockCommon, 0);
        r0.nul = true; r0.id = ++this.idGen;
        if (proto.acquire) {
          const ref = ++this.idGen;
          r0.ref = ref;
          st.refs.push({ id: ref, insn: i, kind: 1 });
        }
        break;
      }
    }
    return i + 1;
  }

  /** The kernel (6.14+) drops the NULL case of array lookups with a constant in-range key. */
  private keyConstVal = -1;
  private constKeyInRange(st: State, i: number, m: { type: MapType; maxEntries: number; keySize: number }): boolean {
    void st; void i;
    if (!(m.type === 'array' || m.type === 'percpu_array')) return false;
    const k = this.keyConstVal;
    return k >= 0 && k < m.maxEntries;
  }

  private innerIndex(outer: number): number {
    const name = `${this.mapNames[outer]}.inner`;
    let k = this.mapNames.indexOf(name);
    if (k < 0) { k = this.maps.length; this.maps.push(this.maps[outer]!.innerMap!); this.mapNames.push(name); }
    return k;
  }

  private checkMapCompat(i: number, helper: number, mapIdx: number): void {
    const m = this.maps[mapIdx]!;
    const t = m.type;
    const bad = (): never => this.fail(i, `cannot pass map_type ${mapTypeNum(t)} into func bpf_${helperName(helper)}#${helper}`, `bpf_${helperName(helper)} does not work on ${t} maps`);
    switch (t) {
      case 'ringbuf':
        if (![130, 131, 134].includes(helper)) bad();
        break;
      case 'prog_array':
        if (helper !== 12) bad();
        break;
      case 'perf_event_array':
        if (![22, 25, 55, 111, 121].includes(helper)) bad();
        break;
      case 'queue': case 'stack':
        if (![87, 88, 89].includes(helper)) bad();
        break;
      case 'devmap': case 'devmap_hash': case 'cpumap': case 'xskmap':
        if (![51, 1].includes(helper)) bad();
        break;
      case 'stack_trace':
        if (helper !== 27) bad();
        break;
      case 'array_of_maps': case 'hash_of_maps':
        if (helper !== 1) bad();
        break;
      case 'bloom_filter':
        if (helper !== 87 && helper !== 89) bad();
        break;
      case 'hash': case 'array': case 'percpu_hash': case 'percpu_array': case 'lru_hash': case 'lru_percpu_hash':
      case 'lpm_trie':
        break;
      default:
        // map types whose helper rules the emulator does not model: only their own helpers pass
        bad();
    }
    switch (helper) {
      case 130: case 131: case 134: if (t !== 'ringbuf') bad(); break;
      case 12: if (t !== 'prog_array') bad(); break;
      case 25: if (t !== 'perf_event_array') bad(); break;
      case 87: case 88: case 89: if (t !== 'queue' && t !== 'stack' && t !== 'bloom_filter') bad(); break;
      case 51: if (!['devmap', 'devmap_hash', 'cpumap', 'xskmap'].includes(t)) bad(); break;
      case 27: if (t !== 'stack_trace') bad(); break;
    }
  }

  private argType(i: number, rn: number, r: Reg, expected: string, hint?: string): never {
    const got = r.type === T.NotInit ? 'uninit' : typeName(r);
    this.fail(i, `R${rn} type=${got} expected=${expected}`, hint ?? (r.nul ? 'check the pointer for NULL before passing it to the helper' : undefined));
  }

  /** A helper reads (or writes, `out`) `size` bytes at register `rn`. */
  private helperMem(st: State, i: number, rn: number, r: Reg, size: number, out: boolean, zeroOk: boolean): void {
    void zeroOk;
    if (r.nul) this.argType(i, rn, r, 'mem', 'check the pointer for NULL before passing it to the helper');
    this.keyConstVal = -1;
    switch (r.type) {
      case T.Stack: {
        const frame = st.frames[r.frame]!;
        const lo = Number(r.smin) + r.off, hi = Number(r.smax) + r.off + size;
        if (!r.isConst() && (r.smin < -BigInt(MAX_STACK) || r.smax > 0n)) this.fail(i, `R${rn} unbounded indirect variable offset stack access`);
        if (lo < -MAX_STACK || hi > 0) {
          this.fail(i, `invalid indirect access to stack R${rn} off=${lo} size=${size}`, 'the buffer passed to the helper does not fit in the 512-byte stack');
        }
        this.noteDepth(st, r.frame, lo);
        if (out) {
          for (let b = lo; b < hi; b++) frame.ownSlot()[MAX_STACK + b] = Slot.Misc;
          this.fixSpills(frame, lo, hi);
          return;
        }
        // reads: bytes must have been written (privileged loaders may read uninitialised stack)
        if (r.isConst()) {
          // constant key (for array lookups)
          const idx = MAX_STACK + lo;
          const sp = frame.spill[idx >> 3];
          if ((idx & 7) === 0 && sp && sp.type === T.Scalar && sp.isConst() && size === 8) {
            const v = sp.tv;
            if (v < 0x7fffffffn) this.keyConstVal = Number(v);
          } else {
            let allZero = true;
            for (let b = lo; b < hi; b++) if (frame.slot[MAX_STACK + b] !== Slot.Zero) allZero = false;
            if (allZero) this.keyConstVal = 0;
          }
        }
        return;
      }
      case T.Pkt: case T.PktMeta: {
        if (out && !this.pktWritable()) this.fail(i, `helper access to the packet is not allowed`);
        const range = r.range < 0 ? 0 : r.range;
        if (r.smin < 0n || r.range < 0 || r.off < 0 || r.off + size > range) {
          this.fail(i, `invalid access to packet, off=${r.off} size=${size}, R${rn}(id=${r.id},off=${r.off},r=${range})`, `add a bounds check against data_end covering ${r.off + size} bytes before passing the packet pointer to the helper`);
        }
        return;
      }
      case T.MapValue: {
        const m = this.maps[r.map]!;
        if (out && isRdonly(m)) this.fail(i, `write into map forbidden, value_size=${m.valueSize} off=${r.off} size=${size}`);
        this.regionAccess(i, rn, r, r.off, size, m.valueSize, 'map value', `value_size=${m.valueSize}`);
        return;
      }
      case T.MapKey: {
        const m = this.maps[r.map]!;
        this.regionAccess(i, rn, r, r.off, size, m.keySize, 'map key', `key_size=${m.keySize}`);
        return;
      }
      case T.Mem:
        this.regionAccess(i, rn, r, r.off, size, r.mem, 'memory', `mem_size=${r.mem}`);
        return;
      case T.Ctx:
        this.fail(i, `R${rn} type=ctx expected=fp, pkt, pkt_meta, map_key, map_value, mem`);
        break;
      default:
        this.argType(i, rn, r, 'fp, pkt, pkt_meta, map_key, map_value, mem');
    }
  }

  private checkStackDepth(): void {
    // combined stack of every call chain (frames rounded to 32 bytes), as check_max_stack_depth
    const memo = new Map<number, number>();
    const visit = (fn: number, depthSoFar: number, frames: number): void => {
      const here = depthSoFar + round32(Math.max(this.fnDepth[fn]!, 1));
      if (here > MAX_STACK) {
        throw new Fail(this.fnStart[fn]!, `combined stack size of ${frames} calls is ${here}. Too large`, 'move large buffers into a per-CPU array map');
      }
      const prev = memo.get(fn);
      if (prev !== undefined && prev >= here) return;
      memo.set(fn, here);
      for (const callee of this.callEdges.get(fn) ?? []) visit(callee, here, frames + 1);
    };
    visit(0, 0, 1);
  }
}

function isRdonly(m: VerifierMap): boolean {
  return (m.flags & RDONLY_PROG) !== 0 || (m.section ?? '').startsWith('.rodata');
}

/** Exact result of a constant ALU op (undefined for ops the kernel does not track: div, mod). */
function constAlu(op: number, a: bigint, b: bigint, is64: boolean): bigint | undefined {
  if (!is64) { a &= U32N; b &= U32N; }
  const w = is64 ? 64 : 32;
  let r: bigint;
  switch (op) {
    case Op.ADD: r = a + b; break;
    case Op.SUB: r = a - b; break;
    case Op.MUL: r = a * b; break;
    case Op.AND: r = a & b; break;
    case Op.OR: r = a | b; break;
    case Op.XOR: r = a ^ b; break;
    case Op.LSH: if (b >= BigInt(w)) return undefined; r = a << b; break;
    case Op.RSH: if (b >= BigInt(w)) return undefined; r = a >> b; break;
    case Op.ARSH: if (b >= BigInt(w)) return undefined; r = BigInt.asIntN(w, a) >> b; break;
    default: return undefined;
  }
  return BigInt.asUintN(w, r);
}

const UNKNOWN_T = { v: 0n, m: U64 };

function unknown32(r: Scalar): boolean {
  return (r.tm & U32N) === U32N && r.u32min === 0 && r.u32max === U32 && r.s32min === S32_MIN && r.s32max === S32_MAX;
}

function round32(n: number): number {
  return (n + 31) & ~31;
}

function zview(out: Scalar, r: Scalar): void {
  out.setUnknown();
  out.tv = r.tv & U32N; out.tm = r.tm & U32N;
  out.umin = BigInt(r.u32min); out.umax = BigInt(r.u32max);
  out.smin = out.umin; out.smax = out.umax;
  out.u32min = r.u32min; out.u32max = r.u32max; out.s32min = r.s32min; out.s32max = r.s32max;
}

function xview(out: Scalar, r: Scalar): void {
  out.setUnknown();
  const v = r.tv & U32N, m = r.tm & U32N;
  const hiMask = 0xffffffff00000000n;
  let tv = v, tm = m;
  if (m & 0x80000000n) tm |= hiMask;
  else if (v & 0x80000000n) tv |= hiMask;
  out.tv = tv & ~tm & U64; out.tm = tm;
  out.smin = BigInt(r.s32min); out.smax = BigInt(r.s32max);
  out.u32min = r.u32min; out.u32max = r.u32max; out.s32min = r.s32min; out.s32max = r.s32max;
}

function negateOp(op: number): number {
  switch (op) {
    case J.JEQ: return J.JNE;
    case J.JNE: return J.JEQ;
    case J.JGT: return J.JLE;
    case J.JLE: return J.JGT;
    case J.JGE: return J.JLT;
    case J.JLT: return J.JGE;
    case J.JSGT: return J.JSLE;
    case J.JSLE: return J.JSGT;
    case J.JSGE: return J.JSLT;
    case J.JSLT: return J.JSGE;
    case J.JSET: return J.JNSET;
    default: return op;
  }
}

function flipOp(op: number): number {
  switch (op) {
    case J.JGT: return J.JLT;
    case J.JLT: return J.JGT;
    case J.JGE: return J.JLE;
    case J.JLE: return J.JGE;
    case J.JSGT: return J.JSLT;
    case J.JSLT: return J.JSGT;
    case J.JSGE: return J.JSLE;
    case J.JSLE: return J.JSGE;
    default: return op;
  }
}

/** is_branch_taken over (unsigned, signed, tnum) triples of either width. */
function decide<N extends number | bigint>(op: number, au: N, aU: N, bu: N, bU: N, as: N, aS: N, bs: N, bS: N,
  atv: bigint, atm: bigint, btv: bigint, btm: bigint): number {
  const aConst = atm === 0n, bConst = btm === 0n;
  switch (op) {
    case J.JEQ: case J.JNE: {
      let r = -1;
      if (aConst && bConst) r = atv === btv ? 1 : 0;
      else if (au > bU || aU < bu || as > bS || aS < bs) r = 0;
      else if (((atv ^ btv) & ~(atm | btm)) !== 0n) r = 0;
      if (r < 0) return -1;
      return op === J.JEQ ? r : 1 - r;
    }
    case J.JSET:
      if (!bConst) return -1;
      if ((atv & btv) !== 0n) return 1;
      if (((atv | atm) & btv) === 0n) return 0;
      return -1;
    case J.JGT: if (au > bU) return 1; if (aU <= bu) return 0; return -1;
    case J.JGE: if (au >= bU) return 1; if (aU < bu) return 0; return -1;
    case J.JLT: if (aU < bu) return 1; if (au >= bU) return 0; return -1;
    case J.JLE: if (aU <= bu) return 1; if (au > bU) return 0; return -1;
    case J.JSGT: if (as > bS) return 1; if (aS <= bs) return 0; return -1;
    case J.JSGE: if (as >= bS) return 1; if (aS < bs) return 0; return -1;
    case J.JSLT: if (aS < bs) return 1; if (as >= bS) return 0; return -1;
    case J.JSLE: if (aS <= bs) return 1; if (as > bS) return 0; return -1;
  }
  return -1;
}

function maxB(a: bigint, b: bigint): bigint { return a > b ? a : b; }
function minB(a: bigint, b: bigint): bigint { return a < b ? a : b; }

function refine64(op: number, a: Scalar, b: Scalar): void {
  switch (op) {
    case J.JEQ: {
      const umin = maxB(a.umin, b.umin), umax = minB(a.umax, b.umax);
      const smin = maxB(a.smin, b.smin), smax = minB(a.smax, b.smax);
      const v = a.tv | b.tv, m = a.tm & b.tm;
      a.umin = b.umin = umin; a.umax = b.umax = umax; a.smin = b.smin = smin; a.smax = b.smax = smax;
      if ((a.tv & ~b.tm & U64) !== (b.tv & ~a.tm & U64)) { a.umin = 1n; a.umax = 0n; return; }
      a.tv = b.tv = v & ~m & U64; a.tm = b.tm = m;
      break;
    }
    case J.JNE:
      if (b.isConst()) shrinkNe64(a, b.tv);
      else if (a.isConst()) shrinkNe64(b, a.tv);
      break;
    case J.JGT: a.umin = maxB(a.umin, b.umin + 1n); if (a.umax > 0n) b.umax = minB(b.umax, a.umax - 1n); else b.umin = 1n, b.umax = 0n; break;
    case J.JGE: a.umin = maxB(a.umin, b.umin); b.umax = minB(b.umax, a.umax); break;
    case J.JLT: b.umin = maxB(b.umin, a.umin + 1n); if (b.umax > 0n) a.umax = minB(a.umax, b.umax - 1n); else a.umin = 1n, a.umax = 0n; break;
    case J.JLE: b.umin = maxB(b.umin, a.umin); a.umax = minB(a.umax, b.umax); break;
    case J.JSGT: a.smin = maxB(a.smin, b.smin + 1n); b.smax = minB(b.smax, a.smax - 1n); break;
    case J.JSGE: a.smin = maxB(a.smin, b.smin); b.smax = minB(b.smax, a.smax); break;
    case J.JSLT: b.smin = maxB(b.smin, a.smin + 1n); a.smax = minB(a.smax, b.smax - 1n); break;
    case J.JSLE: b.smin = maxB(b.smin, a.smin); a.smax = minB(a.smax, b.smax); break;
    case J.JSET:
      if (b.isConst() && b.tv !== 0n && (b.tv & (b.tv - 1n)) === 0n) { a.tv |= b.tv; a.tm &= ~b.tv & U64; }
      break;
    case J.JNSET:
      if (b.isConst()) { a.tv &= ~b.tv & U64; a.tm &= ~b.tv & U64; }
      break;
  }
}

function shrinkNe64(a: Scalar, v: bigint): void {
  if (a.umin === v && a.umin < a.umax) a.umin++;
  else if (a.umax === v && a.umin < a.umax) a.umax--;
  else if (a.umin === v && a.umax === v) { a.umin = 1n; a.umax = 0n; return; }
  const sv = toS64(v);
  if (a.smin === sv && a.smin < a.smax) a.smin++;
  else if (a.smax === sv && a.smin < a.smax) a.smax--;
}

function refine32(op: number, a: Scalar, b: Scalar): void {
  const M = 0xffffffffn;
  switch (op) {
    case J.JEQ: {
      const umin = Math.max(a.u32min, b.u32min), umax = Math.min(a.u32max, b.u32max);
      const smin = Math.max(a.s32min, b.s32min), smax = Math.min(a.s32max, b.s32max);
      a.u32min = b.u32min = umin; a.u32max = b.u32max = umax; a.s32min = b.s32min = smin; a.s32max = b.s32max = smax;
      const av = a.tv & M, am = a.tm & M, bv = b.tv & M, bm = b.tm & M;
      if ((av & ~bm & M) !== (bv & ~am & M)) { a.u32min = 1; a.u32max = 0; return; }
      const v = av | bv, m = am & bm;
      a.tv = (a.tv & ~M & U64) | (v & ~m & M); a.tm = (a.tm & ~M & U64) | m;
      b.tv = (b.tv & ~M & U64) | (v & ~m & M); b.tm = (b.tm & ~M & U64) | m;
      break;
    }
    case J.JNE:
      if (b.isConst32()) shrinkNe32(a, Number(b.tv & M));
      else if (a.isConst32()) shrinkNe32(b, Number(a.tv & M));
      break;
    case J.JGT: a.u32min = Math.max(a.u32min, b.u32min + 1); b.u32max = Math.min(b.u32max, a.u32max - 1); break;
    case J.JGE: a.u32min = Math.max(a.u32min, b.u32min); b.u32max = Math.min(b.u32max, a.u32max); break;
    case J.JLT: b.u32min = Math.max(b.u32min, a.u32min + 1); a.u32max = Math.min(a.u32max, b.u32max - 1); break;
    case J.JLE: b.u32min = Math.max(b.u32min, a.u32min); a.u32max = Math.min(a.u32max, b.u32max); break;
    case J.JSGT: a.s32min = Math.max(a.s32min, b.s32min + 1); b.s32max = Math.min(b.s32max, a.s32max - 1); break;
    case J.JSGE: a.s32min = Math.max(a.s32min, b.s32min); b.s32max = Math.min(b.s32max, a.s32max); break;
    case J.JSLT: b.s32min = Math.max(b.s32min, a.s32min + 1); a.s32max = Math.min(a.s32max, b.s32max - 1); break;
    case J.JSLE: b.s32min = Math.max(b.s32min, a.s32min); a.s32max = Math.min(a.s32max, b.s32max); break;
    case J.JSET: {
      const bv = b.tv & M;
      if (b.isConst32() && bv !== 0n && (bv & (bv - 1n)) === 0n) { a.tv |= bv; a.tm &= ~bv & U64; }
      break;
    }
    case J.JNSET:
      if (b.isConst32()) { const bv = b.tv & M; a.tv &= ~bv & U64; a.tm &= ~bv & U64; }
      break;
  }
}

function shrinkNe32(a: Scalar, v: number): void {
  if (a.u32min === v && a.u32min < a.u32max) a.u32min++;
  else if (a.u32max === v && a.u32min < a.u32max) a.u32max--;
  else if (a.u32min === v && a.u32max === v) { a.u32min = 1; a.u32max = 0; return; }
  const sv = v | 0;
  if (a.s32min === sv && a.s32min < a.s32max) a.s32min++;
  else if (a.s32max === sv && a.s32min < a.s32max) a.s32max--;
}

export function typeName(r: Reg): string {
  const base = ['', 'scalar', 'ctx', 'map_ptr', 'map_value', 'map_key', 'fp', 'pkt', 'pkt_meta', 'pkt_end', 'ringbuf_mem', 'sock', 'sock_common', 'tcp_sock'][r.type] ?? 'unknown';
  return r.nul ? `${base}_or_null` : base;
}

function opName(op: number): string {
  return ['+=', '-=', '*=', '/=', '|=', '&=', '<<=', '>>=', 'neg', '%=', '^=', '=', 's>>=', 'end'][op >> 4] ?? '?';
}

export function tnumStr(r: Scalar): string {
  return `(0x${r.tv.toString(16)}; 0x${r.tm.toString(16)})`;
}

function nullHint(r: Reg): string {
  if (r.type === T.MapValue) return 'check the pointer returned by bpf_map_lookup_elem() for NULL before using it';
  if (r.type === T.Mem) return 'check the pointer returned by bpf_ringbuf_reserve() for NULL before using it';
  return 'check the pointer for NULL before dereferencing it';
}

function mapTypeNum(t: MapType): string {
  return t;
}

export { Fail };
export type { SourceLocation, RefState };
export { S64_MIN, S64_MAX, U32, S32_MIN, S32_MAX };

const S32_MIN_N = BigInt(S32_MIN);
const S32_MAX_N = BigInt(S32_MAX);

/** Access size in bytes of a load/store opcode. */
function sizeOf(code: number): number {
  switch (code & 0x18) {
    case 0x00: return 4;
    case 0x08: return 2;
    case 0x10: return 1;
    default: return 8;
  }
}
