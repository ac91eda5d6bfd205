// bpfkit: check-flags=-DBPFKIT_BTF_MAPS
// Legacy map definitions: `SEC("maps") struct bpf_map_def`. Compile with -DBPFKIT_BTF_MAPS to get
// the same programs with BTF-defined maps (libbpf >= 1.0 no longer loads legacy maps, so the
// kernel-acceptance check in tests uses that variant).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef BPFKIT_BTF_MAPS
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 128,
	.map_flags = 0,
};

struct bpf_map_def SEC("maps") legacy_array = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = 16,
	.max_entries = 8,
	.map_flags = 0,
};
#else
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
} legacy_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 16);
} legacy_array SEC(".maps");
#endif

SEC("xdp")
int legacy_xdp(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 slot = len & 7;
	__u64 one = 1, *v;
	__u8 *arr;

	v = bpf_map_lookup_elem(&legacy_hash, &len);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&legacy_hash, &len, &one, BPF_ANY);
	arr = bpf_map_lookup_elem(&legacy_array, &slot);
	if (arr)
		arr[len & 15] += 1;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
