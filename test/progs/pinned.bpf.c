// bpfkit: check-flags=-DBPFKIT_NO_PIN (bpftool would pin under /sys/fs/bpf, shared with other tests)
// Pinning by name (LIBBPF_PIN_BY_NAME): the map is pinned under the pin root as
// `bpfkit_pinned_counter` and reused by later loads.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
#ifndef BPFKIT_NO_PIN
	__uint(pinning, LIBBPF_PIN_BY_NAME);
#endif
} bpfkit_pinned_counter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} unpinned SEC(".maps");

SEC("xdp")
int count_pinned(struct xdp_md *ctx)
{
	__u32 k = ctx->data_end - ctx->data;
	__u64 one = 1, *v = bpf_map_lookup_elem(&bpfkit_pinned_counter, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&bpfkit_pinned_counter, &k, &one, BPF_ANY);
	k = 0;
	v = bpf_map_lookup_elem(&unpinned, &k);
	if (v)
		*v += 1;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
