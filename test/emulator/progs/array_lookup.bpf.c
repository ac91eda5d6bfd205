// Array, per-CPU array and small-key hash lookups with keys in and out of range (the JIT inlines lookups of
// array maps whose key is on the stack); the result mixes every value read.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

struct big {
	__u32 a;
	__u8 b[13];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct big);
} odd SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u16);
	__type(value, __u64);
} h16 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u8);
	__type(value, __u32);
} h8 SEC(".maps");

SEC("raw_tp/sys_enter")
int lookups(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 acc = 0;

#pragma unroll
	for (__u32 k = 0; k < 6; k++) {
		__u32 key = k;
		__u64 *v = bpf_map_lookup_elem(&arr, &key);
		if (v) {
			*v += k + 1;
			acc = acc * 3 + *v;
		} else {
			acc = acc * 3 + 100;
		}
		__u64 *p = bpf_map_lookup_elem(&pcpu, &key);
		if (p) {
			*p += 7 * (k + 1);
			acc ^= *p << k;
		} else {
			acc += 1000;
		}
		struct big *o = bpf_map_lookup_elem(&odd, &key);
		if (o) {
			o->a += k;
			o->b[12] += 1;
			acc += o->a + o->b[12];
		}
		__u16 k16 = k * 256 + 1;
		__u64 *w = bpf_map_lookup_elem(&h16, &k16);
		if (w) {
			*w += k + 3;
			acc = acc * 5 + *w;
		} else {
			acc += 77;
		}
		__u8 k8 = k;
		__u32 *x = bpf_map_lookup_elem(&h8, &k8);
		if (x) {
			*x += 11;
			acc = acc * 7 + *x;
		} else {
			acc += 99;
		}
	}
	return (int)(acc ^ (acc >> 32));
}

char _license[] SEC("license") = "GPL";
