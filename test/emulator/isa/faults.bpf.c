// Programs that the kernel verifier would reject but the emulator runs unverified, so that its
// runtime checks (not the verifier) must stop them with a fault naming the C source line.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("syscall")
int stack_oob(void *ctx)
{
	volatile char buf[16] = {};
	volatile int i = 600;
	return buf[i];
}

SEC("syscall")
int read_ctx(unsigned char *mem)
{
	unsigned long sum = 0;
	for (int i = 0; i < 100; i++)
		sum += mem[i * 4];
	return sum;
}

static __attribute__((noinline)) int recurse(int n)
{
	volatile int x = n;
	return x ? recurse(x + 1) + 1 : 0;
}

SEC("syscall")
int deep(void *ctx)
{
	return recurse(1);
}

char LICENSE[] SEC("license") = "GPL";
