// bpfkit kernel-backend tests: tracepoint sys_enter_getpid → ring buffer and perf buffer
// events for the tgid in `config[0]` (0 = any), raw tracepoint sys_enter counting that tgid's
// syscalls, and uprobe/uretprobe counters.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct getpid_event {
	__u32 pid;
	__u32 tgid;
	__u64 seq;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

/* [0] getpid tracepoint hits, [1] raw sys_enter hits, [2] uprobe entries, [3] uretprobe returns */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 4);
} tp_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} tp_perf SEC(".maps");

static __always_inline int wanted(void)
{
	__u32 k = 0;
	__u32 *t = bpf_map_lookup_elem(&config, &k);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	return t && (*t == 0 || *t == tgid);
}

static __always_inline __u64 bump(__u32 k)
{
	__u64 *c = bpf_map_lookup_elem(&hits, &k);
	if (!c)
		return 0;
	return __sync_fetch_and_add(c, 1) + 1;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int tp_getpid(void *ctx)
{
	struct getpid_event *e, pe;
	__u64 id = bpf_get_current_pid_tgid();
	__u64 seq;

	if (!wanted())
		return 0;
	seq = bump(0);
	e = bpf_ringbuf_reserve(&tp_events, sizeof(*e), 0);
	if (e) {
		e->pid = (__u32)id;
		e->tgid = id >> 32;
		e->seq = seq;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		bpf_ringbuf_submit(e, 0);
	}
	pe.pid = (__u32)id;
	pe.tgid = id >> 32;
	pe.seq = seq;
	bpf_get_current_comm(pe.comm, sizeof(pe.comm));
	bpf_perf_event_output(ctx, &tp_perf, BPF_F_CURRENT_CPU, &pe, sizeof(pe));
	return 0;
}

SEC("raw_tp/sys_enter")
int raw_sys_enter(void *ctx)
{
	if (wanted())
		bump(1);
	return 0;
}

SEC("uprobe")
int on_entry(void *ctx)
{
	if (wanted())
		bump(2);
	return 0;
}

SEC("uretprobe")
int on_return(void *ctx)
{
	if (wanted())
		bump(3);
	return 0;
}

char _license[] SEC("license") = "GPL";
