// Reads (and where allowed writes) every context field a test run sets, storing what it saw in
// `seen`, so the ctx differential test compares field values, not just verdicts.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline void put(__u32 slot, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&seen, &slot);
	if (p)
		*p = v;
}

SEC("xdp")
int ctx_xdp(struct xdp_md *ctx)
{
	put(0, ctx->data_end - ctx->data);
	put(1, ctx->data - ctx->data_meta);
	put(2, ctx->ingress_ifindex);
	put(3, ctx->rx_queue_index);
	return XDP_PASS;
}

SEC("tc")
int ctx_tc(struct __sk_buff *skb)
{
	put(0, skb->len);
	put(1, skb->pkt_type);
	put(2, skb->mark);
	put(3, skb->queue_mapping);
	put(4, skb->protocol);
	put(5, skb->vlan_present | (skb->vlan_tci << 8) | ((__u64)skb->vlan_proto << 32));
	put(6, skb->priority);
	put(7, skb->ingress_ifindex);
	put(8, skb->ifindex);
	put(9, skb->tc_index);
	put(10, skb->cb[0] | ((__u64)skb->cb[4] << 32));
	put(11, skb->tc_classid);
	put(12, skb->data_end - skb->data);
	put(13, skb->data - skb->data_meta);
	put(14, skb->tstamp);
	put(15, skb->wire_len);
	put(16, skb->gso_segs | ((__u64)skb->gso_size << 32));
	put(17, skb->hwtstamp);
	put(18, skb->napi_id);
	skb->mark = skb->mark + 1;
	skb->priority = 9;
	skb->cb[1] = 0xc1;
	skb->tc_index = 3;
	skb->tc_classid = 0x10002;
	skb->tstamp = 777;
	return TC_ACT_OK;
}

SEC("socket")
int ctx_socket(struct __sk_buff *skb)
{
	put(0, skb->len);
	put(1, skb->pkt_type);
	put(2, skb->mark);
	put(4, skb->protocol);
	put(6, skb->priority);
	put(7, skb->ingress_ifindex);
	put(8, skb->ifindex);
	put(10, skb->cb[0] | ((__u64)skb->cb[4] << 32));
	skb->cb[2] = 0x5c;
	return skb->len;
}

SEC("cgroup_skb/ingress")
int ctx_cgroup(struct __sk_buff *skb)
{
	put(0, skb->len);
	put(2, skb->mark);
	put(4, skb->protocol);
	put(6, skb->priority);
	put(8, skb->ifindex);
	put(12, skb->data_end - skb->data);
	skb->mark = 0xabc;
	return 1;
}

char _license[] SEC("license") = "GPL";
