/**
 * Verifier state: registers, stack frames and whole-program states, as fixed-shape objects.
 */
import { Scalar, U64 } from './scalar.js';

/** Register types (the kernel's enum bpf_reg_type, the subset bpfkit models). */
export const enum T {
  NotInit = 0,
  Scalar,
  Ctx,
  MapPtr,
  MapValue,
  MapKey,
  Stack,
  Pkt,
  PktMeta,
  PktEnd,
  /** Ring buffer record (PTR_TO_MEM | MEM_RINGBUF / MEM_ALLOC). */
  Mem,
  Sock,
  SockCommon,
  TcpSock,
  /** PTR_TO_FUNC: `off` is the callback's first insn. */
  Func,
}

export const TYPE_NAMES = ['', 'scalar', 'ctx', 'map_ptr', 'map_value', 'map_key', 'fp', 'pkt', 'pkt_meta', 'pkt_end',
  'mem', 'sock', 'sock_common', 'tcp_sock', 'func'];

export class Reg extends Scalar {
  type: T = T.NotInit;
  /** PTR_MAYBE_NULL */
  nul = false;
  /** Fixed offset of a pointer. */
  off = 0;
  /** Pointer identity (null checks, packet ranges). */
  id = 0;
  /** Reference (acquired object) id, 0 if none. */
  ref = 0;
  /** Packet range proven by a comparison against pkt_end (or BEYOND/AT_PKT_END when < 0). */
  range = 0;
  /** Index of the map for MapPtr / MapValue / MapKey. */
  map = -1;
  /** Size of the memory region for Mem. */
  mem = 0;
  /** Frame number of a stack pointer. */
  frame = 0;

  copy(o: Reg): void {
    this.copyScalar(o);
    this.type = o.type; this.nul = o.nul; this.off = o.off; this.id = o.id; this.ref = o.ref; this.range = o.range;
    this.map = o.map; this.mem = o.mem; this.frame = o.frame;
  }

  clone(): Reg {
    const r = new Reg();
    r.copy(this);
    return r;
  }

  notInit(): void {
    this.type = T.NotInit; this.setUnknown(); this.clearPtr();
  }
  unknown(): void {
    this.type = T.Scalar; this.setUnknown(); this.clearPtr();
  }
  known(v: bigint): void {
    this.type = T.Scalar; this.setConst(v); this.clearPtr();
  }
  /** A pointer with zero variable offset. */
  ptr(type: T, off: number): void {
    this.type = type; this.setConst(0n); this.clearPtr(); this.off = off;
  }
  clearPtr(): void {
    this.nul = false; this.off = 0; this.id = 0; this.ref = 0; this.range = 0; this.map = -1; this.mem = 0; this.frame = 0;
  }
  isPtr(): boolean {
    return this.type > T.Scalar;
  }
}

export const enum Slot {
  Invalid = 0,
  Spill = 1,
  Misc = 2,
  Zero = 3,
}

export const MAX_STACK = 512;

export class Frame {
  readonly regs: Reg[] = [];
  /**
   * One byte type per stack byte; index = 512 + fp offset. Shared copy-on-write between clones:
   * write only through `ownSlot()`.
   */
  slot: Uint8Array;
  private shared = false;
  /** Spilled register per 8-byte slot (index = (512 + fp offset) >> 3). */
  readonly spill: (Reg | null)[] = new Array<Reg | null>(MAX_STACK / 8).fill(null);
  /** Insn to return to (caller's call insn index + 1), -1 for the main frame. */
  callsite = -1;
  /** Subprogram index. */
  fn = 0;
  /** Frame number. */
  no = 0;
  /** A bpf_loop callback frame: returns to the calling insn (`callsite`) to iterate again. */
  callback = false;
  /** Bytes of stack touched so far (slots below 512 - used are all Invalid). */
  used = 0;

  /** A fresh frame, or (from `clone`) one sharing `slot` whose registers the caller fills in. */
  constructor(slot?: Uint8Array) {
    if (slot) { this.slot = slot; return; }
    this.slot = new Uint8Array(MAX_STACK);
    for (let i = 0; i < 11; i++) this.regs.push(new Reg());
  }

  /** The stack byte types, for writing (copied first if shared with a clone). */
  ownSlot(): Uint8Array {
    if (this.shared) { this.slot = this.slot.slice(); this.shared = false; }
    return this.slot;
  }

  clone(): Frame {
    const f = new Frame(this.slot);
    for (let i = 0; i < 11; i++) f.regs.push(this.regs[i]!.clone());
    f.shared = this.shared = true;
    for (let i = 0; i < this.spill.length; i++) {
      const s = this.spill[i];
      if (s) f.spill[i] = s.clone();
    }
    f.callsite = this.callsite; f.fn = this.fn; f.no = this.no; f.callback = this.callback; f.used = this.used;
    return f;
  }
}

export interface RefState {
  id: number;
  insn: number;
  /** 0 ringbuf record, 1 socket */
  kind: number;
}

/** A node of the explored-state tree (the kernel's parent/branches bookkeeping). */
export interface Checkpoint {
  st: State;
  branches: number;
  parent: Checkpoint | null;
  insn: number;
  hit: number;
  miss: number;
  /**
   * Precision (the kernel's mark_chain_precision): registers (bit per register) and stack slots
   * (per 8-byte slot, index = (512 + fp offset) >> 3) of frame 0 whose exact value a later safety
   * check depended on. Imprecise scalars are compared as "any scalar" when pruning.
   */
  preg: number;
  pslot: Uint8Array;
  /** Every scalar is precise (multi-frame or global-function states, or a backtrack gave up). */
  all: boolean;
  /** `all` holds for this checkpoint and every ancestor. */
  allUp: boolean;
  /** Non-sequential transitions (from, to, linked) from the parent checkpoint to this one. */
  hist: number[];
}

export class State {
  frames: Frame[] = [];
  refs: RefState[] = [];
  /** Held spin lock: map index + 1 and offset (0 = none). */
  lockMap = 0;
  lockOff = 0;
  parent: Checkpoint | null = null;
  insn = 0;
  /** Insn index of the branch that produced this state (for the log), -1 at the start. */
  from = -1;
  /** Non-sequential transitions since `parent` as (from, to, linked-scalar jump) triples. */
  hist: number[] = [];

  clone(): State {
    const s = new State();
    s.frames = this.frames.map((f) => f.clone());
    s.refs = this.refs.map((r) => ({ ...r }));
    s.lockMap = this.lockMap; s.lockOff = this.lockOff;
    s.parent = this.parent; s.insn = this.insn; s.from = this.from;
    s.hist = this.hist.slice();
    return s;
  }

  get cur(): Frame {
    return this.frames[this.frames.length - 1]!;
  }
}

export function isUnknownScalar(r: Reg): boolean {
  return r.type === T.Scalar && r.tm === U64 && r.isUnbounded();
}
