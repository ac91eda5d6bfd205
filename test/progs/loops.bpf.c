// Bounded loops: a constant-bound loop over packet bytes (not unrolled), a data-dependent while
// loop with a bound, and bpf_loop() with a static callback (a function-pointer relocation).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 loop_sum = 0;
__u32 cb_calls = 0;

struct loop_ctx {
	__u64 acc;
	__u32 limit;
};

static long loop_cb(__u32 index, void *data)
{
	struct loop_ctx *lc = data;

	cb_calls++;
	lc->acc = lc->acc * 3 + index;
	return index + 1 >= lc->limit ? 1 : 0;
}

SEC("xdp")
int loop_sum_bytes(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;
	__u64 sum = 0;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 64; i++) {
		if (data + i + 1 > data_end)
			break;
		sum += data[i];
	}
	loop_sum = sum;
	return sum & 1 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int loop_while(struct xdp_md *ctx)
{
	__u32 x = ctx->data_end - ctx->data;
	__u32 steps = 0;

	/* Collatz steps, bounded */
	while (x != 1 && steps < 200) {
		x = (x & 1) ? 3 * x + 1 : x / 2;
		steps++;
	}
	return steps & 3;
}

SEC("tc")
int loop_helper(struct __sk_buff *skb)
{
	struct loop_ctx lc = { .acc = skb->len, .limit = (skb->len & 15) + 1 };
	long n = bpf_loop(32, loop_cb, &lc, 0);

	loop_sum = lc.acc;
	return n == lc.limit ? 0 : 2;
}

char _license[] SEC("license") = "GPL";
