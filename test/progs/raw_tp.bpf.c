// Raw tracepoints: count syscalls by id (sys_enter) and record the last args seen. Test runs
// pass the args array as ctx.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, __u64);
	__type(value, __u64);
} syscall_count SEC(".maps");

__u64 last_args[2];

SEC("raw_tp/sys_enter")
int raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = ctx->args[1];
	__u64 one = 1, *n;

	last_args[0] = ctx->args[0];
	last_args[1] = id;
	n = bpf_map_lookup_elem(&syscall_count, &id);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&syscall_count, &id, &one, BPF_NOEXIST);
	return id == 39 ? 1 : 0;
}

SEC("raw_tracepoint/sys_exit")
int raw_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return (int)(ctx->args[1] & 0xff);
}

char _license[] SEC("license") = "GPL";
