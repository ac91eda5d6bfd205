// bpfkit kernel-backend tests: socket filter for UDP sockets. The skb data starts at the UDP
// header; datagrams whose first payload byte is 'X' are dropped, others accepted. `sock_seen`
// counts [0] accepted, [1] dropped.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} sock_seen SEC(".maps");

SEC("socket")
int udp_filter(struct __sk_buff *skb)
{
	__u8 first = 0;
	__u32 k = 0;
	__u64 *c;

	if (bpf_skb_load_bytes(skb, 8, &first, 1) == 0 && first == 'X')
		k = 1;
	c = bpf_map_lookup_elem(&sock_seen, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
	return k ? 0 : skb->len;
}

SEC("socket")
int accept_all(struct __sk_buff *skb)
{
	return skb->len;
}

char _license[] SEC("license") = "GPL";
