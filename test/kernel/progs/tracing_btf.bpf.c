// A BTF-attached tracing program (tp_btf): loading it needs attach_btf_id from the kernel's BTF
// (the typedef btf_trace_sys_enter). fentry/fexit are refused (EPERM) on the test machine's kernel.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 calls;

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter_btf, struct pt_regs *regs, long id)
{
	calls++;
	return 0;
}

char _license[] SEC("license") = "GPL";
