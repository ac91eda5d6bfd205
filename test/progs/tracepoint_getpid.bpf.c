// Tracepoint on syscalls/sys_enter_getpid: sends a ring buffer event and counts calls per pid.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Layout of the tracepoint's format file (common fields, then the syscall number). */
struct sys_enter_getpid_ctx {
	__u16 common_type;
	__u8 common_flags;
	__u8 common_preempt_count;
	__s32 common_pid;
	__s32 syscall_nr;
};

struct event {
	__u32 pid;
	__u32 tgid;
	__s32 syscall_nr;
	__u32 cookie;
	__u64 ts_ns;
	char comm[16];
};

/* Keeps `struct event` in the object's BTF so user space can decode records by type name. */
struct event *unused_event_type __attribute__((unused));

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 4);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(struct sys_enter_getpid_ctx *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	__u64 one = 1, *n;
	struct event *e;

	if (target_tgid && tgid != target_tgid)
		return 0;
	n = bpf_map_lookup_elem(&calls, &tgid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&calls, &tgid, &one, BPF_ANY);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = (__u32)id;
	e->tgid = tgid;
	e->syscall_nr = ctx->syscall_nr;
	e->cookie = 0xb0f0c0de;
	e->ts_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp/syscalls/sys_exit_getpid")
int on_getpid_exit(void *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&calls, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

char _license[] SEC("license") = "GPL";
