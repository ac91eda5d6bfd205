// Tail calls through a prog_array filled at load from `values`; a self-tail-call loop that stops
// at the kernel's tail call limit; an empty slot falls through.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u32 tail_a_runs = 0;
__u32 loop_runs = 0;

int tail_a(struct xdp_md *ctx);
int tail_loop(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} jmp_table SEC(".maps") = {
	.values = {
		[0] = (void *)&tail_a,
		[2] = (void *)&tail_loop,
	},
};

SEC("xdp")
int tail_a(struct xdp_md *ctx)
{
	tail_a_runs++;
	return XDP_DROP;
}

SEC("xdp")
int tail_loop(struct xdp_md *ctx)
{
	loop_runs++;
	bpf_tail_call(ctx, &jmp_table, 2);
	return XDP_TX;
}

SEC("xdp")
int tail_entry(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;

	if (data + 1 > data_end)
		return XDP_ABORTED;
	/* slot 0 → tail_a (drop), 2 → tail_loop (tx after the limit), 1/3 empty → pass */
	bpf_tail_call(ctx, &jmp_table, data[0] & 3);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
