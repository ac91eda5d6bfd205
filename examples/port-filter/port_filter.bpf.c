// SPDX-License-Identifier: MIT
// XDP port filter: per TCP/UDP destination port, pass the frame to the kernel stack, drop it,
// or redirect it to a user-space AF_XDP socket through an XSKMAP indexed by rx queue.
// Non-IP frames, fragments and frames we cannot parse are passed untouched.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum action {
	ACTION_PASS = 0,
	ACTION_DROP = 1,
	ACTION_TO_SOCKET = 2,
	ACTION_UNPARSED = 3, /* stats slot: frames that were not TCP/UDP over IP */
	ACTION_MAX = 4,
};

struct policy {
	enum action action; /* 4 bytes, like a __u32: typed maps take 'pass' | 'drop' | 'to_socket' */
	__u32 flags;  /* reserved for the control plane */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, struct policy);
} port_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACTION_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&stats, &slot);
	if (n)
		*n += 1;
}

/* Returns the destination port in host order, or -1 if the frame is not TCP/UDP we can read. */
static __always_inline int l4_dest_port(void *l4, void *data_end, __u8 proto)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return -1;
		return bpf_ntohs(tcp->dest);
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return -1;
		return bpf_ntohs(udp->dest);
	}
	return -1;
}

SEC("xdp")
int port_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	int port = -1;

	if ((void *)(eth + 1) > data_end)
		goto unparsed;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			goto unparsed;
		/* fragments: MF set or a non-zero offset */
		if (ip->frag_off & bpf_htons(0x3fff))
			goto unparsed;
		port = l4_dest_port((void *)ip + ip->ihl * 4, data_end, ip->protocol);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			goto unparsed;
		/* extension headers (fragments included) are not parsed: such frames pass */
		port = l4_dest_port(ip6 + 1, data_end, ip6->nexthdr);
	}
	if (port < 0)
		goto unparsed;

	__u16 key = port;
	struct policy *p = bpf_map_lookup_elem(&port_policy, &key);
	if (!p) {
		count(ACTION_PASS);
		return XDP_PASS;
	}
	if (p->action == ACTION_DROP) {
		count(ACTION_DROP);
		return XDP_DROP;
	}
	if (p->action == ACTION_TO_SOCKET) {
		count(ACTION_TO_SOCKET);
		/* XDP_PASS when no socket is bound on this queue */
		return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
	}
	count(ACTION_PASS);
	return XDP_PASS;

unparsed:
	count(ACTION_UNPARSED);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
