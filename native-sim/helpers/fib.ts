/**
 * bpf_fib_lookup (69) against SimEnv's simulated FIB: longest-prefix match over the routes of the
 * address family, then the neighbour table for the next hop's MAC. `struct bpf_fib_lookup`
 * (64 bytes): family @0, l4_protocol @1, sport @2, dport @4, tot_len/mtu_result @6, ifindex @8,
 * tos/flowinfo/rt_metric @12, src @16 (v4) / 16..32 (v6), dst @32 (v4) / 32..48 (v6),
 * h_vlan_proto @48, h_vlan_TCI @50, smac @52, dmac @58. On success: ifindex, smac, dmac,
 * rt_metric and (with a gateway) the destination are rewritten, as the kernel does.
 */
import { Access, type HelperFn } from '../engine.js';
import { EINVAL } from './common.js';
import { type FibRoute, envOf } from './env.js';

export const enum FibResult {
  Success = 0,
  Blackhole = 1,
  Unreachable = 2,
  Prohibit = 3,
  NotForwarded = 4,
  ForwardingDisabled = 5,
  UnsupportedLwt = 6,
  NoNeighbour = 7,
  FragNeeded = 8,
}

const AF_INET = 2;
const AF_INET6 = 10;
const BPF_FIB_LOOKUP_DIRECT = 1;
const BPF_FIB_LOOKUP_OUTPUT = 2;
const BPF_FIB_LOOKUP_SKIP_NEIGH = 4;
const BPF_FIB_LOOKUP_TBID = 8;
const BPF_FIB_LOOKUP_SRC = 16;
const BPF_FIB_LOOKUP_MARK = 32;
const KNOWN_FLAGS =
  BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_OUTPUT | BPF_FIB_LOOKUP_SKIP_NEIGH | BPF_FIB_LOOKUP_TBID | BPF_FIB_LOOKUP_SRC | BPF_FIB_LOOKUP_MARK;

function matches(route: FibRoute, dst: Uint8Array): boolean {
  const full = route.prefixLen >> 3;
  for (let i = 0; i < full; i++) if (route.prefix[i] !== dst[i]) return false;
  const rem = route.prefixLen & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (route.prefix[full]! & mask) === (dst[full]! & mask);
}

export function hexKey(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

export const fibLookup: HelperFn = (vm) => {
  const plen = vm.argNum(3);
  const flags = vm.argNum(4);
  if (plen < 64 || flags & ~KNOWN_FLAGS) {
    vm.ret(-EINVAL);
    return;
  }
  const p = vm.argBytes(2, 64, Access.ReadWrite);
  const dv = new DataView(p.buffer, p.byteOffset, 64);
  const family = p[0]!;
  if (family !== AF_INET && family !== AF_INET6) {
    vm.ret(-97); // EAFNOSUPPORT
    return;
  }
  const v6 = family === AF_INET6;
  const dst = v6 ? p.slice(32, 48) : p.slice(32, 36);
  const fib = envOf(vm).fib;
  let best: FibRoute | undefined;
  for (const r of fib.routes) {
    if ((r.family === 'ipv6') !== v6) continue;
    if (matches(r, dst) && (!best || r.prefixLen > best.prefixLen)) best = r;
  }
  if (!best) {
    vm.ret(FibResult.NotForwarded);
    return;
  }
  if (best.kind === 'blackhole') return vm.ret(FibResult.Blackhole);
  if (best.kind === 'unreachable') return vm.ret(FibResult.Unreachable);
  if (best.kind === 'prohibit') return vm.ret(FibResult.Prohibit);
  dv.setUint32(12, best.metric ?? 0, true);
  dv.setUint32(8, best.ifindex, true);
  const nextHop = best.gateway ?? dst;
  if (best.gateway) p.set(best.gateway, 32);
  const totLen = dv.getUint16(6, true);
  const mtu = best.mtu ?? 1500;
  if (totLen > mtu) {
    dv.setUint16(6, mtu, true);
    vm.ret(FibResult.FragNeeded);
    return;
  }
  const smac = fib.macOf(best.ifindex);
  if (smac) p.set(smac.subarray(0, 6), 52);
  if (flags & BPF_FIB_LOOKUP_SKIP_NEIGH) {
    vm.ret(FibResult.Success);
    return;
  }
  const dmac = fib.neighbours.get(hexKey(nextHop));
  if (!dmac) {
    vm.ret(FibResult.NoNeighbour);
    return;
  }
  p.set(dmac.subarray(0, 6), 58);
  vm.ret(FibResult.Success);
};
