/**
 * AF_XDP sockets on the kernel backend, over the bpf_sys shim (socket, setsockopt/getsockopt,
 * mmap, bind, sendto, libuv poll). No libxdp: the rings are plain memory shared with the kernel.
 *
 * Layout: one UMEM (an anonymous, page-aligned mmap registered with XDP_UMEM_REG) of `frames`
 * chunks of `frameSize` bytes. The first half of the chunks feeds the fill ring (receive), the
 * second half is the transmit pool. Four rings are sized with setsockopt and mmapped at the
 * offsets the kernel reports through XDP_MMAP_OFFSETS:
 *
 *   fill ring       (u64 addr)           user → kernel: chunks the kernel may receive into
 *   rx ring         (xdp_desc)           kernel → user: received frames
 *   tx ring         (xdp_desc)           user → kernel: frames to send
 *   completion ring (u64 addr)           kernel → user: sent chunks, free again
 *
 * Producer/consumer indices are free-running u32s read with acquire (Atomics.load) and published
 * with release (Atomics.store) semantics; descriptors are read/written as u32 halves (UMEM
 * offsets are < 4 GiB).
 *
 * Receiving: `for await (const frame of sock)` yields each frame as a zero-copy view into UMEM.
 * The view is valid until the loop body finishes (the iterator's next `next()`, or `return()` on
 * break): then the chunk is given back to the fill ring and the kernel may overwrite it — copy
 * (`frame.slice()`) whatever must outlive the iteration. When the rx ring is empty the iterator
 * waits on the socket's readiness through the shim's libuv poll (no busy polling).
 */
import { ArgumentError, BpfError } from '../errors.js';
import { Mmap, PollEvent, type BpfSys } from './binding.js';
import { sys, syscallError } from './sys.js';

const AF_XDP = 44;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_XDP = 283;
const MAP_ANONYMOUS = 0x20;
const MSG_DONTWAIT = 0x40;

const enum XdpOpt {
  MmapOffsets = 1,
  RxRing = 2,
  TxRing = 3,
  UmemReg = 4,
  UmemFillRing = 5,
  UmemCompletionRing = 6,
  Statistics = 7,
}

/** mmap page offsets of the rings. */
const PGOFF_RX = 0;
const PGOFF_TX = 0x80000000;
const PGOFF_FILL = 0x100000000;
const PGOFF_COMPLETION = 0x180000000;

/** sockaddr_xdp.sxdp_flags */
export const enum XskBindFlag {
  SharedUmem = 1,
  Copy = 2,
  ZeroCopy = 4,
  UseNeedWakeup = 8,
}

export interface KernelXskOptions {
  ifindex: number;
  queue: number;
  /** 'copy' (default; what veth and generic XDP support) or 'zerocopy' (driver support needed). */
  mode?: 'copy' | 'zerocopy';
  /** Chunk size: 2048 or 4096 (default). */
  frameSize?: number;
  /** Number of UMEM chunks (power of two ≥ 16, default 2048): half receive, half transmit. */
  frames?: number;
}

export interface XskStatistics {
  rxDropped: bigint;
  rxInvalidDescs: bigint;
  txInvalidDescs: bigint;
  rxRingFull: bigint;
  rxFillRingEmptyDescs: bigint;
  txRingEmptyDescs: bigint;
}

/** One mmapped ring: indices and descriptor area as u32 views. */
interface Ring {
  buf: ArrayBuffer;
  u32: Uint32Array;
  /** u32 index of the producer, consumer, flags words and of the first descriptor word. */
  prod: number;
  cons: number;
  desc: number;
  mask: number;
  size: number;
}

/**
 * Queues this process has AF_XDP sockets bound to (`ifindex/queue` → open sockets) and when it
 * last closed one there. A bind that fails with EBUSY is explained by these: our own open socket
 * (waiting will not help), or our own socket closed a moment ago — the kernel frees the queue
 * only after an RCU grace period, from a workqueue, under the rtnl lock, which can take seconds
 * on a loaded machine.
 */
const boundHere = new Map<string, number>();
const closedHereAt = new Map<string, number>();
const queueKey = (ifindex: number, queue: number): string => `${ifindex}/${queue}`;

/** Whether an open socket of this process is bound to `queue` of `ifindex`. */
export function xskQueueBoundHere(ifindex: number, queue: number): boolean {
  return (boundHere.get(queueKey(ifindex, queue)) ?? 0) > 0;
}

/** When (Date.now()) this process last closed a socket bound to `queue` of `ifindex`, if ever. */
export function xskQueueClosedHereAt(ifindex: number, queue: number): number | undefined {
  return closedHereAt.get(queueKey(ifindex, queue));
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export class KernelXskSocket {
  readonly fd: number;
  readonly ifindex: number;
  readonly queue: number;
  readonly frameSize: number;
  readonly frames: number;
  private readonly sys: BpfSys;
  private umemBuf: ArrayBuffer | undefined;
  private readonly umem: Uint8Array;
  private readonly fill: Ring;
  private readonly comp: Ring;
  private readonly rx: Ring;
  private readonly tx: Ring;
  /** Free transmit chunks (UMEM offsets). */
  private readonly txFree: number[] = [];
  private pollId = 0;
  private waiter: (() => void) | null = null;
  private closed = false;
  /** Bound to its queue (counted in `boundHere`). */
  private bound = false;
  /** Frames received / sent through this socket. */
  rxFrames = 0;
  txFrames = 0;

  constructor(opts: KernelXskOptions) {
    const s = (this.sys = sys());
    const frameSize = opts.frameSize ?? 4096;
    const frames = opts.frames ?? 2048;
    if (frameSize !== 2048 && frameSize !== 4096) throw new ArgumentError(`open AF_XDP socket: frameSize must be 2048 or 4096, got ${String(frameSize)}`);
    if (!isPow2(frames) || frames < 16 || frames > 65536) throw new ArgumentError(`open AF_XDP socket: frames must be a power of two in 16..65536, got ${String(frames)}`);
    if (!Number.isInteger(opts.ifindex) || opts.ifindex <= 0) throw new ArgumentError(`open AF_XDP socket: ifindex must be a positive integer, got ${String(opts.ifindex)}`);
    if (!Number.isInteger(opts.queue) || opts.queue < 0) throw new ArgumentError(`open AF_XDP socket: queue must be a non-negative integer, got ${String(opts.queue)}`);
    if (opts.mode !== undefined && opts.mode !== 'copy' && opts.mode !== 'zerocopy') throw new ArgumentError(`open AF_XDP socket: mode must be 'copy' or 'zerocopy', got ${JSON.stringify(opts.mode)}`);
    this.ifindex = opts.ifindex;
    this.queue = opts.queue;
    this.frameSize = frameSize;
    this.frames = frames;
    const ringSize = frames / 2;

    const fd = s.socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) throw syscallError('open AF_XDP socket', 'socket(AF_XDP)', -fd, -fd === 97 ? 'kernel built without CONFIG_XDP_SOCKETS' : -fd === 1 ? 'needs CAP_NET_RAW (run as root)' : undefined);
    this.fd = fd;
    try {
      // UMEM: page-aligned anonymous memory, registered with the socket.
      const len = frames * frameSize;
      const ub = s.mmap(-1, len, Mmap.ProtRead | Mmap.ProtWrite, Mmap.Private | MAP_ANONYMOUS, 0);
      if (typeof ub === 'number') throw syscallError('open AF_XDP socket: UMEM', 'mmap', -ub);
      this.umemBuf = ub;
      this.umem = new Uint8Array(ub);
      const reg = new ArrayBuffer(32); // struct xdp_umem_reg { u64 addr, len; u32 chunk_size, headroom, flags, tx_metadata_len }
      const rv = new DataView(reg);
      rv.setBigUint64(0, s.addressOf(ub), true);
      rv.setBigUint64(8, BigInt(len), true);
      rv.setUint32(16, frameSize, true);
      this.setopt(XdpOpt.UmemReg, new Uint8Array(reg), 'XDP_UMEM_REG');

      this.setopt(XdpOpt.UmemFillRing, ringSize, 'XDP_UMEM_FILL_RING');
      this.setopt(XdpOpt.UmemCompletionRing, ringSize, 'XDP_UMEM_COMPLETION_RING');
      this.setopt(XdpOpt.RxRing, ringSize, 'XDP_RX_RING');
      this.setopt(XdpOpt.TxRing, ringSize, 'XDP_TX_RING');

      // struct xdp_mmap_offsets { struct xdp_ring_offset rx, tx, fr, cr; } — each { u64 producer, consumer, desc, flags }
      const offs = new BigUint64Array(16);
      const n = s.getsockopt(fd, SOL_XDP, XdpOpt.MmapOffsets, offs);
      if (n < 0) throw syscallError('open AF_XDP socket: XDP_MMAP_OFFSETS', 'getsockopt', -n);
      if (n < 128) throw new BpfError('NOT_SUPPORTED', `open AF_XDP socket: XDP_MMAP_OFFSETS returned ${n} bytes (kernel too old: needs ring flags, Linux 5.4+)`);
      this.rx = this.mapRing(offs, 0, ringSize, 16, PGOFF_RX, 'rx');
      this.tx = this.mapRing(offs, 4, ringSize, 16, PGOFF_TX, 'tx');
      this.fill = this.mapRing(offs, 8, ringSize, 8, PGOFF_FILL, 'fill');
      this.comp = this.mapRing(offs, 12, ringSize, 8, PGOFF_COMPLETION, 'completion');

      // Give the receive half of UMEM to the kernel, keep the other half for transmit.
      for (let i = 0; i < ringSize; i++) this.fillPush(i * frameSize);
      for (let i = ringSize; i < frames; i++) this.txFree.push(i * frameSize);

      // struct sockaddr_xdp { u16 family, flags; u32 ifindex, queue_id, shared_umem_fd }
      const sa = new ArrayBuffer(16);
      const sv = new DataView(sa);
      sv.setUint16(0, AF_XDP, true);
      sv.setUint16(2, opts.mode === 'zerocopy' ? XskBindFlag.ZeroCopy : XskBindFlag.Copy, true);
      sv.setUint32(4, this.ifindex, true);
      sv.setUint32(8, this.queue, true);
      const b = s.bind(fd, new Uint8Array(sa));
      if (b < 0) {
        const e = -b;
        const hint = e === 19 ? `no interface with ifindex ${this.ifindex}` : e === 22 ? `queue ${this.queue} does not exist on ifindex ${this.ifindex}` : e === 95 ? 'the driver does not support this mode (use copy)' : e === 16 ? 'another AF_XDP socket is bound to this queue, or one closed a moment ago is still being released' : undefined;
        throw syscallError(`open AF_XDP socket: bind to ifindex ${this.ifindex} queue ${this.queue}`, 'bind', e, hint);
      }
      this.bound = true;
      const k = queueKey(this.ifindex, this.queue);
      boundHere.set(k, (boundHere.get(k) ?? 0) + 1);
    } catch (e) {
      this.release();
      throw e;
    }
  }

  private setopt(name: XdpOpt, value: Uint8Array | number, what: string): void {
    const r = this.sys.setsockopt(this.fd, SOL_XDP, name, value);
    if (r < 0) throw syscallError(`open AF_XDP socket: ${what}`, 'setsockopt', -r);
  }

  private mapRing(offs: BigUint64Array, at: number, n: number, descSize: number, pgoff: number, what: string): Ring {
    const producer = Number(offs[at]!);
    const consumer = Number(offs[at + 1]!);
    const desc = Number(offs[at + 2]!);
    const len = desc + n * descSize;
    const buf = this.sys.mmap(this.fd, len, Mmap.ProtRead | Mmap.ProtWrite, Mmap.Shared | 0x8000 /* MAP_POPULATE */, pgoff);
    if (typeof buf === 'number') throw syscallError(`open AF_XDP socket: mmap the ${what} ring`, 'mmap', -buf);
    const u32 = new Uint32Array(buf);
    const ring: Ring = { buf, u32, prod: producer >>> 2, cons: consumer >>> 2, desc: desc >>> 2, mask: n - 1, size: n };
    this.rings.push(ring);
    return ring;
  }

  private readonly rings: Ring[] = [];

  private fillPush(addr: number): void {
    const r = this.fill;
    const p = Atomics.load(r.u32, r.prod);
    const i = r.desc + (p & r.mask) * 2;
    r.u32[i] = addr;
    r.u32[i + 1] = 0;
    Atomics.store(r.u32, r.prod, (p + 1) >>> 0);
  }

  /** Frames waiting in the rx ring. */
  get pending(): number {
    if (this.closed) return 0;
    const r = this.rx;
    return (Atomics.load(r.u32, r.prod) - r.u32[r.cons]!) >>> 0;
  }

  /**
   * Take the next received frame as a view into UMEM, or undefined when the rx ring is empty.
   * The chunk stays owned by the caller until `recycle(view)`.
   */
  private takeRx(): { view: Uint8Array; addr: number } | undefined {
    const r = this.rx;
    const c = r.u32[r.cons]!;
    if (((Atomics.load(r.u32, r.prod) - c) >>> 0) === 0) return undefined;
    const i = r.desc + (c & r.mask) * 4;
    const addr = r.u32[i]!;
    const len = r.u32[i + 2]!;
    Atomics.store(r.u32, r.cons, (c + 1) >>> 0);
    this.rxFrames++;
    return { view: this.umem.subarray(addr, addr + len), addr };
  }

  /** Give a received chunk back to the kernel (fill ring). */
  private recycle(addr: number): void {
    if (this.closed) return;
    // the kernel may hand back an address with an offset into the chunk (headroom); align it
    this.fillPush(addr - (addr % this.frameSize));
  }

  /** Receive every frame waiting now, as copies (non-blocking). */
  receive(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.closed) return out;
    for (let f = this.takeRx(); f; f = this.takeRx()) {
      out.push(f.view.slice());
      this.recycle(f.addr);
    }
    return out;
  }

  /**
   * Resolve when the socket is readable (or closed). Uses libuv's poll; never spins. One waiter at
   * a time: a socket has one consumer.
   */
  waitReadable(): Promise<void> {
    if (this.closed || this.pending > 0) return Promise.resolve();
    if (this.waiter) return Promise.reject(new BpfError('BUSY', 'receive on AF_XDP socket: another consumer is already waiting (a socket has one reader)'));
    return new Promise<void>((resolve, reject) => {
      const id = this.sys.pollStart(this.fd, PollEvent.Readable, () => this.wake());
      if (id < 0) {
        reject(syscallError('receive on AF_XDP socket: watch readiness', 'uv_poll_start', -id));
        return;
      }
      this.waiter = resolve;
      this.pollId = id;
    });
  }

  private wake(): void {
    if (this.pollId) {
      this.sys.pollStop(this.pollId);
      this.pollId = 0;
    }
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /**
   * Received frames as zero-copy views into UMEM. A view is valid until the loop body finishes;
   * its chunk then returns to the fill ring. Ends when the socket is closed.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    while (!this.closed) {
      const f = this.takeRx();
      if (!f) {
        await this.waitReadable();
        continue;
      }
      try {
        yield f.view;
      } finally {
        this.recycle(f.addr);
      }
    }
  }

  /** Reap the completion ring: sent chunks become free again. */
  private reap(): void {
    const r = this.comp;
    const c = r.u32[r.cons]!;
    const p = Atomics.load(r.u32, r.prod);
    const n = (p - c) >>> 0;
    for (let k = 0; k < n; k++) this.txFree.push(r.u32[r.desc + (((c + k) & r.mask) * 2)]!);
    if (n) Atomics.store(r.u32, r.cons, (c + n) >>> 0);
  }

  /**
   * Send `frame` out of the bound interface: copy it into a free transmit chunk, post it on the
   * tx ring and wake the kernel (sendto). Returns false when no chunk or tx slot is free.
   */
  send(frame: Uint8Array): boolean {
    if (this.closed) throw new BpfError('CLOSED', 'send on AF_XDP socket: the socket is closed');
    if (!(frame instanceof Uint8Array)) throw new ArgumentError('send on AF_XDP socket: the frame must be a Uint8Array');
    if (frame.length === 0 || frame.length > this.frameSize) throw new ArgumentError(`send on AF_XDP socket: frame of ${frame.length} bytes (1..${this.frameSize})`);
    this.reap();
    const r = this.tx;
    const p = r.u32[r.prod]!;
    if (((p - Atomics.load(r.u32, r.cons)) >>> 0) >= r.size || this.txFree.length === 0) {
      this.kick();
      this.reap();
      if (((p - Atomics.load(r.u32, r.cons)) >>> 0) >= r.size || this.txFree.length === 0) return false;
    }
    const addr = this.txFree.pop()!;
    this.umem.set(frame, addr);
    const i = r.desc + (p & r.mask) * 4;
    r.u32[i] = addr;
    r.u32[i + 1] = 0;
    r.u32[i + 2] = frame.length;
    r.u32[i + 3] = 0;
    Atomics.store(r.u32, r.prod, (p + 1) >>> 0);
    this.kick();
    this.reap();
    this.txFrames++;
    return true;
  }

  private kick(): void {
    const r = this.sys.sendto(this.fd, null, MSG_DONTWAIT, null);
    // EAGAIN/EBUSY: the kernel is still sending; ENOBUFS: a transient shortage. Both retry later.
    if (r < 0 && -r !== 11 && -r !== 16 && -r !== 105) throw syscallError('send on AF_XDP socket', 'sendto', -r);
  }

  /** XDP_STATISTICS. */
  statistics(): XskStatistics {
    const out = new BigUint64Array(6);
    const n = this.sys.getsockopt(this.fd, SOL_XDP, XdpOpt.Statistics, out);
    if (n < 0) throw syscallError('AF_XDP statistics', 'getsockopt', -n);
    return { rxDropped: out[0]!, rxInvalidDescs: out[1]!, txInvalidDescs: out[2]!, rxRingFull: out[3]!, rxFillRingEmptyDescs: out[4]!, txRingEmptyDescs: out[5]! };
  }

  private release(): void {
    if (this.pollId) {
      this.sys.pollStop(this.pollId);
      this.pollId = 0;
    }
    if (this.fd >= 0) this.sys.close(this.fd);
    if (this.bound) {
      this.bound = false;
      const k = queueKey(this.ifindex, this.queue);
      const n = (boundHere.get(k) ?? 1) - 1;
      if (n > 0) boundHere.set(k, n);
      else boundHere.delete(k);
      closedHereAt.set(k, Date.now());
    }
    for (const r of this.rings) this.sys.munmap(r.buf);
    this.rings.length = 0;
    if (this.umemBuf) this.sys.munmap(this.umemBuf);
    this.umemBuf = undefined;
  }

  /** Close the socket (the kernel drops it from XSKMAPs), unmap rings and UMEM. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const w = this.waiter;
    this.waiter = null;
    this.release();
    w?.();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
