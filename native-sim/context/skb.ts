/**
 * `struct __sk_buff` (192 bytes) for TC (sched_cls/sched_act), socket filters and cgroup_skb,
 * and the skb BPF_PROG_TEST_RUN builds (net/bpf/test_run.c, bpf_prog_test_run_skb):
 *
 * - the frame is copied after NET_SKB_PAD headroom; `eth_type_trans` on the device (loopback,
 *   ifindex 1, all-zero MAC, unless ctx_in.ifindex names another) sets protocol and pkt_type and
 *   pulls the Ethernet header; TC programs (L2) see it pushed back, socket filters and cgroup_skb
 *   see data starting at the network header;
 * - after a non-L2 run 14 zeroed bytes are pushed in front, so data_out starts with a zero
 *   Ethernet header;
 * - ctx_in may set only mark, priority, ingress_ifindex, ifindex, cb[], tstamp, wire_len,
 *   gso_segs, gso_size and hwtstamp (anything else non-zero → EINVAL); ctx_out returns mark,
 *   priority, ingress_ifindex, ifindex, tstamp, cb[], wire_len, gso_segs, hwtstamp.
 *
 * Loads of data/data_end/data_meta are rewritten into packet pointers and `len` is live.
 */
import type { AddressSpace, Region, RegionHooks } from '../memory/index.js';
import { RegionFlag, RegionKind } from '../memory/index.js';
import { EINVAL, ENODEV, runError } from './errors.js';
import { ETH_HLEN, PAGE_SIZE, PacketBuf, SKB_HEADROOM, SKB_SHINFO_SIZE, packetPointer } from './packet.js';

export const SK_BUFF_SIZE = 192;
export const enum Skb {
  Len = 0,
  PktType = 4,
  Mark = 8,
  QueueMapping = 12,
  Protocol = 16,
  VlanPresent = 20,
  VlanTci = 24,
  VlanProto = 28,
  Priority = 32,
  IngressIfindex = 36,
  Ifindex = 40,
  TcIndex = 44,
  Cb = 48,
  Hash = 68,
  TcClassid = 72,
  Data = 76,
  DataEnd = 80,
  NapiId = 84,
  Family = 88,
  DataMeta = 140,
  FlowKeys = 144,
  Tstamp = 152,
  WireLen = 160,
  GsoSegs = 164,
  Sk = 168,
  GsoSize = 176,
  TstampType = 180,
  Hwtstamp = 184,
}

export type SkbKind = 'tc' | 'socket_filter' | 'cgroup_skb';

export const enum PacketType {
  Host = 0,
  Broadcast = 1,
  Multicast = 2,
  OtherHost = 3,
}

export const enum TcAction {
  Unspec = -1,
  Ok = 0,
  Reclassify = 1,
  Shot = 2,
  Pipe = 3,
  Stolen = 4,
  Queued = 5,
  Repeat = 6,
  Redirect = 7,
}

/** What eth_type_trans derives from a frame for a device with MAC `devMac`. */
export function ethTypeTrans(frame: Uint8Array, devMac: Uint8Array): { protocol: number; pktType: number } {
  let pktType: number = PacketType.Host;
  if (frame[0]! & 1) {
    let bcast = true;
    for (let i = 0; i < 6; i++) if (frame[i] !== 0xff) bcast = false;
    pktType = bcast ? PacketType.Broadcast : PacketType.Multicast;
  } else {
    for (let i = 0; i < 6; i++) {
      if (frame[i] !== devMac[i]) {
        pktType = PacketType.OtherHost;
        break;
      }
    }
  }
  const proto = (frame[12]! << 8) | frame[13]!;
  let protocol: number;
  if (proto >= 0x600) protocol = proto;
  else if (frame.length >= ETH_HLEN + 2 && frame[14] === 0xff && frame[15] === 0xff) protocol = 0x0001; // ETH_P_802_3
  else protocol = 0x0004; // ETH_P_802_2
  // skb->protocol is __be16: the u32 ctx field reads the big-endian bytes as a little-endian u16.
  return { protocol: ((protocol >> 8) | ((protocol & 0xff) << 8)) & 0xffff, pktType };
}

export class SkbContext implements RegionHooks {
  readonly region: Region;
  readonly bytes = new Uint8Array(SK_BUFF_SIZE);
  readonly dv = new DataView(this.bytes.buffer);
  readonly pkt: PacketBuf;
  readonly kind: SkbKind;
  /** L2 programs see the Ethernet header (TC). */
  readonly l2: boolean;
  /** bpf_redirect / skb tstamp etc. set by helpers. */
  ctxIn: Uint8Array | undefined;

  constructor(space: AddressSpace, pkt: PacketBuf, kind: SkbKind) {
    this.pkt = pkt;
    this.kind = kind;
    this.l2 = kind === 'tc';
    this.region = space.allocate(RegionKind.Ctx, 'ctx (struct __sk_buff)').setBytes(this.bytes).configure(RegionFlag.Read | RegionFlag.Write, this);
    this.region.owner = this;
  }

  load(_r: Region, off: number, size: number, out: Int32Array): boolean {
    const p = this.pkt;
    if (size === 4) {
      switch (off) {
        case Skb.Len:
          out[0] = p.end - p.data;
          out[1] = 0;
          return true;
        case Skb.Data:
          packetPointer(p, p.data, out);
          return true;
        case Skb.DataEnd:
          packetPointer(p, p.end, out);
          return true;
        case Skb.DataMeta:
          packetPointer(p, p.meta, out);
          return true;
        default:
          return false;
      }
    }
    return false;
  }

  store(): boolean {
    return false;
  }

  u32(off: number): number {
    return this.dv.getUint32(off, true);
  }
  setU32(off: number, v: number): void {
    this.dv.setUint32(off, v >>> 0, true);
  }

  /** ctx_out per convert_skb_to___skb over a copy of ctx_in. */
  ctxOut(): Uint8Array {
    const out = new Uint8Array(SK_BUFF_SIZE);
    if (this.ctxIn) out.set(this.ctxIn.subarray(0, SK_BUFF_SIZE));
    const src = this.bytes;
    const copy = (off: number, len: number): void => out.set(src.subarray(off, off + len), off);
    copy(Skb.Mark, 4);
    copy(Skb.Priority, 4);
    copy(Skb.IngressIfindex, 4);
    copy(Skb.Ifindex, 4);
    copy(Skb.Tstamp, 8);
    copy(Skb.Cb, 20);
    copy(Skb.WireLen, 4);
    copy(Skb.GsoSegs, 4);
    copy(Skb.Hwtstamp, 8);
    return out;
  }

  /** data_out: the frame from skb->data; non-L2 runs get 14 zero bytes pushed in front. */
  dataOut(): Uint8Array {
    const p = this.pkt;
    if (this.l2) return p.frame();
    const out = new Uint8Array(ETH_HLEN + p.length);
    out.set(p.bytes.subarray(p.data, p.end), ETH_HLEN);
    return out;
  }

  release(space: AddressSpace): void {
    space.release(this.region);
    this.pkt.release();
  }
}

/** Fields ctx_in may set, as [offset, length] ranges; everything else must be zero. */
const SKB_CTX_ALLOWED: readonly (readonly [number, number])[] = [
  [Skb.Mark, 4], [Skb.Priority, 4], [Skb.IngressIfindex, 4], [Skb.Ifindex, 4], [Skb.Cb, 20], [Skb.Tstamp, 8],
  [Skb.WireLen, 4], [Skb.GsoSegs, 4], [Skb.GsoSize, 4], [Skb.Hwtstamp, 8],
];

export interface SkbRunInput {
  /** MAC of a simulated interface by ifindex (undefined = no such device). */
  deviceMac?: (ifindex: number) => Uint8Array | undefined;
}

const ZERO_MAC = new Uint8Array(6);
const GSO_MAX_SEGS = 65535;
const GSO_LEGACY_MAX_SIZE = 65536;

/** Build the skb test-run context from data_in / ctx_in with the kernel's checks. */
export function skbTestRun(space: AddressSpace, prog: string, kind: SkbKind, data: Uint8Array, ctxIn: Uint8Array | undefined, env: SkbRunInput = {}): SkbContext {
  if (data.length < ETH_HLEN) throw runError(prog, EINVAL, `data_in is ${data.length} bytes, shorter than an Ethernet header (14)`);
  const max = PAGE_SIZE - SKB_HEADROOM - SKB_SHINFO_SIZE;
  if (data.length > max) throw runError(prog, EINVAL, `data_in is ${data.length} bytes, more than ${max}`);
  let ctx: Uint8Array | undefined;
  if (ctxIn) {
    for (let i = SK_BUFF_SIZE; i < ctxIn.length; i++) if (ctxIn[i] !== 0) throw runError(prog, 7, 'ctx_in has non-zero bytes past struct __sk_buff');
    ctx = new Uint8Array(SK_BUFF_SIZE);
    ctx.set(ctxIn.subarray(0, SK_BUFF_SIZE));
    const allowed = new Uint8Array(SK_BUFF_SIZE);
    for (const [o, l] of SKB_CTX_ALLOWED) allowed.fill(1, o, o + l);
    for (let i = 0; i < SK_BUFF_SIZE; i++) {
      if (ctx[i] !== 0 && !allowed[i]) throw runError(prog, EINVAL, `ctx_in byte ${i} must be zero (only mark, priority, ingress_ifindex, ifindex, cb, tstamp, wire_len, gso_segs, gso_size, hwtstamp may be set)`);
    }
  }
  const cdv = ctx ? new DataView(ctx.buffer) : undefined;
  let ifindex = 1;
  let mac: Uint8Array = ZERO_MAC;
  if (cdv && cdv.getUint32(Skb.Ifindex, true) > 1) {
    ifindex = cdv.getUint32(Skb.Ifindex, true);
    const m = env.deviceMac?.(ifindex);
    if (!m) throw runError(prog, ENODEV, `ctx_in ifindex ${ifindex}: no such device`);
    mac = m;
  }
  const bytes = new Uint8Array(SKB_HEADROOM + ((data.length + 63) & ~63) + SKB_SHINFO_SIZE);
  bytes.set(data, SKB_HEADROOM);
  const l2 = kind === 'tc';
  const start = l2 ? SKB_HEADROOM : SKB_HEADROOM + ETH_HLEN;
  const pkt = new PacketBuf(space, bytes, start, SKB_HEADROOM + data.length, bytes.length - SKB_SHINFO_SIZE);
  const skb = new SkbContext(space, pkt, kind);
  skb.ctxIn = ctx;
  const { protocol, pktType } = ethTypeTrans(data, mac);
  // The test run takes the network header's addresses for its socket: a truncated IPv4/IPv6
  // header is rejected (observed on Linux 6.18: < 20 / < 40 bytes after Ethernet → EINVAL).
  const l3 = data.length - ETH_HLEN;
  if ((protocol === 0x0008 && l3 < 20) || (protocol === 0xdd86 && l3 < 40)) {
    skb.release(space);
    throw runError(prog, EINVAL, `data_in has a truncated ${protocol === 0x0008 ? 'IPv4' : 'IPv6'} header (${l3} bytes after Ethernet)`);
  }
  skb.setU32(Skb.PktType, pktType);
  skb.setU32(Skb.Protocol, protocol);
  skb.setU32(Skb.Ifindex, ifindex);
  if (cdv) {
    skb.setU32(Skb.Mark, cdv.getUint32(Skb.Mark, true));
    skb.setU32(Skb.Priority, cdv.getUint32(Skb.Priority, true));
    skb.setU32(Skb.IngressIfindex, cdv.getUint32(Skb.IngressIfindex, true));
    skb.bytes.set(ctx!.subarray(Skb.Tstamp, Skb.Tstamp + 8), Skb.Tstamp);
    skb.bytes.set(ctx!.subarray(Skb.Cb, Skb.Cb + 20), Skb.Cb);
    const wire = cdv.getUint32(Skb.WireLen, true);
    if (wire !== 0 && (wire < pkt.length || wire > GSO_LEGACY_MAX_SIZE)) throw runError(prog, EINVAL, `ctx_in wire_len ${wire} must be 0 or between the packet length and ${GSO_LEGACY_MAX_SIZE}`);
    skb.setU32(Skb.WireLen, wire === 0 ? pkt.length : wire);
    const segs = cdv.getUint32(Skb.GsoSegs, true);
    if (segs > GSO_MAX_SEGS) throw runError(prog, EINVAL, `ctx_in gso_segs ${segs} exceeds ${GSO_MAX_SEGS}`);
    skb.setU32(Skb.GsoSegs, segs);
    skb.setU32(Skb.GsoSize, cdv.getUint32(Skb.GsoSize, true));
    skb.bytes.set(ctx!.subarray(Skb.Hwtstamp, Skb.Hwtstamp + 8), Skb.Hwtstamp);
  }
  // without ctx_in the kernel skips convert___skb_to_skb: wire_len (qdisc cb pkt_len) stays 0
  return skb;
}

/** An skb for a frame received on / sent from a simulated interface. */
export function skbFromFrame(space: AddressSpace, kind: SkbKind, frame: Uint8Array, ifindex: number, mac: Uint8Array, ingress: boolean): SkbContext {
  const bytes = new Uint8Array(SKB_HEADROOM + ((frame.length + 63) & ~63) + SKB_SHINFO_SIZE);
  bytes.set(frame, SKB_HEADROOM);
  const start = kind === 'tc' ? SKB_HEADROOM : SKB_HEADROOM + ETH_HLEN;
  const pkt = new PacketBuf(space, bytes, start, SKB_HEADROOM + frame.length, bytes.length - SKB_SHINFO_SIZE);
  const skb = new SkbContext(space, pkt, kind);
  const { protocol, pktType } = ethTypeTrans(frame, mac);
  skb.setU32(Skb.PktType, ingress ? pktType : PacketType.Host);
  skb.setU32(Skb.Protocol, protocol);
  skb.setU32(Skb.Ifindex, ifindex);
  skb.setU32(Skb.IngressIfindex, ingress ? ifindex : 0);
  skb.setU32(Skb.WireLen, pkt.length);
  return skb;
}
