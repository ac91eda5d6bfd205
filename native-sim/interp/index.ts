/**
 * The reference engine: a plain interpreter over the shared analysis. Registers are unsigned
 * 64-bit bigints (so its arithmetic is an independent oracle for the JIT's 32-bit-halves code),
 * every memory access goes through the shared slow path of native-sim/engine.ts, and each
 * opcode's semantics are written out directly from RFC 9669:
 *
 * - ALU32 results are zero-extended; shift counts are masked to 31/63;
 * - div by 0 → 0, mod by 0 → dst unchanged (ALU32: zero-extended); sdiv INT_MIN/-1 = INT_MIN,
 *   smod INT_MIN/-1 = 0; signed division truncates toward zero, remainder has the dividend's sign;
 * - immediates are sign-extended to 64 bits for ALU64/JMP, taken as u32 for ALU32/JMP32;
 * - legacy LD_ABS/LD_IND read big-endian from the skb data and exit with r0 = 0 out of bounds.
 *
 * Slow by design (it exists to be right); the JIT is the default engine.
 */
import {
  DEFAULT_BUDGET, FUNC_TAG, MAX_FRAMES, MAX_TAIL_CALLS, MAY_GOTO_LIMIT, REGION_TAG, STACK_SIZE, TAIL_CALL_ID,
  analyze, atomicSlow, budgetFault, callxFault, depthFault, ldAbsOffset, ldAbsSlow, loadSlow, makeFault, storeSlow,
  type Analysis, type CompileOptions, type CompiledProgram, type Engine, type EngineProgram, type HelperTable, type Vm,
} from '../engine.js';

const M64 = 0xffffffffffffffffn;
const M32 = 0xffffffffn;

function u64(n: number): bigint {
  return BigInt.asUintN(64, BigInt(n));
}

function lo32(v: bigint): number {
  return Number(v & M32) | 0;
}
function hi32(v: bigint): number {
  return Number(v >> 32n) | 0;
}
function pair(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function bswap(v: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits; i += 8) out = (out << 8n) | ((v >> BigInt(i)) & 0xffn);
  return out;
}

function sizeOf(code: number): number {
  switch (code & 0x18) {
    case 0x00: return 4;
    case 0x08: return 2;
    case 0x10: return 1;
    default: return 8;
  }
}

class InterpProgram implements CompiledProgram {
  readonly engine = 'interpreter' as const;
  readonly program: EngineProgram;
  readonly analysis: Analysis;
  private readonly helpers: HelperTable;

  constructor(program: EngineProgram, helpers: HelperTable) {
    this.program = program;
    this.helpers = helpers;
    this.analysis = analyze(program, helpers);
  }

  exec(vm: Vm, entry: number): void {
    const A = this.analysis;
    const r: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n];
    for (let i = 1; i <= 5; i++) r[i] = vm.regs64[i]!;
    const base = vm.depth;
    r[10] = pair(STACK_SIZE, REGION_TAG | vm.stack[base]!.id);
    vm.mayGoto[base] = MAY_GOTO_LIMIT;
    // Call frames of bpf-to-bpf calls: return slot and saved r6..r10.
    const frames: { ret: number; saved: bigint[] }[] = [];
    let pc = entry;
    for (;;) {
      if (A.leader[pc]) {
        const len = A.blockLen[pc]!;
        if (A.checkpoint[pc] && vm.budget < len) budgetFault(vm, pc);
        vm.budget -= len;
      }
      const code = A.code[pc]!;
      const dst = A.dst[pc]!;
      const src = A.src[pc]!;
      const off = A.off[pc]!;
      const imm = A.imm[pc]!;
      const cls = code & 7;
      let exit = false;
      switch (cls) {
        case 4: // ALU
        case 7: { // ALU64
          const is64 = cls === 7;
          const bits = is64 ? 64 : 32;
          const mask = is64 ? M64 : M32;
          const x = (code & 0x08) !== 0;
          const d = r[dst]! & mask;
          const s = x ? r[src]! & mask : is64 ? u64(imm) : BigInt(imm >>> 0);
          const op = code & 0xf0;
          let v: bigint;
          switch (op) {
            case 0x00: v = d + s; break;
            case 0x10: v = d - s; break;
            case 0x20: v = d * s; break;
            case 0x30:
              if (off === 1) {
                const ss = BigInt.asIntN(bits, s);
                v = ss === 0n ? 0n : BigInt.asIntN(bits, d) / ss;
              } else v = s === 0n ? 0n : d / s;
              break;
            case 0x40: v = d | s; break;
            case 0x50: v = d & s; break;
            case 0x60: v = d << (s & BigInt(bits - 1)); break;
            case 0x70: v = d >> (s & BigInt(bits - 1)); break;
            case 0x80: v = -d; break;
            case 0x90:
              if (off === 1) {
                const ss = BigInt.asIntN(bits, s);
                v = ss === 0n ? d : BigInt.asIntN(bits, d) % ss;
              } else v = s === 0n ? d : d % s;
              break;
            case 0xa0: v = d ^ s; break;
            case 0xb0:
              v = off === 0 ? s : BigInt.asIntN(off, r[src]!);
              break;
            case 0xc0: v = BigInt.asIntN(bits, d) >> (s & BigInt(bits - 1)); break;
            default: { // 0xd0 END
              const w = imm;
              const full = r[dst]!;
              if (is64 || x) v = bswap(full, w); // ALU64 bswap, or ALU to-big-endian
              else v = full & ((1n << BigInt(w)) - 1n); // to little endian: truncate
              r[dst] = BigInt.asUintN(w, v);
              pc++;
              continue;
            }
          }
          r[dst] = BigInt.asUintN(bits, v);
          pc++;
          continue;
        }
        case 5: // JMP
        case 6: { // JMP32
          const op = code & 0xf0;
          if (op === 0x00) {
            pc = A.target[pc]!;
            continue;
          }
          if (op === 0x90) {
            exit = true;
            break;
          }
          if (op === 0x80) {
            if (code === 0x8d || src === 1) {
              let t: number;
              if (code === 0x8d) {
                const f = r[dst]!;
                const fl = Number(f & M32);
                const fh = hi32(f);
                if (fh !== FUNC_TAG || fl >= A.n || !A.funcStart[fl]) callxFault(vm, pc, fl, fh);
                t = fl;
              } else t = A.target[pc]!;
              if (vm.depth + 1 >= MAX_FRAMES) depthFault(vm, pc);
              frames.push({ ret: pc + 1, saved: [r[6]!, r[7]!, r[8]!, r[9]!, r[10]!] });
              vm.depth++;
              r[10] = pair(STACK_SIZE, REGION_TAG | vm.stack[vm.depth]!.id);
              vm.mayGoto[vm.depth] = MAY_GOTO_LIMIT;
              pc = t;
              continue;
            }
            if (imm === TAIL_CALL_ID) {
              const hook = vm.tailCallHook;
              if (vm.tailCalls < MAX_TAIL_CALLS && hook !== null) {
                vm.pc = pc;
                const target = hook(vm, lo32(r[2]!), hi32(r[2]!), Number(r[3]! & M32));
                if (target !== null) {
                  vm.tailCalls++;
                  vm.regs64[1] = r[1]!;
                  vm.current = target;
                  try {
                    target.exec(vm, 0);
                  } finally {
                    vm.current = this;
                  }
                  r[0] = vm.regs64[0]!;
                  exit = true;
                  break;
                }
              }
              pc++;
              continue;
            }
            // helper
            for (let i = 1; i <= 5; i++) vm.regs64[i] = r[i]!;
            vm.regs64[0] = 0n;
            vm.pc = pc;
            this.helpers[imm]!(vm);
            vm.current = this;
            r[0] = vm.regs64[0]!;
            pc++;
            continue;
          }
          if (op === 0xe0) { // may_goto
            const c = vm.mayGoto[vm.depth]!;
            if (c === 0) pc = A.target[pc]!;
            else {
              vm.mayGoto[vm.depth] = c - 1;
              pc++;
            }
            continue;
          }
          const is64 = cls === 5;
          const bits = is64 ? 64 : 32;
          const mask = is64 ? M64 : M32;
          const d = r[dst]! & mask;
          const s = code & 0x08 ? r[src]! & mask : is64 ? u64(imm) : BigInt(imm >>> 0);
          let taken: boolean;
          switch (op) {
            case 0x10: taken = d === s; break;
            case 0x20: taken = d > s; break;
            case 0x30: taken = d >= s; break;
            case 0x40: taken = (d & s) !== 0n; break;
            case 0x50: taken = d !== s; break;
            case 0x60: taken = BigInt.asIntN(bits, d) > BigInt.asIntN(bits, s); break;
            case 0x70: taken = BigInt.asIntN(bits, d) >= BigInt.asIntN(bits, s); break;
            case 0xa0: taken = d < s; break;
            case 0xb0: taken = d <= s; break;
            case 0xc0: taken = BigInt.asIntN(bits, d) < BigInt.asIntN(bits, s); break;
            default: taken = BigInt.asIntN(bits, d) <= BigInt.asIntN(bits, s); break;
          }
          pc = taken ? A.target[pc]! : pc + 1;
          continue;
        }
        case 0: { // LD
          if (code === 0x18) {
            r[dst] = pair(A.imm64Lo[pc]!, A.imm64Hi[pc]!);
            pc += 2;
            continue;
          }
          const size = sizeOf(code);
          const k = ldAbsOffset(imm, lo32(r[src]!), (code & 0xe0) === 0x40);
          if (ldAbsSlow(vm, k, size)) {
            r[0] = BigInt(vm.tmp[0]! >>> 0);
            pc++;
            continue;
          }
          r[0] = 0n;
          exit = true;
          break;
        }
        case 1: { // LDX
          const p = r[src]!;
          loadSlow(vm, pc, hi32(p), Number(p & M32) + off, sizeOf(code), (code & 0xe0) === 0x80);
          r[dst] = pair(vm.tmp[0]!, vm.tmp[1]!);
          pc++;
          continue;
        }
        case 2: { // ST
          const p = r[dst]!;
          storeSlow(vm, pc, hi32(p), Number(p & M32) + off, sizeOf(code), imm, imm >> 31);
          pc++;
          continue;
        }
        default: { // STX
          const p = r[dst]!;
          const size = sizeOf(code);
          const hi = hi32(p);
          const a = Number(p & M32) + off;
          if ((code & 0xe0) === 0x60) {
            storeSlow(vm, pc, hi, a, size, lo32(r[src]!), hi32(r[src]!));
          } else if (imm === 0x100) {
            // load-acquire: dst = *(src + off)
            const q = r[src]!;
            loadSlow(vm, pc, hi32(q), Number(q & M32) + off, size, false);
            r[dst] = pair(vm.tmp[0]!, vm.tmp[1]!);
          } else if (imm === 0x110) {
            storeSlow(vm, pc, hi, a, size, lo32(r[src]!), hi32(r[src]!));
          } else {
            atomicSlow(vm, pc, hi, a, size, imm, lo32(r[src]!), hi32(r[src]!), lo32(r[0]!), hi32(r[0]!));
            if (imm & 1) {
              const old = pair(vm.tmp[0]!, size === 8 ? vm.tmp[1]! : 0);
              if (imm === 0xf1) r[0] = old;
              else r[src] = old;
            }
          }
          pc++;
          continue;
        }
      }
      if (exit) {
        const f = frames.pop();
        if (f === undefined) {
          vm.regs64[0] = r[0]!;
          return;
        }
        r[6] = f.saved[0]!;
        r[7] = f.saved[1]!;
        r[8] = f.saved[2]!;
        r[9] = f.saved[3]!;
        r[10] = f.saved[4]!;
        vm.depth--;
        pc = f.ret;
      }
    }
  }
}

export const interpreter: Engine = {
  kind: 'interpreter',
  compile(program: EngineProgram, opts: CompileOptions = {}): CompiledProgram {
    return new InterpProgram(program, opts.helpers ?? []);
  },
};

export { DEFAULT_BUDGET, makeFault };
