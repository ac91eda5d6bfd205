/**
 * Facts for the JIT: which registers have a known high half before each instruction (a forward
 * dataflow over the basic blocks, to a fixpoint). Most BPF values are 32-bit (loads of 1/2/4
 * bytes, ALU32 results, small immediates), so knowing `hi = 0` lets the JIT compare or add the
 * low halves only. Conservative: anything not derivable from the instruction alone is unknown
 * (entry and function starts, helper results, pointers).
 */
import type { Analysis } from '../engine.js';

/** Known high halves before each slot: `known[pc * 11 + r]` = 1 when `value[pc * 11 + r]` holds. */
export interface HiFacts {
  known: Uint8Array;
  value: Int32Array;
}

type State = (number | undefined)[];

function sizeOf(code: number): number {
  switch (code & 0x18) {
    case 0x00: return 4;
    case 0x08: return 2;
    case 0x10: return 1;
    default: return 8;
  }
}

/** Apply instruction `pc` to `s` (in place). */
function transfer(A: Analysis, pc: number, s: State): void {
  const code = A.code[pc]!;
  const dst = A.dst[pc]!;
  const src = A.src[pc]!;
  const imm = A.imm[pc]!;
  const cls = code & 7;
  const x = (code & 0x08) !== 0;
  switch (cls) {
    case 4: { // ALU32: zero-extends, except END to-le/be 64
      if ((code & 0xf0) === 0xd0 && imm === 64) s[dst] = x ? undefined : s[dst];
      else s[dst] = 0;
      return;
    }
    case 7: {
      const op = code & 0xf0;
      const d = s[dst];
      const sv = x ? s[src] : imm >> 31;
      switch (op) {
        case 0xb0:
          s[dst] = A.off[pc] === 0 ? sv : undefined;
          return;
        case 0x50:
          s[dst] = sv === 0 || d === 0 ? 0 : d !== undefined && sv !== undefined ? d & sv : sv === -1 ? d : undefined;
          return;
        case 0x40:
          s[dst] = sv === -1 || d === -1 ? -1 : d !== undefined && sv !== undefined ? d | sv : sv === 0 ? d : undefined;
          return;
        case 0xa0:
          s[dst] = d !== undefined && sv !== undefined ? d ^ sv : sv === 0 ? d : undefined;
          return;
        case 0x70:
          s[dst] = (!x && (imm & 63) >= 32) || d === 0 ? 0 : undefined;
          return;
        case 0xc0:
          s[dst] = d === 0 || d === -1 ? d : undefined;
          return;
        case 0x30: case 0x90:
          s[dst] = d === 0 && A.off[pc] === 0 ? 0 : undefined;
          return;
        case 0xd0:
          s[dst] = imm === 64 ? undefined : 0;
          return;
        default:
          s[dst] = undefined;
          return;
      }
    }
    case 1: // LDX
      s[dst] = (code & 0xe0) === 0x60 && sizeOf(code) < 8 ? 0 : undefined;
      return;
    case 3: { // STX: atomics with fetch write a register
      if ((code & 0xe0) !== 0xc0) return;
      if (imm === 0x100) s[dst] = sizeOf(code) < 8 ? 0 : undefined;
      else if (imm & 1 && imm !== 0x110) s[imm === 0xf1 ? 0 : src] = sizeOf(code) < 8 ? 0 : undefined;
      return;
    }
    case 0:
      if (code === 0x18) s[dst] = A.imm64Hi[pc]!;
      else s[0] = 0;
      return;
    case 5: {
      if (code === 0x85 && src === 0) {
        if (imm !== 12) s[0] = undefined;
      } else if (code === 0x8d || (code === 0x85 && src === 1)) {
        for (let r = 0; r <= 5; r++) s[r] = undefined;
      }
      return;
    }
    default:
      return;
  }
}

export function hiFacts(A: Analysis): HiFacts {
  const n = A.n;
  const known = new Uint8Array(n * 11);
  const value = new Int32Array(n * 11);
  const inState: (State | undefined)[] = new Array(n);
  const work: number[] = [];
  const unknown = (): State => new Array<number | undefined>(11).fill(undefined);
  const merge = (t: number, s: State): void => {
    const cur = inState[t];
    if (cur === undefined) {
      inState[t] = s.slice();
      work.push(t);
      return;
    }
    let changed = false;
    for (let r = 0; r < 11; r++) {
      if (cur[r] !== undefined && cur[r] !== s[r]) {
        cur[r] = undefined;
        changed = true;
      }
    }
    if (changed) work.push(t);
  };
  for (let pc = 0; pc < n; pc++) if (A.funcStart[pc]) merge(pc, unknown());
  while (work.length) {
    const start = work.pop()!;
    const s = inState[start]!.slice();
    let pc = start;
    for (;;) {
      for (let r = 0; r < 11; r++) {
        if (s[r] !== undefined) {
          known[pc * 11 + r] = 1;
          value[pc * 11 + r] = s[r]!;
        } else known[pc * 11 + r] = 0;
      }
      const code = A.code[pc]!;
      const cls = code & 7;
      transfer(A, pc, s);
      const next = code === 0x18 ? pc + 2 : pc + 1;
      if (cls === 5 || cls === 6) {
        const op = code & 0xf0;
        if (op === 0x90) break; // exit
        if (op === 0x80) {
          if (next < n) merge(next, s);
          break;
        }
        const t = A.target[pc]!;
        if (t >= 0) merge(t, s);
        if (op === 0x00) break; // ja / gotol
        if (next < n) merge(next, s);
        break;
      }
      if (next >= n) break;
      if (A.leader[next]) {
        merge(next, s);
        break;
      }
      pc = next;
    }
  }
  // Facts recorded on a first visit may have been weakened later: recompute from final states.
  known.fill(0);
  for (let start = 0; start < n; start++) {
    const st = inState[start];
    if (st === undefined || !A.leader[start]) continue;
    const s = st.slice();
    let pc = start;
    for (;;) {
      for (let r = 0; r < 11; r++) {
        if (s[r] !== undefined) {
          known[pc * 11 + r] = 1;
          value[pc * 11 + r] = s[r]!;
        }
      }
      transfer(A, pc, s);
      const code = A.code[pc]!;
      const next = code === 0x18 ? pc + 2 : pc + 1;
      if (next >= n || A.leader[next]) break;
      pc = next;
    }
  }
  // Registers whose unsigned value is bounded below 2^32 have a zero high half.
  const small = smallFacts(A);
  for (let i = 0; i < small.length; i++) {
    if (small[i] && !known[i]) {
      known[i] = 1;
      value[i] = 0;
    }
  }
  return { known, value };
}

/** Registers (bit mask) instruction `pc` reads and writes. */
function useDef(A: Analysis, pc: number): [number, number] {
  const code = A.code[pc]!;
  const dst = A.dst[pc]!;
  const src = A.src[pc]!;
  const imm = A.imm[pc]!;
  const cls = code & 7;
  const x = (code & 0x08) !== 0;
  const d = 1 << dst;
  const s = 1 << src;
  switch (cls) {
    case 4: case 7: {
      const op = code & 0xf0;
      if (op === 0xb0) return [x ? s : 0, d];
      return [d | (x && op !== 0xd0 ? s : 0), d];
    }
    case 1: return [s, d];
    case 2: return [d, 0];
    case 3: {
      if ((code & 0xe0) !== 0xc0) return [d | s, 0];
      if (imm === 0x100) return [s, d];
      if (imm === 0x110) return [d | s, 0];
      if (imm === 0xf1) return [d | s | 1, 1];
      return [d | s, imm & 1 ? s : 0];
    }
    case 0:
      if (code === 0x18) return [0, d];
      return [(code & 0xe0) === 0x40 ? s : 0, 1];
    default: {
      const op = code & 0xf0;
      if (op === 0x90) return [1, 0];
      if (op === 0x80) {
        if (code === 0x85 && src === 0) return [0x3e | (imm === 12 ? 1 : 0), imm === 12 ? 0 : 1];
        return [0x7ff, 0x3f]; // bpf-to-bpf call / callx: the callee may read anything
      }
      if (op === 0x00 || op === 0xe0) return [0, 0];
      return [d | (x ? s : 0), 0];
    }
  }
}

/** Registers (bit mask) that may be read before being written on some path from slot 0. */
export function liveAtEntry(A: Analysis): number {
  return liveIn(A)[0]!;
}

/** Per slot: registers (bit mask) that may be read before being written on some path from it. */
export function liveIn(A: Analysis): Int32Array {
  return backward(A, 0, (pc, out) => {
    const [use, def] = useDef(A, pc);
    return use | (out & ~def);
  });
}

/**
 * Union of `state` over the successors of slot `pc`; `unknown` for a jump whose target is not a
 * slot of this function (nothing after an exit).
 */
export function succOut(A: Analysis, pc: number, state: Int32Array, unknown: number): number {
  const n = A.n;
  const code = A.code[pc]!;
  const cls = code & 7;
  const next = code === 0x18 ? pc + 2 : pc + 1;
  if (cls === 5 || cls === 6) {
    const op = code & 0xf0;
    if (op === 0x90) return 0;
    if (op === 0x80) return next < n ? state[next]! : 0;
    const t = A.target[pc]!;
    let out = t >= 0 ? state[t]! : unknown;
    if (op !== 0x00 && next < n) out |= state[next]!;
    return out;
  }
  return next < n ? state[next]! : 0;
}

/** Backward dataflow over slots to a fixpoint: state(pc) = transfer(pc, succOut(pc)). */
function backward(A: Analysis, unknown: number, transfer: (pc: number, out: number) => number): Int32Array {
  const n = A.n;
  const state = new Int32Array(n + 1);
  let changed = true;
  while (changed) {
    changed = false;
    for (let pc = n - 1; pc >= 0; pc--) {
      if (A.inner[pc]) continue;
      const v = transfer(pc, succOut(A, pc, state, unknown));
      if (v !== state[pc]) {
        state[pc] = v;
        changed = true;
      }
    }
  }
  return state;
}

// ---- unsigned upper bounds (small values, loop counters) ----------------------------------

type Bounds = (number | undefined)[];
const U32 = 0xffffffff;
const LIMIT = 2 ** 52;
const cap = (v: number): number | undefined => (v < LIMIT ? v : undefined);

/** Apply instruction `pc` to upper bounds `u` (in place). */
function transferBounds(A: Analysis, pc: number, u: Bounds): void {
  const code = A.code[pc]!;
  const dst = A.dst[pc]!;
  const src = A.src[pc]!;
  const imm = A.imm[pc]!;
  const cls = code & 7;
  const x = (code & 0x08) !== 0;
  const op = code & 0xf0;
  switch (cls) {
    case 4: { // ALU32: zero-extended results
      let v: number | undefined = U32;
      if (op === 0xb0 && !x && A.off[pc] === 0) v = imm >>> 0;
      else if (op === 0x50 && !x) v = imm >>> 0;
      else if (op === 0xd0) v = imm === 16 ? 0xffff : imm === 32 ? U32 : undefined;
      u[dst] = v;
      return;
    }
    case 7: {
      const d = u[dst];
      const s = x ? u[src] : imm >= 0 ? imm : undefined;
      switch (op) {
        case 0xb0: u[dst] = A.off[pc] === 0 ? s : undefined; return;
        case 0x50: u[dst] = d !== undefined && s !== undefined ? Math.min(d, s) : (s ?? d); return;
        case 0x00: u[dst] = d !== undefined && s !== undefined ? cap(d + s) : undefined; return;
        case 0x70:
          if (x) u[dst] = d;
          else u[dst] = d !== undefined ? Math.floor(d / 2 ** (imm & 63)) : (imm & 63) >= 12 ? cap(2 ** (64 - (imm & 63)) - 1) : undefined;
          return;
        case 0x60: u[dst] = !x && d !== undefined ? cap(d * 2 ** (imm & 63)) : undefined; return;
        case 0x30: u[dst] = A.off[pc] === 0 ? d : undefined; return; // unsigned div never grows (÷0 → 0)
        case 0x90: u[dst] = A.off[pc] === 0 && d !== undefined && s !== undefined ? Math.min(d, s) : A.off[pc] === 0 ? d : undefined; return;
        case 0xd0: u[dst] = imm === 16 ? 0xffff : imm === 32 ? U32 : undefined; return;
        default: u[dst] = undefined; return;
      }
    }
    case 1: {
      const size = (code & 0x18) === 0x00 ? 4 : (code & 0x18) === 0x08 ? 2 : (code & 0x18) === 0x10 ? 1 : 8;
      u[dst] = (code & 0xe0) === 0x60 && size < 8 ? 2 ** (8 * size) - 1 : undefined;
      return;
    }
    case 3: {
      if ((code & 0xe0) !== 0xc0) return;
      const small = (code & 0x18) === 0x00 ? U32 : undefined;
      if (imm === 0x100) u[dst] = (code & 0x18) === 0x18 ? undefined : U32;
      else if (imm & 1 && imm !== 0x110) u[imm === 0xf1 ? 0 : src] = small;
      return;
    }
    case 0:
      if (code === 0x18) {
        const hi = A.imm64Hi[pc]!;
        u[dst] = hi >= 0 && hi < 0x100000 ? cap(hi * 4294967296 + (A.imm64Lo[pc]! >>> 0)) : undefined;
      } else u[0] = U32;
      return;
    case 5:
      if (code === 0x85 && src === 0) {
        if (imm !== 12) u[0] = undefined;
      } else if (code === 0x8d || (code === 0x85 && src === 1)) {
        for (let r = 0; r <= 5; r++) u[r] = undefined;
      }
      return;
    default:
      return;
  }
}

/** Bounds on the taken (`taken` = true) or fall-through edge of a conditional jump at `pc`. */
function refine(A: Analysis, pc: number, u: Bounds, taken: boolean): Bounds {
  const code = A.code[pc]!;
  if ((code & 7) !== 5 || (code & 0x08) !== 0) return u;
  const imm = A.imm[pc]!;
  if (imm < 0) return u;
  const dst = A.dst[pc]!;
  const op = code & 0xf0;
  let bound: number | undefined;
  if (op === 0xa0 && taken) bound = imm - 1; // jlt
  else if (op === 0xb0 && taken) bound = imm; // jle
  else if (op === 0x30 && !taken) bound = imm - 1; // jge
  else if (op === 0x20 && !taken) bound = imm; // jgt
  else if (op === 0x10 && taken) bound = imm; // jeq
  if (bound === undefined || bound < 0) return u;
  const out = u.slice();
  out[dst] = out[dst] === undefined ? bound : Math.min(out[dst]!, bound);
  return out;
}

/** 1 at `pc * 11 + r` when register r is below 2^32 (high half 0) before slot pc. */
export function smallFacts(A: Analysis): Uint8Array {
  const n = A.n;
  const inState: (Bounds | undefined)[] = new Array(n);
  const visits = new Int32Array(n);
  const work: number[] = [];
  const merge = (t: number, s: Bounds): void => {
    const cur = inState[t];
    if (cur === undefined) {
      inState[t] = s.slice();
      work.push(t);
      return;
    }
    let changed = false;
    // Widening at loop headers (every cycle passes a checkpoint: a backward-jump target): after
    // a few rounds a growing bound jumps to 2^32-1 (still "small"), and from there to unbounded.
    const widen = A.checkpoint[t] === 1 && ++visits[t]! > 8;
    for (let r = 0; r < 11; r++) {
      const c = cur[r];
      if (c === undefined) continue;
      const v = s[r];
      if (v === undefined || v > c) {
        cur[r] = v === undefined ? undefined : !widen ? v : v <= U32 ? U32 : undefined;
        changed = true;
      }
    }
    if (changed) work.push(t);
  };
  const none = (): Bounds => new Array<number | undefined>(11).fill(undefined);
  for (let pc = 0; pc < n; pc++) if (A.funcStart[pc]) merge(pc, none());
  const walk = (start: number, record: Uint8Array | null): void => {
    const s = inState[start]!.slice();
    let pc = start;
    for (;;) {
      if (record !== null) for (let r = 0; r < 11; r++) if (s[r] !== undefined && s[r]! <= U32) record[pc * 11 + r] = 1;
      const code = A.code[pc]!;
      const cls = code & 7;
      transferBounds(A, pc, s);
      const next = code === 0x18 ? pc + 2 : pc + 1;
      if (cls === 5 || cls === 6) {
        const op = code & 0xf0;
        if (op === 0x90) return;
        if (op === 0x80) {
          if (next < n && record === null) merge(next, s);
          return;
        }
        const t = A.target[pc]!;
        if (record === null) {
          if (t >= 0) merge(t, refine(A, pc, s, true));
          if (op !== 0x00 && next < n) merge(next, refine(A, pc, s, false));
        }
        return;
      }
      if (next >= n) return;
      if (A.leader[next]) {
        if (record === null) merge(next, s);
        return;
      }
      pc = next;
    }
  };
  while (work.length) walk(work.pop()!, null);
  const out = new Uint8Array(n * 11);
  for (let start = 0; start < n; start++) if (inState[start] !== undefined && A.leader[start]) walk(start, out);
  return out;
}

// ---- demanded high halves ------------------------------------------------------------------

/**
 * High halves instruction `pc` reads given which of its results' high halves are demanded
 * afterwards (`out`), and the registers whose high half it defines: [use, def].
 * Conservative: whatever may reach memory addresses, helpers, compares, the exit value or a
 * low half (right shifts, div/mod, 64-bit byte swaps) is demanded.
 */
function hiUseDef(A: Analysis, pc: number, out: number, facts: HiFacts): [number, number] {
  const code = A.code[pc]!;
  const dst = A.dst[pc]!;
  const src = A.src[pc]!;
  const imm = A.imm[pc]!;
  const cls = code & 7;
  const x = (code & 0x08) !== 0;
  const d = 1 << dst;
  const s = x ? 1 << src : 0;
  const need = (out & d) !== 0;
  switch (cls) {
    case 7: {
      switch (code & 0xf0) {
        // low half of the result from low halves only: the inputs' high halves matter only
        // when the result's does
        case 0x00: case 0x10: case 0x20: case 0x40: case 0xa0: return [need ? d | s : 0, d];
        // and with a value whose high half is known 0 (an immediate ≥ 0, a register per hiFacts)
        case 0x50: return [need && (x ? !(facts.known[pc * 11 + src] && facts.value[pc * 11 + src] === 0) : imm < 0) ? d | s : 0, d];
        case 0x80: return [need ? d : 0, d];
        case 0xb0: return [A.off[pc] === 0 && need ? s : 0, d];
        case 0x60: return [x ? d : (imm & 63) >= 32 || !need ? 0 : d, d];
        case 0xd0: return [imm === 64 ? d : 0, d];
        default: return [d | s, d]; // right shifts, div, mod
      }
    }
    case 4: return [(code & 0xf0) === 0xd0 ? d : 0, d];
    case 1: return [1 << src, d];
    case 2: return [d, 0];
    case 3: return [d | (1 << src) | 1, 0];
    case 0:
      if (code === 0x18) return [0, d];
      return [0x7ff, 0];
    default: {
      const op = code & 0xf0;
      if (op === 0x90) return [1, 0];
      // helpers read r1-r5 (a tail call r1-r3) and set r0; calls to functions never get here
      if (op === 0x80) return code === 0x85 && src === 0 ? (imm === 12 ? [0x0e, 0] : [0x3e, 1]) : [0x7ff, 0];
      if (op === 0x00 || op === 0xe0) return [0, 0];
      return cls === 5 ? [d | s, 0] : [0, 0];
    }
  }
}

/**
 * Per slot: registers (bit mask) whose high half may be read (as defined by hiUseDef) before
 * being written on some path from it. Programs with bpf-to-bpf calls or callx: everything.
 */
export function hiDemand(A: Analysis, facts: HiFacts): Int32Array {
  for (let pc = 0; pc < A.n; pc++) {
    const c = A.code[pc]!;
    if (!A.inner[pc] && (c === 0x8d || (c === 0x85 && A.src[pc] === 1))) return new Int32Array(A.n + 1).fill(0x7ff);
  }
  return backward(A, 0x7ff, (pc, out) => {
    const [use, def] = hiUseDef(A, pc, out, facts);
    return use | (out & ~def);
  });
}

/** High halves demanded right after slot `pc` (union over its successors). */
export function hiOut(A: Analysis, pc: number, dem: Int32Array): number {
  return succOut(A, pc, dem, 0x7ff);
}

// ---- packet pointers (a hint for the JIT's region caches) ------------------------------------

/**
 * Per slot: registers (bit mask) that may hold a packet pointer there, on some path: loaded from
 * the ctx at xdp_md data/data_end/data_meta offsets (32-bit loads at 0, 4, 8), then copied or
 * moved by add/sub. Only a hint (which region cache an access tries first); never trusted.
 */
export function pktRegs(A: Analysis): Int32Array {
  const n = A.n;
  const st = new Int32Array(n + 1).fill(-1); // -1: not reached yet
  const work: number[] = [0];
  st[0] = 0;
  const flow = (t: number, v: number): void => {
    if (t < 0 || t >= n) return;
    const cur = st[t]!;
    const m = cur === -1 ? v : cur | v;
    if (m !== cur) {
      st[t] = m;
      work.push(t);
    }
  };
  // function entries other than slot 0 (callbacks, bpf-to-bpf callees) start with nothing known
  for (let pc = 1; pc < n; pc++) if (A.funcStart[pc] && !A.inner[pc]) flow(pc, 0);
  while (work.length) {
    const pc = work.pop()!;
    let v = st[pc]!;
    const code = A.code[pc]!;
    const cls = code & 7;
    const dst = A.dst[pc]!;
    const d = 1 << dst;
    const next = code === 0x18 ? pc + 2 : pc + 1;
    if (cls === 5 || cls === 6) {
      const op = code & 0xf0;
      if (op === 0x90) continue;
      if (op === 0x80) {
        if (code === 0x85 && A.src[pc] === 0) v &= ~1;
        else v = 0;
        flow(next, v);
        continue;
      }
      flow(A.target[pc]!, v);
      if (op !== 0x00) flow(next, v);
      continue;
    }
    if (cls === 7 && ((code & 0xf0) === 0x00 || (code & 0xf0) === 0x10)) {
      if ((code & 0x08) !== 0 && (code & 0xf0) === 0x00 && v & (1 << A.src[pc]!)) v |= d;
    } else if (cls === 7 && code === 0xbf && A.off[pc] === 0) {
      v = v & (1 << A.src[pc]!) ? v | d : v & ~d;
    } else if (cls === 1 && code === 0x61 && (A.off[pc] === 0 || A.off[pc] === 4 || A.off[pc] === 8) && A.src[pc] !== 10) {
      v |= d;
    } else if (cls === 7 || cls === 4 || cls === 1 || code === 0x18) {
      v &= ~d;
    } else if (cls === 0) {
      v &= ~1;
    } else if (cls === 3 && (code & 0xe0) === 0xc0) {
      v &= ~(1 | (1 << A.src[pc]!) | d);
    }
    flow(next, v);
  }
  for (let pc = 0; pc < n; pc++) if (st[pc] === -1) st[pc] = 0;
  return st;
}
