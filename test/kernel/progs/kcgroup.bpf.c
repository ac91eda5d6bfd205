// bpfkit kernel-backend tests: cgroup_skb egress/ingress counters; egress UDP datagrams to a
// port listed in `cg_block` are dropped. cg_counts: [0] egress packets, [1] egress bytes,
// [2] ingress packets, [3] egress drops.
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u16);
	__type(value, __u8);
} cg_block SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} cg_counts SEC(".maps");

static __always_inline void add(__u32 k, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&cg_counts, &k);
	if (c)
		__sync_fetch_and_add(c, v);
}

SEC("cgroup_skb/egress")
int cg_egress(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr udp;
	__u16 port;

	add(0, 1);
	add(1, skb->len);
	if (skb->protocol != bpf_htons(0x0800))
		return 1;
	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0 || ip.protocol != IPPROTO_UDP || ip.ihl != 5)
		return 1;
	if (bpf_skb_load_bytes(skb, sizeof(ip), &udp, sizeof(udp)) < 0)
		return 1;
	port = bpf_ntohs(udp.dest);
	if (bpf_map_lookup_elem(&cg_block, &port)) {
		add(3, 1);
		return 0;
	}
	return 1;
}

SEC("cgroup_skb/ingress")
int cg_ingress(struct __sk_buff *skb)
{
	add(2, 1);
	return 1;
}

char _license[] SEC("license") = "GPL";
