// SPDX-License-Identifier: MIT
// Backend-side decapsulation for the example load balancer, for hosts whose kernel has no ipip /
// ip6_tunnel devices: strips an outer IPv4 (protocol 4) or IPv6 (next header 4 or 41) header
// addressed to this host in XDP and passes the inner packet to the stack, which delivers it to
// the VIP configured on the loopback device.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} decapsulated SEC(".maps");

static __always_inline int strip(struct xdp_md *ctx, int outer_len, __u16 inner_proto)
{
	struct ethhdr eth_copy, *eth;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	__u64 *n;

	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	__builtin_memcpy(&eth_copy, eth, sizeof(eth_copy));
	if (bpf_xdp_adjust_head(ctx, outer_len))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth, &eth_copy, sizeof(eth_copy));
	eth->h_proto = inner_proto;
	n = bpf_map_lookup_elem(&decapsulated, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_PASS;
}

SEC("xdp")
int xdp_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_IPIP)
			return XDP_PASS;
		return strip(ctx, sizeof(*ip), bpf_htons(ETH_P_IP));
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		if (ip6->nexthdr == IPPROTO_IPIP)
			return strip(ctx, sizeof(*ip6), bpf_htons(ETH_P_IP));
		if (ip6->nexthdr == IPPROTO_IPV6)
			return strip(ctx, sizeof(*ip6), bpf_htons(ETH_P_IPV6));
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
