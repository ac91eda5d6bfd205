/**
 * Simulated network interfaces. `receive(frame)` runs what is attached, as a NIC + kernel would:
 * the XDP program first (XDP_DROP/ABORTED end it, XDP_TX sends the frame back out of this
 * interface, XDP_REDIRECT goes to another interface's wire, a CPU (to the stack) or an AF_XDP
 * socket, XDP_PASS continues), then the TC ingress programs in attach order (tcx semantics:
 * TC_ACT_UNSPEC/-1 = next program, OK = pass, SHOT = drop, REDIRECT = bpf_redirect target), and
 * finally the frame is passed to the stack (`passed`). `transmit(frame)` runs TC egress and puts
 * the frame on the wire; a wired peer receives it. Deliveries are bounded (16 hops) so wiring
 * loops cannot recurse forever.
 */
import { ArgumentError, BpfError } from '../../lib/errors.js';
import type { RedirectTarget } from '../helpers/env.js';
import { XskMap } from '../maps/xskmap.js';
import type { XskSocket } from './xsk.js';

export const XDP_VERDICTS = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'] as const;
export const TC_VERDICTS: Record<number, string> = {
  [-1]: 'TC_ACT_UNSPEC', 0: 'TC_ACT_OK', 1: 'TC_ACT_RECLASSIFY', 2: 'TC_ACT_SHOT', 3: 'TC_ACT_PIPE', 4: 'TC_ACT_STOLEN',
  5: 'TC_ACT_QUEUED', 6: 'TC_ACT_REPEAT', 7: 'TC_ACT_REDIRECT', 8: 'TC_ACT_TRAP',
};

/** Result of one program run on a frame. */
export interface FrameRun {
  retval: number;
  frame: Uint8Array;
  redirect: RedirectTarget | null;
}

/** What the interfaces need from an attached program (the emulator's programs). */
export interface FrameProgram {
  readonly name: string;
  runXdpFrame(frame: Uint8Array, ifindex: number, rxQueue: number): FrameRun;
  runTcFrame(frame: Uint8Array, ifindex: number, mac: Uint8Array, ingress: boolean): FrameRun;
}

export interface Redirected {
  /** 'iface' (to another interface's wire), 'cpu' (to the stack on a CPU), 'xsk' (AF_XDP socket). */
  kind: 'iface' | 'cpu' | 'xsk';
  ifindex?: number;
  ifname?: string;
  cpu?: number;
  queue?: number;
  frame: Uint8Array;
}

export interface ReceiveResult {
  /** Final verdict name: XDP_* when XDP decided, else TC_ACT_*, or 'PASS' with no program. */
  verdict: string;
  /** Raw return value of the deciding program (undefined without programs). */
  action?: number;
  /** The frame as the programs left it (undefined when dropped). */
  frame?: Uint8Array;
  /** Frames sent back out of this interface (XDP_TX). */
  tx: Uint8Array[];
  redirected: Redirected[];
  /** Frames handed to the network stack. */
  passed: Uint8Array[];
  dropped: boolean;
}

export interface InterfaceOptions {
  mac?: Uint8Array | string;
  ifindex?: number;
  mtu?: number;
  rxQueues?: number;
}

export function parseMac(mac: Uint8Array | string): Uint8Array {
  if (mac instanceof Uint8Array) {
    if (mac.length !== 6) throw new ArgumentError(`interface: a MAC address has 6 bytes, got ${mac.length}`);
    return mac.slice();
  }
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new ArgumentError(`interface: bad MAC address '${mac}' (expected aa:bb:cc:dd:ee:ff)`);
  }
  return new Uint8Array(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const MAX_HOPS = 16;

export class SimInterface {
  readonly name: string;
  readonly ifindex: number;
  mac: Uint8Array;
  mtu: number;
  rxQueues: number;
  xdp: FrameProgram | null = null;
  readonly tcIngress: FrameProgram[] = [];
  readonly tcEgress: FrameProgram[] = [];
  peer: SimInterface | null = null;
  /** Frames passed to the stack on this interface, in order. */
  readonly stack: Uint8Array[] = [];
  /** Frames put on the wire by this interface, in order. */
  readonly wire: Uint8Array[] = [];
  readonly xsks = new Set<XskSocket>();
  private readonly net: SimNet;

  constructor(net: SimNet, name: string, ifindex: number, opts: InterfaceOptions) {
    this.net = net;
    this.name = name;
    this.ifindex = ifindex;
    this.mac = opts.mac ? parseMac(opts.mac) : new Uint8Array([0x02, 0, 0, 0, (ifindex >> 8) & 0xff, ifindex & 0xff]);
    this.mtu = opts.mtu ?? 1500;
    this.rxQueues = opts.rxQueues ?? 1;
  }

  /** Wire this interface to `peer` (both directions), like a veth pair. */
  connect(peer: SimInterface): void {
    if (peer === this) throw new ArgumentError(`interface ${this.name}: cannot wire an interface to itself`);
    this.peer = peer;
    peer.peer = this;
  }

  disconnect(): void {
    if (this.peer) this.peer.peer = null;
    this.peer = null;
  }

  /** A frame arrives on this interface (from its wire). */
  receive(frame: Uint8Array, opts: { rxQueue?: number } = {}): ReceiveResult {
    if (!(frame instanceof Uint8Array)) throw new ArgumentError(`receive on ${this.name}: the frame must be a Uint8Array`);
    const res: ReceiveResult = { verdict: 'PASS', tx: [], redirected: [], passed: [], dropped: false };
    if (this.net.depth >= MAX_HOPS) {
      res.verdict = 'DROP_LOOP';
      res.dropped = true;
      return res;
    }
    this.net.depth++;
    try {
      let cur = frame;
      if (this.xdp) {
        const r = this.xdp.runXdpFrame(cur, this.ifindex, opts.rxQueue ?? 0);
        const act = r.retval >>> 0;
        res.action = act;
        res.verdict = XDP_VERDICTS[act] ?? `XDP_UNKNOWN(${act})`;
        cur = r.frame;
        switch (act) {
          case 2:
            break;
          case 3:
            res.frame = cur;
            res.tx.push(cur);
            this.putOnWire(cur);
            return res;
          case 4:
            res.frame = cur;
            this.xdpRedirect(r.redirect, cur, res, opts.rxQueue ?? 0);
            return res;
          default:
            // XDP_ABORTED, XDP_DROP and unknown actions drop (unknown ones warn in the kernel)
            res.dropped = true;
            return res;
        }
      }
      const afterTc = this.runTcHook(this.tcIngress, cur, res, true);
      if (afterTc === undefined) return res;
      cur = afterTc;
      res.frame = cur;
      res.passed.push(cur);
      this.stack.push(cur);
      return res;
    } finally {
      this.net.depth--;
    }
  }

  /**
   * Run one TC hook's programs (TC_ACT_UNSPEC moves on to the next). Returns the frame to hand on,
   * or undefined when `res` is final: dropped (SHOT/STOLEN/QUEUED/TRAP) or redirected.
   */
  private runTcHook(progs: readonly FrameProgram[], frame: Uint8Array, res: ReceiveResult, ingress: boolean): Uint8Array | undefined {
    let cur = frame;
    for (const p of progs) {
      const r = p.runTcFrame(cur, this.ifindex, this.mac, ingress);
      const act = r.retval | 0;
      cur = r.frame;
      if (act === -1) continue;
      res.action = act;
      res.verdict = TC_VERDICTS[act] ?? `TC_ACT(${act})`;
      if (act === 2 || act === 4 || act === 5 || act === 8) {
        res.dropped = true;
        return undefined;
      }
      if (act === 7) {
        res.frame = cur;
        this.tcRedirect(r.redirect, cur, res);
        return undefined;
      }
      break;
    }
    return cur;
  }

  /** The host sends `frame` out of this interface: TC egress, then the wire. */
  transmit(frame: Uint8Array): ReceiveResult {
    const res: ReceiveResult = { verdict: 'PASS', tx: [], redirected: [], passed: [], dropped: false };
    if (this.net.depth >= MAX_HOPS) {
      res.verdict = 'DROP_LOOP';
      res.dropped = true;
      return res;
    }
    this.net.depth++;
    try {
      let cur = frame;
      const afterTc = this.runTcHook(this.tcEgress, cur, res, false);
      if (afterTc === undefined) return res;
      cur = afterTc;
      res.frame = cur;
      res.tx.push(cur);
      this.putOnWire(cur);
      return res;
    } finally {
      this.net.depth--;
    }
  }

  private putOnWire(frame: Uint8Array): void {
    this.wire.push(frame);
    if (this.wire.length > 100000) this.wire.splice(0, this.wire.length - 100000);
    if (this.peer) this.peer.receive(frame);
  }

  private xdpRedirect(rd: RedirectTarget | null, frame: Uint8Array, res: ReceiveResult, rxQueue: number): void {
    if (!rd) {
      res.dropped = true;
      return;
    }
    if (rd.kind === 'ifindex' || rd.kind === 'broadcast') {
      const targets: SimInterface[] = [];
      if (rd.kind === 'ifindex') {
        const t = this.net.byIndex(rd.index);
        if (t) targets.push(t);
      } else {
        for (const t of this.net.broadcastTargets(rd.map)) if (!(rd.flags & (1 << 4)) || t !== this) targets.push(t);
      }
      if (targets.length === 0) {
        res.dropped = true;
        return;
      }
      for (const t of targets) {
        res.redirected.push({ kind: 'iface', ifindex: t.ifindex, ifname: t.name, frame });
        t.putOnWire(frame);
      }
      return;
    }
    if (rd.kind === 'cpu') {
      res.redirected.push({ kind: 'cpu', cpu: rd.index, frame });
      res.passed.push(frame);
      this.stack.push(frame);
      return;
    }
    const sock = rd.map instanceof XskMap ? rd.map.target(rd.index) : undefined;
    const xsk = sock as XskSocket | undefined;
    if (!xsk || xsk.ifindex !== this.ifindex || xsk.queueId !== rxQueue || !xsk.deliver(frame)) {
      res.dropped = true;
      return;
    }
    res.redirected.push({ kind: 'xsk', queue: xsk.queueId, ifindex: this.ifindex, ifname: this.name, frame });
  }

  private tcRedirect(rd: RedirectTarget | null, frame: Uint8Array, res: ReceiveResult): void {
    const t = rd ? this.net.byIndex(rd.index) : undefined;
    if (!rd || !t) {
      res.dropped = true;
      return;
    }
    res.redirected.push({ kind: 'iface', ifindex: t.ifindex, ifname: t.name, frame });
    if (rd.flags & 1) t.receive(frame);
    else t.transmit(frame);
  }
}

/** The emulator's set of interfaces (one namespace). */
export class SimNet {
  private readonly byName = new Map<string, SimInterface>();
  private readonly byIdx = new Map<number, SimInterface>();
  private nextIndex = 2; // 1 is loopback, as on Linux
  /** Nesting of deliveries in progress (bounded by MAX_HOPS across all interfaces). */
  depth = 0;

  constructor() {
    this.create('lo', { ifindex: 1, mac: new Uint8Array(6), mtu: 65536 });
  }

  /** The interface `name`, created on first use (options apply at creation). */
  interface(name: string, opts: InterfaceOptions = {}): SimInterface {
    const existing = this.byName.get(name);
    if (existing) {
      if (opts.ifindex !== undefined && opts.ifindex !== existing.ifindex) {
        throw new ArgumentError(`interface ${name}: already exists with ifindex ${existing.ifindex}`);
      }
      if (opts.mac) existing.mac = parseMac(opts.mac);
      if (opts.mtu) existing.mtu = opts.mtu;
      if (opts.rxQueues) existing.rxQueues = opts.rxQueues;
      return existing;
    }
    return this.create(name, opts);
  }

  private create(name: string, opts: InterfaceOptions): SimInterface {
    if (typeof name !== 'string' || name.length === 0 || name.length > 15) {
      throw new ArgumentError(`interface: name '${String(name)}' must be 1 to 15 characters`);
    }
    let idx = opts.ifindex;
    if (idx !== undefined) {
      if (!Number.isInteger(idx) || idx <= 0 || idx > 0x7fffffff) throw new ArgumentError(`interface ${name}: ifindex must be a positive integer`);
      if (this.byIdx.has(idx)) throw new BpfError('EEXIST', `interface ${name}: ifindex ${idx} is taken by ${this.byIdx.get(idx)!.name}`);
    } else {
      while (this.byIdx.has(this.nextIndex)) this.nextIndex++;
      idx = this.nextIndex++;
    }
    const i = new SimInterface(this, name, idx, opts);
    this.byName.set(name, i);
    this.byIdx.set(idx, i);
    return i;
  }

  get(name: string): SimInterface | undefined {
    return this.byName.get(name);
  }

  byIndex(ifindex: number): SimInterface | undefined {
    return this.byIdx.get(ifindex);
  }

  all(): SimInterface[] {
    return [...this.byIdx.values()];
  }

  /** Interfaces of a devmap/devmap_hash (broadcast redirect). */
  broadcastTargets(map: unknown): SimInterface[] {
    const out: SimInterface[] = [];
    const m = map as { nextKey(k: Uint8Array | undefined): Uint8Array | undefined; lookup(k: Uint8Array): Uint8Array | undefined } | undefined;
    if (!m) return out;
    for (let k = m.nextKey(undefined); k; k = m.nextKey(k)) {
      const v = m.lookup(k);
      if (!v) continue;
      const idx = v[0]! | (v[1]! << 8) | (v[2]! << 16) | (v[3]! << 24);
      const t = this.byIdx.get(idx >>> 0);
      if (t) out.push(t);
    }
    return out;
  }
}
