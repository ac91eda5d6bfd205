/**
 * The verifier corpus: small programs, each either safe (but tricky) or unsafe in one specific way
 * named by the kernel rule it breaks (a substring of the kernel's verifier message).
 *
 * Cases are C bodies (wrapped in a function of the program type) or inline BPF assembly (a naked
 * function, `asm` text in LLVM's BPF syntax), grouped into a few C files by `group` so that a
 * handful of compilations produce every program; each program is then loaded on its own.
 */

import type { ProgType } from '../../lib/spec/index.js';
import { helperAllowed } from '../../native-sim/verifier/protos.js';

export type Kind = 'xdp' | 'tc' | 'socket' | 'cgskb' | 'cgskb_eg' | 'tp' | 'kprobe';

export interface Case {
  /** Unique C identifier: the program name. */
  name: string;
  kind: Kind;
  /** `safe`: both verifiers must accept; `unsafe`: rejected, for the reason in `rule`. */
  expect: 'safe' | 'unsafe';
  /** For unsafe cases: the kernel rule broken (a substring of the kernel's message). */
  rule?: string;
  /** C function body (the context parameter is `ctx`). */
  c?: string;
  /** BPF assembly of a naked function (lines separated by `;` or newlines). */
  asm?: string;
  /** Which generated C file the case lives in. */
  group: string;
}

export const SECTIONS: Record<Kind, { sec: string; ctx: string }> = {
  xdp: { sec: 'xdp', ctx: 'struct xdp_md' },
  tc: { sec: 'tc', ctx: 'struct __sk_buff' },
  socket: { sec: 'socket', ctx: 'struct __sk_buff' },
  cgskb: { sec: 'cgroup_skb/ingress', ctx: 'struct __sk_buff' },
  cgskb_eg: { sec: 'cgroup_skb/egress', ctx: 'struct __sk_buff' },
  tp: { sec: 'tracepoint/syscalls/sys_enter_getpid', ctx: 'void' },
  kprobe: { sec: 'kprobe/do_nanosleep', ctx: 'struct pt_regs' },
};

export const PRELUDE = `
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct val64 { __u64 a[8]; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 8); __type(key, __u32); __type(value, struct val64); } arr SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } hmap SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, __u64); __type(value, __u32); } hmap8 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); } jmp SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct val64); } pcpu SEC(".maps");
const volatile __u32 cfg_n = 10;
const volatile __u8 cfg_tab[16] = { 1, 2, 3 };
__u64 counter;
char LICENSE[] SEC("license") = "GPL";

#define PKT_BEGIN(ctx) void *data = (void *)(long)(ctx)->data; void *data_end = (void *)(long)(ctx)->data_end;
`;

const cases: Case[] = [];
function add(c: Case): void {
  cases.push(c);
}
function safe(group: string, name: string, kind: Kind, src: { c?: string; asm?: string }): void {
  add({ name, kind, expect: 'safe', group, ...src });
}
function unsafe(group: string, name: string, kind: Kind, rule: string, src: { c?: string; asm?: string }): void {
  add({ name, kind, expect: 'unsafe', rule, group, ...src });
}

// ------------------------------------------------------------------ packet bounds (asm)
// r2 = data, r3 = data_end; r4 = data + N; compare in one of 8 forms; read SIZE bytes at OFF.
{
  const forms: { id: string; cmp: (n: string) => string; rightOpen: boolean }[] = [
    { id: 'gt', cmp: () => 'if r4 > r3 goto l_out_%=;', rightOpen: false },
    { id: 'ge', cmp: () => 'if r4 >= r3 goto l_out_%=;', rightOpen: true },
    { id: 'lt_rev', cmp: () => 'if r3 < r4 goto l_out_%=;', rightOpen: false },
    { id: 'le_rev', cmp: () => 'if r3 <= r4 goto l_out_%=;', rightOpen: true },
  ];
  const sizes: [string, number][] = [['u8', 1], ['u16', 2], ['u32', 4], ['u64', 8]];
  for (const f of forms) {
    for (const n of [8, 14, 34, 64]) {
      for (const [ty, sz] of sizes) {
        if (sz > n) continue;
        const lim = f.rightOpen ? n + 1 : n; // data + n < data_end proves n + 1 bytes
        const okOff = lim - sz; // last in-range offset for this size
        const badOff = okOff + 1;
        const body = (off: number) => `
          r2 = *(u32 *)(r1 + 0);
          r3 = *(u32 *)(r1 + 4);
          r4 = r2;
          r4 += ${n};
          ${f.cmp(String(n))}
          r0 = *(${ty} *)(r2 + ${off});
          l_out_%=:
          r0 = 2;
          exit;`;
        if (okOff >= 0 && sz !== 8) safe('pkt', `pkt_${f.id}_${n}_${ty}_ok`, 'xdp', { asm: body(okOff - (okOff % sz)) });
        if (sz === 1 || sz === 4) unsafe('pkt', `pkt_${f.id}_${n}_${ty}_oob`, 'xdp', 'invalid access to packet', { asm: body(badOff) });
      }
    }
  }
  // no check at all, check against the wrong pointer, negative offset, write beyond range
  unsafe('pkt', 'pkt_nocheck', 'xdp', 'invalid access to packet', { asm: 'r2 = *(u32 *)(r1 + 0); r0 = *(u8 *)(r2 + 0); r0 = 2; exit;' });
  unsafe('pkt', 'pkt_neg_off', 'xdp', 'invalid access to packet', { asm: `r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 8; if r4 > r3 goto l0_%=; r0 = *(u8 *)(r2 - 1); l0_%=: r0 = 2; exit;` });
  unsafe('pkt', 'pkt_end_arith', 'xdp', 'pointer arithmetic on pkt_end prohibited', { asm: 'r3 = *(u32 *)(r1 + 4); r3 += 1; r0 = 2; exit;' });
  unsafe('pkt', 'pkt_end_deref', 'xdp', "invalid mem access 'pkt_end'", { asm: 'r3 = *(u32 *)(r1 + 4); r0 = *(u8 *)(r3 + 0); r0 = 2; exit;' });
  safe('pkt', 'pkt_write_in_range', 'xdp', { asm: `r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 6; if r4 > r3 goto l0_%=; r5 = 0; *(u32 *)(r2 + 2) = r5; l0_%=: r0 = 2; exit;` });
  unsafe('pkt', 'pkt_write_oob', 'xdp', 'invalid access to packet', { asm: `r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 6; if r4 > r3 goto l0_%=; r5 = 0; *(u32 *)(r2 + 3) = r5; l0_%=: r0 = 2; exit;` });
  unsafe('pkt', 'pkt_cgskb_write', 'cgskb', 'cannot write into packet', { asm: `r2 = *(u32 *)(r1 + 76); r3 = *(u32 *)(r1 + 80); r4 = r2; r4 += 6; if r4 > r3 goto l0_%=; r5 = 0; *(u8 *)(r2 + 0) = r5; l0_%=: r0 = 1; exit;` });
  safe('pkt', 'pkt_cgskb_read', 'cgskb', { asm: `r2 = *(u32 *)(r1 + 76); r3 = *(u32 *)(r1 + 80); r4 = r2; r4 += 6; if r4 > r3 goto l0_%=; r0 = *(u8 *)(r2 + 5); l0_%=: r0 = 1; exit;` });
  safe('pkt', 'pkt_tc_write', 'tc', { asm: `r2 = *(u32 *)(r1 + 76); r3 = *(u32 *)(r1 + 80); r4 = r2; r4 += 14; if r4 > r3 goto l0_%=; r5 = 0; *(u16 *)(r2 + 12) = r5; l0_%=: r0 = 0; exit;` });
  safe('pkt', 'pkt_range_copied', 'xdp', { asm: `r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r5 = r2; r4 = r2; r4 += 20; if r4 > r3 goto l0_%=; r0 = *(u32 *)(r5 + 16); l0_%=: r0 = 2; exit;` });
  safe('pkt', 'pkt_range_spilled', 'xdp', { asm: `r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); *(u64 *)(r10 - 8) = r2; r4 = r2; r4 += 20; if r4 > r3 goto l0_%=; r5 = *(u64 *)(r10 - 8); r0 = *(u32 *)(r5 + 16); l0_%=: r0 = 2; exit;` });
  unsafe('pkt', 'pkt_range_other_branch', 'xdp', 'invalid access to packet', { asm: `r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 20; if r4 > r3 goto l0_%=; r0 = 2; exit; l0_%=: r0 = *(u8 *)(r2 + 0); r0 = 2; exit;` });
  safe('pkt', 'pkt_meta_ok', 'xdp', { asm: `r2 = *(u32 *)(r1 + 8); r3 = *(u32 *)(r1 + 0); r4 = r2; r4 += 4; if r4 > r3 goto l0_%=; r0 = *(u32 *)(r2 + 0); l0_%=: r0 = 2; exit;` });
  unsafe('pkt', 'pkt_meta_oob', 'xdp', 'invalid access to packet', { asm: `r2 = *(u32 *)(r1 + 8); r3 = *(u32 *)(r1 + 0); r4 = r2; r4 += 4; if r4 > r3 goto l0_%=; r0 = *(u32 *)(r2 + 1); l0_%=: r0 = 2; exit;` });
  // variable packet offsets
  safe('pkt', 'pkt_var_off_masked', 'xdp', { asm: `r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 1; if r4 > r3 goto l0_%=; r5 = *(u8 *)(r2 + 0); r5 &= 15; r2 += r5; r4 = r2; r4 += 4; if r4 > r3 goto l0_%=; r0 = *(u32 *)(r2 + 0); l0_%=: r0 = 2; exit;` });
  unsafe('pkt', 'pkt_var_off_nocheck', 'xdp', 'invalid access to packet', { asm: `r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 8; if r4 > r3 goto l0_%=; r5 = *(u8 *)(r2 + 0); r5 &= 15; r2 += r5; r0 = *(u32 *)(r2 + 0); l0_%=: r0 = 2; exit;` });
  unsafe('pkt', 'pkt_var_off_unbounded', 'xdp', 'math between pkt pointer and register with unbounded min value', { asm: `r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 8; if r4 > r3 goto l0_%=; r5 = *(u64 *)(r2 + 0); r2 += r5; r4 = r2; r4 += 4; if r4 > r3 goto l0_%=; r0 = *(u32 *)(r2 + 0); l0_%=: r0 = 2; exit;` });
  safe('pkt', 'pkt_end_minus_data', 'xdp', { asm: 'r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r3 -= r2; r0 = 2; exit;' });
}

// ------------------------------------------------------------------ packet parsing (C)
{
  const eth = `PKT_BEGIN(ctx) struct ethhdr *eth = data;`;
  safe('cpkt', 'c_eth_proto', 'xdp', { c: `${eth} if ((void *)(eth + 1) > data_end) return XDP_DROP; return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_PASS : XDP_DROP;` });
  unsafe('cpkt', 'c_eth_proto_nocheck', 'xdp', 'invalid access to packet', { c: `${eth} return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_PASS : XDP_DROP;` });
  unsafe('cpkt', 'c_eth_short_check', 'xdp', 'invalid access to packet', { c: `${eth} if (data + 12 > data_end) return XDP_DROP; return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_PASS : XDP_DROP;` });
  const ipParse = (check: string, access: string) => `${eth}
    if ((void *)(eth + 1) > data_end) return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    ${check}
    ${access}
    return XDP_PASS;`;
  safe('cpkt', 'c_ip_saddr', 'xdp', { c: ipParse('if ((void *)(ip + 1) > data_end) return XDP_DROP;', 'if (ip->saddr == 0) return XDP_DROP;') });
  unsafe('cpkt', 'c_ip_saddr_nocheck', 'xdp', 'invalid access to packet', { c: ipParse('', 'if (ip->saddr == 0) return XDP_DROP;') });
  unsafe('cpkt', 'c_ip_daddr_short', 'xdp', 'invalid access to packet', { c: ipParse('if ((void *)ip + 16 > data_end) return XDP_DROP;', 'if (ip->daddr == 0) return XDP_DROP;') });
  const l4 = (ihlCheck: string, l4check: string, field: string) => ipParse('if ((void *)(ip + 1) > data_end) return XDP_DROP;', `
    if (ip->protocol != IPPROTO_TCP) return XDP_PASS;
    __u32 ihl = ip->ihl * 4;
    ${ihlCheck}
    struct tcphdr *tcp = (void *)ip + ihl;
    ${l4check}
    if (${field} == bpf_htons(22)) return XDP_DROP;`);
  safe('cpkt', 'c_tcp_dest_var_ihl', 'xdp', { c: l4('if (ihl < sizeof(struct iphdr)) return XDP_DROP;', 'if ((void *)(tcp + 1) > data_end) return XDP_DROP;', 'tcp->dest') });
  unsafe('cpkt', 'c_tcp_dest_nocheck', 'xdp', 'invalid access to packet', { c: l4('if (ihl < sizeof(struct iphdr)) return XDP_DROP;', '', 'tcp->dest') });
  unsafe('cpkt', 'c_tcp_dest_short', 'xdp', 'invalid access to packet', { c: l4('if (ihl < sizeof(struct iphdr)) return XDP_DROP;', 'if ((void *)tcp + 2 > data_end) return XDP_DROP;', 'tcp->dest') });
  safe('cpkt', 'c_udp_len_loop', 'xdp', { c: `${eth}
    if ((void *)(eth + 1) > data_end) return XDP_DROP;
    __u8 *p = (void *)(eth + 1);
    __u32 sum = 0;
    for (int i = 0; i < 16; i++) { if ((void *)(p + i + 1) > data_end) break; sum += p[i]; }
    return sum & 1 ? XDP_PASS : XDP_DROP;` });
  unsafe('cpkt', 'c_loop_overread', 'xdp', 'invalid access to packet', { c: `${eth}
    __u8 *p = data;
    if ((void *)(p + 16) > data_end) return XDP_DROP;
    __u32 sum = 0;
    for (int i = 0; i < 17; i++) sum += p[i];
    return sum & 1 ? XDP_PASS : XDP_DROP;` });
  safe('cpkt', 'c_tc_ip_tos', 'tc', { c: `PKT_BEGIN(ctx) struct ethhdr *eth = data; struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end) return 0;
    if (eth->h_proto != bpf_htons(ETH_P_IP)) return 0;
    ip->tos = 0x10; return 0;` });
  unsafe('cpkt', 'c_tc_ip_ttl_oob', 'tc', 'invalid access to packet', { c: `PKT_BEGIN(ctx) struct ethhdr *eth = data; struct iphdr *ip = (void *)(eth + 1);
    if ((void *)ip + 8 > data_end) return 0;
    ip->ttl--; return 0;` });
  safe('cpkt', 'c_vlan_two_levels', 'xdp', { c: `${eth}
    if ((void *)(eth + 1) > data_end) return XDP_DROP;
    __u16 proto = eth->h_proto; void *cur = eth + 1;
    #pragma unroll
    for (int i = 0; i < 2; i++) {
      if (proto != bpf_htons(ETH_P_8021Q)) break;
      if (cur + 4 > data_end) return XDP_DROP;
      proto = *(__u16 *)(cur + 2); cur += 4;
    }
    return proto == bpf_htons(ETH_P_IP) ? XDP_PASS : XDP_DROP;` });
}

// ------------------------------------------------------------------ context access (asm matrix)
{
  const sgn = (off: number) => (off < 0 ? `- ${-off}` : `+ ${off}`);
  const rd = (sz: string, off: number, ret = 0) => `r0 = *(${sz} *)(r1 ${sgn(off)}); r0 = ${ret}; exit;`;
  const wr = (sz: string, off: number, ret = 0) => `r2 = 1; *(${sz} *)(r1 ${sgn(off)}) = r2; r0 = ${ret}; exit;`;
  type Row = [string, string, number, boolean, 'r' | 'w'];
  const xdp: Row[] = [
    ['data', 'u32', 0, true, 'r'], ['data_end', 'u32', 4, true, 'r'], ['data_meta', 'u32', 8, true, 'r'],
    ['ifindex', 'u32', 12, true, 'r'], ['rxq', 'u32', 16, true, 'r'], ['egress_ifindex', 'u32', 20, false, 'r'],
    ['past_end', 'u32', 24, false, 'r'], ['narrow_ifindex', 'u16', 12, false, 'r'], ['wide_data', 'u64', 0, false, 'r'],
    ['misaligned', 'u32', 2, false, 'r'], ['write_ifindex', 'u32', 12, false, 'w'], ['neg', 'u32', -4, false, 'r'],
  ];
  for (const [f, sz, off, ok, rw] of xdp) {
    const src = { asm: rw === 'r' ? rd(sz, off, 2) : wr(sz, off, 2) };
    if (ok) safe('ctx', `ctx_xdp_${f}`, 'xdp', src);
    else unsafe('ctx', `ctx_xdp_${f}`, 'xdp', 'invalid bpf_context access', src);
  }
  // __sk_buff: [field, size, offset, tc read, tc write, socket read, socket write, cgskb read, cgskb write]
  type SkbRow = [string, string, number, boolean, boolean, boolean, boolean, boolean, boolean];
  const skb: SkbRow[] = [
    ['len', 'u32', 0, true, false, true, false, true, false],
    ['len_b1', 'u8', 1, true, false, true, false, true, false],
    ['len_h', 'u16', 2, true, false, true, false, true, false],
    ['len_dw', 'u64', 0, false, false, false, false, false, false],
    ['mark', 'u32', 8, true, true, true, false, true, true],
    ['queue_mapping', 'u32', 12, true, true, true, false, true, false],
    ['protocol', 'u32', 16, true, false, true, false, true, false],
    ['priority', 'u32', 32, true, true, true, false, true, true],
    ['ifindex', 'u32', 40, true, false, true, false, true, false],
    ['tc_index', 'u32', 44, true, true, true, false, true, false],
    ['cb0', 'u32', 48, true, true, true, true, true, true],
    ['cb4', 'u32', 64, true, true, true, true, true, true],
    ['cb_dw', 'u64', 56, true, false, true, false, true, false],
    ['cb_dw_past', 'u64', 64, false, false, false, false, false, false],
    ['hash', 'u32', 68, true, false, true, false, true, false],
    ['tc_classid', 'u32', 72, true, true, false, false, false, false],
    ['data', 'u32', 76, true, false, false, false, true, false],
    ['data_end', 'u32', 80, true, false, false, false, true, false],
    ['napi_id', 'u32', 84, true, false, true, false, true, false],
    ['family', 'u32', 88, false, false, false, false, true, false],
    ['remote_ip4', 'u32', 92, false, false, false, false, true, false],
    ['remote_port', 'u32', 132, false, false, false, false, true, false],
    ['data_meta', 'u32', 140, true, false, false, false, false, false],
    ['flow_keys', 'u64', 144, false, false, false, false, false, false],
    ['tstamp', 'u64', 152, true, true, false, false, true, true],
    ['wire_len', 'u32', 160, true, false, false, false, false, false],
    ['gso_segs', 'u32', 164, true, false, true, false, true, false],
    ['gso_size', 'u32', 176, true, false, true, false, true, false],
    ['hwtstamp', 'u64', 184, true, false, false, false, true, false],
    ['past_end', 'u32', 192, false, false, false, false, false, false],
  ];
  for (const [f, sz, off, tcR, tcW, sR, sW, cR, cW] of skb) {
    const kinds: [Kind, boolean, boolean, number][] = [['tc', tcR, tcW, 0], ['socket', sR, sW, 0], ['cgskb', cR, cW, 1]];
    for (const [k, r, w, ret] of kinds) {
      const rsrc = { asm: rd(sz, off, ret) };
      if (r) safe('ctx', `ctx_${k}_rd_${f}`, k, rsrc);
      else unsafe('ctx', `ctx_${k}_rd_${f}`, k, 'invalid bpf_context access', rsrc);
      if (sz === 'u32' && (w || ['mark', 'len', 'protocol', 'hash', 'priority', 'cb0', 'tc_classid', 'ifindex'].includes(f))) {
        const wsrc = { asm: wr(sz, off, ret) };
        if (w) safe('ctx', `ctx_${k}_wr_${f}`, k, wsrc);
        else unsafe('ctx', `ctx_${k}_wr_${f}`, k, 'invalid bpf_context access', wsrc);
      }
    }
  }
  safe('ctx', 'ctx_tc_st_imm', 'tc', { asm: '*(u32 *)(r1 + 8) = 1; r0 = 0; exit;' });
  unsafe('ctx', 'ctx_tc_st_imm_len', 'tc', 'invalid bpf_context access', { asm: '*(u32 *)(r1 + 0) = 1; r0 = 0; exit;' });
  unsafe('ctx', 'ctx_modified_ptr', 'tc', 'dereference of modified ctx ptr', { asm: 'r1 += 8; r0 = *(u32 *)(r1 + 0); r0 = 0; exit;' });
  safe('ctx', 'ctx_copy_ptr', 'tc', { asm: 'r6 = r1; r0 = *(u32 *)(r6 + 8); r0 = 0; exit;' });
  unsafe('ctx', 'ctx_var_off', 'tc', 'variable ctx access', { asm: 'r2 = *(u32 *)(r1 + 0); r2 &= 4; r1 += r2; r0 = *(u32 *)(r1 + 0); r0 = 0; exit;' });
  // tracepoint / kprobe
  for (const [f, sz, off, ok] of [['first', 'u64', 8, true], ['far', 'u64', 4096, true], ['narrow', 'u32', 12, true], ['past', 'u64', 8192, false], ['misaligned', 'u64', 12, false], ['neg', 'u64', -8, true]] as [string, string, number, boolean][]) {
    const src = { asm: rd(sz, off) };
    if (ok) safe('ctx', `ctx_tp_${f}`, 'tp', src); else unsafe('ctx', `ctx_tp_${f}`, 'tp', 'invalid bpf_context access', src);
  }
  unsafe('ctx', 'ctx_tp_write', 'tp', 'invalid bpf_context access', { asm: wr('u64', 8) });
  for (const [f, sz, off, ok] of [['di', 'u64', 112, true], ['last', 'u64', 160, true], ['past', 'u64', 168, false], ['narrow', 'u32', 164, true], ['misaligned', 'u64', 4, false]] as [string, string, number, boolean][]) {
    const src = { asm: rd(sz, off) };
    if (ok) safe('ctx', `ctx_kprobe_${f}`, 'kprobe', src); else unsafe('ctx', `ctx_kprobe_${f}`, 'kprobe', 'invalid bpf_context access', src);
  }
  unsafe('ctx', 'ctx_kprobe_write', 'kprobe', 'invalid bpf_context access', { asm: wr('u64', 8) });
}

// ------------------------------------------------------------------ registers, CFG, ALU rules (asm)
{
  const g = 'regs';
  unsafe(g, 'reg_uninit_r2', 'xdp', 'R2 !read_ok', { asm: 'r0 = r2; r0 = 2; exit;' });
  unsafe(g, 'reg_uninit_r0_exit', 'xdp', 'R0 !read_ok', { asm: 'r1 = 0; exit;' });
  unsafe(g, 'reg_uninit_one_path', 'xdp', 'R0 !read_ok', { asm: 'r2 = *(u32 *)(r1 + 12); if r2 == 1 goto l0_%=; r0 = 2; l0_%=: exit;' });
  safe(g, 'reg_init_both_paths', 'xdp', { asm: 'r2 = *(u32 *)(r1 + 12); r0 = 1; if r2 == 1 goto l0_%=; r0 = 2; l0_%=: exit;' });
  unsafe(g, 'reg_r10_write', 'xdp', 'frame pointer is read only', { asm: 'r10 = 0; r0 = 2; exit;' });
  unsafe(g, 'reg_r10_add', 'xdp', 'frame pointer is read only', { asm: 'r10 += 8; r0 = 2; exit;' });
  unsafe(g, 'reg_scratch_after_call', 'xdp', 'R1 !read_ok', { asm: 'call 7; r0 = r1; r0 = 2; exit;' });
  safe(g, 'reg_callee_saved_kept', 'xdp', { asm: 'r6 = 3; call 7; r0 = r6; exit;' });
  unsafe(g, 'reg_deref_scalar', 'xdp', "invalid mem access 'scalar'", { asm: 'r2 = 100; r0 = *(u32 *)(r2 + 0); r0 = 2; exit;' });
  unsafe(g, 'alu_div_zero_imm', 'xdp', 'div by zero', { asm: 'r0 = 5; r0 /= 0; r0 = 2; exit;' });
  unsafe(g, 'alu_mod_zero_imm', 'xdp', 'div by zero', { asm: 'r0 = 5; r0 %= 0; r0 = 2; exit;' });
  safe(g, 'alu_div_zero_reg', 'xdp', { asm: 'r0 = 5; r2 = 0; r0 /= r2; r0 = 2; exit;' });
  safe(g, 'alu_mod_unknown_reg', 'xdp', { asm: 'r2 = *(u32 *)(r1 + 12); r0 = 5; r0 %= r2; r0 = 2; exit;' });
  unsafe(g, 'alu_shift_64', 'xdp', 'invalid shift 64', { asm: 'r0 = 5; r0 <<= 64; r0 = 2; exit;' });
  unsafe(g, 'alu_shift32_32', 'xdp', 'invalid shift 32', { asm: 'w0 = 5; w0 <<= 32; r0 = 2; exit;' });
  safe(g, 'alu_shift_63', 'xdp', { asm: 'r0 = 5; r0 <<= 63; r0 = 2; exit;' });
  unsafe(g, 'ptr_mul', 'xdp', 'pointer arithmetic with *= operator prohibited', { asm: 'r1 *= 2; r0 = 2; exit;' });
  unsafe(g, 'ptr_or', 'xdp', 'bitwise operator |= on pointer prohibited', { asm: 'r1 |= 2; r0 = 2; exit;' });
  unsafe(g, 'ptr_and_stack', 'xdp', 'bitwise operator &= on pointer prohibited', { asm: 'r2 = r10; r2 &= -8; r0 = 2; exit;' });
  unsafe(g, 'ptr_32bit_add', 'xdp', '32-bit pointer arithmetic prohibited', { asm: 'w1 += 4; r0 = 2; exit;' });
  unsafe(g, 'ptr_plus_ptr', 'xdp', 'pointer += pointer prohibited', { asm: 'r2 = r10; r1 += r2; r0 = 2; exit;' });
  safe(g, 'ptr_minus_ptr', 'xdp', { asm: 'r2 = r10; r2 -= r1; r0 = 2; exit;' });
  unsafe(g, 'scalar_minus_ptr', 'xdp', 'tried to subtract pointer from scalar', { asm: 'r2 = 5; r2 -= r1; r0 = 2; exit;' });
  safe(g, 'scalar_plus_ptr_stack', 'xdp', { asm: 'r2 = -8; r2 += r10; r3 = 0; *(u64 *)(r2 + 0) = r3; r0 = 2; exit;' });
  unsafe(g, 'map_ptr_arith', 'xdp', 'pointer arithmetic on map_ptr prohibited', { asm: 'r1 = %[hmap] ll; r1 += 8; r0 = 2; exit;' });
  unsafe(g, 'ptr_neg_unbounded', 'xdp', 'math between', { asm: 'r2 = r10; r3 = 0x40000000; r2 += r3; r0 = 2; exit;' });
  unsafe(g, 'cfg_unreachable', 'xdp', 'unreachable insn', { asm: 'r0 = 2; exit; r0 = 1; exit;' });
  unsafe(g, 'cfg_jump_out_of_range', 'xdp', 'jump out of range', { asm: 'r0 = 2; if r0 == 0 goto +5; exit;' });
  unsafe(g, 'cfg_infinite_loop', 'xdp', 'infinite loop detected', { asm: 'r0 = 2; l0_%=: r0 = 2; goto l0_%=;' });
  unsafe(g, 'cfg_back_edge_no_progress', 'xdp', 'infinite loop detected', { asm: 'r0 = 0; l0_%=: if r0 > 10 goto l1_%=; goto l0_%=; l1_%=: exit;' });
  safe(g, 'cfg_bounded_loop', 'xdp', { asm: 'r0 = 0; l0_%=: r0 += 1; if r0 < 20 goto l0_%=; r0 = 2; exit;' });
  safe(g, 'cfg_bounded_loop_jmp32', 'xdp', { asm: 'w0 = 0; l0_%=: w0 += 3; if w0 < 100 goto l0_%=; r0 = 2; exit;' });
  unsafe(g, 'cfg_unbounded_loop', 'xdp', 'BPF program is too large', { asm: 'r2 = *(u32 *)(r1 + 12); r0 = 0; l0_%=: r0 += 1; if r0 != r2 goto l0_%=; r0 = 2; exit;' });
  safe(g, 'cfg_dead_branch_skipped', 'xdp', { asm: 'r2 = 5; if r2 == 5 goto l0_%=; r0 = *(u64 *)(r2 + 0); l0_%=: r0 = 2; exit;' });
  safe(g, 'cfg_dead_branch_range', 'xdp', { asm: 'r2 = *(u32 *)(r1 + 12); r2 &= 7; if r2 > 7 goto l0_%=; r0 = 2; exit; l0_%=: r0 = *(u64 *)(r2 + 0); exit;' });
  unsafe(g, 'cfg_live_branch_range', 'xdp', "invalid mem access 'scalar'", { asm: 'r2 = *(u32 *)(r1 + 12); r2 &= 15; if r2 > 7 goto l0_%=; r0 = 2; exit; l0_%=: r0 = *(u64 *)(r2 + 0); exit;' });
  safe(g, 'jmp32_dead_branch', 'xdp', { asm: 'r2 = *(u32 *)(r1 + 12); w2 &= 3; if w2 > 3 goto l0_%=; r0 = 2; exit; l0_%=: r0 = *(u64 *)(r2 + 0); exit;' });
  safe(g, 'jset_dead_branch', 'xdp', { asm: 'r2 = *(u32 *)(r1 + 12); r2 &= 6; if r2 & 1 goto l0_%=; r0 = 2; exit; l0_%=: r0 = *(u64 *)(r2 + 0); exit;' });
  unsafe(g, 'jset_live_branch', 'xdp', "invalid mem access 'scalar'", { asm: 'r2 = *(u32 *)(r1 + 12); r2 &= 7; if r2 & 1 goto l0_%=; r0 = 2; exit; l0_%=: r0 = *(u64 *)(r2 + 0); exit;' });
  safe(g, 'signed_dead_branch', 'xdp', { asm: 'r2 = *(u32 *)(r1 + 12); if r2 s< 0 goto l0_%=; r0 = 2; exit; l0_%=: r0 = *(u64 *)(r2 + 0); exit;' });
  unsafe(g, 'signed_live_branch', 'xdp', "invalid mem access 'scalar'", { asm: 'r2 = *(u64 *)(r10 - 8); if r2 s< 0 goto l0_%=; r0 = 2; exit; l0_%=: r0 = *(u64 *)(r2 + 0); exit;' });
  safe(g, 'ret_xdp_any', 'xdp', { asm: 'r0 = 77; exit;' });
  safe(g, 'ret_socket_any', 'socket', { asm: 'r0 = -1; exit;' });
  safe(g, 'ret_cgskb_1', 'cgskb', { asm: 'r0 = 1; exit;' });
  unsafe(g, 'ret_cgskb_2', 'cgskb', 'should have been in', { asm: 'r0 = 2; exit;' });
  unsafe(g, 'ret_cgskb_unknown', 'cgskb', 'should have been in', { asm: 'r0 = *(u32 *)(r1 + 0); exit;' });
  safe(g, 'ret_cgskb_masked', 'cgskb', { asm: 'r0 = *(u32 *)(r1 + 0); r0 &= 1; exit;' });
  unsafe(g, 'ret_cgskb_ptr', 'cgskb', 'R0 is not a known value', { asm: 'r0 = r1; exit;' });
  safe(g, 'ret_cgskb_eg_3', 'cgskb_eg', { asm: 'r0 = 3; exit;' });
  unsafe(g, 'ret_cgskb_eg_4', 'cgskb_eg', 'should have been in', { asm: 'r0 = 4; exit;' });
  unsafe(g, 'ret_cgskb_neg', 'cgskb', 'should have been in', { asm: 'r0 = -1; exit;' });
  safe(g, 'ret_ptr_xdp_priv', 'xdp', { asm: 'r0 = r10; exit;' });
  safe(g, 'ld_imm64_const', 'xdp', { asm: 'r2 = 0x123456789abcdef0 ll; r0 = 2; exit;' });
  safe(g, 'bounds_sub_underflow_ok', 'xdp', { asm: 'r2 = *(u32 *)(r1 + 12); r2 &= 7; r2 -= 8; r0 = 2; exit;' });
  safe('v4', 'movsx_range', 'xdp', { asm: 'r2 = *(u32 *)(r1 + 12); r3 = (s8)r2; if r3 s> 127 goto l0_%=; r0 = 2; exit; l0_%=: r0 = *(u64 *)(r3 + 0); exit;' });
}

// ------------------------------------------------------------------ stack (asm)
{
  const g = 'stack';
  safe(g, 'stk_spill_fill_ptr', 'xdp', { asm: '*(u64 *)(r10 - 8) = r1; r2 = *(u64 *)(r10 - 8); r0 = *(u32 *)(r2 + 12); r0 = 2; exit;' });
  unsafe(g, 'stk_spill_ptr_narrow', 'xdp', 'invalid size of register spill', { asm: '*(u32 *)(r10 - 8) = r1; r0 = 2; exit;' });
  unsafe(g, 'stk_fill_ptr_narrow', 'xdp', 'invalid size of register fill', { asm: '*(u64 *)(r10 - 8) = r1; r2 = *(u32 *)(r10 - 8); r0 = 2; exit;' });
  unsafe(g, 'stk_ptr_clobbered', 'xdp', "invalid mem access 'scalar'", { asm: '*(u64 *)(r10 - 8) = r1; r3 = 0; *(u32 *)(r10 - 4) = r3; r2 = *(u64 *)(r10 - 8); r0 = *(u32 *)(r2 + 12); r0 = 2; exit;' });
  safe(g, 'stk_uninit_read_priv', 'xdp', { asm: 'r0 = *(u64 *)(r10 - 8); r0 = 2; exit;' });
  unsafe(g, 'stk_oob_below', 'xdp', 'invalid write to stack', { asm: 'r2 = 0; *(u64 *)(r10 - 520) = r2; r0 = 2; exit;' });
  unsafe(g, 'stk_oob_above', 'xdp', 'invalid write to stack', { asm: 'r2 = 0; *(u64 *)(r10 + 0) = r2; r0 = 2; exit;' });
  unsafe(g, 'stk_oob_read_above', 'xdp', 'invalid read from stack', { asm: 'r0 = *(u32 *)(r10 + 8); r0 = 2; exit;' });
  unsafe(g, 'stk_misaligned', 'xdp', 'misaligned stack access', { asm: 'r2 = 0; *(u64 *)(r10 - 12) = r2; r0 = 2; exit;' });
  unsafe(g, 'stk_misaligned_u32', 'xdp', 'misaligned stack access', { asm: 'r2 = 0; *(u32 *)(r10 - 6) = r2; r0 = 2; exit;' });
  safe(g, 'stk_full_512', 'xdp', { asm: 'r2 = 0; *(u64 *)(r10 - 512) = r2; r0 = 2; exit;' });
  safe(g, 'stk_bytes', 'xdp', { asm: 'r2 = 1; *(u8 *)(r10 - 1) = r2; *(u8 *)(r10 - 2) = r2; r0 = *(u16 *)(r10 - 2); r0 = 2; exit;' });
  safe(g, 'stk_var_off_write', 'xdp', { asm: 'r2 = *(u32 *)(r1 + 12); r2 &= 7; r3 = r10; r3 += -16; r3 += r2; r4 = 0; *(u8 *)(r3 + 0) = r4; r0 = 2; exit;' });
  unsafe(g, 'stk_var_off_oob', 'xdp', 'invalid variable-offset', { asm: 'r2 = *(u32 *)(r1 + 12); r2 &= 15; r3 = r10; r3 += -8; r3 += r2; r4 = 0; *(u8 *)(r3 + 0) = r4; r0 = 2; exit;' });
  unsafe(g, 'stk_var_off_unbounded', 'xdp', 'stack', { asm: 'r2 = *(u32 *)(r1 + 12); r3 = r10; r3 += -8; r3 += r2; r4 = 0; *(u8 *)(r3 + 0) = r4; r0 = 2; exit;' });
  safe(g, 'stk_spill_scalar_bounds', 'xdp', { asm: 'r2 = *(u32 *)(r1 + 12); r2 &= 7; *(u64 *)(r10 - 8) = r2; r3 = *(u64 *)(r10 - 8); if r3 > 7 goto l0_%=; r0 = 2; exit; l0_%=: r0 = *(u64 *)(r3 + 0); exit;' });
  safe(g, 'stk_spill_many', 'xdp', { asm: '*(u64 *)(r10 - 8) = r1; *(u64 *)(r10 - 16) = r10; r2 = *(u64 *)(r10 - 16); r3 = *(u64 *)(r2 - 8); r0 = *(u32 *)(r3 + 12); r0 = 2; exit;' });
  safe(g, 'stk_st_imm', 'xdp', { asm: '*(u64 *)(r10 - 8) = 42; r2 = *(u64 *)(r10 - 8); r0 = 2; exit;' });
  unsafe(g, 'stk_ptr_to_stack_ret_deref', 'xdp', "invalid mem access 'scalar'", { asm: 'r2 = 7; *(u64 *)(r10 - 8) = r2; r3 = *(u64 *)(r10 - 8); r0 = *(u8 *)(r3 + 0); r0 = 2; exit;' });
  unsafe(g, 'stk_atomic_ctx', 'xdp', 'BPF_ATOMIC stores into R1 ctx is not allowed', { asm: 'r2 = 1; lock *(u32 *)(r1 + 12) += w2; r0 = 2; exit;' });
  safe(g, 'stk_atomic_stack', 'xdp', { asm: 'r2 = 0; *(u64 *)(r10 - 8) = r2; r2 = 1; lock *(u64 *)(r10 - 8) += r2; r0 = 2; exit;' });
}

// ------------------------------------------------------------------ maps (C and asm)
{
  const g = 'maps';
  const lk = (key: string, after: string) => `__u32 k = ${key}; struct val64 *v = bpf_map_lookup_elem(&arr, &k); ${after}`;
  safe(g, 'map_lookup_checked', 'xdp', { c: `__u32 k = ctx->ingress_ifindex & 7; struct val64 *v = bpf_map_lookup_elem(&arr, &k); if (!v) return XDP_PASS; v->a[0]++; return XDP_PASS;` });
  unsafe(g, 'map_lookup_unchecked', 'xdp', "invalid mem access 'map_value_or_null'", { c: `__u32 k = ctx->ingress_ifindex; struct val64 *v = bpf_map_lookup_elem(&arr, &k); v->a[0]++; return XDP_PASS;` });
  safe(g, 'map_const_key_in_range', 'xdp', { asm: 'r2 = 0; *(u64 *)(r10 - 8) = r2; r2 = r10; r2 += -8; r1 = %[arr] ll; call 1; if r0 == 0 goto l0_%=; r1 = *(u64 *)(r0 + 0); l0_%=: r0 = 2; exit;' });
  unsafe(g, 'map_hash_lookup_nocheck', 'xdp', "invalid mem access 'map_value_or_null'", { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[hmap] ll; call 1; r1 = *(u64 *)(r0 + 0); r0 = 2; exit;' });
  safe(g, 'map_hash_lookup_check', 'xdp', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[hmap] ll; call 1; if r0 == 0 goto l0_%=; r1 = *(u64 *)(r0 + 0); l0_%=: r0 = 2; exit;' });
  safe(g, 'map_null_check_copy', 'xdp', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[hmap] ll; call 1; r6 = r0; if r0 == 0 goto l0_%=; r1 = *(u64 *)(r6 + 0); l0_%=: r0 = 2; exit;' });
  unsafe(g, 'map_null_check_wrong_branch', 'xdp', "invalid mem access 'scalar'", { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[hmap] ll; call 1; if r0 != 0 goto l0_%=; r1 = *(u64 *)(r0 + 0); l0_%=: r0 = 2; exit;' });
  unsafe(g, 'map_value_arith_before_check', 'xdp', 'null-check it first', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[hmap] ll; call 1; r0 += 8; if r0 == 0 goto l0_%=; l0_%=: r0 = 2; exit;' });
  // value bounds with a constant offset
  for (const [off, sz, ok] of [[0, 8, true], [56, 8, true], [60, 4, true], [57, 8, false], [64, 1, false], [-8, 8, false], [63, 1, true]] as [number, number, boolean][]) {
    const ty = { 1: 'u8', 4: 'u32', 8: 'u64' }[sz]!;
    const asm = `r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[hmap8] ll; r1 = %[arr] ll; call 1; if r0 == 0 goto l0_%=; r1 = *(${ty} *)(r0 ${off < 0 ? '- ' + -off : '+ ' + off}); l0_%=: r0 = 2; exit;`;
    const name = `map_value_off_${off < 0 ? 'm' + -off : off}_${ty}`;
    if (ok) safe(g, name, 'xdp', { asm }); else unsafe(g, name, 'xdp', 'invalid access to map value', { asm });
  }
  // variable index into the value
  const idx = (guard: string, elt = 'v->a[i]') => `${lk('0', 'if (!v) return XDP_PASS;')} __u32 i = ctx->ingress_ifindex; ${guard} ${elt} = 1; return XDP_PASS;`;
  safe(g, 'map_idx_checked', 'xdp', { c: idx('if (i >= 8) return XDP_PASS;') });
  safe(g, 'map_idx_masked', 'xdp', { c: idx('i &= 7;') });
  unsafe(g, 'map_idx_off_by_one', 'xdp', 'max value is outside of the allowed memory range', { c: idx('if (i > 8) return XDP_PASS;') });
  unsafe(g, 'map_idx_unchecked', 'xdp', 'unbounded memory access', { c: idx('') });
  unsafe(g, 'map_idx_mask_too_wide', 'xdp', 'max value is outside of the allowed memory range', { c: idx('i &= 15;') });
  unsafe(g, 'map_idx_signed_only', 'xdp', 'unbounded min value', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[arr] ll; call 1; if r0 == 0 goto l0_%=; r2 = *(u64 *)(r0 + 0); if r2 s> 56 goto l0_%=; r0 += r2; r1 = *(u64 *)(r0 + 0); l0_%=: r0 = 2; exit;' });
  safe(g, 'map_idx_signed_both', 'xdp', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[arr] ll; call 1; if r0 == 0 goto l0_%=; r2 = *(u64 *)(r0 + 0); if r2 s> 56 goto l0_%=; if r2 s< 0 goto l0_%=; r0 += r2; r1 = *(u64 *)(r0 + 0); l0_%=: r0 = 2; exit;' });
  safe(g, 'map_idx_jmp32', 'xdp', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[arr] ll; call 1; if r0 == 0 goto l0_%=; w2 = *(u32 *)(r0 + 0); if w2 > 56 goto l0_%=; r0 += r2; r1 = *(u64 *)(r0 + 0); l0_%=: r0 = 2; exit;' });
  unsafe(g, 'map_idx_jmp32_upper', 'xdp', 'unbounded min value', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[arr] ll; call 1; if r0 == 0 goto l0_%=; r2 = *(u64 *)(r0 + 0); if w2 > 56 goto l0_%=; r0 += r2; r1 = *(u64 *)(r0 + 0); l0_%=: r0 = 2; exit;' });
  safe(g, 'map_idx_shift', 'xdp', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[arr] ll; call 1; if r0 == 0 goto l0_%=; r2 = *(u8 *)(r0 + 0); r2 >>= 5; r2 <<= 3; r0 += r2; r1 = *(u64 *)(r0 + 0); l0_%=: r0 = 2; exit;' });
  unsafe(g, 'map_idx_shift_wide', 'xdp', 'max value is outside of the allowed memory range', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[arr] ll; call 1; if r0 == 0 goto l0_%=; r2 = *(u8 *)(r0 + 0); r2 >>= 4; r2 <<= 3; r0 += r2; r1 = *(u64 *)(r0 + 0); l0_%=: r0 = 2; exit;' });
  safe(g, 'map_idx_linked_regs', 'xdp', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[arr] ll; call 1; if r0 == 0 goto l0_%=; r2 = *(u64 *)(r0 + 0); r3 = r2; if r3 > 56 goto l0_%=; r0 += r2; r1 = *(u64 *)(r0 + 0); l0_%=: r0 = 2; exit;' });
  // keys
  unsafe(g, 'map_key_too_small', 'xdp', 'invalid read from stack', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[hmap8] ll; call 1; r0 = 2; exit;' });
  safe(g, 'map_key_u64', 'xdp', { asm: 'r2 = 0; *(u64 *)(r10 - 8) = r2; r2 = r10; r2 += -8; r1 = %[hmap8] ll; call 1; r0 = 2; exit;' });
  unsafe(g, 'map_key_scalar', 'xdp', 'R2 type=scalar expected=', { asm: 'r2 = 0; r1 = %[hmap] ll; call 1; r0 = 2; exit;' });
  unsafe(g, 'map_key_ctx', 'xdp', 'R2 type=ctx expected=', { asm: 'r2 = r1; r1 = %[hmap] ll; call 1; r0 = 2; exit;' });
  safe(g, 'map_key_from_pkt', 'xdp', { asm: 'r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 4; if r4 > r3 goto l0_%=; r1 = %[hmap] ll; call 1; l0_%=: r0 = 2; exit;' });
  unsafe(g, 'map_key_from_short_pkt', 'xdp', 'invalid access to packet', { asm: 'r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 3; if r4 > r3 goto l0_%=; r1 = %[hmap] ll; call 1; l0_%=: r0 = 2; exit;' });
  unsafe(g, 'map_arg_not_map', 'xdp', 'R1 type=fp expected=', { asm: 'r2 = r10; r2 += -8; r1 = r10; call 1; r0 = 2; exit;' });
  safe(g, 'map_update_stack_value', 'xdp', { c: '__u32 k = 1; __u64 val = 5; bpf_map_update_elem(&hmap, &k, &val, BPF_ANY); return XDP_PASS;' });
  unsafe(g, 'map_update_value_too_small', 'xdp', 'invalid read from stack', { asm: 'r2 = 0; *(u64 *)(r10 - 8) = r2; r2 = r10; r2 += -8; r3 = r10; r3 += -4; r4 = 0; r1 = %[hmap] ll; call 2; r0 = 2; exit;' });
  safe(g, 'map_update_from_map_value', 'xdp', { c: '__u32 k = 0; struct val64 *v = bpf_map_lookup_elem(&arr, &k); if (!v) return XDP_PASS; bpf_map_update_elem(&hmap, &k, &v->a[7], BPF_ANY); return XDP_PASS;' });
  safe(g, 'map_delete', 'xdp', { c: '__u32 k = ctx->rx_queue_index; bpf_map_delete_elem(&hmap, &k); return XDP_PASS;' });
  unsafe(g, 'map_ringbuf_lookup', 'xdp', 'invalid zero-sized read', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[rb] ll; call 1; r0 = 2; exit;' });
  unsafe(g, 'map_rodata_write', 'xdp', 'write into map forbidden', { asm: 'r1 = %[cfg_n] ll; r2 = 5; *(u32 *)(r1 + 0) = r2; r0 = 2; exit;' });
  safe(g, 'map_rodata_read', 'xdp', { c: 'return cfg_n > 3 ? XDP_PASS : XDP_DROP;' });
  safe(g, 'map_rodata_const_index', 'xdp', { c: '__u32 k = 0; struct val64 *v = bpf_map_lookup_elem(&arr, &k); if (!v) return XDP_PASS; v->a[cfg_tab[1]] = 1; return XDP_PASS;' });
  safe(g, 'map_bss_counter', 'xdp', { c: '__sync_fetch_and_add(&counter, 1); return XDP_PASS;' });
  unsafe(g, 'map_bss_oob', 'xdp', 'invalid access to map value', { asm: 'r1 = %[counter] ll; r2 = *(u64 *)(r1 + 8); r0 = 2; exit;' });
  safe(g, 'map_percpu_scratch', 'xdp', { c: '__u32 k = 0; struct val64 *v = bpf_map_lookup_elem(&pcpu, &k); if (!v) return XDP_PASS; for (int i = 0; i < 8; i++) v->a[i] = i; return XDP_PASS;' });
  safe(g, 'map_value_spill_fill', 'xdp', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[hmap] ll; call 1; if r0 == 0 goto l0_%=; *(u64 *)(r10 - 16) = r0; call 7; r1 = *(u64 *)(r10 - 16); r2 = *(u64 *)(r1 + 0); l0_%=: r0 = 2; exit;' });
  unsafe(g, 'map_value_spill_before_check', 'xdp', "invalid mem access 'map_value_or_null'", { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[hmap] ll; call 1; *(u64 *)(r10 - 16) = r0; r1 = *(u64 *)(r10 - 16); r2 = *(u64 *)(r1 + 0); r0 = 2; exit;' });
  safe(g, 'map_value_spill_null_checked_later', 'xdp', { asm: 'r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[hmap] ll; call 1; *(u64 *)(r10 - 16) = r0; if r0 == 0 goto l0_%=; r1 = *(u64 *)(r10 - 16); r2 = *(u64 *)(r1 + 0); l0_%=: r0 = 2; exit;' });
  void lk;
}

// ------------------------------------------------------------------ helpers, references (C and asm)
{
  const g = 'helpers';
  unsafe(g, 'helper_not_allowed_xdp', 'xdp', 'program of this type cannot use helper bpf_skb_store_bytes', { asm: 'r2 = 0; r3 = r10; r3 += -8; r4 = 4; r5 = 0; call 9; r0 = 2; exit;' });
  unsafe(g, 'helper_probe_read_xdp', 'xdp', 'program of this type cannot use helper bpf_probe_read', { asm: 'r1 = r10; r1 += -8; r2 = 8; r3 = 0; call 4; r0 = 2; exit;' });
  unsafe(g, 'helper_skb_load_in_xdp', 'xdp', 'program of this type cannot use helper bpf_skb_load_bytes', { asm: 'r2 = 0; r3 = r10; r3 += -8; r4 = 8; call 26; r0 = 2; exit;' });
  unsafe(g, 'helper_unknown_id', 'xdp', 'invalid func unknown#', { asm: 'call 9999; r0 = 2; exit;' });
  safe(g, 'helper_ktime', 'xdp', { c: 'return bpf_ktime_get_ns() & 1 ? XDP_PASS : XDP_DROP;' });
  safe(g, 'helper_skb_load_bytes', 'tc', { c: 'char buf[16]; if (bpf_skb_load_bytes(ctx, 0, buf, sizeof(buf))) return 0; return buf[3] == 1;' });
  unsafe(g, 'helper_skb_load_too_big', 'tc', 'invalid write to stack', { asm: 'r2 = 0; r3 = r10; r3 += -8; r4 = 16; call 26; r0 = 0; exit;' });
  unsafe(g, 'helper_skb_load_zero', 'tc', 'invalid zero-sized read', { asm: 'r2 = 0; r3 = r10; r3 += -8; r4 = 0; call 26; r0 = 0; exit;' });
  unsafe(g, 'helper_skb_load_var_size', 'tc', 'invalid zero-sized read', { asm: 'r2 = 0; r3 = r10; r3 += -8; r4 = *(u32 *)(r1 + 0); call 26; r0 = 0; exit;' });
  safe(g, 'helper_skb_load_var_bounded', 'tc', { asm: 'r4 = *(u32 *)(r1 + 0); r4 &= 7; r4 += 1; r2 = 0; r3 = r10; r3 += -8; call 26; r0 = 0; exit;' });
  unsafe(g, 'helper_ctx_arg_wrong', 'tc', 'R1 type=fp expected=ctx', { asm: 'r1 = r10; r1 += -8; r2 = 0; r3 = r10; r3 += -16; r4 = 8; call 26; r0 = 0; exit;' });
  unsafe(g, 'helper_ctx_arg_modified', 'tc', 'dereference of modified ctx ptr', { asm: 'r1 += 4; r2 = 0; r3 = r10; r3 += -16; r4 = 8; call 26; r0 = 0; exit;' });
  safe(g, 'helper_trace_printk', 'tp', { c: 'char fmt[] = "hi %d"; bpf_trace_printk(fmt, sizeof(fmt), 1); return 0;' });
  safe(g, 'helper_probe_read_kernel', 'tp', { c: 'long v = 0; bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx); return v == 1;' });
  safe(g, 'helper_get_comm', 'tp', { c: 'char comm[16]; bpf_get_current_comm(comm, sizeof(comm)); return comm[0] == 0;' });
  unsafe(g, 'helper_get_comm_too_big', 'tp', 'invalid write to stack', { asm: 'r1 = r10; r1 += -16; r2 = 32; call 16; r0 = 0; exit;' });
  safe(g, 'helper_pid_tgid_tp', 'tp', { c: 'return bpf_get_current_pid_tgid() >> 32 == 1;' });
  safe(g, 'helper_csum_diff', 'xdp', { c: '__be32 a[2] = {1, 2}; return bpf_csum_diff(0, 0, a, sizeof(a), 0) ? XDP_PASS : XDP_DROP;' });
  safe(g, 'helper_redirect_map_xdp', 'xdp', { c: 'return bpf_redirect(1, 0);' });
  safe(g, 'helper_tail_call', 'xdp', { c: 'bpf_tail_call(ctx, &jmp, 0); return XDP_PASS;' });
  unsafe(g, 'helper_tail_call_wrong_map', 'xdp', 'expected prog array map for tail call', { asm: 'r2 = %[hmap] ll; r3 = 0; call 12; r0 = 2; exit;' });
  safe(g, 'helper_perf_output', 'tc', { c: '__u64 v = ctx->len; return 0;' });
  // the helper sets of each program type (argument-free or simple calls)
  const simple: [number, string][] = [[5, 'ktime'], [7, 'prandom'], [8, 'cpu'], [42, 'numa'], [118, 'jiffies'], [125, 'boot_ns'], [160, 'coarse_ns'], [208, 'tai_ns'], [35, 'current_task'], [14, 'pid_tgid'], [15, 'uid_gid'], [80, 'cgroup_id']];
  for (const [id, n] of simple) {
    for (const k of ['xdp', 'tc', 'tp'] as Kind[]) {
      const name = `hset_${k}_${n}`;
      const asm = `call ${id}; r0 = 0; exit;`;
      if (id === 160 && k === 'tp') unsafe(g, name, k, 'program of this type cannot use helper', { asm });
      else safe(g, name, k, { asm });
    }
  }
  // helpers whose only argument is the context
  const progTypeOf: Record<Kind, ProgType> = { xdp: 'xdp', tc: 'sched_cls', socket: 'socket_filter', cgskb: 'cgroup_skb', cgskb_eg: 'cgroup_skb', tp: 'tracepoint', kprobe: 'kprobe' };
  for (const id of [17, 19, 24, 34, 41, 46, 47, 79, 97, 188]) {
    for (const k of ['xdp', 'tc', 'socket', 'cgskb', 'tp'] as Kind[]) {
      const name = `hctx_${k}_${id}`;
      const asm = `call ${id}; r0 = 0; exit;`;
      if (helperAllowed(progTypeOf[k], id)) safe(g, name, k, { asm });
      else unsafe(g, name, k, 'program of this type cannot use helper', { asm });
    }
  }
  safe(g, 'hset_xdp_probe_read_kernel', 'xdp', { asm: 'r1 = r10; r1 += -8; r2 = 8; r3 = 0; call 113; r0 = 0; exit;' });
  safe(g, 'hset_xdp_trace_printk', 'xdp', { asm: 'r1 = 0; *(u64 *)(r10 - 8) = r1; r1 = r10; r1 += -8; r2 = 8; call 6; r0 = 0; exit;' });
  unsafe(g, 'hset_tc_xdp_adjust_head', 'tc', 'program of this type cannot use helper', { asm: 'r2 = 0; call 44; r0 = 0; exit;' });
  unsafe(g, 'hset_socket_redirect', 'socket', 'program of this type cannot use helper', { asm: 'r1 = 1; r2 = 0; call 23; r0 = 0; exit;' });
  safe(g, 'hset_tc_redirect', 'tc', { asm: 'r1 = 1; r2 = 0; call 23; r0 = 0; exit;' });
  unsafe(g, 'hset_tp_redirect', 'tp', 'program of this type cannot use helper', { asm: 'r1 = 1; r2 = 0; call 23; r0 = 0; exit;' });
  // ring buffer references
  const rbody = (between: string, tail: string) => `__u64 *e = bpf_ringbuf_reserve(&rb, 8, 0); ${between} ${tail}`;
  safe(g, 'rb_reserve_submit', 'xdp', { c: rbody('if (!e) return XDP_PASS; *e = 1;', 'bpf_ringbuf_submit(e, 0); return XDP_PASS;') });
  safe(g, 'rb_reserve_discard', 'xdp', { c: rbody('if (!e) return XDP_PASS; *e = 1;', 'bpf_ringbuf_discard(e, 0); return XDP_PASS;') });
  unsafe(g, 'rb_reserve_leak', 'xdp', 'Unreleased reference', { c: rbody('if (!e) return XDP_PASS; *e = 1;', 'return XDP_PASS;') });
  unsafe(g, 'rb_reserve_leak_one_path', 'xdp', 'Unreleased reference', { c: rbody('if (!e) return XDP_PASS; *e = ctx->ingress_ifindex; if (*e == 3) return XDP_DROP;', 'bpf_ringbuf_submit(e, 0); return XDP_PASS;') });
  unsafe(g, 'rb_reserve_nocheck', 'xdp', "invalid mem access 'ringbuf_mem_or_null'", { asm: 'r1 = %[rb] ll; r2 = 8; r3 = 0; call 131; r1 = 0; *(u64 *)(r0 + 0) = r1; r1 = r0; r2 = 0; call 132; r0 = 2; exit;' });
  unsafe(g, 'rb_reserve_oob', 'xdp', 'invalid access to memory', { asm: 'r1 = %[rb] ll; r2 = 8; r3 = 0; call 131; if r0 == 0 goto l0_%=; r1 = 0; *(u64 *)(r0 + 4) = r1; r1 = r0; r2 = 0; call 132; l0_%=: r0 = 2; exit;' });
  unsafe(g, 'rb_reserve_var_size', 'xdp', 'is not a known constant', { asm: 'r2 = *(u32 *)(r1 + 12); r1 = %[rb] ll; r3 = 0; call 131; if r0 == 0 goto l0_%=; r1 = r0; r2 = 0; call 132; l0_%=: r0 = 2; exit;' });
  unsafe(g, 'rb_submit_modified', 'xdp', 'must have zero offset when passed to release func', { asm: 'r1 = %[rb] ll; r2 = 16; r3 = 0; call 131; if r0 == 0 goto l0_%=; r1 = r0; r1 += 8; r2 = 0; call 132; l0_%=: r0 = 2; exit;' });
  unsafe(g, 'rb_submit_null', 'xdp', 'R1 type=', { asm: 'r1 = %[rb] ll; r2 = 16; r3 = 0; call 131; r1 = r0; r2 = 0; call 132; r0 = 2; exit;' });
  unsafe(g, 'rb_use_after_submit', 'xdp', "invalid mem access 'scalar'", { asm: 'r1 = %[rb] ll; r2 = 16; r3 = 0; call 131; if r0 == 0 goto l0_%=; r6 = r0; r1 = r0; r2 = 0; call 132; r1 = 0; *(u64 *)(r6 + 0) = r1; l0_%=: r0 = 2; exit;' });
  unsafe(g, 'rb_tail_call_leak', 'xdp', 'tail_call would lead to reference leak', { asm: 'r6 = r1; r1 = %[rb] ll; r2 = 16; r3 = 0; call 131; if r0 == 0 goto l0_%=; r7 = r0; r1 = r6; r2 = %[jmp] ll; r3 = 0; call 12; r1 = r7; r2 = 0; call 133; l0_%=: r0 = 2; exit;' });
  safe(g, 'rb_spilled_ref', 'xdp', { asm: 'r1 = %[rb] ll; r2 = 16; r3 = 0; call 131; if r0 == 0 goto l0_%=; *(u64 *)(r10 - 8) = r0; call 7; r1 = *(u64 *)(r10 - 8); r2 = 0; call 132; l0_%=: r0 = 2; exit;' });
  safe(g, 'rb_output', 'tc', { c: '__u64 v = ctx->len; bpf_ringbuf_output(&rb, &v, sizeof(v), 0); return 0;' });
  unsafe(g, 'rb_output_uninit_ptr', 'tc', 'R2 type=scalar expected=', { asm: 'r1 = %[rb] ll; r2 = 0; r3 = 8; r4 = 0; call 130; r0 = 0; exit;' });
  // sockets
  const sk = (tail: string) => `struct bpf_sock_tuple t = {}; struct bpf_sock *s = bpf_sk_lookup_tcp(ctx, &t, sizeof(t.ipv4), -1, 0); ${tail}`;
  safe(g, 'sk_lookup_release', 'tc', { c: sk('if (s) bpf_sk_release(s); return 0;') });
  unsafe(g, 'sk_lookup_leak', 'tc', 'Unreleased reference', { c: sk('if (s) return 1; return 0;') });
  unsafe(g, 'sk_release_null', 'tc', 'type=sock_or_null expected=', { asm: 'r2 = 0; *(u64 *)(r10 - 16) = r2; *(u64 *)(r10 - 8) = r2; r2 = r10; r2 += -16; r3 = 12; r4 = -1; r5 = 0; call 84; r1 = r0; call 86; r0 = 0; exit;' });
}

// ------------------------------------------------------------------ pruning and precision (asm)
// Two paths meet at a prune point with different scalars; only one of them is unsafe, and only a
// check after the join shows it: the joined states may be merged only if the values that check
// depends on (through a spill, a linked register, a decided branch, the return value) are equal.
{
  const g = 'prec';
  const pad = 'r3 = 0; r3 += 1; r3 += 1; r3 += 1; r3 += 1; r3 += 1; r3 += 1; r3 += 1;';
  // enough insns and jumps before the join that both verifiers keep a state there
  const pad2 = 'r4 = 0; if r4 != 0 goto lx_%=; r4 += 1; if r4 != 1 goto lx_%=; r4 += 1; r4 += 1; r4 += 1; r4 += 1; r4 += 1; r4 += 1; r4 += 1; r4 += 1;';
  const lookup = `${pad} r6 = *(u32 *)(r1 + 12); r6 &= 255; r8 = *(u32 *)(r1 + 16); r2 = 0; *(u32 *)(r10 - 4) = r2; r2 = r10; r2 += -4; r1 = %[arr] ll; call 1; if r0 == 0 goto lx_%=; r7 = r0;`;
  const spill = (far: number): string => `${lookup} if r8 > 3 goto la_%=; r2 = 8; *(u64 *)(r10 - 16) = r2; ${pad2} goto lj_%=; la_%=: r2 = ${far}; *(u64 *)(r10 - 16) = r2; lj_%=: r4 = 0; r4 += 1; r3 = *(u64 *)(r10 - 16); r7 += r3; r0 = *(u64 *)(r7 + 0); lx_%=: r0 = 2; exit;`;
  safe(g, 'prec_spill_join_ok', 'xdp', { asm: spill(16) });
  unsafe(g, 'prec_spill_join_far', 'xdp', 'invalid access to map value', { asm: spill(80) });
  const linked = (unlink: string): string => `${lookup} if r8 > 3 goto la_%=; r2 = r6; ${pad2} goto lj_%=; la_%=: r2 = r6; ${unlink} lj_%=: r4 = 0; r4 += 1; if r6 > 7 goto lx_%=; r7 += r2; r0 = *(u64 *)(r7 + 0); lx_%=: r0 = 2; exit;`;
  safe(g, 'prec_linked_ok', 'xdp', { asm: linked('r4 = 0;') });
  unsafe(g, 'prec_linked_broken', 'xdp', 'invalid access to map value', { asm: linked('r2 &= -1;') });
  const branch = (off: number): string => `${lookup} if r8 > 3 goto la_%=; r2 = 0; ${pad2} goto lj_%=; la_%=: r2 = 1; lj_%=: r4 = 0; r4 += 1; if r2 == 0 goto lx_%=; r0 = *(u64 *)(r7 + ${off}); lx_%=: r0 = 2; exit;`;
  safe(g, 'prec_branch_const_ok', 'xdp', { asm: branch(56) });
  unsafe(g, 'prec_branch_const_oob', 'xdp', 'invalid access to map value', { asm: branch(64) });
  const ret = (v: number): string => `${pad} r8 = *(u32 *)(r1 + 0); r6 = 1; if r8 > 3 goto la_%=; ${pad2} goto lj_%=; la_%=: r6 = ${v}; lj_%=: r4 = 0; r4 += 1; r0 = r6; exit; lx_%=: r0 = 0; exit;`;
  safe(g, 'prec_ret_ok', 'cgskb', { asm: ret(0) });
  unsafe(g, 'prec_ret_bad', 'cgskb', 'should have been in', { asm: ret(5) });
}

// ------------------------------------------------------------------ loops (C)
{
  const g = 'loops';
  safe(g, 'loop_const_100', 'xdp', { c: 'int s = 0; for (int i = 0; i < 100; i++) s += i * ctx->ingress_ifindex; return s & 1 ? XDP_PASS : XDP_DROP;' });
  safe(g, 'loop_nested', 'xdp', { c: 'int s = 0; for (int i = 0; i < 10; i++) for (int j = 0; j < 10; j++) s += i ^ j; return s == 3 ? XDP_PASS : XDP_DROP;' });
  safe(g, 'loop_map_index', 'xdp', { c: '__u32 k = 0; struct val64 *v = bpf_map_lookup_elem(&arr, &k); if (!v) return XDP_PASS; for (int i = 0; i < 8; i++) v->a[i] += i; return XDP_PASS;' });
  unsafe(g, 'loop_map_index_oob', 'xdp', 'invalid access to map value', { c: '__u32 k = 0; struct val64 *v = bpf_map_lookup_elem(&arr, &k); if (!v) return XDP_PASS; for (volatile int i = 0; i < 9; i++) v->a[i & 15] += i; return XDP_PASS;' });
  safe(g, 'loop_rodata_bound', 'xdp', { c: 'int s = 0; for (__u32 i = 0; i < cfg_n; i++) s += i; return s & 1 ? XDP_PASS : XDP_DROP;' });
  safe(g, 'loop_runtime_bound', 'xdp', { c: 'int s = 0; __u32 n = ctx->ingress_ifindex; for (__u32 i = 0; i != n; i++) s += i; return s & 1 ? XDP_PASS : XDP_DROP;' });
  safe(g, 'loop_runtime_bound_capped', 'xdp', { c: 'int s = 0; __u32 n = ctx->ingress_ifindex; for (__u32 i = 0; i < n && i < 64; i++) s += i; return s & 1 ? XDP_PASS : XDP_DROP;' });
  unsafe(g, 'loop_pkt_scan', 'xdp', 'BPF program is too large', { c: 'PKT_BEGIN(ctx) __u8 *p = data; int n = 0; for (int i = 0; i < 64; i++) { if ((void *)(p + 1) > data_end) break; n += *p == 0; p++; } return n ? XDP_PASS : XDP_DROP;' });
  unsafe(g, 'loop_while_countdown', 'xdp', 'BPF program is too large', { c: 'volatile int n = 30; int s = 0; while (n > 0) { s += n; n--; } return s & 1 ? XDP_PASS : XDP_DROP;' });
  safe(g, 'loop_stack_array', 'tc', { c: '__u32 buf[16]; for (int i = 0; i < 16; i++) buf[i] = i * ctx->len; __u32 s = 0; for (int i = 0; i < 16; i++) s += buf[i]; return s & 1;' });
  unsafe(g, 'loop_stack_array_oob', 'tc', 'invalid', { c: '__u32 buf[16]; volatile __u32 n = 17; for (__u32 i = 0; i < n && i < 17; i++) buf[i] = i; return buf[3] & 1;' });
  safe(g, 'loop_early_exit', 'xdp', { c: 'for (int i = 0; i < 50; i++) { if (bpf_get_prandom_u32() == 7) return XDP_DROP; } return XDP_PASS;' });
}

// ------------------------------------------------------------------ subprograms (C)
{
  const g = 'subprogs';
  add({ name: 'sub_pass_stack_ptr', kind: 'xdp', expect: 'safe', group: g, c: '__u64 x = ctx->ingress_ifindex; sub_fill(&x); return x & 1 ? XDP_PASS : XDP_DROP;' });
  add({ name: 'sub_pass_ctx', kind: 'xdp', expect: 'safe', group: g, c: 'return sub_first_byte(ctx) == 7 ? XDP_DROP : XDP_PASS;' });
  add({ name: 'sub_nested_3', kind: 'xdp', expect: 'safe', group: g, c: 'return sub_a(ctx->ingress_ifindex) & 1 ? XDP_PASS : XDP_DROP;' });
  add({ name: 'sub_map_value_arg', kind: 'xdp', expect: 'safe', group: g, c: '__u32 k = 0; struct val64 *v = bpf_map_lookup_elem(&arr, &k); if (!v) return XDP_PASS; sub_fill(&v->a[2]); return XDP_PASS;' });
  add({ name: 'sub_oob_in_callee', kind: 'xdp', expect: 'unsafe', rule: 'misaligned stack access', group: g, c: '__u32 small = 0; sub_fill((__u64 *)&small); return small & 1 ? XDP_PASS : XDP_DROP;' });
  add({ name: 'sub_big_stacks', kind: 'xdp', expect: 'unsafe', rule: 'combined stack size', group: g, c: 'return sub_big1(ctx->ingress_ifindex) & 1 ? XDP_PASS : XDP_DROP;' });
  add({ name: 'sub_deep_9', kind: 'xdp', expect: 'unsafe', rule: 'call stack', group: g, c: 'return sub_d1(ctx->ingress_ifindex) & 1 ? XDP_PASS : XDP_DROP;' });
  add({ name: 'sub_deep_8', kind: 'xdp', expect: 'safe', group: g, c: 'return sub_d3(ctx->ingress_ifindex) & 1 ? XDP_PASS : XDP_DROP;' });
  add({ name: 'sub_pkt_in_callee', kind: 'xdp', expect: 'safe', group: g, c: 'PKT_BEGIN(ctx) return sub_parse(data, data_end);' });
  add({ name: 'sub_pkt_unchecked_callee', kind: 'xdp', expect: 'unsafe', rule: 'invalid access to packet', group: g, c: 'PKT_BEGIN(ctx) return sub_parse_bad(data, data_end);' });
  add({ name: 'sub_ret_stack_ptr', kind: 'xdp', expect: 'unsafe', rule: 'cannot return stack pointer', group: g, asm: 'call asm_ret_stack; r0 = 2; exit;' });
  add({ name: 'sub_asm_no_r0', kind: 'xdp', expect: 'safe', group: g, asm: 'r1 = 5; call asm_no_r0; r0 = 2; exit;' });
  add({ name: 'sub_asm_no_r0_used', kind: 'xdp', expect: 'unsafe', rule: 'R0 !read_ok', group: g, asm: 'r1 = 5; call asm_no_r0; exit;' });
  add({ name: 'sub_asm_args', kind: 'xdp', expect: 'safe', group: g, asm: 'r1 = 5; call asm_add1; r0 &= 3; exit;' });
  add({ name: 'sub_asm_uninit_arg', kind: 'xdp', expect: 'unsafe', rule: 'R2 !read_ok', group: g, asm: 'r1 = 5; call asm_read_r2; r0 = 2; exit;' });
  add({ name: 'sub_asm_callee_r6', kind: 'xdp', expect: 'unsafe', rule: 'R6 !read_ok', group: g, asm: 'r6 = 5; call asm_read_r6; r0 = 2; exit;' });
  add({ name: 'sub_asm_caller_r1_clobbered', kind: 'xdp', expect: 'unsafe', rule: 'R1 !read_ok', group: g, asm: 'r1 = 5; call asm_ret1; r0 = r1; exit;' });
  add({ name: 'sub_asm_caller_stack_write', kind: 'xdp', expect: 'safe', group: g, asm: 'r1 = r10; r1 += -8; call asm_store_arg; r0 = *(u64 *)(r10 - 8); r0 = 2; exit;' });
  add({ name: 'sub_asm_callee_oob_caller_stack', kind: 'xdp', expect: 'unsafe', rule: 'misaligned stack access', group: g, asm: 'r1 = r10; r1 += -4; call asm_store_arg; r0 = 2; exit;' });
  add({ name: 'sub_asm_ret_caller_stack', kind: 'xdp', expect: 'unsafe', rule: 'cannot return stack pointer', group: g, asm: 'r1 = r10; r1 += -8; call asm_ret_arg; r2 = 3; *(u64 *)(r0 + 0) = r2; r0 = 2; exit;' });
  add({ name: 'sub_asm_ret_scalar_deref', kind: 'xdp', expect: 'unsafe', rule: "invalid mem access 'scalar'", group: g, asm: 'r1 = 5; call asm_add1; r2 = *(u64 *)(r0 + 0); r0 = 2; exit;' });
}

// ------------------------------------------------------------------ bpf_loop callbacks (C)
{
  const g = 'callbacks';
  safe(g, 'cb_loop_sum', 'xdp', { c: 'struct cb_ctx c = { .sum = 0 }; bpf_loop(16, cb_add, &c, 0); return c.sum & 1 ? XDP_PASS : XDP_DROP;' });
  safe(g, 'cb_loop_stop', 'xdp', { c: 'struct cb_ctx c = { .sum = 0 }; long n = bpf_loop(1000, cb_stop, &c, 0); return n > 3 ? XDP_PASS : XDP_DROP;' });
  safe(g, 'cb_loop_null_ctx', 'xdp', { c: 'bpf_loop(4, cb_noctx, 0, 0); return XDP_PASS;' });
  unsafe(g, 'cb_loop_bad_ret', 'xdp', 'should have been in', { c: 'struct cb_ctx c = { .sum = 0 }; bpf_loop(4, cb_ret2, &c, 0); return XDP_PASS;' });
  unsafe(g, 'cb_loop_oob_ctx', 'xdp', 'invalid', { c: 'struct cb_ctx c = { .sum = 0 }; bpf_loop(4, cb_oob, &c, 0); return XDP_PASS;' });
  safe(g, 'cb_loop_map', 'xdp', { c: 'struct cb_ctx c = { .sum = 0 }; bpf_loop(8, cb_map, &c, 0); return XDP_PASS;' });
}

// ------------------------------------------------------------------ global functions (C)
{
  const g = 'globals';
  safe(g, 'glob_ctx_arg', 'xdp', { c: 'return g_first(ctx) == 7 ? XDP_DROP : XDP_PASS;' });
  safe(g, 'glob_scalar_arg', 'xdp', { c: 'return g_clamp(ctx->ingress_ifindex) > 3 ? XDP_DROP : XDP_PASS;' });
  safe(g, 'glob_ptr_checked', 'xdp', { c: '__u64 v = ctx->ingress_ifindex; return g_read_checked(&v) ? XDP_DROP : XDP_PASS;' });
  unsafe(g, 'glob_ptr_unchecked', 'xdp', 'invalid mem access', { c: '__u64 v = ctx->ingress_ifindex; return g_read(&v) ? XDP_DROP : XDP_PASS;' });
  unsafe(g, 'glob_ret_unbounded', 'xdp', 'max value is outside of the allowed memory range', { c: '__u32 k = 0; struct val64 *v = bpf_map_lookup_elem(&arr, &k); if (!v) return XDP_PASS; __u32 i = g_clamp(ctx->ingress_ifindex); if (i > 8) return XDP_PASS; v->a[i] = 1; return XDP_PASS;' });
  safe(g, 'glob_ret_bounded', 'xdp', { c: '__u32 k = 0; struct val64 *v = bpf_map_lookup_elem(&arr, &k); if (!v) return XDP_PASS; __u32 i = g_clamp(ctx->ingress_ifindex); if (i >= 8) return XDP_PASS; v->a[i] = 1; return XDP_PASS;' });
  safe(g, 'glob_buf_arg', 'tc', { c: 'struct buf16 buf = {}; buf.b[0] = ctx->len; return g_sum16(&buf) & 1;' });
}

export const CASES: readonly Case[] = cases;

/** Helper functions available to every group (static, non-inlined: verified per call site). */
export const SUBPROGS = `
static __attribute__((noinline)) int sub_fill(__u64 *p) { *p = *p * 3 + 1; return 0; }
static __attribute__((noinline)) int sub_first_byte(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
  if (data + 1 > data_end) return -1; return *(__u8 *)data; }
static __attribute__((noinline)) int sub_c(int x) { return x * 7 + 1; }
static __attribute__((noinline)) int sub_b(int x) { return sub_c(x) ^ 3; }
static __attribute__((noinline)) int sub_a(int x) { return sub_b(x) + 1; }
static __attribute__((noinline)) int sub_big3(int x) { volatile char b[200]; b[x & 127] = 1; return b[3]; }
static __attribute__((noinline)) int sub_big2(int x) { volatile char b[200]; b[x & 127] = 1; return b[5] + sub_big3(x); }
static __attribute__((noinline)) int sub_big1(int x) { volatile char b[200]; b[x & 127] = 1; return b[7] + sub_big2(x); }
#define DEEP(n, next) static __attribute__((noinline)) int sub_d##n(int x) { return next(x + 1) + 1; }
static __attribute__((noinline)) int sub_d9(int x) { return x * 3; }
DEEP(8, sub_d9) DEEP(7, sub_d8) DEEP(6, sub_d7) DEEP(5, sub_d6) DEEP(4, sub_d5) DEEP(3, sub_d4) DEEP(2, sub_d3) DEEP(1, sub_d2)
#define ASM_SUB(name, body) static __attribute__((naked, noinline, used)) int name(void) { asm volatile(body ::: "memory"); }
ASM_SUB(asm_ret_stack, "r0 = r10; r0 += -8; exit;")
ASM_SUB(asm_add1, "r0 = r1; r0 += 1; exit;")
ASM_SUB(asm_read_r2, "r0 = r2; exit;")
ASM_SUB(asm_read_r6, "r0 = r6; exit;")
ASM_SUB(asm_ret1, "r0 = 1; exit;")
ASM_SUB(asm_store_arg, "r2 = 1; *(u64 *)(r1 + 0) = r2; r0 = 0; exit;")
ASM_SUB(asm_ret_arg, "r0 = r1; exit;")
ASM_SUB(asm_no_r0, "r1 += 1; exit;")
static __attribute__((noinline)) int sub_parse(void *data, void *data_end) {
  struct ethhdr *eth = data; if ((void *)(eth + 1) > data_end) return XDP_DROP;
  return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_PASS : XDP_DROP; }
static __attribute__((noinline)) int sub_parse_bad(void *data, void *data_end) {
  struct ethhdr *eth = data; if (data + 12 > data_end) return XDP_DROP;
  return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_PASS : XDP_DROP; }
`;

/** bpf_loop callbacks. */
export const CALLBACKS = `
struct cb_ctx { __u64 sum; __u64 pad[3]; };
static long cb_add(__u32 i, void *data) { struct cb_ctx *c = data; c->sum += i; return 0; }
static long cb_stop(__u32 i, void *data) { struct cb_ctx *c = data; c->sum++; return i > 5; }
static long cb_noctx(__u32 i, void *data) { return 0; }
static long cb_ret2(__u32 i, void *data) { return 2; }
static long cb_oob(__u32 i, void *data) { struct cb_ctx *c = data; c->pad[4] = 1; return 0; }
static long cb_map(__u32 i, void *data) {
  __u32 k = i & 7; struct val64 *v = bpf_map_lookup_elem(&arr, &k); if (!v) return 1; v->a[i & 7] = i; return 0; }
`;

/** Global (non-static) functions: the kernel verifies each once, from its BTF argument types. */
export const GLOBALS = `
__attribute__((noinline)) int g_first(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
  if (data + 1 > data_end) return 0; return *(__u8 *)data; }
__attribute__((noinline)) int g_clamp(__u32 x) { return x < 8 ? x : 8; }
__attribute__((noinline)) int g_read_checked(__u64 *p) { if (!p) return 0; return *p == 3; }
__attribute__((noinline)) int g_read(__u64 *p) { return *p == 3; }
struct buf16 { char b[16]; };
__attribute__((noinline)) int g_sum16(struct buf16 *p) { if (!p) return 0; int s = 0; for (int i = 0; i < 16; i++) s += p->b[i]; return s; }
`;

/** Operands every naked asm case may reference as %[name]. */
export const ASM_OPERANDS = ['arr', 'hmap', 'hmap8', 'rb', 'jmp', 'pcpu', 'cfg_n', 'counter'];

/** The C source of one group. */
export function groupSource(group: string): string {
  const parts = [PRELUDE];
  const members = CASES.filter((c) => c.group === group);
  if (members.some((c) => c.c?.includes('sub_') || c.group === 'subprogs')) parts.push(SUBPROGS);
  if (group === 'callbacks') parts.push(CALLBACKS);
  if (group === 'globals') parts.push(GLOBALS);
  for (const c of members) {
    const { sec, ctx } = SECTIONS[c.kind];
    if (c.asm !== undefined) {
      const lines = c.asm.replace(/ %= /g, ' %%= ').split(/;\s*|\n/).map((l) => l.trim()).filter(Boolean).map((l) => (l.endsWith(':') ? `${l}` : `${l};`));
      const used = ASM_OPERANDS.filter((m) => c.asm!.includes(`%[${m}]`));
      const ops = used.map((m) => `[${m}]"i"(&${m})`).join(', ');
      parts.push(`SEC("${sec}") __attribute__((naked)) int ${c.name}(void)\n{\n  asm volatile(\n${lines.map((l) => `    "${l}\\n"`).join('\n')}\n    :: ${ops} : "memory");\n}\n`);
    } else {
      const param = ctx === 'void' ? 'void *ctx' : `${ctx} *ctx`;
      parts.push(`SEC("${sec}") int ${c.name}(${param})\n{\n  ${c.c}\n}\n`);
    }
  }
  return parts.join('\n');
}

export function groups(): string[] {
  return [...new Set(CASES.map((c) => c.group))];
}
