// XDP packet mutation: swap MACs and bounce (XDP_TX), grow/shrink the head and tail, use metadata.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_swap_macs(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char tmp[ETH_ALEN];

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return XDP_TX;
}

SEC("xdp")
int xdp_push_header(struct xdp_md *ctx)
{
	void *data, *data_end;
	__u32 *tag;

	if (bpf_xdp_adjust_head(ctx, -4))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	tag = data;
	if ((void *)(tag + 1) > data_end)
		return XDP_ABORTED;
	*tag = 0xdeadbeef;
	return XDP_PASS;
}

SEC("xdp")
int xdp_pop_header(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_head(ctx, 14))
		return XDP_DROP;
	return XDP_PASS;
}

SEC("xdp")
int xdp_trim_tail(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;
	int delta;

	if (data + 1 > data_end)
		return XDP_DROP;
	/* first byte < 128: shrink by that much (if possible); else grow by 8 */
	delta = data[0] < 128 ? -(int)(data[0] & 31) : 8;
	if (bpf_xdp_adjust_tail(ctx, delta))
		return XDP_ABORTED;
	return XDP_PASS;
}

SEC("xdp")
int xdp_meta(struct xdp_md *ctx)
{
	void *data, *meta;
	__u32 *m;

	if (bpf_xdp_adjust_meta(ctx, -4))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	meta = (void *)(long)ctx->data_meta;
	m = meta;
	if ((void *)(m + 1) > data)
		return XDP_ABORTED;
	*m = ctx->data_end - ctx->data;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
