// A BPF_F_MMAPABLE array shared with user space through mmap, next to a normal one.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} shared SEC(".maps");

SEC("xdp")
int mmap_writer(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 k = len & 63;
	__u64 *v = bpf_map_lookup_elem(&shared, &k);

	if (!v)
		return XDP_ABORTED;
	*v += len;
	k = 0;
	v = bpf_map_lookup_elem(&shared, &k);
	if (!v)
		return XDP_ABORTED;
	/* slot 0 is a knob user space writes through the mapping */
	return *v == 0xdead ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
