/**
 * The emulator Backend (lib/backend.ts) over native-sim: maps (native-sim/maps), the verifier
 * (native-sim/verifier, optional per `verify`), the JIT or the interpreter (native-sim/jit,
 * native-sim/interp), helpers (native-sim/helpers), contexts (native-sim/context) and simulated
 * interfaces (native-sim/net).
 *
 * - `Program.run` follows BPF_PROG_TEST_RUN per program type: XDP (256-byte headroom buffer,
 *   data_out from data_meta, xdp_md ctx_in/ctx_out), TC/socket filter/cgroup_skb (skb rules of
 *   net/bpf/test_run.c), raw tracepoints (ctx = u64 args, no data), syscall programs (ctx in/out);
 *   other types are not runnable, as in the kernel (ENOTSUPP).
 * - `attach` hooks programs to simulated interfaces (XDP, TC ingress/egress), tracepoints, raw
 *   tracepoints and uprobes that tests fire with `fireTracepoint`/`fireRawTracepoint`/`fireUprobe`,
 *   and cgroup skb hooks fired with `fireCgroupSkb`.
 * - Pins live in one process-wide namespace shared by every emulator backend.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type {
  AttachRequest, Backend, BackendLink, BackendMap, BackendProgram, LinkInfo, LoadProgramOptions, LoadSession, LoadSessionOptions,
  RunOptions, RunResult,
} from '../lib/backend.js';
import { ArgumentError, BpfError, NotSupportedError } from '../lib/errors.js';
import type { MapSpec, ObjectSpec, ProgramSpec, ProgType } from '../lib/spec/index.js';
import { EINVAL, ENOSPC, ENOTSUPP, runError } from './context/errors.js';
import { SkbContext, skbFromFrame, skbTestRun, type SkbKind } from './context/skb.js';
import { BytesContext } from './context/tracepoint.js';
import { XDP_MAX_LINEAR, XdpContext, xdpMultiBuffer, xdpTestRun } from './context/xdp.js';
import {
  AddressSpace, DEFAULT_BUDGET, MAP_TAG, REGION_TAG, Vm, programFromSpec, runProgram32, type CompiledProgram, type Engine,
  type EngineKind, type HelperTable, type Region,
} from './engine.js';
import { SimEnv, type SimEnvOptions } from './helpers/env.js';
import { createHelperTable } from './helpers/index.js';
import { interpreter } from './interp/index.js';
import { jit } from './jit/index.js';
import { ArrayMap } from './maps/array.js';
import { SimMap, enterRun, leaveRun } from './maps/base.js';
import { createSimMap } from './maps/index.js';
import { ProgArrayMap } from './maps/prog-array.js';
import {
  MAP_TABLE, allocLinkId, allocProgId, getPinned, isPinned, pinObject, registerProgram, unpinObject, unregisterProgram,
} from './maps/registry.js';
import { SimNet, type FrameProgram, type FrameRun, type InterfaceOptions, type SimInterface } from './net/interface.js';
import { XskSocket } from './net/xsk.js';
import type { Btf } from '../lib/btf/index.js';
import { verifyProgram, type MapSpecLike } from './verifier/index.js';

export interface EmulatorOptions extends SimEnvOptions {
  /** Why this backend was chosen (backend.reason). */
  reason?: string;
  /** Engine for new programs (default 'jit'). */
  engine?: EngineKind;
  /** Run the static verifier at load (default true; skipped when native-sim/verifier is absent). */
  verify?: boolean;
  /** Possible CPUs: per-CPU value count (default: the host's possible CPUs). */
  possibleCpus?: number;
  /** Instruction budget per run (default DEFAULT_BUDGET). */
  budget?: number;
}

const ENGINES: Record<EngineKind, Engine> = { jit, interpreter };

/**
 * One address space for every emulator in the process: pins are process-wide, so a map pinned by
 * one emulator and opened by another must live where both programs' pointers can reach it.
 */
const SHARED_SPACE = new AddressSpace();

function hostPossibleCpus(): number {
  try {
    const s = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
    let n = 0;
    for (const part of s.split(',')) {
      const [a, b] = part.split('-').map(Number);
      n += b === undefined ? 1 : b - a! + 1;
    }
    if (n > 0) return n;
  } catch {
    // not Linux: fall back to the online CPUs
  }
  return Math.max(1, cpus().length);
}

/** Program types BPF_PROG_TEST_RUN runs with an skb. */
const SKB_KIND: Partial<Record<ProgType, SkbKind>> = {
  sched_cls: 'tc',
  sched_act: 'tc',
  socket_filter: 'socket_filter',
  cgroup_skb: 'cgroup_skb',
  lwt_in: 'socket_filter',
  lwt_out: 'socket_filter',
  lwt_xmit: 'socket_filter',
};

export class EmulatorProgram implements BackendProgram, FrameProgram {
  readonly name: string;
  readonly type: ProgType;
  readonly fd = undefined;
  readonly id: number;
  readonly insnsProcessed?: number;
  readonly log?: string;
  readonly spec: ProgramSpec;
  readonly backend: EmulatorBackend;
  engine: EngineKind;
  private readonly compiledBy = new Map<EngineKind, CompiledProgram>();
  private readonly engineProgram;
  closed = false;
  /** Live attachments (links) of this program. */
  readonly links = new Set<EmulatorLink>();

  constructor(backend: EmulatorBackend, spec: ProgramSpec, engineProgram: ReturnType<typeof programFromSpec>, engine: EngineKind, verified?: { insnsProcessed: number; log: string }) {
    this.backend = backend;
    this.spec = spec;
    this.name = spec.name;
    this.type = spec.type;
    this.engine = engine;
    this.engineProgram = engineProgram;
    this.id = allocProgId();
    if (verified) {
      this.insnsProcessed = verified.insnsProcessed;
      this.log = verified.log;
    }
    this.compiled(engine);
    registerProgram(this.id, this);
  }

  /** The program compiled for `engine` (compiled on first use). */
  compiled(engine: EngineKind = this.engine): CompiledProgram {
    let c = this.compiledBy.get(engine);
    if (c === undefined) {
      c = ENGINES[engine].compile(this.engineProgram, { helpers: this.backend.helpers });
      this.compiledBy.set(engine, c);
    }
    return c;
  }

  /** The generated JavaScript (JIT). */
  jsSource(): string {
    return this.compiled('jit').source ?? '';
  }

  private checkOpen(op: string): void {
    if (this.closed) throw new BpfError('EBADF', `${op} ${this.name}: the program is closed`);
  }

  run(opts: RunOptions = {}): RunResult {
    this.checkOpen('run');
    return this.backend.testRun(this, opts);
  }

  runXdpFrame(frame: Uint8Array, ifindex: number, rxQueue: number): FrameRun {
    return this.backend.runXdpFrame(this, frame, ifindex, rxQueue);
  }

  runTcFrame(frame: Uint8Array, ifindex: number, mac: Uint8Array, ingress: boolean): FrameRun {
    return this.backend.runTcFrame(this, frame, ifindex, mac, ingress);
  }

  attach(req: AttachRequest): BackendLink {
    this.checkOpen('attach');
    return this.backend.attach(this, req);
  }

  pin(path: string): void {
    this.checkOpen('pin');
    pinObject(path, 'program', this);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!isPinned(this) && this.links.size === 0) unregisterProgram(this.id);
  }
}

type Hook = { kind: 'xdp'; iface: SimInterface } | { kind: 'tc'; iface: SimInterface; ingress: boolean } | { kind: 'event'; key: string } | { kind: 'cgroup'; key: string };

export class EmulatorLink implements BackendLink {
  readonly info: LinkInfo;
  readonly fd = undefined;
  program: EmulatorProgram;
  private readonly hook: Hook;
  private readonly backend: EmulatorBackend;
  attached = true;

  constructor(backend: EmulatorBackend, program: EmulatorProgram, kind: LinkInfo['kind'], target: string, hook: Hook) {
    this.backend = backend;
    this.program = program;
    this.hook = hook;
    this.info = { kind, id: allocLinkId(), target };
    program.links.add(this);
  }

  update(program: BackendProgram): void {
    if (!(program instanceof EmulatorProgram)) throw new ArgumentError(`update link ${this.info.id}: the program is not an emulator program`);
    if (program.type !== this.program.type) {
      throw new BpfError('EINVAL', `update link ${this.info.id}: program type ${program.type} does not match ${this.program.type}`);
    }
    if (!this.attached) throw new BpfError('ENOLINK', `update link ${this.info.id}: the link is detached`);
    this.backend.replaceHook(this.hook, this.program, program);
    this.program.links.delete(this);
    this.program = program;
    program.links.add(this);
  }

  pin(path: string): void {
    pinObject(path, 'link', this);
  }

  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.backend.removeHook(this.hook, this.program);
    this.program.links.delete(this);
    unpinObject(this);
  }

  close(): void {
    if (!isPinned(this)) this.detach();
  }
}

export class EmulatorSession implements LoadSession {
  private readonly backend: EmulatorBackend;
  private readonly pinRoot: string;
  private readonly btf: Btf | undefined;
  constructor(backend: EmulatorBackend, spec: ObjectSpec, opts: LoadSessionOptions) {
    this.backend = backend;
    this.btf = spec.btf;
    this.pinRoot = opts.pinRoot ?? '/sys/fs/bpf';
  }

  createMap(spec: MapSpec): BackendMap {
    if (spec.pinning === 'by_name') {
      const path = `${this.pinRoot}/${spec.name}`;
      let existing: SimMap | undefined;
      try {
        existing = getPinned<SimMap>(path, 'map');
      } catch {
        existing = undefined;
      }
      if (existing) {
        const i = existing.info;
        if (i.type !== spec.type || i.keySize !== spec.keySize || i.valueSize !== spec.valueSize || i.maxEntries !== spec.maxEntries || i.flags !== spec.flags) {
          throw new BpfError('EINVAL', `create map ${spec.name}: the map pinned at ${path} is incompatible (${i.type} ${i.keySize}/${i.valueSize}/${i.maxEntries})`, {
            hint: 'unpin it or change the definition',
          });
        }
        return existing;
      }
      const m = this.backend.createMap(spec);
      m.pin(path);
      return m;
    }
    return this.backend.createMap(spec);
  }

  loadProgram(spec: ProgramSpec, opts: LoadProgramOptions): BackendProgram {
    // The object's BTF lets the verifier check global functions on their own, as the kernel does.
    return this.backend.loadProgram(spec, opts, this.btf);
  }

  close(): void {
    // nothing is held per session on the emulator
  }
}

export class EmulatorBackend implements Backend {
  readonly kind = 'emulator' as const;
  reason: string;
  readonly possibleCpus: number;
  readonly space: AddressSpace;
  readonly env: SimEnv;
  readonly helpers: HelperTable;
  readonly net = new SimNet();
  readonly vm: Vm;
  engine: EngineKind;
  verify: boolean;
  budget: number;
  private readonly events = new Map<string, EmulatorProgram[]>();
  private readonly cgroups = new Map<string, EmulatorProgram[]>();
  private readonly xsks: XskSocket[] = [];

  constructor(opts: EmulatorOptions = {}) {
    this.reason = opts.reason ?? 'emulator';
    this.possibleCpus = opts.possibleCpus ?? hostPossibleCpus();
    this.space = SHARED_SPACE;
    this.env = new SimEnv(this.space, this.possibleCpus, opts);
    this.env.fib.macOf = (i) => this.net.byIndex(i)?.mac;
    this.helpers = createHelperTable();
    this.engine = opts.engine ?? 'jit';
    this.verify = opts.verify ?? true;
    this.budget = opts.budget ?? DEFAULT_BUDGET;
    this.vm = new Vm(this.space);
    this.vm.helpers = this.helpers;
    this.vm.env.sim = this.env;
    this.vm.tailCallHook = (vm, mapLo, mapHi, index) => {
      if (mapHi !== MAP_TAG) return null;
      const m = MAP_TABLE[mapLo >>> 0];
      if (!(m instanceof ProgArrayMap)) return null;
      const t = m.target(index);
      if (!(t instanceof EmulatorProgram)) return null;
      return t.compiled(vm.current?.engine ?? this.engine);
    };
  }

  // ---- Backend ------------------------------------------------------------------------------

  openSession(spec: ObjectSpec, opts: LoadSessionOptions = {}): LoadSession {
    return new EmulatorSession(this, spec, opts);
  }

  openPinnedMap(path: string): BackendMap {
    return getPinned<SimMap>(path, 'map');
  }
  openPinnedProgram(path: string): BackendProgram {
    return getPinned<EmulatorProgram>(path, 'program');
  }
  openPinnedLink(path: string): BackendLink {
    return getPinned<EmulatorLink>(path, 'link');
  }

  ifindex(ifname: string): number {
    return this.net.interface(ifname).ifindex;
  }

  // ---- emulator extras ----------------------------------------------------------------------

  /** The simulated interface `name` (created on first use). */
  interface(name: string, opts: InterfaceOptions = {}): SimInterface {
    return this.net.interface(name, opts);
  }

  /** A simulated AF_XDP socket bound to `ifname` queue `queueId`; store `sock.id` in an xskmap. */
  xskSocket(ifname: string, queueId = 0): XskSocket {
    const i = this.net.interface(ifname);
    const s = new XskSocket(ifname, i.ifindex, queueId);
    this.xsks.push(s);
    i.xsks.add(s);
    return s;
  }

  /** trace_printk output captured so far. */
  get traceLog(): readonly string[] {
    return this.env.traceLog;
  }

  createMap(spec: MapSpec): SimMap {
    // Like lib/kernel: lpm_trie maps always get BPF_F_NO_PREALLOC (the kernel requires it).
    if (spec.type === 'lpm_trie' && !(spec.flags & 1)) spec = { ...spec, flags: spec.flags | 1 };
    return createSimMap(spec, {
      nCpus: this.possibleCpus,
      space: this.space,
      ifindexExists: (i) => this.net.byIndex(i) !== undefined,
    });
  }

  loadProgram(spec: ProgramSpec, opts: LoadProgramOptions, btf?: Btf): EmulatorProgram {
    if (spec.externReferences.length > 0) {
      const names = spec.externReferences.map((e) => `${e.name} (${e.kind})`).join(', ');
      throw new NotSupportedError('extern symbols', `load program ${spec.name}: the emulator cannot resolve extern symbols: ${names}`, {
        hint: 'use the kernel backend for programs with __ksym/__kconfig externs',
      });
    }
    const maps = new Map<string, SimMap>();
    for (const ref of spec.mapReferences) {
      const m = opts.maps.get(ref.map);
      if (!(m instanceof SimMap)) {
        throw new BpfError('INVALID_OBJECT', `load program ${spec.name}: insn ${ref.insn} references map '${ref.map}', which ${m ? 'is not an emulator map' : 'was not created'}`);
      }
      maps.set(ref.map, m);
    }
    let verified: { insnsProcessed: number; log: string } | undefined;
    if (this.verify) {
      const vmaps = new Map<string, MapSpecLike>();
      for (const [name, m] of opts.maps) {
        if (m instanceof SimMap) vmaps.set(name, { ...m.spec, name: m.info.name, freeze: m.spec.freeze || m.isFrozen });
      }
      verified = verifyProgram(spec, { maps: vmaps, ...(btf ? { btf } : {}), ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel } : {}) });
    }
    const ep = programFromSpec(spec, (ref, src) => {
      const m = maps.get(ref.map)!;
      if (src === 1) return [m.info.id, MAP_TAG] as const;
      if (src === 2) {
        if (!(m instanceof ArrayMap)) {
          throw new BpfError('INVALID_OBJECT', `load program ${spec.name}: insn ${ref.insn} takes a value pointer into ${m.info.type} map ${m.info.name} (only arrays have direct value access)`);
        }
        const r = m.elementRegion(0)!;
        if (ref.offset < 0 || ref.offset > m.info.valueSize) {
          throw new BpfError('INVALID_OBJECT', `load program ${spec.name}: insn ${ref.insn}: offset ${ref.offset} is outside map ${m.info.name}'s ${m.info.valueSize}-byte value`);
        }
        return [(m.refOffset + ref.offset) | 0, REGION_TAG | r.id] as const;
      }
      throw new NotSupportedError('ld_imm64 pseudo source', `load program ${spec.name}: insn ${ref.insn}: ld_imm64 pseudo source ${src} is not supported by the emulator`);
    });
    return new EmulatorProgram(this, spec, ep, this.engine, verified);
  }

  // ---- running ------------------------------------------------------------------------------

  /** Run `prog` once with r1 = ctx; returns r0 as u32. Faults propagate. */
  private exec(prog: EmulatorProgram, ctx: Region | null, engine?: EngineKind): number {
    const vm = this.vm;
    const c = prog.compiled(engine ?? prog.engine);
    if (ctx) vm.setRegPtr(1, ctx, 0);
    else vm.setReg(1, 0, 0);
    for (let i = 2; i <= 5; i++) vm.setReg(i, 0, 0);
    return runProgram32(c, vm, this.budget);
  }

  testRun(prog: EmulatorProgram, opts: RunOptions): RunResult {
    const repeat = Math.max(1, opts.repeat ?? 1);
    const flags = opts.flags ?? 0;
    const t = prog.type;
    const env = this.env;
    if (opts.cpu !== undefined && opts.cpu !== 0 && t !== 'raw_tracepoint') throw runError(prog.name, EINVAL, 'cpu may only be set for raw tracepoint programs');
    enterRun();
    const savedCpu = env.cpu;
    try {
      if (t === 'xdp') {
        if (flags & 2) throw new NotSupportedError('XDP live frames', `run ${prog.name}: BPF_F_TEST_XDP_LIVE_FRAMES is not emulated (attach to a simulated interface instead)`);
        if (flags !== 0) throw runError(prog.name, EINVAL, `unknown flags 0x${flags.toString(16)}`);
        if (!opts.data) throw runError(prog.name, EINVAL, 'XDP test runs need data (a packet of at least 14 bytes)');
        const ctx = xdpTestRun(this.space, prog.name, opts.data, opts.ctx, {
          ifindexExists: (i) => this.net.byIndex(i) !== undefined,
          rxQueues: (i) => this.net.byIndex(i)?.rxQueues ?? 1,
        });
        try {
          const { retval, ns } = this.repeatRun(prog, ctx.region, repeat, 'xdp', () => {
            env.xdp = ctx;
          });
          const data = ctx.pkt.withMeta();
          this.checkOut(prog, data.length, opts);
          const res: RunResult = { retval, data, durationNs: ns };
          if (opts.ctx !== undefined || opts.ctxSizeOut) res.ctx = this.ctxOut(prog, ctx.ctxOut(), opts);
          return res;
        } finally {
          env.xdp = null;
          ctx.release(this.space);
        }
      }
      const kind = SKB_KIND[t];
      if (kind !== undefined) {
        if (flags & ~4) throw runError(prog.name, EINVAL, `unknown flags 0x${flags.toString(16)}`);
        if (!opts.data) throw runError(prog.name, EINVAL, 'skb test runs need data (a frame of at least 14 bytes)');
        const skb = skbTestRun(this.space, prog.name, kind, opts.data, opts.ctx, {
          deviceMac: (i) => this.net.byIndex(i)?.mac,
        });
        try {
          const { retval, ns } = this.repeatRun(prog, skb.region, repeat, t, () => {
            env.skb = skb;
            this.vm.ldAbsRegion = skb.pkt.region;
          });
          const data = skb.dataOut();
          this.checkOut(prog, data.length, opts);
          const res: RunResult = { retval, data, durationNs: ns };
          if (opts.ctx !== undefined || opts.ctxSizeOut) res.ctx = this.ctxOut(prog, skb.ctxOut(), opts);
          return res;
        } finally {
          env.skb = null;
          this.vm.ldAbsRegion = null;
          skb.release(this.space);
        }
      }
      if (t === 'raw_tracepoint' || t === 'raw_tracepoint_writable') {
        if (opts.data || opts.repeat) throw runError(prog.name, EINVAL, 'raw tracepoint test runs take only ctx (u64 arguments) and no data or repeat');
        // the kernel refuses ctx_out for raw tracepoints; ctx_out defaults to the ctx_in size
        if ((opts.ctxSizeOut ?? opts.ctx?.length ?? 0) > 0) throw runError(prog.name, EINVAL, 'raw tracepoint test runs return no ctx', 'pass ctxSizeOut: 0');
        const args = opts.ctx ?? new Uint8Array(0);
        if (args.length > 12 * 8 || args.length % 8 !== 0) throw runError(prog.name, EINVAL, 'ctx must be up to 12 u64 arguments');
        if (flags & ~1) throw runError(prog.name, EINVAL, `unknown flags 0x${flags.toString(16)}`);
        if (opts.cpu !== undefined && opts.cpu !== 0) {
          if (!(flags & 1)) throw runError(prog.name, EINVAL, 'cpu needs BPF_F_TEST_RUN_ON_CPU');
          if (opts.cpu >= this.possibleCpus) throw runError(prog.name, 6, `cpu ${opts.cpu} does not exist`);
          env.cpu = opts.cpu;
        }
        const c = new BytesContext(this.space, args.slice(), 'ctx (raw tracepoint args)');
        try {
          const { retval, ns } = this.repeatRun(prog, c.region, 1, t, () => undefined);
          return { retval, data: new Uint8Array(0), durationNs: ns };
        } finally {
          c.release(this.space);
        }
      }
      if (t === 'syscall') {
        if (opts.data) throw runError(prog.name, EINVAL, 'syscall program test runs take only ctx');
        const c = new BytesContext(this.space, (opts.ctx ?? new Uint8Array(0)).slice(), 'ctx (syscall args)', true);
        try {
          const { retval, ns } = this.repeatRun(prog, opts.ctx ? c.region : null, 1, t, () => undefined);
          const res: RunResult = { retval, data: new Uint8Array(0), durationNs: ns };
          if (opts.ctx) res.ctx = c.bytes.slice();
          return res;
        } finally {
          c.release(this.space);
        }
      }
      throw runError(prog.name, ENOTSUPP, `${t} programs cannot be test-run`, 'the kernel has no BPF_PROG_TEST_RUN for this type; attach it and fire a simulated event instead');
    } finally {
      env.cpu = savedCpu;
      leaveRun();
    }
  }

  /** ctx_out must fit the caller's buffer (default: the ctx_in size), else ENOSPC (bpf_ctx_finish). */
  private ctxOut(prog: EmulatorProgram, ctx: Uint8Array, opts: RunOptions): Uint8Array {
    const cap = opts.ctxSizeOut ?? opts.ctx?.length ?? ctx.length;
    if (cap < ctx.length) throw runError(prog.name, ENOSPC, `ctx_out needs ${ctx.length} bytes, the buffer has ${cap}`, 'pass a larger ctxSizeOut');
    return ctx;
  }

  /** data_out must fit the caller's buffer (default: data length + 256, as lib/backend.ts says). */
  private checkOut(prog: EmulatorProgram, size: number, opts: RunOptions): void {
    const cap = opts.dataSizeOut ?? (opts.data?.length ?? 0) + 256;
    if (cap < size) {
      throw runError(prog.name, ENOSPC, `data_out needs ${size} bytes, the buffer has ${cap}`, 'pass a larger dataSizeOut');
    }
  }

  private repeatRun(prog: EmulatorProgram, ctx: Region | null, repeat: number, type: string, setup: () => void): { retval: number; ns: number } {
    const env = this.env;
    env.beginRun(type);
    setup();
    const c = prog.compiled();
    const vm = this.vm;
    let retval = 0;
    // Like the kernel's bpf_test_timer (which stops the clock while the task is rescheduled),
    // long repeats are timed in CPU time so that a loaded machine does not inflate the result.
    const cpuTimed = repeat >= 100;
    const c0 = cpuTimed ? process.cpuUsage() : undefined;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < repeat; i++) {
      if (ctx) vm.setRegPtr(1, ctx, 0);
      else vm.setReg(1, 0, 0);
      retval = runProgram32(c, vm, this.budget);
    }
    let ns: number;
    if (c0 !== undefined) {
      const d = process.cpuUsage(c0);
      ns = ((d.user + d.system) * 1000) / repeat;
    } else {
      ns = Number(process.hrtime.bigint() - t0) / repeat;
    }
    return { retval, ns: Math.round(ns) };
  }

  runXdpFrame(prog: EmulatorProgram, frame: Uint8Array, ifindex: number, rxQueue: number): FrameRun {
    // runts never reach XDP (drivers drop them); long frames arrive as multi-buffer XDP
    if (frame.length < 14) return { retval: 1, frame, redirect: null };
    enterRun();
    const pkt = xdpMultiBuffer(this.space, frame, Math.min(frame.length, XDP_MAX_LINEAR));
    const ctx = new XdpContext(this.space, pkt, ifindex, rxQueue);
    const env = this.env;
    try {
      env.beginRun('xdp');
      env.xdp = ctx;
      const retval = this.exec(prog, ctx.region);
      return { retval, frame: pkt.frags.length ? pkt.withMeta().subarray(pkt.data - pkt.meta) : pkt.frame(), redirect: env.redirect };
    } finally {
      env.xdp = null;
      ctx.release(this.space);
      leaveRun();
    }
  }

  runTcFrame(prog: EmulatorProgram, frame: Uint8Array, ifindex: number, mac: Uint8Array, ingress: boolean): FrameRun {
    if (frame.length < 14) return { retval: 2, frame, redirect: null };
    enterRun();
    const skb = skbFromFrame(this.space, 'tc', frame, ifindex, mac, ingress);
    const env = this.env;
    try {
      env.beginRun(prog.type);
      env.skb = skb;
      const retval = this.exec(prog, skb.region) | 0;
      return { retval, frame: skb.pkt.frame(), redirect: env.redirect };
    } finally {
      env.skb = null;
      skb.release(this.space);
      leaveRun();
    }
  }

  // ---- attachments ----------------------------------------------------------------------------

  attach(prog: EmulatorProgram, req: AttachRequest): EmulatorLink {
    switch (req.kind) {
      case 'xdp': {
        if (prog.type !== 'xdp') throw new BpfError('EINVAL', `attach ${prog.name}: a ${prog.type} program cannot attach to XDP`);
        const iface = this.ifaceFor(req.ifindex, req.ifname, 'attach xdp');
        if (iface.xdp) throw new BpfError('EBUSY', `attach ${prog.name}: ${iface.name} already has XDP program ${iface.xdp.name} (detach it or update its link)`);
        iface.xdp = prog;
        return new EmulatorLink(this, prog, 'xdp', iface.name, { kind: 'xdp', iface });
      }
      case 'tc': {
        if (prog.type !== 'sched_cls' && prog.type !== 'sched_act') throw new BpfError('EINVAL', `attach ${prog.name}: a ${prog.type} program cannot attach to TC`);
        const iface = this.ifaceFor(req.ifindex, req.ifname, 'attach tc');
        const ingress = req.direction === 'ingress';
        (ingress ? iface.tcIngress : iface.tcEgress).push(prog);
        return new EmulatorLink(this, prog, 'tc', `${iface.name}:${req.direction}`, { kind: 'tc', iface, ingress });
      }
      case 'tracepoint':
      case 'raw_tracepoint':
      case 'uprobe': {
        const key =
          req.kind === 'tracepoint' ? `tp:${req.category}/${req.name}` : req.kind === 'raw_tracepoint' ? `raw:${req.name}` : `${req.ret ? 'uretprobe' : 'uprobe'}:${req.binaryPath}:${req.symbol ?? `+${req.offset ?? 0}`}`;
        const list = this.events.get(key) ?? [];
        list.push(prog);
        this.events.set(key, list);
        return new EmulatorLink(this, prog, req.kind, key.slice(key.indexOf(':') + 1), { kind: 'event', key });
      }
      case 'cgroup': {
        const key = `${req.path}:${req.attachType}`;
        const list = this.cgroups.get(key) ?? [];
        list.push(prog);
        this.cgroups.set(key, list);
        return new EmulatorLink(this, prog, 'cgroup', key, { kind: 'cgroup', key });
      }
      case 'socket_filter':
        throw new NotSupportedError('socket filters on the emulator', `attach ${prog.name}: the emulator has no sockets`, { hint: 'use Program.run() with a frame instead' });
    }
  }

  private ifaceFor(ifindex: number, ifname: string, op: string): SimInterface {
    const byIdx = this.net.byIndex(ifindex);
    if (byIdx) return byIdx;
    if (ifname) return this.net.interface(ifname);
    throw new BpfError('ENODEV', `${op}: no simulated interface has ifindex ${ifindex} (create it with emulator.interface(name))`);
  }

  replaceHook(hook: Hook, from: EmulatorProgram, to: EmulatorProgram): void {
    const swap = (list: EmulatorProgram[]): void => {
      const i = list.indexOf(from);
      if (i >= 0) list[i] = to;
    };
    if (hook.kind === 'xdp') hook.iface.xdp = to;
    else if (hook.kind === 'tc') swap(hook.ingress ? (hook.iface.tcIngress as EmulatorProgram[]) : (hook.iface.tcEgress as EmulatorProgram[]));
    else if (hook.kind === 'event') swap(this.events.get(hook.key) ?? []);
    else swap(this.cgroups.get(hook.key) ?? []);
  }

  removeHook(hook: Hook, prog: EmulatorProgram): void {
    const drop = (list: unknown[]): void => {
      const i = list.indexOf(prog);
      if (i >= 0) list.splice(i, 1);
    };
    if (hook.kind === 'xdp') {
      if (hook.iface.xdp === prog) hook.iface.xdp = null;
    } else if (hook.kind === 'tc') drop(hook.ingress ? hook.iface.tcIngress : hook.iface.tcEgress);
    else if (hook.kind === 'event') drop(this.events.get(hook.key) ?? []);
    else drop(this.cgroups.get(hook.key) ?? []);
  }

  private fire(key: string, ctx: Uint8Array, what: string): number[] {
    const progs = this.events.get(key) ?? [];
    const out: number[] = [];
    for (const p of progs) {
      enterRun();
      const c = new BytesContext(this.space, ctx.slice(), `ctx (${what})`);
      try {
        this.env.beginRun(p.type);
        out.push(this.exec(p, c.region));
      } finally {
        c.release(this.space);
        leaveRun();
      }
    }
    return out;
  }

  /** Fire tracepoint `category/name` with a record (see context/tracepoint.ts); returns each program's r0. */
  fireTracepoint(category: string, name: string, record: Uint8Array): number[] {
    return this.fire(`tp:${category}/${name}`, record, `tracepoint ${category}/${name}`);
  }

  /** Fire raw tracepoint `name` with u64 arguments. */
  fireRawTracepoint(name: string, args: readonly (number | bigint)[]): number[] {
    const b = new Uint8Array(args.length * 8);
    const dv = new DataView(b.buffer);
    args.forEach((a, i) => dv.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(a)), true));
    return this.fire(`raw:${name}`, b, `raw tracepoint ${name}`);
  }

  /** Fire a uprobe (or uretprobe) on `binaryPath` `symbol` with a `struct pt_regs` image. */
  fireUprobe(binaryPath: string, symbol: string, regs: Uint8Array, ret = false): number[] {
    return this.fire(`${ret ? 'uretprobe' : 'uprobe'}:${binaryPath}:${symbol}`, regs, `${ret ? 'uretprobe' : 'uprobe'} ${symbol}`);
  }

  /**
   * Run the cgroup_skb programs attached at `path` for `attachType` on a frame; returns each
   * program's verdict (1 allow, 0 drop).
   */
  fireCgroupSkb(path: string, attachType: 'cgroup_inet_ingress' | 'cgroup_inet_egress', frame: Uint8Array, ifindex = 1): number[] {
    const progs = this.cgroups.get(`${path}:${attachType}`) ?? [];
    const out: number[] = [];
    for (const p of progs) {
      enterRun();
      const skb: SkbContext = skbFromFrame(this.space, 'cgroup_skb', frame, ifindex, this.net.byIndex(ifindex)?.mac ?? new Uint8Array(6), attachType === 'cgroup_inet_ingress');
      try {
        this.env.beginRun(p.type);
        this.env.skb = skb;
        this.vm.ldAbsRegion = skb.pkt.region;
        out.push(this.exec(p, skb.region));
      } finally {
        this.env.skb = null;
        this.vm.ldAbsRegion = null;
        skb.release(this.space);
        leaveRun();
      }
    }
    return out;
  }
}

let defaultEmulator: EmulatorBackend | undefined;

/** The process's default emulator (what `load(..., { backend: 'emulator' })` uses). */
export function defaultEmulatorBackend(): EmulatorBackend {
  defaultEmulator ??= new EmulatorBackend({ reason: 'emulator' });
  return defaultEmulator;
}

/**
 * Create an emulator backend. With a string (the registry passes its selection reason) this is
 * the process's default emulator, so `emulator.interface('eth0')` and `load(..., { backend:
 * 'emulator' })` share interfaces; with options it is a new, independent emulator.
 */
export function createEmulatorBackend(reasonOrOpts?: string | EmulatorOptions): EmulatorBackend {
  if (reasonOrOpts === undefined || typeof reasonOrOpts === 'string') {
    const b = defaultEmulatorBackend();
    if (typeof reasonOrOpts === 'string') b.reason = reasonOrOpts;
    return b;
  }
  return new EmulatorBackend(reasonOrOpts);
}

/** The emulator always works. */
export function probeEmulator(): { ok: boolean; reason: string } {
  return { ok: true, reason: 'emulator: available on every platform' };
}

