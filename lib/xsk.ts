/**
 * AF_XDP sockets for both backends: `openXskSocket(objOrMap, { ifname, queue })` opens a socket
 * bound to an interface queue and puts it in the object's XSKMAP at slot `queue` (or `key`), so
 * an XDP program's `bpf_redirect_map(&xsks, ctx->rx_queue_index, ...)` reaches it.
 *
 *   await using obj = await load('port_filter.bpf.o');
 *   using sock = await openXskSocket(obj, { ifname: 'eth0', queue: 0 });
 *   for await (const frame of sock) console.log(frame.length);   // frame: valid in the loop body
 *   sock.send(frame);
 *
 * - kernel: a real AF_XDP socket (lib/kernel/xsk.ts): UMEM + fill/completion/rx/tx rings, copy
 *   mode by default (what veth supports). Frames are zero-copy views into UMEM.
 * - emulator: a simulated socket on a simulated interface (native-sim/net/xsk.ts); frames the
 *   program redirects into the XSKMAP arrive here, `send` puts a frame on the interface's wire
 *   (like the kernel's AF_XDP transmit: no qdisc, no TC egress).
 *
 * Contract on both: a frame yielded by `for await` is valid until the loop body finishes (the next
 * iteration or a `break`): its buffer is then recycled. Copy it (`frame.slice()`) to keep it.
 * A socket has one reader: a second concurrent `for await` fails with BpfError BUSY. Closing the
 * socket ends the iteration and removes it from the XSKMAP.
 */
import type { Backend, BackendKind } from './backend.js';
import { ArgumentError, BpfError } from './errors.js';
import type { BpfMap } from './object/map.js';
import type { BpfObject } from './object/object.js';

export interface XskSocketOptions {
  /** Interface name (or give `ifindex`). */
  ifname?: string;
  ifindex?: number;
  /** Receive queue to bind (default 0). */
  queue?: number;
  /** XSKMAP slot to store the socket in (default: `queue`, as programs index by rx queue). */
  key?: number;
  /** The XSKMAP's name when `target` is an object with more than one. */
  map?: string;
  /** Kernel: 'copy' (default) or 'zerocopy'. */
  mode?: 'copy' | 'zerocopy';
  /** Kernel: UMEM chunk size (2048 or 4096, default 4096) and chunk count (default 2048). */
  frameSize?: number;
  frames?: number;
}

/** One interface for both backends. */
export interface XskSocket extends AsyncIterable<Uint8Array> {
  readonly backend: BackendKind;
  readonly ifname: string;
  readonly ifindex: number;
  readonly queue: number;
  /** Frames received (taken from the rx ring) and sent so far. */
  readonly rxFrames: number;
  readonly txFrames: number;
  /** Frames waiting to be read. */
  readonly pending: number;
  /** Every frame waiting now, as copies (non-blocking). */
  receive(): Uint8Array[];
  /** Send a frame out of the bound interface; false when the transmit ring is full. */
  send(frame: Uint8Array): boolean;
  close(): void;
  readonly isClosed: boolean;
  [Symbol.dispose](): void;
}

/**
 * What `openXskSocket` takes: a loaded object (also the typed objects `bpfkit gen types` declares)
 * or one of its maps (a BpfMap or a TypedMap).
 */
export type XskTarget = BpfObject | { readonly maps: object; readonly programs: object } | BpfMap<any, any> | { readonly type: string; readonly name: string; readonly backend: Backend };

function xskMapOf(target: XskTarget, name: string | undefined): BpfMap {
  if (typeof target === 'object' && target !== null && 'maps' in target && 'programs' in target) {
    const obj = target as BpfObject;
    if (name !== undefined) {
      const m = obj.map(name);
      if (m.type !== 'xskmap') throw new ArgumentError(`open AF_XDP socket: map ${name} is a ${m.type}, not an xskmap`);
      return m;
    }
    const all = Object.values(obj.maps).filter((m) => m.type === 'xskmap');
    if (all.length === 1) return all[0]!;
    throw new ArgumentError(`open AF_XDP socket: the object has ${all.length === 0 ? 'no xskmap' : `${all.length} xskmaps (${all.map((m) => m.name).join(', ')})`}${all.length ? '; name one with { map }' : ''}`);
  }
  const m = target as BpfMap;
  if (typeof m !== 'object' || m === null || typeof m.type !== 'string') throw new ArgumentError('open AF_XDP socket: expected a loaded object or an xskmap');
  if (m.type !== 'xskmap') throw new ArgumentError(`open AF_XDP socket: map ${m.name} is a ${m.type}, not an xskmap`);
  return m;
}

function checkIndex(what: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new ArgumentError(`open AF_XDP socket: ${what} must be an integer 0..${max}, got ${String(v)}`);
  return v;
}

/** Open an AF_XDP socket on the backend of `target` (a loaded object or its XSKMAP) and register it. */
export async function openXskSocket(target: XskTarget, opts: XskSocketOptions): Promise<XskSocket> {
  if (typeof opts !== 'object' || opts === null) throw new ArgumentError('open AF_XDP socket: options { ifname | ifindex, queue } are required');
  const map = xskMapOf(target, opts.map);
  const queue = checkIndex('queue', opts.queue ?? 0, 0xffff);
  const key = checkIndex('key', opts.key ?? queue, map.maxEntries - 1);
  const backend = map.backend;
  if (opts.ifname === undefined && opts.ifindex === undefined) throw new ArgumentError('open AF_XDP socket: give ifname or ifindex');
  if (opts.ifname !== undefined && (typeof opts.ifname !== 'string' || !opts.ifname)) throw new ArgumentError('open AF_XDP socket: ifname must be a non-empty string');
  if (opts.mode !== undefined && opts.mode !== 'copy' && opts.mode !== 'zerocopy') throw new ArgumentError(`open AF_XDP socket: mode must be 'copy' or 'zerocopy', got ${JSON.stringify(opts.mode)}`);
  if (backend.kind === 'kernel') return openKernel(map, backend, opts, queue, key);
  return openEmulator(map, backend, opts, queue, key);
}

// ─── kernel ───────────────────────────────────────────────────────────────────────────────────

/** How long a bind that finds the queue busy waits for a pending release (see openKernel). */
const RELEASE_WAIT_MS = 1000;
const RELEASE_WAIT_OWN_MS = 10_000;

async function openKernel(map: BpfMap, backend: Backend, opts: XskSocketOptions, queue: number, key: number): Promise<XskSocket> {
  const { KernelXskSocket, xskQueueBoundHere, xskQueueClosedHereAt } = await import('./kernel/xsk.js');
  const ifindex = opts.ifindex ?? backend.ifindex(opts.ifname!);
  const ifname = opts.ifname ?? `if${ifindex}`;
  const kopts = { ifindex, queue, mode: opts.mode, frameSize: opts.frameSize, frames: opts.frames };
  // The kernel releases a closed socket's queue binding after an RCU grace period, from a
  // workqueue, under the rtnl lock, so a queue closed a moment ago can still be busy. EBUSY is
  // reported at once when one of our own open sockets holds the queue (waiting cannot help);
  // retried for up to RELEASE_WAIT_OWN_MS when this process closed a socket on the queue lately
  // (the release is pending and slow on a loaded machine); else for up to RELEASE_WAIT_MS (a
  // socket of another process may be being released).
  let k: InstanceType<typeof KernelXskSocket>;
  for (let start = Date.now(), delay = 2; ; delay = Math.min(delay * 2, 50)) {
    try {
      k = new KernelXskSocket(kopts);
      break;
    } catch (e) {
      if (!(e instanceof BpfError) || e.code !== 'EBUSY' || xskQueueBoundHere(ifindex, queue)) throw e;
      const closedAt = xskQueueClosedHereAt(ifindex, queue);
      const limit = closedAt !== undefined && start - closedAt < RELEASE_WAIT_OWN_MS ? RELEASE_WAIT_OWN_MS : RELEASE_WAIT_MS;
      if (Date.now() - start > limit) throw e;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  try {
    map.update(key, k.fd);
  } catch (e) {
    k.close();
    throw e;
  }
  return {
    backend: 'kernel', ifname, ifindex, queue,
    get rxFrames() { return k.rxFrames; },
    get txFrames() { return k.txFrames; },
    get pending() { return k.pending; },
    get isClosed() { return k.isClosed; },
    receive: () => k.receive(),
    send: (f: Uint8Array) => k.send(f),
    close: () => k.close(),
    [Symbol.dispose]: () => k.close(),
    [Symbol.asyncIterator]: () => k[Symbol.asyncIterator](),
  };
}

// ─── emulator ─────────────────────────────────────────────────────────────────────────────────

/** What we use of native-sim's XskSocket and EmulatorBackend (duck-typed: lib never imports native-sim). */
interface SimXsk {
  readonly id: number;
  readonly rx: Uint8Array[];
  deliver(frame: Uint8Array): boolean;
  close(): void;
}
interface SimIface {
  readonly name: string;
  readonly ifindex: number;
  readonly wire: Uint8Array[];
  readonly peer: { receive(frame: Uint8Array): unknown } | null;
}
interface SimBackend {
  xskSocket(ifname: string, queue: number): SimXsk;
  interface(name: string): SimIface;
  net: { byIndex(i: number): SimIface | undefined };
}

class EmulatorXsk implements XskSocket {
  readonly backend = 'emulator' as const;
  rxFrames = 0;
  txFrames = 0;
  private closed = false;
  private waiter: (() => void) | null = null;

  constructor(
    private readonly sim: SimXsk,
    private readonly iface: SimIface,
    private readonly map: BpfMap,
    private readonly key: number,
    readonly queue: number,
  ) {
    const deliver = sim.deliver.bind(sim);
    sim.deliver = (frame: Uint8Array): boolean => {
      if (this.closed) return false;
      const ok = deliver(frame);
      if (ok) this.wake();
      return ok;
    };
  }

  get ifname(): string {
    return this.iface.name;
  }
  get ifindex(): number {
    return this.iface.ifindex;
  }
  get pending(): number {
    return this.closed ? 0 : this.sim.rx.length;
  }
  get isClosed(): boolean {
    return this.closed;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  receive(): Uint8Array[] {
    if (this.closed) return [];
    const out = this.sim.rx.splice(0, this.sim.rx.length);
    this.rxFrames += out.length;
    return out;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    while (!this.closed) {
      const f = this.sim.rx.shift();
      if (!f) {
        if (this.waiter) throw new BpfError('BUSY', 'receive on AF_XDP socket: another consumer is already waiting (a socket has one reader)');
        await new Promise<void>((resolve) => (this.waiter = resolve));
        continue;
      }
      this.rxFrames++;
      yield f;
    }
  }

  send(frame: Uint8Array): boolean {
    if (this.closed) throw new BpfError('CLOSED', 'send on AF_XDP socket: the socket is closed');
    if (!(frame instanceof Uint8Array) || frame.length === 0) throw new ArgumentError('send on AF_XDP socket: the frame must be a non-empty Uint8Array');
    // AF_XDP transmit goes straight to the device (the kernel's __dev_direct_xmit): no qdisc and
    // no TC egress programs, so the frame goes on the wire as is and the wired peer receives it.
    const copy = frame.slice();
    this.iface.wire.push(copy);
    this.iface.peer?.receive(copy);
    this.txFrames++;
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // the kernel drops a closed socket from its XSKMAPs; do the same
    if (!this.map.isClosed) {
      try {
        this.map.delete(this.key);
      } catch {
        // the slot was already cleared
      }
    }
    this.sim.close();
    this.wake();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function openEmulator(map: BpfMap, backend: Backend, opts: XskSocketOptions, queue: number, key: number): XskSocket {
  const sb = backend as unknown as Partial<SimBackend>;
  if (typeof sb.xskSocket !== 'function' || typeof sb.interface !== 'function' || !sb.net) {
    throw new BpfError('NOT_SUPPORTED', `open AF_XDP socket: the ${backend.kind} backend has no AF_XDP sockets`);
  }
  let iface: SimIface | undefined;
  if (opts.ifname !== undefined) iface = sb.interface(opts.ifname);
  else {
    iface = sb.net.byIndex(opts.ifindex!);
    if (!iface) throw new BpfError('ENODEV', `open AF_XDP socket: no simulated interface has ifindex ${opts.ifindex} (create it with emulator.interface(name))`);
  }
  const sim = sb.xskSocket(iface.name, queue);
  try {
    map.update(key, sim.id);
  } catch (e) {
    sim.close();
    throw e;
  }
  return new EmulatorXsk(sim, iface, map, key, queue);
}
