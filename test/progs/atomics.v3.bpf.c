// Atomics (cpu v3): add, fetch_add, xchg, cmpxchg, and/or/xor (plain and fetch), 32 and 64 bit,
// on a map value and on .bss. Fetched results are stored so test runs can check them.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct counters {
	__u64 add64;
	__u64 fetched64;
	__u64 xchg64;
	__u64 cmpxchg64;
	__u64 bits64;
	__u32 add32;
	__u32 fetched32;
	__u32 xchg32;
	__u32 cmpxchg32;
	__u32 bits32;
	__u32 old_bits32;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counters);
} atom SEC(".maps");

__u64 bss_counter = 0;
__u64 fetch_results[6];

SEC("xdp")
int atomics(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 len = ctx->data_end - ctx->data;
	struct counters *c = bpf_map_lookup_elem(&atom, &k);

	if (!c)
		return XDP_ABORTED;
	__sync_fetch_and_add(&c->add64, len);                      /* atomic add */
	__sync_fetch_and_add(&c->add32, (__u32)len);
	c->fetched64 = __sync_fetch_and_add(&bss_counter, 1);       /* fetch_add */
	c->fetched32 = __sync_fetch_and_add(&c->add32, 1);
	c->xchg64 = __sync_lock_test_and_set(&c->bits64, len);      /* xchg */
	c->xchg32 = __sync_lock_test_and_set(&c->bits32, (__u32)len);
	c->cmpxchg64 = __sync_val_compare_and_swap(&c->cmpxchg64, 0, len + 100);
	c->cmpxchg32 = __sync_val_compare_and_swap(&c->cmpxchg32, (__u32)len, 7);
	__sync_fetch_and_and(&c->bits64, 0xff0);                    /* and/or/xor (no fetch) */
	__sync_fetch_and_or(&c->bits64, 0x10000);
	__sync_fetch_and_xor(&c->bits64, 0x3);
	fetch_results[0] = __sync_fetch_and_and(&c->bits32, 0xf0f0);  /* fetch variants */
	fetch_results[1] = __sync_fetch_and_or(&c->bits32, 0x1);
	fetch_results[2] = __sync_fetch_and_xor(&c->bits32, 0xffff);
	fetch_results[3] = __sync_fetch_and_and(&bss_counter, ~0ULL);
	fetch_results[4] = __sync_fetch_and_or(&bss_counter, 0x100000000ULL);
	fetch_results[5] = __sync_fetch_and_xor(&bss_counter, 0x1);
	c->old_bits32 = c->bits32;
	return (c->add64 & 1) ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
