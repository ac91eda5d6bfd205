// cpu v1 socket filter using the legacy packet loads (BPF_LD | BPF_ABS / BPF_IND) through LLVM's
// load intrinsics, as old samples/bpf programs did. Packet data starts at the network header.
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int ld_abs_filter(struct __sk_buff *skb)
{
	__u64 ver = load_byte(skb, 0) >> 4;
	__u64 ihl, dport;

	if (ver != 4)
		return 0;
	if (load_byte(skb, 9) != IPPROTO_TCP)
		return 0;
	ihl = (load_byte(skb, 0) & 0xf) * 4;
	dport = load_half(skb, ihl + 2); /* BPF_IND */
	if (dport == 22 || dport == 80)
		return -1;
	return load_word(skb, 12) == 0x7f000001 ? 0x40 : 0;
}

SEC("socket")
int v1_alu(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u64 x = len;

	x = (x << 7) ^ (x >> 3);
	x = x * 2654435761u;
	x |= 1;
	x %= 1000003;
	if (x > 500000)
		return len;
	return 0;
}

char _license[] SEC("license") = "GPL";
