/**
 * Packet buffers as the kernel lays them out for BPF_PROG_TEST_RUN and for received frames:
 * one byte array with headroom before the data and tailroom after it, and the offsets
 * data_meta ≤ data ≤ data_end inside it. The packet region's valid window is
 * [data_meta, data_end) (data_meta = data when there is no metadata), so programs can touch
 * exactly the bytes the kernel's verifier-checked pointers allow.
 */
import { type AddressSpace, REGION_TAG, Region, RegionFlag, RegionKind } from '../memory/index.js';

/** Kernel layout constants (x86-64, Linux 6.x; sizes checked against the running kernel's BTF). */
export const PAGE_SIZE = 4096;
export const XDP_PACKET_HEADROOM = 256;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)): tailroom reserved after packet data. */
export const SKB_SHINFO_SIZE = 320;
/** sizeof(struct xdp_frame): the start of the XDP buffer that adjust_head/meta may not enter. */
export const XDP_FRAME_SIZE = 40;
/** NET_SKB_PAD + NET_IP_ALIGN on x86-64: skb headroom in the skb test run. */
export const SKB_HEADROOM = 64;
export const ETH_HLEN = 14;

const SLAB_PAGES = 32;
let slab = new ArrayBuffer(0);
let slabNext = SLAB_PAGES;

/**
 * A zero-filled PAGE_SIZE page for a packet, cut from a slab of 32 fresh pages (never reused: a
 * page is only ever handed out once, so no packet can see another's bytes). One ArrayBuffer per
 * packet made the allocation most of a single test run's cost.
 */
export function newPage(): Uint8Array {
  if (slabNext === SLAB_PAGES) {
    slab = new ArrayBuffer(PAGE_SIZE * SLAB_PAGES);
    slabNext = 0;
  }
  return new Uint8Array(slab, PAGE_SIZE * slabNext++, PAGE_SIZE);
}

export class PacketBuf {
  readonly space: AddressSpace;
  readonly region: Region;
  bytes: Uint8Array;
  meta: number;
  data: number;
  end: number;
  /** Largest data_end allowed (XDP: hard start + frame size - tailroom). */
  hardEnd: number;
  /** XDP metadata supported (always in the emulator, like generic/test-run XDP). */
  metaValid = true;
  /**
   * XDP multi-buffer fragments (test runs put data beyond the linear part in page-sized frags):
   * each one's bytes are `frags[i].subarray(0, fragLen[i])` of a PAGE_SIZE page.
   */
  frags: Uint8Array[] = [];
  fragLen: number[] = [];

  /** Total bytes in fragments. */
  get fragsSize(): number {
    let n = 0;
    for (const l of this.fragLen) n += l;
    return n;
  }

  constructor(space: AddressSpace, bytes: Uint8Array, data: number, end: number, hardEnd: number, name = 'packet') {
    this.space = space;
    this.bytes = bytes;
    this.meta = data;
    this.data = data;
    this.end = end;
    this.hardEnd = hardEnd;
    this.region = space.allocate(RegionKind.Packet, name).setBytes(bytes, data, end).configure(RegionFlag.Read | RegionFlag.Write);
    this.region.owner = this;
  }

  /** Re-sync the region window after the offsets moved. */
  sync(): void {
    if (this.region.bytes !== this.bytes) this.region.setBytes(this.bytes, this.meta, this.end);
    else this.region.setWindow(this.meta, this.end);
  }

  get length(): number {
    return this.end - this.data;
  }

  /** Copy of [data_meta, data_end) followed by the fragments — what XDP test runs return. */
  withMeta(): Uint8Array {
    if (this.frags.length === 0) return this.bytes.slice(this.meta, this.end);
    const out = new Uint8Array(this.end - this.meta + this.fragsSize);
    out.set(this.bytes.subarray(this.meta, this.end));
    let o = this.end - this.meta;
    this.frags.forEach((f, i) => {
      out.set(f.subarray(0, this.fragLen[i]), o);
      o += this.fragLen[i]!;
    });
    return out;
  }

  /** Copy of [data, data_end). */
  frame(): Uint8Array {
    return this.bytes.slice(this.data, this.end);
  }

  /**
   * Make room: a new buffer with at least `head` bytes before data and `tail` after data_end
   * (skb helpers that grow the packet; the kernel reallocates with pskb_expand_head).
   */
  expand(head: number, tail: number): void {
    const needHead = Math.max(0, head - this.meta);
    const needTail = Math.max(0, tail - (this.bytes.length - this.end));
    if (needHead === 0 && needTail === 0) return;
    const nb = new Uint8Array(this.bytes.length + needHead + needTail);
    nb.set(this.bytes, needHead);
    this.bytes = nb;
    this.meta += needHead;
    this.data += needHead;
    this.end += needHead;
    this.hardEnd = nb.length;
    this.sync();
  }

  release(): void {
    this.space.release(this.region);
  }
}

/** Pointer halves [lo, hi] to offset `off` of the packet. */
export function packetPointer(p: PacketBuf, off: number, out: Int32Array): void {
  out[0] = off | 0;
  out[1] = REGION_TAG | p.region.id;
}
