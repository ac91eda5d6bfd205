// A program the verifier must reject: a packet read without a bounds check.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int reject_oob(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;

	return data[20] == 7 ? XDP_DROP : XDP_PASS; /* BPFKIT_REJECT_LINE */
}

char _license[] SEC("license") = "GPL";
