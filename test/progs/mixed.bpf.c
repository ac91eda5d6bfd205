// One object, several program types sharing one map and one global subprogram: XDP, TC, socket
// filter, cgroup_skb ingress.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

__noinline int note(__u32 kind, __u32 len)
{
	__u64 *v = bpf_map_lookup_elem(&seen, &kind);
	if (v)
		__sync_fetch_and_add(v, len);
	return len & 1;
}

SEC("xdp")
int mixed_xdp(struct xdp_md *ctx)
{
	return note(0, ctx->data_end - ctx->data) ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int mixed_tc(struct __sk_buff *skb)
{
	return note(1, skb->len) ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("socket")
int mixed_socket(struct __sk_buff *skb)
{
	return note(2, skb->len) ? 0 : skb->len;
}

SEC("cgroup_skb/ingress")
int mixed_cgroup(struct __sk_buff *skb)
{
	note(3, skb->len);
	return 1;
}

char _license[] SEC("license") = "Dual MIT/GPL";
