/**
 * skb and checksum helpers (net/core/filter.c semantics; the test-run skb has ip_summed =
 * CHECKSUM_NONE): skb_store_bytes (9), l3_csum_replace (10), l4_csum_replace (11),
 * skb_load_bytes (26), csum_diff (28), csum_update (40), skb_change_tail (38), skb_pull_data (39),
 * skb_change_head (43), skb_adjust_room (50), skb_load_bytes_relative (68),
 * get_hash_recalc (34), set_hash_invalid (41), set_hash (48), skb_change_type (32),
 * skb_cgroup_classid (151)...
 */
import { Access, type HelperFn, type Vm } from '../engine.js';
import { ETH_HLEN } from '../context/packet.js';
import { Skb, SkbContext } from '../context/skb.js';
import { EFAULT, EINVAL, ENOMEM, ENOTSUPP } from './common.js';

export function skbCtx(vm: Vm): SkbContext {
  const o = vm.argRegion(1)?.owner;
  if (!(o instanceof SkbContext)) vm.fault('argument r1 must be the socket buffer context (struct __sk_buff *)');
  return o;
}

// ---- ones' complement arithmetic (include/net/checksum.h) ------------------------------------

export function csumAdd(a: number, b: number): number {
  const r = (a >>> 0) + (b >>> 0);
  return (r > 0xffffffff ? r - 0xffffffff : r) >>> 0;
}
export function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}
export function csumFold(c: number): number {
  let s = (c & 0xffff) + (c >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
function csum16Add(c: number, a: number): number {
  let r = (c & 0xffff) + (a & 0xffff);
  r = (r & 0xffff) + (r >>> 16);
  return r & 0xffff;
}
/** x86-64 csum_partial over 32-bit aligned words: a 64-bit sum folded to 32 bits with carry. */
export function csumPartial(words: readonly number[], seed: number): number {
  let t = seed >>> 0;
  for (const w of words) t += w >>> 0;
  const hi = Math.floor(t / 4294967296);
  const lo = t >>> 0;
  const r = lo + hi;
  return (r > 0xffffffff ? r - 0xffffffff : r) >>> 0;
}

/**
 * x86-64 csum_partial over any byte range (arch/x86/lib/csum-partial_64.c): little-endian 64-bit
 * words (the tail zero-padded) added with end-around carry to the 32-bit seed, then folded to 32
 * bits with carry.
 */
export function csumPartialBytes(b: Uint8Array, seed: number): number {
  const M64 = (1n << 64n) - 1n;
  let t = BigInt(seed >>> 0);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let i = 0;
  const add = (v: bigint): void => {
    t += v;
    if (t > M64) t = (t & M64) + 1n;
  };
  for (; i + 8 <= b.length; i += 8) add(dv.getBigUint64(i, true));
  if (i < b.length) {
    let tail = 0n;
    for (let j = b.length - 1; j >= i; j--) tail = (tail << 8n) | BigInt(b[j]!);
    add(tail);
  }
  const r = Number(t >> 32n) + Number(t & 0xffffffffn);
  return (r > 0xffffffff ? r - 0xffffffff : r) >>> 0;
}

/**
 * bpf_csum_diff(from, from_size, to, to_size, seed), Linux ≥ 6.12: csum_partial(to) - csum_partial(from)
 * (with the seed on the `to` side; `~csum_partial(from, ~seed)` when only `from` is given),
 * folded to 16 bits on every architecture (csum_from32to16).
 */
export const csumDiff: HelperFn = (vm) => {
  const fromSize = vm.argNum(2);
  const toSize = vm.argNum(4);
  const seed = vm.argU32(5);
  const from = fromSize > 0 ? vm.argBytes(1, fromSize, Access.Read) : undefined;
  const to = toSize > 0 ? vm.argBytes(3, toSize, Access.Read) : undefined;
  let r: number;
  if (from && to) r = csumSub(csumPartialBytes(to, seed), csumPartialBytes(from, 0));
  else if (to) r = csumPartialBytes(to, seed);
  else if (from) r = ~csumPartialBytes(from, ~seed >>> 0) >>> 0;
  else r = seed;
  vm.ret64(csumFrom32to16(r), 0);
};

/** include/net/checksum.h csum_from32to16: fold a 32-bit partial sum to 16 bits (not inverted). */
export function csumFrom32to16(sum: number): number {
  const s = ((sum >>> 0) + (((sum >>> 16) | (sum << 16)) >>> 0)) >>> 0;
  return s >>> 16;
}

/** The byte offset in the packet buffer of skb offset `off` (relative to skb->data). */
function pktOff(skb: SkbContext, off: number, len: number): number {
  const p = skb.pkt;
  if (off > 0xffff || off + len > p.end - p.data) return -1;
  return p.data + off;
}

export const skbLoadBytes: HelperFn = (vm) => {
  const skb = skbCtx(vm);
  const off = vm.argU32(2);
  const len = vm.argNum(4);
  const to = vm.argBytes(3, len, Access.Write);
  const at = pktOff(skb, off, len);
  if (at < 0) {
    to.fill(0);
    vm.ret(-EFAULT);
    return;
  }
  to.set(skb.pkt.bytes.subarray(at, at + len));
  vm.ret(0);
};

/** bpf_skb_load_bytes_relative(skb, off, to, len, start_header): 0 = MAC, 1 = network header. */
export const skbLoadBytesRelative: HelperFn = (vm) => {
  const skb = skbCtx(vm);
  const off = vm.argU32(2);
  const len = vm.argNum(4);
  const hdr = vm.argNum(5);
  const to = vm.argBytes(3, len, Access.Write);
  const p = skb.pkt;
  const mac = skb.l2 ? p.data : p.data - ETH_HLEN;
  const base = hdr === 0 ? mac : hdr === 1 ? mac + ETH_HLEN : -1;
  if (base < 0 || off > 0xffff || base + off + len > p.end || len === 0) {
    to.fill(0);
    vm.ret(hdr > 1 ? -EINVAL : -EFAULT);
    return;
  }
  to.set(p.bytes.subarray(base + off, base + off + len));
  vm.ret(0);
};

export const skbStoreBytes: HelperFn = (vm) => {
  const skb = skbCtx(vm);
  const off = vm.argU32(2);
  const len = vm.argNum(4);
  const flags = vm.argNum(5);
  if (flags & ~3) {
    vm.ret(-EINVAL);
    return;
  }
  const from = vm.argBytes(3, len, Access.Read);
  const at = pktOff(skb, off, len);
  if (at < 0) {
    vm.ret(-EFAULT);
    return;
  }
  skb.pkt.bytes.set(from, at);
  vm.ret(0);
};

function sum16(skb: SkbContext, off: number): number {
  const at = pktOff(skb, off, 2);
  if (at < 0 || off & 1) return -1;
  return at;
}

function replace4(sum: number, from: number, to: number): number {
  return csumFold(csumAdd(csumSub(~sum & 0xffff, from), to));
}

/** bpf_l3_csum_replace(skb, offset, from, to, flags). */
export const l3CsumReplace: HelperFn = (vm) => {
  const skb = skbCtx(vm);
  const off = vm.argU32(2);
  const flags = vm.argNum(5);
  if (flags & ~0xf) {
    vm.ret(-EINVAL);
    return;
  }
  const at = sum16(skb, off);
  if (at < 0) {
    vm.ret(-EFAULT);
    return;
  }
  const b = skb.pkt.bytes;
  const sum = b[at]! | (b[at + 1]! << 8);
  const from = vm.argU32(3);
  const to = vm.argU32(4);
  let r: number;
  switch (flags & 0xf) {
    case 0:
      if (vm.argU64(3) !== 0n) {
        vm.ret(-EINVAL);
        return;
      }
      r = csumFold(csumAdd(to, ~sum & 0xffff));
      break;
    case 2:
      r = ~csum16Add(csum16Add(~sum & 0xffff, ~from & 0xffff), to & 0xffff) & 0xffff;
      break;
    case 4:
      r = replace4(sum, from, to);
      break;
    default:
      vm.ret(-EINVAL);
      return;
  }
  b[at] = r & 0xff;
  b[at + 1] = r >>> 8;
  vm.ret(0);
};

const F_PSEUDO_HDR = 0x10;
const F_MARK_MANGLED_0 = 0x20;
const F_MARK_ENFORCE = 0x40;
const F_IPV6 = 0x80;

/** bpf_l4_csum_replace(skb, offset, from, to, flags). */
export const l4CsumReplace: HelperFn = (vm) => {
  const skb = skbCtx(vm);
  const off = vm.argU32(2);
  const flags = vm.argNum(5);
  if (flags & ~(F_MARK_MANGLED_0 | F_MARK_ENFORCE | F_PSEUDO_HDR | 0xf | F_IPV6)) {
    vm.ret(-EINVAL);
    return;
  }
  const at = sum16(skb, off);
  if (at < 0) {
    vm.ret(-EFAULT);
    return;
  }
  const b = skb.pkt.bytes;
  const sum = b[at]! | (b[at + 1]! << 8);
  const mmzero = (flags & F_MARK_MANGLED_0) !== 0;
  if (mmzero && !(flags & F_MARK_ENFORCE) && sum === 0) {
    vm.ret(0);
    return;
  }
  const from = vm.argU32(3);
  const to = vm.argU32(4);
  let r: number;
  switch (flags & 0xf) {
    case 0:
      r = csumFold(csumAdd(to, ~sum & 0xffff));
      break;
    case 2:
      r = replace4(sum, from & 0xffff, to & 0xffff);
      break;
    case 4:
      r = replace4(sum, from, to);
      break;
    default:
      vm.ret(-EINVAL);
      return;
  }
  if (mmzero && r === 0) r = 0xffff;
  b[at] = r & 0xff;
  b[at + 1] = r >>> 8;
  vm.ret(0);
};

/** bpf_csum_update(skb, csum): only meaningful with CHECKSUM_COMPLETE; the test skb has none. */
export const csumUpdate: HelperFn = (vm) => {
  skbCtx(vm);
  vm.ret(-ENOTSUPP);
};

/** BPF_SKB_MAX_LEN = SKB_MAX_ALLOC: (4096 << 2) - SKB_DATA_ALIGN(sizeof(struct skb_shared_info)). */
export const BPF_SKB_MAX_LEN = 16384 - 320;

/** IPv4/IPv6 base header length for skb_adjust_room (fixed, as the kernel's bpf_skb_net_base_len). */
function netBaseLen(skb: SkbContext): number {
  const proto = skb.u32(Skb.Protocol);
  if (proto === 0x0008) return 20;
  if (proto === 0xdd86) return 40;
  return 0;
}

/** bpf_skb_adjust_room(skb, len_diff, mode, flags): insert/remove room after L2 (mode 1) or L3 (mode 0). */
export const skbAdjustRoom: HelperFn = (vm) => {
  const skb = skbCtx(vm);
  const diff = vm.argI32(2);
  const mode = vm.argU32(3);
  const flags = vm.argU64(4);
  if (flags & ~(0x1ffn | (0xffn << 56n))) {
    vm.ret(-EINVAL);
    return;
  }
  const abs = Math.abs(diff);
  if (abs > 0xfff) {
    vm.ret(-EFAULT);
    return;
  }
  const base = netBaseLen(skb);
  if (base === 0 || !skb.l2) {
    vm.ret(-ENOTSUPP);
    return;
  }
  const p = skb.pkt;
  let off = ETH_HLEN;
  if (mode === 0) off += base;
  else if (mode !== 1) {
    vm.ret(-ENOTSUPP);
    return;
  }
  const lenCur = p.end - p.data - ETH_HLEN;
  if (diff < 0 && (abs >= lenCur || lenCur - abs < base)) {
    vm.ret(-ENOTSUPP);
    return;
  }
  if (diff > 0 && p.end - p.data + abs > BPF_SKB_MAX_LEN) {
    vm.ret(-ENOTSUPP);
    return;
  }
  if (off > p.end - p.data) {
    vm.ret(-EINVAL);
    return;
  }
  if (diff > 0) {
    p.expand(abs, 0);
    p.bytes.copyWithin(p.data - abs, p.data, p.data + off);
    p.data -= abs;
    p.meta = p.data;
    p.bytes.fill(0, p.data + off, p.data + off + abs);
  } else if (diff < 0) {
    p.bytes.copyWithin(p.data + abs, p.data, p.data + off);
    p.data += abs;
    p.meta = p.data;
  }
  p.sync();
  vm.ret(0);
};

/** bpf_skb_change_tail(skb, len, flags): trim or zero-extend to `len` bytes. */
export const skbChangeTail: HelperFn = (vm) => {
  const skb = skbCtx(vm);
  const len = vm.argU32(2);
  if (vm.argNum(3) !== 0) {
    vm.ret(-EINVAL);
    return;
  }
  const p = skb.pkt;
  const minLen = skb.l2 ? ETH_HLEN : 0;
  if (len > BPF_SKB_MAX_LEN || len < minLen) {
    vm.ret(-EINVAL);
    return;
  }
  const cur = p.end - p.data;
  if (len > cur) {
    p.expand(0, len - cur);
    p.bytes.fill(0, p.end, p.data + len);
  }
  p.end = p.data + len;
  p.sync();
  vm.ret(0);
};

/** bpf_skb_change_head(skb, head_room, flags): push `head_room` zero bytes (L2 programs). */
export const skbChangeHead: HelperFn = (vm) => {
  const skb = skbCtx(vm);
  const room = vm.argU32(2);
  if (vm.argNum(3) !== 0) {
    vm.ret(-EINVAL);
    return;
  }
  const p = skb.pkt;
  if (p.end - p.data + room > BPF_SKB_MAX_LEN) {
    vm.ret(-EINVAL);
    return;
  }
  p.expand(room, 0);
  p.data -= room;
  p.meta = p.data;
  p.bytes.fill(0, p.data, p.data + room);
  p.sync();
  vm.ret(0);
};

/** bpf_skb_pull_data(skb, len): the emulator's skbs are always linear. */
export const skbPullData: HelperFn = (vm) => {
  const skb = skbCtx(vm);
  const len = vm.argU32(2);
  vm.ret(len > skb.pkt.end - skb.pkt.data ? -ENOMEM : 0);
};

/** FNV-1a over the frame: a deterministic stand-in for the kernel's seeded flow hash. */
function flowHash(skb: SkbContext): number {
  const p = skb.pkt;
  let h = 0x811c9dc5;
  for (let i = p.data; i < p.end; i++) h = Math.imul(h ^ p.bytes[i]!, 0x01000193);
  return h >>> 0 || 1;
}

export const getHashRecalc: HelperFn = (vm) => {
  const skb = skbCtx(vm);
  const h = flowHash(skb);
  skb.setU32(Skb.Hash, h);
  vm.ret64(h | 0, 0);
};

export const setHashInvalid: HelperFn = (vm) => {
  skbCtx(vm).setU32(Skb.Hash, 0);
  vm.ret(0);
};

export const setHash: HelperFn = (vm) => {
  skbCtx(vm).setU32(Skb.Hash, vm.argU32(2));
  vm.ret(0);
};

/** bpf_skb_change_type(skb, type): only PACKET_HOST..PACKET_OTHERHOST for non-special packets. */
export const skbChangeType: HelperFn = (vm) => {
  const skb = skbCtx(vm);
  const t = vm.argU32(2);
  const cur = skb.u32(Skb.PktType);
  if (cur > 3 || t > 3) {
    vm.ret(-EINVAL);
    return;
  }
  skb.setU32(Skb.PktType, t);
  vm.ret(0);
};
