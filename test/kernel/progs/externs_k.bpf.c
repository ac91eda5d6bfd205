// Extern resolution against the running kernel: kconfig values (LINUX_KERNEL_VERSION, CONFIG_HZ,
// an unknown weak CONFIG), a typeless ksym (a kernel function's address, from kallsyms) and
// kfunc calls (BTF ids from vmlinux).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern int CONFIG_BPFKIT_NO_SUCH_OPTION __kconfig __weak;

extern const void bpf_prog_put __ksym;

__u64 kver;
__u64 hz;
__u64 nope;
__u64 addr;

SEC("raw_tp/sys_enter")
int read_externs(void *ctx)
{
	kver = LINUX_KERNEL_VERSION;
	hz = CONFIG_HZ;
	nope = CONFIG_BPFKIT_NO_SUCH_OPTION;
	addr = (__u64)&bpf_prog_put;
	return 0;
}

SEC("tp_btf/sys_enter")
int call_kfuncs(__u64 *ctx)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return 0;
}

char _license[] SEC("license") = "GPL";
