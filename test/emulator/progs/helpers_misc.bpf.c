// Helpers the differential test cannot compare with the kernel (time, randomness, task identity,
// trace_printk output, simulated memory, FIB): used by test/emulator/helpers.test.ts with
// injected values.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, char[16]);
} strs SEC(".maps");

const char greeting[] = "hello";

static __always_inline void put(__u32 slot, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&out, &slot);
	if (p)
		*p = v;
}

SEC("raw_tp/sys_enter")
int task_info(void *ctx)
{
	__u32 k = 0;
	char *comm = bpf_map_lookup_elem(&strs, &k);

	put(0, bpf_ktime_get_ns());
	put(1, bpf_ktime_get_boot_ns());
	put(2, bpf_get_prandom_u32());
	put(3, bpf_get_prandom_u32());
	put(4, bpf_get_smp_processor_id());
	put(5, bpf_get_current_pid_tgid());
	put(6, bpf_get_current_uid_gid());
	if (comm)
		bpf_get_current_comm(comm, 16);
	return 0;
}

SEC("raw_tp/sys_enter")
int printk(void *ctx)
{
	__u32 ip = 0x0100a8c0; /* 192.168.0.1 in memory order */
	long r;

	r = bpf_printk("n=%d u=%u x=%x", -5, 7, 255);
	put(0, r);
	bpf_printk("%llu %lld %lx", 18446744073709551615ULL, -2LL, 0xdeadbeefcafeULL);
	bpf_printk("[%5d] [%-4u] [%05x]", 42, 7, 0xab);
	bpf_printk("s=%s c=%c %%", greeting, 'Z');
	bpf_printk("ip=%pI4", &ip);
	return 0;
}

SEC("raw_tp/sys_enter")
int probe_mem(__u64 *ctx)
{
	__u32 k = 1;
	char *buf = bpf_map_lookup_elem(&strs, &k);
	__u64 v = 0;

	if (!buf)
		return 0;
	put(0, bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx[0]));
	put(1, v);
	put(2, bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx[1]));
	put(3, v);
	put(4, bpf_probe_read_user_str(buf, 16, (void *)ctx[2]));
	return 0;
}

static long add_cb(__u32 i, void *data)
{
	__u64 *sum = data;
	*sum += i;
	return *sum > 100 ? 1 : 0;
}

static long elem_cb(struct bpf_map *map, __u32 *key, __u64 *val, void *data)
{
	__u64 *sum = data;
	*sum += *key * 1000 + *val;
	return 0;
}

SEC("xdp")
int loops(struct xdp_md *ctx)
{
	__u64 sum = 0, s2 = 0;

	put(1, 5);
	put(2, 9);
	put(0, bpf_loop(50, add_cb, &sum, 0));
	put(3, sum);
	put(4, bpf_for_each_map_elem(&out, elem_cb, &s2, 0));
	put(5, s2);
	return XDP_PASS;
}

SEC("xdp")
int fib(struct xdp_md *ctx)
{
	struct bpf_fib_lookup p = {};
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (data + 4 > end)
		return XDP_ABORTED;
	p.family = 2;
	p.ifindex = ctx->ingress_ifindex;
	p.ipv4_dst = *(__u32 *)data;
	p.tot_len = 100;
	put(0, bpf_fib_lookup(ctx, &p, sizeof(p), 0));
	put(1, p.ifindex);
	put(2, p.ipv4_dst);
	__u64 mac = 0;
	__builtin_memcpy(&mac, p.dmac, 6);
	put(3, mac);
	mac = 0;
	__builtin_memcpy(&mac, p.smac, 6);
	put(4, mac);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
