// Global data: `.data`, `.rodata`, `.bss` (and a custom `.data.extra` section), read and
// written by programs; the return value depends on them so a test run observes them.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 multiplier = 3;
const volatile __u64 magic = 0x1122334455667788ULL;
const char greeting[8] = "bpfkit!";

__u32 run_count = 0;
__u64 last_len = 0;
__u64 hist[8];

__u32 seed = 42;
__s64 offset = -7;
struct config {
	__u16 port;
	__u8 enabled;
	__u8 pad;
	__u32 limit;
} config = { .port = 8080, .enabled = 1, .limit = 100 };

__u32 extra_counter SEC(".data.extra") = 5;

SEC("xdp")
int globals_rw(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data;

	run_count++;
	last_len = len;
	hist[len & 7]++;
	seed = seed * 1103515245 + 12345;
	extra_counter += 2;
	if (!config.enabled)
		return XDP_ABORTED;
	return (len * multiplier + offset) > config.limit ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int globals_ro(struct xdp_md *ctx)
{
	/* returns 2 (XDP_PASS) when .rodata holds what the source says */
	if (magic != 0x1122334455667788ULL)
		return XDP_ABORTED;
	if (greeting[0] != 'b' || greeting[6] != '!')
		return XDP_ABORTED;
	return multiplier == 3 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
