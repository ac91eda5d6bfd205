/**
 * `Program`: a loaded program. Test runs (BPF_PROG_TEST_RUN or the emulator) and attach
 * helpers per hook; each attach returns a `Link` owned by the program's object.
 */
import type { AttachRequest, Backend, BackendProgram, RunOptions, RunResult, XdpMode } from '../backend.js';
import { ArgumentError, BpfError } from '../errors.js';
import { ATTACH_TYPES, type AttachType, type ProgType, type ProgramSpec } from '../spec/index.js';
import { describeValue } from './codec.js';
import { Link } from './link.js';
import type { Owner } from './map.js';
import { resolveBackend, type BackendOption } from './registry.js';

export interface ProgramRunOptions {
  /** Packet (XDP, TC, socket filter, cgroup_skb) or other input data. */
  data?: Uint8Array;
  /** Context in (e.g. `__sk_buff` fields, raw tracepoint args). */
  ctx?: Uint8Array;
  /** Run this many times (timing); the result is from the last run. */
  repeat?: number;
  dataSizeOut?: number;
  ctxSizeOut?: number;
  flags?: number;
  cpu?: number;
}

/** Anything with a file descriptor: a number, or a Node socket (net.Socket / dgram.Socket). */
export type SocketLike = number | { _handle?: { fd?: number } | null; fd?: number };

function socketFd(s: SocketLike): number | undefined {
  if (typeof s === 'number') return Number.isInteger(s) && s >= 0 ? s : undefined;
  if (s && typeof s === 'object') {
    // dgram sockets keep their handle in a symbol-keyed state object (their `_handle` getter is
    // deprecated and warns); net sockets have `_handle`
    for (const sym of Object.getOwnPropertySymbols(s)) {
      const st = (s as Record<symbol, unknown>)[sym] as { handle?: { fd?: unknown } } | null | undefined;
      const fd = st && typeof st === 'object' ? st.handle?.fd : undefined;
      if (typeof fd === 'number' && fd >= 0) return fd;
    }
    const h = (s as { _handle?: { fd?: number } | null })._handle;
    if (h && typeof h.fd === 'number' && h.fd >= 0) return h.fd;
    const fd = (s as { fd?: number }).fd;
    if (typeof fd === 'number' && fd >= 0) return fd;
  }
  return undefined;
}

function checkBytes(op: string, name: string, what: string, v: unknown): void {
  if (v !== undefined && !(v instanceof Uint8Array)) throw new ArgumentError(`${op} ${name}: ${what} must be a Uint8Array`);
}

function checkCount(op: string, name: string, what: string, v: unknown, min = 0): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 0xffffffff)) {
    throw new ArgumentError(`${op} ${name}: ${what} must be an integer ≥ ${min}, got ${describeValue(v)}`);
  }
}

export class Program {
  readonly name: string;
  readonly type: ProgType;
  /** The spec it was loaded from (undefined for a program opened from a pin). */
  readonly spec: ProgramSpec | undefined;
  private closed = false;
  private readonly links = new Set<Link>();

  /** @internal */
  constructor(
    /** @internal */ readonly handle: BackendProgram,
    readonly backend: Backend,
    spec?: ProgramSpec,
    private readonly owner?: Owner & { adopt(link: Link): void },
  ) {
    this.name = handle.name;
    this.type = handle.type;
    this.spec = spec;
  }

  /** Open a program pinned at `path`. The caller owns (closes) it. */
  static async openPinned(path: string, opts: { backend?: BackendOption } = {}): Promise<Program> {
    if (typeof path !== 'string' || !path) throw new ArgumentError('open pinned program: path must be a non-empty string');
    const backend = await resolveBackend(opts.backend);
    return new Program(backend.openPinnedProgram(path), backend);
  }

  get section(): string | undefined {
    return this.spec?.section;
  }

  get fd(): number | undefined {
    return this.handle.fd;
  }

  get id(): number {
    return this.handle.id;
  }

  /** Instructions the verifier processed, when the backend reports it. */
  get insnsProcessed(): number | undefined {
    return this.handle.insnsProcessed;
  }

  /** The verifier log, when a log level was requested at load. */
  get log(): string | undefined {
    return this.handle.log;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private live(op: string): void {
    if (this.closed) throw new BpfError('CLOSED', `${op} ${this.name}: the program is closed`);
  }

  /** One test run (BPF_PROG_TEST_RUN on the kernel): `{ retval, data, ctx, durationNs }`. */
  run(opts: ProgramRunOptions = {}): RunResult {
    this.live('run');
    if (typeof opts !== 'object' || opts === null) throw new ArgumentError(`run ${this.name}: options must be an object`);
    checkBytes('run', this.name, 'data', opts.data);
    checkBytes('run', this.name, 'ctx', opts.ctx);
    checkCount('run', this.name, 'repeat', opts.repeat);
    checkCount('run', this.name, 'dataSizeOut', opts.dataSizeOut);
    checkCount('run', this.name, 'ctxSizeOut', opts.ctxSizeOut);
    checkCount('run', this.name, 'flags', opts.flags);
    checkCount('run', this.name, 'cpu', opts.cpu);
    const o: RunOptions = {};
    if (opts.data !== undefined) o.data = opts.data;
    if (opts.ctx !== undefined) o.ctx = opts.ctx;
    if (opts.repeat !== undefined) o.repeat = opts.repeat;
    if (opts.dataSizeOut !== undefined) o.dataSizeOut = opts.dataSizeOut;
    if (opts.ctxSizeOut !== undefined) o.ctxSizeOut = opts.ctxSizeOut;
    if (opts.flags !== undefined) o.flags = opts.flags;
    if (opts.cpu !== undefined) o.cpu = opts.cpu;
    return this.handle.run(o);
  }

  /** Attach with a raw request (what the helpers below build). */
  attach(req: AttachRequest): Link {
    this.live('attach');
    const l = new Link(this.handle.attach(req), this.backend, this, this.owner ?? this.selfOwner);
    if (this.owner) this.owner.adopt(l);
    else this.links.add(l);
    return l;
  }

  private readonly selfOwner: Owner = { release: (c) => this.links.delete(c as Link) };

  private iface(op: string, dev: string | number): { ifindex: number; ifname: string } {
    if (typeof dev === 'number') {
      if (!Number.isInteger(dev) || dev <= 0) throw new ArgumentError(`${op} ${this.name}: interface index must be a positive integer, got ${dev}`);
      return { ifindex: dev, ifname: '' };
    }
    if (typeof dev !== 'string' || !dev) throw new ArgumentError(`${op} ${this.name}: interface must be a name or an index`);
    return { ifindex: this.backend.ifindex(dev), ifname: dev };
  }

  /** Attach an XDP program to an interface (`mode`: 'skb' generic, 'native' driver, 'offload'). */
  attachXdp(dev: string | number, opts: { mode?: XdpMode } = {}): Link {
    this.live('attachXdp');
    if (this.type !== 'xdp') throw new ArgumentError(`attachXdp ${this.name}: a ${this.type} program cannot attach to XDP`);
    if (opts.mode !== undefined && opts.mode !== 'skb' && opts.mode !== 'native' && opts.mode !== 'offload') {
      throw new ArgumentError(`attachXdp ${this.name}: mode must be 'skb', 'native' or 'offload', got ${describeValue(opts.mode)}`);
    }
    const req: AttachRequest = { kind: 'xdp', ...this.iface('attachXdp', dev) };
    if (opts.mode) req.mode = opts.mode;
    return this.attach(req);
  }

  /** Attach a TC (sched_cls) program to an interface's ingress or egress (tcx). */
  attachTc(dev: string | number, direction?: 'ingress' | 'egress'): Link {
    this.live('attachTc');
    if (this.type !== 'sched_cls' && this.type !== 'sched_act') throw new ArgumentError(`attachTc ${this.name}: a ${this.type} program cannot attach to TC`);
    const dir = direction ?? (this.spec?.attachType === 'tcx_egress' ? 'egress' : this.spec?.attachType === 'tcx_ingress' ? 'ingress' : undefined);
    if (dir !== 'ingress' && dir !== 'egress') throw new ArgumentError(`attachTc ${this.name}: direction must be 'ingress' or 'egress'`);
    return this.attach({ kind: 'tc', ...this.iface('attachTc', dev), direction: dir });
  }

  /** Attach to a cgroup (v2 directory path); the attach type defaults to the section's. */
  attachCgroup(path: string, attachType?: AttachType): Link {
    this.live('attachCgroup');
    if (typeof path !== 'string' || !path) throw new ArgumentError(`attachCgroup ${this.name}: cgroup path must be a non-empty string`);
    const at = attachType ?? this.spec?.attachType;
    if (!at || !(ATTACH_TYPES as readonly string[]).includes(at)) {
      throw new ArgumentError(`attachCgroup ${this.name}: ${at ? `unknown attach type '${at}'` : 'no attach type given and none implied by the section'} (e.g. 'cgroup_inet_ingress')`);
    }
    return this.attach({ kind: 'cgroup', path, attachType: at });
  }

  private target(): string | undefined {
    return this.spec?.attachTo;
  }

  /** Attach to a tracepoint; defaults to the section's (`tracepoint/CATEGORY/NAME`). */
  attachTracepoint(category?: string, name?: string): Link {
    this.live('attachTracepoint');
    if (category === undefined && name === undefined) {
      const t = this.target()?.split('/');
      if (t && t.length === 2) [category, name] = t;
    }
    if (!category || !name) throw new ArgumentError(`attachTracepoint ${this.name}: category and name are required (e.g. 'syscalls', 'sys_enter_getpid')`);
    return this.attach({ kind: 'tracepoint', category, name });
  }

  /** Attach to a raw tracepoint; defaults to the section's (`raw_tp/NAME`). */
  attachRawTracepoint(name?: string): Link {
    this.live('attachRawTracepoint');
    const n = name ?? this.target();
    if (!n) throw new ArgumentError(`attachRawTracepoint ${this.name}: a tracepoint name is required (e.g. 'sys_enter')`);
    return this.attach({ kind: 'raw_tracepoint', name: n });
  }

  /**
   * Attach a uprobe to `binaryPath` at a symbol or byte offset. `ret` makes it a uretprobe
   * (default: true for `uretprobe` sections); `pid` limits it to one process.
   */
  attachUprobe(binaryPath: string, symbolOrOffset: string | number, opts: { pid?: number; ret?: boolean } = {}): Link {
    this.live('attachUprobe');
    if (typeof binaryPath !== 'string' || !binaryPath) throw new ArgumentError(`attachUprobe ${this.name}: binary path must be a non-empty string`);
    const req: Extract<AttachRequest, { kind: 'uprobe' }> = { kind: 'uprobe', binaryPath };
    if (typeof symbolOrOffset === 'string' && symbolOrOffset) req.symbol = symbolOrOffset;
    else if (typeof symbolOrOffset === 'number' && Number.isInteger(symbolOrOffset) && symbolOrOffset >= 0) req.offset = symbolOrOffset;
    else throw new ArgumentError(`attachUprobe ${this.name}: expected a symbol name or a non-negative offset`);
    checkCount('attachUprobe', this.name, 'pid', opts.pid);
    if (opts.pid !== undefined) req.pid = opts.pid;
    const ret = opts.ret ?? (this.spec?.section.startsWith('uretprobe') ?? false);
    if (ret) req.ret = true;
    return this.attach(req);
  }

  /** Attach a socket filter to a socket (fd or Node net/dgram socket). */
  attachSocketFilter(socket: SocketLike): Link {
    this.live('attachSocketFilter');
    const fd = socketFd(socket);
    if (fd === undefined) throw new ArgumentError(`attachSocketFilter ${this.name}: expected a socket fd or a connected/bound Node socket`);
    return this.attach({ kind: 'socket_filter', socketFd: fd });
  }

  /** Pin at `path`. */
  pin(path: string): void {
    this.live('pin');
    if (typeof path !== 'string' || !path) throw new ArgumentError(`pin ${this.name}: path must be a non-empty string`);
    this.handle.pin(path);
  }

  /** Close the program (and links attached through it when it has no object). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of [...this.links]) l.close();
    try {
      this.handle.close();
    } finally {
      this.owner?.release(this);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
