// `gotol`: a cpu v4 jump with a 32-bit offset. The skipped block must exceed 32767 instructions,
// so this object is large (~37k instructions) on purpose; the block is straight-line code so
// that it compiles reasonably fast.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 result = 0;

#define S1(i) x ^= x >> 7; x = x * 0x9E3779B1u + (i);
#define S8(i) S1(i) S1(i + 1) S1(i + 2) S1(i + 3) S1(i + 4) S1(i + 5) S1(i + 6) S1(i + 7)
#define S64(i) S8(i) S8(i + 8) S8(i + 16) S8(i + 24) S8(i + 32) S8(i + 40) S8(i + 48) S8(i + 56)
#define S512(i) S64(i) S64(i + 64) S64(i + 128) S64(i + 192) S64(i + 256) S64(i + 320) S64(i + 384) S64(i + 448)
#define S4K(i) S512(i) S512(i + 512) S512(i + 1024) S512(i + 1536) S512(i + 2048) S512(i + 2560) S512(i + 3072) S512(i + 3584)

SEC("xdp")
int v4_gotol(struct xdp_md *ctx)
{
	volatile __u32 len = ctx->data_end - ctx->data;
	__u32 x = len;

	if (len > 5000) {
		S4K(0) S4K(4096)
		result = x;
		return XDP_DROP;
	}
	result = x + 1;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
