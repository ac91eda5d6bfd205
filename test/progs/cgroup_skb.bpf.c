// cgroup_skb ingress/egress: count packets and bytes per direction; drop by a configurable port.
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct traffic {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct traffic);
} traffic SEC(".maps");

/* UDP destination port to drop on egress (host order); 0 = none. */
volatile __u16 blocked_udp_port = 0;

static __always_inline void account(__u32 dir, struct __sk_buff *skb)
{
	struct traffic *t = bpf_map_lookup_elem(&traffic, &dir);
	if (t) {
		__sync_fetch_and_add(&t->packets, 1);
		__sync_fetch_and_add(&t->bytes, skb->len);
	}
}

SEC("cgroup_skb/ingress")
int count_ingress(struct __sk_buff *skb)
{
	account(0, skb);
	return 1;
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	account(1, skb);
	return 1;
}

SEC("cgroup_skb/egress")
int drop_udp_port(struct __sk_buff *skb)
{
	struct iphdr ip;
	__u16 dport;

	if (!blocked_udp_port)
		return 1;
	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0)
		return 1;
	if (ip.version != 4 || ip.protocol != IPPROTO_UDP)
		return 1;
	if (bpf_skb_load_bytes(skb, ip.ihl * 4 + 2, &dport, 2) < 0)
		return 1;
	return bpf_ntohs(dport) == blocked_udp_port ? 0 : 1;
}

char _license[] SEC("license") = "GPL";
