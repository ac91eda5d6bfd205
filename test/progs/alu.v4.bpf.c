// cpu v4 instructions: sdiv/smod (64 and 32 bit), movsx, ldsx (8/16/32), bswap, jmp32. Results
// land in an array map and the return value, so test runs observe them. (`gotol` is in
// long_jump.v4.bpf.c, which has to be large.)
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
	char *data = (void *)(long)ctx->data;
	char *data_end = (void *)(long)ctx->data_end;

	if (data + 16 > data_end)
		return XDP_ABORTED;
	/* ldsx: sign-extending loads of 8, 16 and 32 bits */
	__s64 a = *(signed char *)data;
	__s64 b = *(short *)(data + 2);
	__s64 c = *(int *)(data + 4);
	put(0, a);
	put(1, b);
	put(2, c);
	/* sdiv / smod, 64 and 32 bit (volatile keeps div and mod separate instructions) */
	volatile __s64 va = c, vb = b | 1;
	put(3, va / vb);
	put(4, va % vb);
	volatile __s32 wa = (__s32)c, wb = (__s32)a | 1;
	put(5, wa / wb);
	put(6, wa % wb);
	/* movsx: sign-extend registers */
	volatile __s64 r = c;
	put(7, (__s64)(signed char)r);
	put(8, (__s64)(short)r);
	put(9, (__s64)(int)r);
	/* bswap */
	put(10, (__s64)__builtin_bswap16(*(volatile __u16 *)(data + 10)));
	put(11, (__s64)__builtin_bswap32(*(volatile __u32 *)(data + 12)));
	put(12, (__s64)__builtin_bswap64(*(volatile __u64 *)(data + 8)));
	/* jmp32 */
	if ((__u32)c > 0x80000000u)
		return XDP_DROP;
	if ((__s32)b < -100)
		return XDP_TX;
	return XDP_PASS;
}

SEC("tc")
int v4_tc_sdiv(struct __sk_buff *skb)
{
	volatile __s32 len = skb->len;
	volatile __s32 d = -7;

	/* smod result decides the verdict: 0 (ok) or 2 (shot) */
	return (len % d) == 0 ? 2 : ((len / d) < -20 ? 2 : 0);
}

char _license[] SEC("license") = "GPL";
