// SPDX-License-Identifier: MIT
// Bench-only XDP wrapper for bench/lb.ts (compiled at bench time, loaded on both backends).
//
// A test run with `repeat` hands every repetition the packet the previous one left behind. The
// load balancer encapsulates a VIP hit (IPIP), and the encapsulated frame is not for a VIP, so
// without a reset only the first repetition would be a VIP hit. This program puts the original
// frame back on every run and then tail-calls the program in slot 0 of `lb_next` (the load
// balancer's xdp_lb, stored by the bench). With slot 0 empty the tail call falls through and the
// program returns XDP_DROP: that variant measures the reset alone.
//
// The reset does the same work whatever the packet holds: one bpf_xdp_adjust_head() by the
// length difference (0 when the packet is already the original) and a copy of all
// LB_FRAME_LEN bytes of the original frame (saved by the bench in `lb_orig`).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef LB_FRAME_LEN
#error "compile with -DLB_FRAME_LEN=<length of the saved frame>"
#endif
#define LB_FRAME_MAX 512
#if LB_FRAME_LEN < 14 || LB_FRAME_LEN > LB_FRAME_MAX
#error "LB_FRAME_LEN out of range"
#endif

struct saved_frame {
	__u8 bytes[LB_FRAME_MAX] __attribute__((aligned(8)));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct saved_frame);
} lb_orig SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} lb_next SEC(".maps");

SEC("xdp")
int lb_reset(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct saved_frame *s;
	__u32 zero = 0;
	int delta = (int)(data_end - data) - LB_FRAME_LEN;

	/* Always called (offset 0 when the length is already right): the same work on every run. */
	if (bpf_xdp_adjust_head(ctx, delta))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + LB_FRAME_LEN > data_end)
		return XDP_ABORTED;
	s = bpf_map_lookup_elem(&lb_orig, &zero);
	if (!s)
		return XDP_ABORTED;

	/* 8-byte words, then the 4/2/1-byte tail. */
#pragma unroll
	for (int i = 0; i < LB_FRAME_LEN / 8; i++)
		((__u64 *)data)[i] = ((__u64 *)s->bytes)[i];
#if LB_FRAME_LEN % 8 >= 4
	*(__u32 *)(data + (LB_FRAME_LEN & ~7)) = *(__u32 *)(s->bytes + (LB_FRAME_LEN & ~7));
#endif
#if LB_FRAME_LEN % 4 >= 2
	*(__u16 *)(data + (LB_FRAME_LEN & ~3)) = *(__u16 *)(s->bytes + (LB_FRAME_LEN & ~3));
#endif
#if LB_FRAME_LEN % 2
	*(__u8 *)(data + LB_FRAME_LEN - 1) = s->bytes[LB_FRAME_LEN - 1];
#endif

	bpf_tail_call(ctx, &lb_next, 0);
	return XDP_DROP; /* slot 0 empty: reset only */
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
