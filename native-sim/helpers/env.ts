/**
 * The environment helpers run against: injectable time, randomness, CPU id and task identity
 * (deterministic tests), the trace_printk output stream, simulated kernel/user memory for
 * probe_read_*, the simulated FIB, and the state of the run in progress (its context, packet
 * and redirect decision). One `SimEnv` per emulator backend; attached to each Vm as
 * `vm.env.sim` (HelperEnv declaration merging).
 */
import type { Vm } from '../engine.js';
import type { SkbContext } from '../context/skb.js';
import type { XdpContext } from '../context/xdp.js';
import type { AddressSpace } from '../memory/index.js';

declare module '../engine.js' {
  interface HelperEnv {
    sim?: SimEnv;
  }
}

/** A block of simulated memory at a 64-bit address (probe_read_kernel/user, %s). */
export interface SimMemoryBlock {
  address: bigint;
  bytes: Uint8Array;
}

/** One route of the simulated FIB (bpf_fib_lookup). */
export interface FibRoute {
  family: 'ipv4' | 'ipv6';
  /** Destination prefix bytes (4 or 16) and length. */
  prefix: Uint8Array;
  prefixLen: number;
  /** Egress interface. */
  ifindex: number;
  /** Next hop (gateway); absent = directly connected (the destination is the neighbour). */
  gateway?: Uint8Array;
  /** Route MTU (default: the interface MTU, 1500). */
  mtu?: number;
  metric?: number;
  /** 'blackhole' | 'unreachable' | 'prohibit' routes return the kernel's matching codes. */
  kind?: 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';
}

export interface FibTable {
  routes: FibRoute[];
  /** Neighbour table: IP (dotted or IPv6 text as hex bytes key) → MAC. Key = hex of address bytes. */
  neighbours: Map<string, Uint8Array>;
  /** Interface MACs by ifindex (source MAC of forwarded packets). */
  macOf: (ifindex: number) => Uint8Array | undefined;
}

/** Where a redirect helper sent the packet (bpf_redirect, bpf_redirect_map). */
export interface RedirectTarget {
  kind: 'ifindex' | 'cpu' | 'xsk' | 'broadcast';
  /** ifindex (ifindex/broadcast), CPU (cpu) or queue index (xsk). */
  index: number;
  flags: number;
  /** The map used (redirect_map), for xsk delivery / broadcast. */
  map?: unknown;
}

export interface SimEnvOptions {
  /** CLOCK_MONOTONIC in ns (bpf_ktime_get_ns). Default: process.hrtime. */
  now?: () => bigint;
  /** CLOCK_BOOTTIME in ns. Default: same as `now`. */
  bootNow?: () => bigint;
  /** CLOCK_TAI in ns. Default: `now`. */
  taiNow?: () => bigint;
  /** u32 source for bpf_get_prandom_u32. Default: a xorshift generator seeded by `seed`. */
  random?: () => number;
  seed?: number;
  /** CPU the programs run on (default 0). */
  cpu?: number;
  pid?: number;
  tgid?: number;
  uid?: number;
  gid?: number;
  comm?: string;
  /** trace_printk output: one call per message (without the trace_pipe prefix). */
  trace?: (message: string) => void;
  kernelMemory?: SimMemoryBlock[];
  userMemory?: SimMemoryBlock[];
  fib?: Partial<FibTable>;
}

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const hr = (): bigint => process.hrtime.bigint();

export class SimEnv {
  readonly space: AddressSpace;
  now: () => bigint;
  bootNow: () => bigint;
  taiNow: () => bigint;
  random: () => number;
  cpu: number;
  pid: number;
  tgid: number;
  uid: number;
  gid: number;
  comm: string;
  /** Captured trace_printk messages (also passed to `trace`). */
  readonly traceLog: string[] = [];
  trace: ((message: string) => void) | undefined;
  kernelMemory: SimMemoryBlock[];
  userMemory: SimMemoryBlock[];
  fib: FibTable;
  nCpus: number;

  // ---- state of the run in progress -----------------------------------------------------
  /** Program type of the running program (redirect semantics differ for XDP and TC). */
  progType = '';
  xdp: XdpContext | null = null;
  skb: SkbContext | null = null;
  redirect: RedirectTarget | null = null;

  constructor(space: AddressSpace, nCpus: number, opts: SimEnvOptions = {}) {
    this.space = space;
    this.nCpus = nCpus;
    this.now = opts.now ?? hr;
    this.bootNow = opts.bootNow ?? this.now;
    this.taiNow = opts.taiNow ?? this.now;
    this.random = opts.random ?? xorshift(opts.seed ?? (Date.now() ^ 0x5bd1e995));
    this.cpu = opts.cpu ?? 0;
    this.pid = opts.pid ?? process.pid;
    this.tgid = opts.tgid ?? process.pid;
    this.uid = opts.uid ?? (typeof process.getuid === 'function' ? process.getuid() : 0);
    this.gid = opts.gid ?? (typeof process.getgid === 'function' ? process.getgid() : 0);
    this.comm = opts.comm ?? 'node';
    this.trace = opts.trace;
    this.kernelMemory = opts.kernelMemory ?? [];
    this.userMemory = opts.userMemory ?? [];
    this.fib = { routes: opts.fib?.routes ?? [], neighbours: opts.fib?.neighbours ?? new Map(), macOf: opts.fib?.macOf ?? (() => undefined) };
  }

  /** Reset per-run state before a run. */
  beginRun(progType: string): void {
    this.progType = progType;
    this.redirect = null;
  }

  emitTrace(msg: string): void {
    this.traceLog.push(msg);
    if (this.traceLog.length > 10000) this.traceLog.splice(0, this.traceLog.length - 10000);
    this.trace?.(msg);
  }
}

/** The SimEnv of a Vm (helpers run only on Vms set up by the emulator backend). */
export function envOf(vm: Vm): SimEnv {
  const e = vm.env.sim;
  if (e === undefined) vm.fault('helper called on a Vm without an emulator environment (vm.env.sim)');
  return e;
}
