// CO-RE against the running kernel: local, minimal definitions of kernel types marked
// preserve_access_index; bpfkit resolves field offsets/sizes/existence, type sizes and enum
// values against /sys/kernel/btf/vmlinux at load time. Results land in the `out` array.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
	int tgid;
	unsigned sched_migrated:1;
} __attribute__((preserve_access_index));

/* same kernel type (flavor suffix), with a field the kernel does not have */
struct task_struct___missing {
	int bpfkit_no_such_field;
} __attribute__((preserve_access_index));

/* the kernel's enum bpf_map_type, with a deliberately wrong local value */
enum bpf_map_type___x { BPF_MAP_TYPE_RINGBUF___x = 1000 };

struct syscall_trace_enter {
	int nr;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

static __always_inline void put(__u32 k, __u64 v)
{
	bpf_map_update_elem(&out, &k, &v, BPF_ANY);
}

SEC("raw_tp/sys_enter")
int core_raw_tp(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	put(0, BPF_CORE_READ(t, tgid));
	put(1, bpf_core_field_offset(struct task_struct, tgid));
	put(2, bpf_core_field_size(struct task_struct, pid));
	put(3, bpf_core_field_exists(struct task_struct___missing, bpfkit_no_such_field));
	put(4, bpf_core_type_size(struct task_struct));
	put(5, bpf_core_enum_value(enum bpf_map_type___x, BPF_MAP_TYPE_RINGBUF___x));
	put(6, bpf_core_type_exists(struct task_struct));
	put(7, bpf_core_field_exists(struct task_struct, pid));
	/* bitfield: byte offset/size of the containing load, shifts, signedness */
	put(11, __builtin_preserve_field_info(t->sched_migrated, BPF_FIELD_BYTE_OFFSET));
	put(12, __builtin_preserve_field_info(t->sched_migrated, BPF_FIELD_BYTE_SIZE));
	put(13, __builtin_preserve_field_info(t->sched_migrated, BPF_FIELD_LSHIFT_U64));
	put(14, __builtin_preserve_field_info(t->sched_migrated, BPF_FIELD_RSHIFT_U64));
	put(15, (__builtin_preserve_field_info(t->pid, BPF_FIELD_SIGNED) << 1) |
		__builtin_preserve_field_info(t->sched_migrated, BPF_FIELD_SIGNED));
	/* type ids: in the kernel's BTF and in the object's own BTF */
	put(16, bpf_core_type_id_kernel(struct task_struct));
	put(17, bpf_core_type_id_local(struct task_struct));
	put(18, bpf_core_type_exists(struct task_struct___missing));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int core_tp(struct syscall_trace_enter *ctx)
{
	__u32 k = 10;
	__u64 *want = bpf_map_lookup_elem(&out, &k);

	if (!want || (bpf_get_current_pid_tgid() >> 32) != *want)
		return 0;
	put(8, ctx->nr);
	put(9, bpf_core_field_offset(struct syscall_trace_enter, nr));
	return 0;
}

char _license[] SEC("license") = "GPL";
