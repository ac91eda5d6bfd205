// XDP basics: several programs in one section, verdicts that depend on packet bytes and length,
// an array map of counters.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void bump(__u32 idx, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	if (v)
		__sync_fetch_and_add(v, by);
}

SEC("xdp")
int xdp_pass_all(struct xdp_md *ctx)
{
	bump(0, 1);
	return XDP_PASS;
}

SEC("xdp")
int xdp_len_verdict(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;

	bump(1, len);
	if (len < 60)
		return XDP_DROP;
	if (len > 1000)
		return XDP_ABORTED;
	return XDP_PASS;
}

SEC("xdp")
int xdp_first_byte(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;

	if (data + 2 > data_end)
		return XDP_ABORTED;
	bump(2, data[1]);
	/* 0..3: aborted, drop, pass, tx */
	return data[0] & 3;
}

char _license[] SEC("license") = "GPL";
