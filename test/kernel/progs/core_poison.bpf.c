// A CO-RE read of a field the kernel does not have, not guarded by bpf_core_field_exists():
// the relocation is poisoned and the verifier rejects the program at that instruction.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___gone {
	int bpfkit_no_such_field;
} __attribute__((preserve_access_index));

SEC("raw_tp/sys_enter")
int core_poisoned(void *ctx)
{
	struct task_struct___gone *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, bpfkit_no_such_field); /* BPFKIT_POISON_LINE */
}

char _license[] SEC("license") = "GPL";
