// Queue and stack maps (no key): the program pushes the packet length to both and returns a
// verdict from what it pops/peeks.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u32);
} fifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 8);
	__type(value, __u64);
} lifo SEC(".maps");

__u32 popped = 0;
__u64 peeked = 0;
__s32 push_err = 0;

SEC("xdp")
int queue_push(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u64 wide = len;

	push_err = bpf_map_push_elem(&fifo, &len, 0);
	bpf_map_push_elem(&lifo, &wide, BPF_EXIST);
	return push_err ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int queue_pop(struct xdp_md *ctx)
{
	__u32 v = 0;
	__u64 w = 0;

	if (bpf_map_pop_elem(&fifo, &v))
		return XDP_ABORTED;
	popped = v;
	if (bpf_map_peek_elem(&lifo, &w) == 0)
		peeked = w;
	return v > 100 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
