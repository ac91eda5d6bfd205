// Map-in-map: an array_of_maps filled at load from `values` with two inner arrays, and a
// hash_of_maps with an anonymous inner hash template (filled by user space).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner_array inner_a SEC(".maps");
struct inner_array inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_array);
} outer_array SEC(".maps") = {
	.values = {
		[0] = &inner_a,
		[3] = &inner_b,
	},
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 16);
		__type(key, __u32);
		__type(value, __u32);
	});
} outer_hash SEC(".maps");

SEC("xdp")
int mim_array(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;
	__u32 outer_key, inner_key = 0;
	__u64 *v;
	void *inner;

	if (data + 1 > data_end)
		return XDP_ABORTED;
	outer_key = data[0] & 3;
	inner = bpf_map_lookup_elem(&outer_array, &outer_key);
	if (!inner)
		return XDP_DROP;
	inner_key = data[0] >> 6;
	v = bpf_map_lookup_elem(inner, &inner_key);
	if (!v)
		return XDP_ABORTED;
	*v += 1;
	return XDP_PASS;
}

SEC("xdp")
int mim_hash(struct xdp_md *ctx)
{
	__u32 key = ctx->data_end - ctx->data, ikey = 1;
	__u32 *v;
	void *inner;

	inner = bpf_map_lookup_elem(&outer_hash, &key);
	if (!inner)
		return XDP_PASS;
	v = bpf_map_lookup_elem(inner, &ikey);
	return v && *v ? XDP_DROP : XDP_TX;
}

char _license[] SEC("license") = "GPL";
