// bpf-to-bpf calls: static and global subprograms, nested three deep, shared by two programs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} acc SEC(".maps");

static __noinline __u64 mix(__u64 a, __u64 b)
{
	return (a * 31) ^ (b + 7);
}

static __noinline __u64 fold(const unsigned char *p, __u32 n, __u64 h)
{
	for (__u32 i = 0; i < 8 && i < n; i++)
		h = mix(h, p[i]);
	return h;
}

/* Global functions are verified on their own: only scalar/ctx arguments. */
__noinline int classify(__u32 len)
{
	if (len < 64)
		return 1;
	if (len < 512)
		return 2;
	return 3;
}

__noinline int hash_packet(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;
	unsigned char buf[8] = {};
	__u32 n = 0;

	if (!ctx)
		return 0;
	if (data + 8 <= data_end) {
		__builtin_memcpy(buf, data, 8);
		n = 8;
	}
	return (int)(fold(buf, n, 1) & 0x7fffffff);
}

static __noinline void store(__u64 v)
{
	__u32 k = 0;
	__u64 *p = bpf_map_lookup_elem(&acc, &k);
	if (p)
		*p = mix(*p, v);
}

SEC("xdp")
int xdp_subprogs(struct xdp_md *ctx)
{
	int h = hash_packet(ctx);
	int c = classify(ctx->data_end - ctx->data);

	store(h);
	return (h + c) & 3;
}

SEC("tc")
int tc_subprogs(struct __sk_buff *skb)
{
	store(skb->len);
	return classify(skb->len) == 1 ? 2 : 0;
}

char _license[] SEC("license") = "GPL";
