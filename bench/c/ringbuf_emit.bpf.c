// Producer for bench/ringbuf.ts: one 64-byte ring buffer record per (test) run, no wake-up.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 22); } big_rb SEC(".maps");
SEC("xdp")
int rb_emit(struct xdp_md *ctx)
{
	__u64 *r = bpf_ringbuf_reserve(&big_rb, 64, 0);
	if (!r) return XDP_ABORTED;
	for (int i = 0; i < 8; i++) r[i] = i;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return XDP_PASS;
}
char _license[] SEC("license") = "GPL";
