// Helper edge cases for the emulator-vs-kernel differential test: every program takes its
// parameters from the first bytes of the packet (so the test drives the interesting boundaries),
// stores helper return values in `results` and returns a verdict.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

static __always_inline void put(__u32 slot, __s64 v)
{
	__s64 *p = bpf_map_lookup_elem(&results, &slot);
	if (p)
		*p = v;
}

/* s16 parameter at data[off..off+1] (little endian) */
#define PARAM16(data, end, off, out)                          \
	do {                                                  \
		if ((void *)((data) + (off) + 2) > (end))     \
			return XDP_ABORTED;                   \
		out = *(__s16 *)((data) + (off));             \
	} while (0)

SEC("xdp")
int adj_head(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__s16 d;

	PARAM16(data, end, 0, d);
	put(0, bpf_xdp_adjust_head(ctx, d));
	put(1, (long)ctx->data_end - (long)ctx->data);
	return XDP_PASS;
}

SEC("xdp")
int adj_meta(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__s16 d, h;

	PARAM16(data, end, 0, d);
	PARAM16(data, end, 2, h);
	put(0, bpf_xdp_adjust_meta(ctx, d));
	data = (void *)(long)ctx->data;
	void *meta = (void *)(long)ctx->data_meta;
	put(1, (long)data - (long)meta);
	if (meta + 4 <= data)
		*(__u32 *)meta = 0xabcd1234;
	/* then move the head: the metadata must move with it */
	put(2, bpf_xdp_adjust_head(ctx, h));
	put(3, (long)ctx->data - (long)ctx->data_meta);
	return XDP_PASS;
}

SEC("xdp")
int adj_tail(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__s16 d;

	PARAM16(data, end, 0, d);
	put(0, bpf_xdp_adjust_tail(ctx, d));
	put(1, (long)ctx->data_end - (long)ctx->data);
	return XDP_PASS;
}

SEC("xdp")
int csum_probe(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__s16 seed;

	PARAM16(data, end, 0, seed);
	if (data + 40 > end)
		return XDP_DROP;
	put(0, bpf_csum_diff(0, 0, data + 4, 20, 0));
	put(1, bpf_csum_diff(data + 4, 8, 0, 0, seed));
	put(2, bpf_csum_diff(data + 4, 8, data + 12, 12, seed));
	put(3, bpf_csum_diff(data + 4, 4, data + 8, 4, 0));
	put(4, bpf_csum_diff(0, 0, data + 8, 32, (__u32)seed * 65537));
	put(5, bpf_csum_diff(data, 3, 0, 0, 0));
	put(6, bpf_csum_diff(0, 0, 0, 0, seed));
	return XDP_PASS;
}

#define TPARAM16(data, end, off, out)                         \
	do {                                                  \
		if ((void *)((data) + (off) + 2) > (end))     \
			return TC_ACT_SHOT;                   \
		out = *(__s16 *)((data) + (off));             \
	} while (0)

SEC("tc")
int skb_tail(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__s16 len;

	TPARAM16(data, end, 0, len);
	put(0, bpf_skb_change_tail(skb, (__u16)len, 0));
	put(1, skb->len);
	return TC_ACT_OK;
}

SEC("tc")
int skb_room(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__s16 d, mode;

	TPARAM16(data, end, 0, d);
	TPARAM16(data, end, 2, mode);
	put(0, bpf_skb_adjust_room(skb, d, mode & 3, 0));
	put(1, skb->len);
	return TC_ACT_OK;
}

SEC("tc")
int skb_bytes(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__s16 off, len;
	__u8 buf[16] = {};

	TPARAM16(data, end, 0, off);
	TPARAM16(data, end, 2, len);
	len &= 15;
	if (len == 0)
		len = 1;
	put(0, bpf_skb_load_bytes(skb, off, buf, len));
	put(1, *(__u64 *)buf);
	buf[0] ^= 0xff;
	put(2, bpf_skb_store_bytes(skb, off + 4, buf, len, 0));
	put(3, bpf_skb_load_bytes_relative(skb, off & 31, buf, 4, BPF_HDR_START_NET));
	put(4, *(__u32 *)buf);
	return TC_ACT_OK;
}

SEC("tc")
int csum_replace(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__s16 off, flags;

	TPARAM16(data, end, 0, off);
	TPARAM16(data, end, 2, flags);
	if (data + 34 > end)
		return TC_ACT_SHOT;
	__u32 from = *(__u32 *)(data + 26);
	put(0, bpf_l3_csum_replace(skb, 24, from, 0x01020304, 4));
	put(1, bpf_l3_csum_replace(skb, 24, (__u16)from, 0xbeef, 2));
	put(2, bpf_l4_csum_replace(skb, off & 63, from, 0x0a0b0c0d, (flags & 0xf0) | 4));
	put(3, bpf_l4_csum_replace(skb, off & 63, 0, 0x1234, (flags & 0xf0) | 2));
	put(4, bpf_l4_csum_replace(skb, 40, 0, from, 0));
	put(5, bpf_l3_csum_replace(skb, 25, 0, 1, 2));
	return TC_ACT_OK;
}

SEC("tc")
int skb_head(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__s16 room;

	TPARAM16(data, end, 0, room);
	put(0, bpf_skb_change_head(skb, room & 0xff, 0));
	put(1, skb->len);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
