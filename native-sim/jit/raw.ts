/**
 * Running raw bytecode (no ELF) the way userspace BPF VMs are tested: r1 points to a copy of a
 * memory buffer, r2 holds its length. Used by `bpfkit exec`, the ISA corpus and the benchmarks.
 */
import { RegionFlag, RegionKind, Vm, runProgram, type CompiledProgram, type Engine, type EngineKind, type HelperTable } from '../engine.js';
import { interpreter } from '../interp/index.js';
import { jit } from './index.js';

const ETH_HLEN = 14;

export const ENGINES: Readonly<Record<EngineKind, Engine>> = { jit, interpreter };

export interface RawRunOptions {
  /** Instruction budget (default DEFAULT_BUDGET). */
  budget?: number;
  /**
   * Let LD_ABS/LD_IND read the memory buffer as a socket filter reads skb data: the memory is the
   * data (network header) after a zeroed 14-byte link-layer header.
   */
  ldabs?: boolean;
  helpers?: HelperTable;
  name?: string;
  /** Prepare the Vm before the run (e.g. install a helper environment in `vm.env`). */
  setup?: (vm: Vm) => void;
}

export interface RawRunResult {
  r0: bigint;
  /** The memory after the run. */
  memory: Uint8Array;
}

/** Compile raw bytecode on `engine`. */
export function compileRaw(engine: Engine, insns: Uint8Array, opts: RawRunOptions = {}): CompiledProgram {
  return engine.compile({ name: opts.name ?? 'exec', insns }, { helpers: opts.helpers ?? [] });
}

/** Run a compiled program over a fresh Vm with a copy of `memory`. */
export function runCompiledRaw(prog: CompiledProgram, memory: Uint8Array | undefined, opts: RawRunOptions = {}): RawRunResult {
  const vm = new Vm();
  vm.helpers = opts.helpers ?? [];
  opts.setup?.(vm);
  let copy = memory ? memory.slice() : new Uint8Array(0);
  if (memory !== undefined && opts.ldabs) {
    // Socket-filter layout: a zeroed 14-byte Ethernet header before the data (the link-layer
    // header of SKF_LL_OFF loads), data = the memory (network header, SKF_NET_OFF).
    const buf = new Uint8Array(ETH_HLEN + memory.length);
    buf.set(memory, ETH_HLEN);
    const region = vm.space.allocate(RegionKind.Packet, 'memory').setBytes(buf, ETH_HLEN, buf.length).configure(RegionFlag.Read | RegionFlag.Write);
    copy = buf.subarray(ETH_HLEN);
    vm.setRegPtr(1, region, ETH_HLEN);
    vm.setReg(2, memory.length, 0);
    vm.ldAbsRegion = region;
    vm.ldAbsMacHeader = 0;
    vm.ldAbsNetHeader = ETH_HLEN;
  } else if (memory !== undefined) {
    const region = vm.space.add(RegionKind.Scratch, 'memory', copy);
    vm.setRegPtr(1, region, 0);
    vm.setReg(2, copy.length, 0);
  }
  const r0 = runProgram(prog, vm, opts.budget !== undefined ? { budget: opts.budget } : {});
  return { r0, memory: copy };
}

export function runRaw(engine: Engine, insns: Uint8Array, memory?: Uint8Array, opts: RawRunOptions = {}): RawRunResult {
  return runCompiledRaw(compileRaw(engine, insns, opts), memory, opts);
}
