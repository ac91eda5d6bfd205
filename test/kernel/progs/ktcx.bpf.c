// bpfkit kernel-backend tests: tcx ingress/egress counters with a UDP port block list.
// `tc_counts[0]` counts IPv4 packets seen at ingress, [1] at egress, [2] packets dropped.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TCX_NEXT (-1)
#define TCX_DROP 2

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u16);
	__type(value, __u8);
} tc_block SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} tc_counts SEC(".maps");

static __always_inline int handle(struct __sk_buff *skb, __u32 slot)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u64 *c;
	__u32 k;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TCX_NEXT;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return TCX_NEXT;
	c = bpf_map_lookup_elem(&tc_counts, &slot);
	if (c)
		__sync_fetch_and_add(c, 1);
	if (ip->protocol == IPPROTO_UDP && ip->ihl == 5) {
		struct udphdr *udp = (void *)(ip + 1);
		__u16 port;
		if ((void *)(udp + 1) > data_end)
			return TCX_NEXT;
		port = bpf_ntohs(udp->dest);
		if (bpf_map_lookup_elem(&tc_block, &port)) {
			k = 2;
			c = bpf_map_lookup_elem(&tc_counts, &k);
			if (c)
				__sync_fetch_and_add(c, 1);
			return TCX_DROP;
		}
	}
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tc_in(struct __sk_buff *skb)
{
	return handle(skb, 0);
}

SEC("tcx/egress")
int tc_out(struct __sk_buff *skb)
{
	return handle(skb, 1);
}

char _license[] SEC("license") = "GPL";
