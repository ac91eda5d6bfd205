// cpu v4 instructions: sdiv/smod, movsx, ldsx, bswap, gotol (long jumps), jmp32. Results land in
// an array map and the return value, so test runs observe them.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

static __always_inline void put(__u32 k, __s64 v)
{
	bpf_map_update_elem(&results, &k, &v, BPF_ANY);
}

SEC("xdp")
int v4_alu(struct xdp_md *ctx)
{
	signed char *data = (void *)(long)ctx->data;
	signed char *data_end = (void *)(long)ctx->data_end;
	__s64 a, b;
	__s32 a32, b32;

	if (data + 16 > data_end)
		return XDP_ABORTED;
	/* ldsx: sign-extending loads of 8, 16 and 32 bits */
	a = *(volatile signed char *)data;
	b = *(volatile short *)(data + 2);
	a32 = *(volatile int *)(data + 4);
	b32 = *(volatile signed char *)(data + 8) | 1;
	put(0, a);
	put(1, b);
	/* sdiv / smod, 64 and 32 bit */
	put(2, a / (b | 1));
	put(3, a % (b | 1));
	put(4, (__s64)(a32 / b32));
	put(5, (__s64)(a32 % b32));
	/* movsx: sign-extend registers */
	put(6, (__s64)(signed char)(__s64)a32);
	put(7, (__s64)(short)(__s64)a32);
	put(8, (__s64)(int)(__s64)b);
	/* bswap */
	put(9, (__s64)__builtin_bswap16(*(volatile __u16 *)(data + 10)));
	put(10, (__s64)__builtin_bswap32(*(volatile __u32 *)(data + 12)));
	put(11, (__s64)__builtin_bswap64(*(volatile __u64 *)(data + 8)));
	/* jmp32 */
	if ((__u32)a32 > 0x80000000u)
		return XDP_DROP;
	return XDP_PASS;
}

/* A body big enough that clang has to use `gotol` (32-bit jump offset). */
#define STEP(i) x = x * 1103515245u + (i); if (x & (1u << ((i) & 31))) y ^= x; else y += (i);
#define STEP8(i) STEP(i) STEP(i + 1) STEP(i + 2) STEP(i + 3) STEP(i + 4) STEP(i + 5) STEP(i + 6) STEP(i + 7)
#define STEP64(i) STEP8(i) STEP8(i + 8) STEP8(i + 16) STEP8(i + 24) STEP8(i + 32) STEP8(i + 40) STEP8(i + 48) STEP8(i + 56)

SEC("xdp")
int v4_gotol(struct xdp_md *ctx)
{
	volatile __u32 len = ctx->data_end - ctx->data;
	__u32 x = len, y = 0;

	if (len > 5000) {
		STEP64(0) STEP64(64) STEP64(128) STEP64(192) STEP64(256) STEP64(320) STEP64(384) STEP64(448)
		STEP64(512) STEP64(576) STEP64(640) STEP64(704) STEP64(768) STEP64(832) STEP64(896) STEP64(960)
		STEP64(1024) STEP64(1088) STEP64(1152) STEP64(1216) STEP64(1280) STEP64(1344) STEP64(1408) STEP64(1472)
		STEP64(1536) STEP64(1600) STEP64(1664) STEP64(1728) STEP64(1792) STEP64(1856) STEP64(1920) STEP64(1984)
		STEP64(2048) STEP64(2112) STEP64(2176) STEP64(2240) STEP64(2304) STEP64(2368) STEP64(2432) STEP64(2496)
		STEP64(2560) STEP64(2624) STEP64(2688) STEP64(2752) STEP64(2816) STEP64(2880) STEP64(2944) STEP64(3008)
		STEP64(3072) STEP64(3136) STEP64(3200) STEP64(3264) STEP64(3328) STEP64(3392) STEP64(3456) STEP64(3520)
		STEP64(3584) STEP64(3648) STEP64(3712) STEP64(3776) STEP64(3840) STEP64(3904) STEP64(3968) STEP64(4032)
		put(12, y);
		return XDP_DROP;
	}
	put(12, x + y);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
