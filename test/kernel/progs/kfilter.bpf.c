// bpfkit kernel-backend tests: XDP destination-port filter. `ports` maps a TCP/UDP destination
// port (host order) to an action (0 pass, 1 drop); `counters` counts IPv4 TCP/UDP packets per
// action ([0] passed, [1] dropped) and [2] counts packets seen by `xdp_count` (used to test
// link update). Non-IPv4 traffic (ARP, IPv6) always passes uncounted.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u32);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);
	if (c)
		__sync_fetch_and_add(c, 1);
}

static __always_inline int dport_of(void *data, void *data_end, __u16 *dport)
{
	struct ethhdr *eth = data;
	struct iphdr *ip;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl != 5)
		return -1;
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > data_end)
			return -1;
		*dport = bpf_ntohs(udp->dest);
		return 0;
	}
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)(ip + 1);
		if ((void *)(tcp + 1) > data_end)
			return -1;
		*dport = bpf_ntohs(tcp->dest);
		return 0;
	}
	return -1;
}

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u16 dport;
	__u32 *action;

	if (dport_of(data, data_end, &dport) < 0)
		return XDP_PASS;
	action = bpf_map_lookup_elem(&ports, &dport);
	if (action && *action == 1) {
		bump(1);
		return XDP_DROP;
	}
	bump(0);
	return XDP_PASS;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u16 dport;

	if (dport_of(data, data_end, &dport) == 0)
		bump(2);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
