// XDP TCP/UDP destination-port filter: Ethernet → IPv4/IPv6 → TCP/UDP with bounds checks; the
// port is looked up in `port_policy` (__u16 port → struct policy); per-action counters in a
// per-CPU array `stats`; `to_socket` redirects into an XSKMAP by rx queue. Non-IP, fragments and
// unparsable frames pass.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum action { ACTION_PASS = 0, ACTION_DROP = 1, ACTION_TO_SOCKET = 2, ACTION_MAX = 3 };

struct policy {
	__u32 action;
	__u32 flags;
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

static __always_inline int count(__u32 action, int verdict)
{
	__u64 *c = bpf_map_lookup_elem(&stats, &action);
	if (c)
		*c += 1;
	return verdict;
}

static __always_inline int parse_dport(void *data, void *data_end, __u16 *dport)
{
	struct ethhdr *eth = data;
	__u8 proto;
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return -1;
		if (ip->ihl < 5)
			return -1;
		if (ip->frag_off & bpf_htons(0x3fff))
			return -1;
		proto = ip->protocol;
		l4 = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return -1;
		proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return -1;
	}
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return -1;
		*dport = bpf_ntohs(tcp->dest);
		return 0;
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return -1;
		*dport = bpf_ntohs(udp->dest);
		return 0;
	}
	return -1;
}

SEC("xdp")
int port_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u16 dport = 0;
	struct policy *p;

	if (parse_dport(data, data_end, &dport) < 0)
		return count(ACTION_PASS, XDP_PASS);
	p = bpf_map_lookup_elem(&port_policy, &dport);
	if (!p)
		return count(ACTION_PASS, XDP_PASS);
	if (p->action == ACTION_DROP)
		return count(ACTION_DROP, XDP_DROP);
	if (p->action == ACTION_TO_SOCKET) {
		count(ACTION_TO_SOCKET, 0);
		return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
	}
	return count(ACTION_PASS, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
