// Uprobes: an entry probe and a return probe counting calls per process; attached by the test to
// a function of a binary it chooses.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct counts {
	__u64 entries;
	__u64 returns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct counts);
} calls SEC(".maps");

static __always_inline struct counts *slot(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct counts zero = {}, *c;

	c = bpf_map_lookup_elem(&calls, &tgid);
	if (c)
		return c;
	bpf_map_update_elem(&calls, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&calls, &tgid);
}

SEC("uprobe")
int on_entry(void *ctx)
{
	struct counts *c = slot();
	if (c)
		__sync_fetch_and_add(&c->entries, 1);
	return 0;
}

SEC("uretprobe")
int on_return(void *ctx)
{
	struct counts *c = slot();
	if (c)
		__sync_fetch_and_add(&c->returns, 1);
	return 0;
}

char _license[] SEC("license") = "GPL";
