/**
 * XDP helpers (net/core/filter.c semantics over the test-run buffer layout): xdp_adjust_head (44),
 * xdp_adjust_meta (54), xdp_adjust_tail (65), xdp_get_buff_len (188), xdp_load_bytes (189),
 * xdp_store_bytes (190), and the redirect helpers redirect (23) and redirect_map (51), which record
 * the decision in SimEnv for simulated interfaces (BPF_PROG_TEST_RUN only reports the verdict).
 */
import { Access, type HelperFn, type Vm } from '../engine.js';
import { ETH_HLEN, PAGE_SIZE, type PacketBuf, XDP_FRAME_SIZE } from '../context/packet.js';
import { SkbContext, TcAction } from '../context/skb.js';
import { XdpAction, XdpContext } from '../context/xdp.js';
import { CpuMap } from '../maps/cpumap.js';
import { DevMap, DevMapHash } from '../maps/devmap.js';
import { XskMap } from '../maps/xskmap.js';
import { EACCES, EINVAL, argMap } from './common.js';
import { envOf } from './env.js';

/** The XDP context r1 points to; faults otherwise. */
export function xdpCtx(vm: Vm): XdpContext {
  const o = vm.argRegion(1)?.owner;
  if (!(o instanceof XdpContext)) vm.fault('argument r1 must be the XDP context (struct xdp_md *)');
  return o;
}

export const xdpAdjustHead: HelperFn = (vm) => {
  const p = xdpCtx(vm).pkt;
  const delta = vm.argI32(2);
  const metalen = p.data - p.meta;
  const newData = p.data + delta;
  if (newData < XDP_FRAME_SIZE + metalen || newData > p.end - ETH_HLEN) {
    vm.ret(-EINVAL);
    return;
  }
  if (metalen > 0) p.bytes.copyWithin(p.meta + delta, p.meta, p.data);
  p.meta += delta;
  p.data = newData;
  p.sync();
  vm.ret(0);
};

export const xdpAdjustMeta: HelperFn = (vm) => {
  const p = xdpCtx(vm).pkt;
  const delta = vm.argI32(2);
  const meta = p.meta + delta;
  const metalen = p.data - meta;
  if (meta < XDP_FRAME_SIZE || meta > p.data) {
    vm.ret(-EINVAL);
    return;
  }
  if (metalen & 3 || metalen > 255) {
    vm.ret(-EACCES);
    return;
  }
  p.meta = meta;
  p.sync();
  vm.ret(0);
};

/** adjust_tail on a multi-buffer packet (bpf_xdp_frags_increase_tail / _shrink_tail). */
function adjustFragsTail(p: PacketBuf, delta: number): number {
  const last = p.frags.length - 1;
  if (delta >= 0) {
    const len = p.fragLen[last]!;
    if (delta > PAGE_SIZE - len) return -EINVAL;
    p.frags[last]!.fill(0, len, len + delta);
    p.fragLen[last] = len + delta;
    return 0;
  }
  let shrink = -delta;
  const total = p.end - p.data + p.fragsSize;
  if (shrink >= total - ETH_HLEN) return -EINVAL;
  for (let i = last; i >= 0 && shrink > 0; i--) {
    const take = Math.min(shrink, p.fragLen[i]!);
    p.fragLen[i] = p.fragLen[i]! - take;
    shrink -= take;
    if (p.fragLen[i] === 0) {
      p.frags.pop();
      p.fragLen.pop();
    }
  }
  if (shrink > 0) {
    p.end -= shrink;
    p.sync();
  }
  return 0;
}

export const xdpAdjustTail: HelperFn = (vm) => {
  const p = xdpCtx(vm).pkt;
  const delta = vm.argI32(2);
  if (p.frags.length > 0) {
    vm.ret(adjustFragsTail(p, delta));
    return;
  }
  const end = p.end + delta;
  if (end > p.hardEnd || end < p.data + ETH_HLEN) {
    vm.ret(-EINVAL);
    return;
  }
  if (delta > 0) p.bytes.fill(0, p.end, end);
  p.end = end;
  p.sync();
  vm.ret(0);
};

export const xdpGetBuffLen: HelperFn = (vm) => {
  const p = xdpCtx(vm).pkt;
  vm.ret(p.end - p.data + p.fragsSize);
};

/** bpf_xdp_load_bytes / bpf_xdp_store_bytes over the linear part and the fragments. */
function xdpBytes(store: boolean): HelperFn {
  return (vm) => {
    const p = xdpCtx(vm).pkt;
    const off = vm.argU32(2);
    const len = vm.argNum(4);
    if (off + len > p.end - p.data + p.fragsSize || len === 0) {
      vm.ret(-EINVAL);
      return;
    }
    const buf = vm.argBytes(3, len, store ? Access.Read : Access.Write);
    // walk the segments: linear part, then each fragment
    const segs: [Uint8Array, number, number][] = [[p.bytes, p.data, p.end - p.data]];
    p.frags.forEach((f, i) => segs.push([f, 0, p.fragLen[i]!]));
    let skip = off;
    let done = 0;
    for (const [bytes, start, n] of segs) {
      if (done >= len) break;
      if (skip >= n) {
        skip -= n;
        continue;
      }
      const take = Math.min(n - skip, len - done);
      if (store) bytes.set(buf.subarray(done, done + take), start + skip);
      else buf.set(bytes.subarray(start + skip, start + skip + take), done);
      done += take;
      skip = 0;
    }
    vm.ret(0);
  };
}
export const xdpLoadBytes = xdpBytes(false);
export const xdpStoreBytes = xdpBytes(true);

/** BPF_F_INGRESS for TC redirects. */
export const BPF_F_INGRESS = 1;
const BPF_F_BROADCAST = 1 << 3;
const BPF_F_EXCLUDE_INGRESS = 1 << 4;

/** bpf_redirect(ifindex, flags): XDP → XDP_REDIRECT (flags must be 0); TC → TC_ACT_REDIRECT. */
export const redirect: HelperFn = (vm) => {
  const env = envOf(vm);
  const ifindex = vm.argU32(1);
  const flags = vm.argNum(2);
  const isXdp = env.progType === 'xdp';
  if (isXdp) {
    if (flags !== 0) {
      vm.ret(XdpAction.Aborted);
      return;
    }
    env.redirect = { kind: 'ifindex', index: ifindex, flags: 0 };
    vm.ret(XdpAction.Redirect);
    return;
  }
  if (flags & ~BPF_F_INGRESS) {
    vm.ret(TcAction.Shot);
    return;
  }
  env.redirect = { kind: 'ifindex', index: ifindex, flags };
  vm.ret(TcAction.Redirect);
};

/** bpf_redirect_map(map, key, flags): lower 2 flag bits = action when the slot is empty. */
export const redirectMap: HelperFn = (vm) => {
  const env = envOf(vm);
  const m = argMap(vm, 1);
  const key = vm.argU32(2);
  const flags = vm.argNum(3);
  if (flags & ~(3 | BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS)) {
    vm.ret(XdpAction.Aborted);
    return;
  }
  const fallback = flags & 3;
  if (m instanceof DevMap || m instanceof DevMapHash) {
    if (flags & BPF_F_BROADCAST) {
      env.redirect = { kind: 'broadcast', index: 0, flags, map: m };
      vm.ret(XdpAction.Redirect);
      return;
    }
    const t = m.target(key);
    if (!t) {
      vm.ret(fallback);
      return;
    }
    env.redirect = { kind: 'ifindex', index: t.ifindex, flags, map: m };
    vm.ret(XdpAction.Redirect);
    return;
  }
  if (m instanceof CpuMap) {
    const t = m.target(key);
    if (!t) {
      vm.ret(fallback);
      return;
    }
    env.redirect = { kind: 'cpu', index: t.cpu, flags, map: m };
    vm.ret(XdpAction.Redirect);
    return;
  }
  if (m instanceof XskMap) {
    const t = m.target(key);
    if (!t) {
      vm.ret(fallback);
      return;
    }
    env.redirect = { kind: 'xsk', index: key, flags, map: m };
    vm.ret(XdpAction.Redirect);
    return;
  }
  vm.ret(fallback);
};

export { SkbContext };
