/**
 * `struct xdp_md` (24 bytes: data, data_end, data_meta, ingress_ifindex, rx_queue_index,
 * egress_ifindex) and the XDP buffer as BPF_PROG_TEST_RUN builds it (net/bpf/test_run.c):
 * a 4096-byte frame, XDP_PACKET_HEADROOM (256) bytes of zeroed headroom, the data, and
 * SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) = 320 bytes of tailroom. Loads of the 32-bit
 * `data`/`data_end`/`data_meta` fields are rewritten into 64-bit packet pointers, as the
 * kernel's ctx rewriting does; the ctx itself is read-only to programs.
 *
 * ctx_in (when given): data_meta must be 0, data_end must equal the data size, `data` is the
 * metadata length (taken from the start of data_in; ≤ 255 and 4-byte aligned), egress_ifindex
 * must be 0, rx_queue_index needs an ingress_ifindex. ctx_out reports data = metadata length,
 * data_end = metadata + data length, data_meta = 0.
 */
import type { AddressSpace, Region, RegionHooks } from '../memory/index.js';
import { RegionFlag, RegionKind } from '../memory/index.js';
import { E2BIG, EINVAL, ENODEV, runError } from './errors.js';
import { ETH_HLEN, PAGE_SIZE, PacketBuf, SKB_SHINFO_SIZE, XDP_PACKET_HEADROOM, newPage, packetPointer } from './packet.js';

export const XDP_MD_SIZE = 24;
/** MAX_SKB_FRAGS (CONFIG_MAX_SKB_FRAGS default). */
export const MAX_SKB_FRAGS = 17;
export const enum XdpMd {
  Data = 0,
  DataEnd = 4,
  DataMeta = 8,
  IngressIfindex = 12,
  RxQueueIndex = 16,
  EgressIfindex = 20,
}

export const enum XdpAction {
  Aborted = 0,
  Drop = 1,
  Pass = 2,
  Tx = 3,
  Redirect = 4,
}
export const XDP_ACTION_NAMES = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'] as const;

export class XdpContext implements RegionHooks {
  readonly kind = 'xdp' as const;
  readonly region: Region;
  readonly bytes = new Uint8Array(XDP_MD_SIZE);
  readonly pkt: PacketBuf;
  private readonly dv = new DataView(this.bytes.buffer);
  /** The ctx_in given to a test run (ctx_out starts from it). */
  ctxIn: Uint8Array | undefined;

  constructor(space: AddressSpace, pkt: PacketBuf, ingressIfindex: number, rxQueueIndex: number, egressIfindex = 0) {
    this.pkt = pkt;
    this.dv.setUint32(XdpMd.IngressIfindex, ingressIfindex, true);
    this.dv.setUint32(XdpMd.RxQueueIndex, rxQueueIndex, true);
    this.dv.setUint32(XdpMd.EgressIfindex, egressIfindex, true);
    this.region = space.allocate(RegionKind.Ctx, 'ctx (struct xdp_md)').setBytes(this.bytes).configure(RegionFlag.Read, this);
    this.region.owner = this;
  }

  load(_r: Region, off: number, size: number, out: Int32Array): boolean {
    if (size !== 4) return false;
    const p = this.pkt;
    switch (off) {
      case XdpMd.Data:
        packetPointer(p, p.data, out);
        return true;
      case XdpMd.DataEnd:
        packetPointer(p, p.end, out);
        return true;
      case XdpMd.DataMeta:
        packetPointer(p, p.meta, out);
        return true;
      default:
        return false;
    }
  }

  store(): boolean {
    return false;
  }

  get ingressIfindex(): number {
    return this.dv.getUint32(XdpMd.IngressIfindex, true);
  }

  /** ctx_out as the kernel's xdp_convert_buff_to_md leaves it. */
  ctxOut(): Uint8Array {
    const out = new Uint8Array(XDP_MD_SIZE);
    if (this.ctxIn) out.set(this.ctxIn.subarray(0, XDP_MD_SIZE));
    const dv = new DataView(out.buffer);
    dv.setUint32(XdpMd.Data, this.pkt.data - this.pkt.meta, true);
    dv.setUint32(XdpMd.DataEnd, this.pkt.end - this.pkt.meta, true);
    dv.setUint32(XdpMd.DataMeta, 0, true);
    return out;
  }

  release(space: AddressSpace): void {
    space.release(this.region);
    this.pkt.release();
  }
}

/** An XDP buffer holding `frame` at XDP_PACKET_HEADROOM - metaLen, metadata first. */
export function xdpBuffer(space: AddressSpace, frame: Uint8Array, metaLen = 0): PacketBuf {
  const headroom = XDP_PACKET_HEADROOM - metaLen;
  const bytes = newPage();
  bytes.set(frame, headroom);
  const p = new PacketBuf(space, bytes, headroom, headroom + frame.length, PAGE_SIZE - SKB_SHINFO_SIZE);
  p.meta = headroom;
  p.data = headroom + metaLen;
  p.sync();
  return p;
}

/** An XDP buffer with the first `linear` bytes in the page and the rest in page-sized fragments. */
export function xdpMultiBuffer(space: AddressSpace, data: Uint8Array, linear: number, metaLen = 0): PacketBuf {
  const pkt = xdpBuffer(space, data.subarray(0, linear), metaLen);
  for (let o = linear; o < data.length; o += PAGE_SIZE) {
    const page = newPage();
    const part = data.subarray(o, Math.min(data.length, o + PAGE_SIZE));
    page.set(part);
    pkt.frags.push(page);
    pkt.fragLen.push(part.length);
  }
  return pkt;
}

/** Bytes of a received frame that fit the linear part of an XDP buffer. */
export const XDP_MAX_LINEAR = PAGE_SIZE - XDP_PACKET_HEADROOM - SKB_SHINFO_SIZE;

export interface XdpRunInput {
  ifindexExists?: (ifindex: number) => boolean;
  /** Receive queues per ifindex (default 1). */
  rxQueues?: (ifindex: number) => number;
}

/** Build the XDP test-run context from data_in / ctx_in with the kernel's checks. */
export function xdpTestRun(space: AddressSpace, prog: string, data: Uint8Array, ctxIn: Uint8Array | undefined, env: XdpRunInput = {}): XdpContext {
  let metaLen = 0;
  let ingress = 1;
  let rxq = 0;
  let linear = data.length;
  if (ctxIn) {
    if (ctxIn.length > XDP_MD_SIZE) {
      for (let i = XDP_MD_SIZE; i < ctxIn.length; i++) if (ctxIn[i] !== 0) throw runError(prog, E2BIG, 'ctx_in has non-zero bytes past struct xdp_md');
    }
    const c = new Uint8Array(XDP_MD_SIZE);
    c.set(ctxIn.subarray(0, XDP_MD_SIZE));
    const dv = new DataView(c.buffer);
    const cdata = dv.getUint32(XdpMd.Data, true);
    const cend = dv.getUint32(XdpMd.DataEnd, true);
    if (dv.getUint32(XdpMd.DataMeta, true) !== 0) throw runError(prog, EINVAL, 'ctx_in data_meta must be 0');
    if (cend > data.length) throw runError(prog, EINVAL, `ctx_in data_end (${cend}) exceeds the data size (${data.length})`);
    linear = cend;
    if (cdata > cend) throw runError(prog, EINVAL, 'ctx_in data must not exceed data_end');
    if (cdata & 3 || cdata > 255) throw runError(prog, EINVAL, `ctx_in data (metadata length ${cdata}) must be a multiple of 4 and at most 252`);
    if (dv.getUint32(XdpMd.EgressIfindex, true) !== 0) throw runError(prog, EINVAL, 'ctx_in egress_ifindex must be 0');
    metaLen = cdata;
    const ci = dv.getUint32(XdpMd.IngressIfindex, true);
    rxq = dv.getUint32(XdpMd.RxQueueIndex, true);
    if (ci === 0 && rxq !== 0) throw runError(prog, EINVAL, 'ctx_in rx_queue_index needs an ingress_ifindex');
    if (ci !== 0) {
      if (env.ifindexExists && !env.ifindexExists(ci)) throw runError(prog, ENODEV, `ctx_in ingress_ifindex ${ci}: no such device`);
      if (rxq >= (env.rxQueues?.(ci) ?? 1)) throw runError(prog, EINVAL, `ctx_in rx_queue_index ${rxq} is beyond the device's queues`);
      ingress = ci;
    }
  }
  const maxData = PAGE_SIZE - (XDP_PACKET_HEADROOM - metaLen) - SKB_SHINFO_SIZE;
  if (data.length < ETH_HLEN) throw runError(prog, EINVAL, `data_in is ${data.length} bytes, shorter than an Ethernet header (14)`);
  if (data.length > PAGE_SIZE - XDP_PACKET_HEADROOM - SKB_SHINFO_SIZE + MAX_SKB_FRAGS * PAGE_SIZE) {
    throw runError(prog, 12, `data_in is ${data.length} bytes, more than one buffer and ${MAX_SKB_FRAGS} fragments hold`);
  }
  // As the kernel: the linear part ends at ctx_in's data_end (or where the page is full); the
  // rest goes to page-sized fragments (XDP multi-buffer).
  const pkt = xdpMultiBuffer(space, data, Math.min(linear, maxData), metaLen);
  const ctx = new XdpContext(space, pkt, ingress, rxq);
  ctx.ctxIn = ctxIn;
  return ctx;
}
