// cpu v2: the jlt/jle/jslt/jsle jumps; signed and unsigned compares on packet-derived values.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__s64 classes[4];

SEC("xdp")
int v2_compare(struct xdp_md *ctx)
{
	signed char *data = (void *)(long)ctx->data;
	signed char *data_end = (void *)(long)ctx->data_end;
	__s64 a, b;

	if (data + 4 > data_end)
		return XDP_ABORTED;
	a = data[0];
	b = data[1];
	classes[0] = a < b;
	classes[1] = a <= -5;
	classes[2] = (__u64)a < (__u64)b;
	classes[3] = (__u8)data[2] <= (__u8)data[3];
	if (a < b && (__u64)a <= 100)
		return XDP_DROP;
	if (a <= -5)
		return XDP_TX;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
