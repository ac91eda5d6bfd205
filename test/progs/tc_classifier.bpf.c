// bpfkit: bpftool-type=classifier (bpftool 7.1 predates the tcx/ sections)
// TC programs in every section spelling: `tc`, `classifier`, `tcx/ingress`, `tcx/egress`.
// Verdicts depend on packet bytes; a hash map counts bytes per EtherType; skb->mark is set.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* tcx verdicts (linux/bpf.h of 6.6+; the installed uapi headers may predate them) */
#ifndef TCX_NEXT
#define TCX_NEXT (-1)
#define TCX_PASS 0
#define TCX_DROP 2
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u64);
} bytes_by_proto SEC(".maps");

static __always_inline void account(struct __sk_buff *skb)
{
	__u16 proto = bpf_ntohs(skb->protocol);
	__u64 init = skb->len;
	__u64 *v = bpf_map_lookup_elem(&bytes_by_proto, &proto);
	if (v)
		__sync_fetch_and_add(v, skb->len);
	else
		bpf_map_update_elem(&bytes_by_proto, &proto, &init, BPF_NOEXIST);
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	account(skb);
	return TC_ACT_OK;
}

SEC("tc")
int tc_drop_ipv6(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_SHOT;
	skb->mark = 0x1234;
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("classifier")
int cls_mark_by_byte(struct __sk_buff *skb)
{
	__u8 b[2];

	if (bpf_skb_load_bytes(skb, 12, b, 2) < 0)
		return TC_ACT_UNSPEC;
	skb->mark = ((__u32)b[0] << 8) | b[1];
	skb->tc_index = b[1];
	return b[1] == 0x00 ? TC_ACT_OK : TC_ACT_PIPE;
}

SEC("tcx/ingress")
int tcx_ingress(struct __sk_buff *skb)
{
	account(skb);
	return skb->len > 1500 ? TCX_DROP : TCX_PASS;
}

SEC("tcx/egress")
int tcx_egress(struct __sk_buff *skb)
{
	account(skb);
	return TCX_NEXT;
}

char _license[] SEC("license") = "GPL";
