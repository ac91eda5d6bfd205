// Socket filters: the return value is the number of bytes to keep (0 drops). Packet data starts at
// the network header for socket filters.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_count SEC(".maps");

SEC("socket")
int sock_keep_all(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("socket")
int sock_udp_only(struct __sk_buff *skb)
{
	__u8 ver_ihl, proto;
	__u32 key;
	__u64 *v;

	if (bpf_skb_load_bytes(skb, 0, &ver_ihl, 1) < 0)
		return 0;
	if ((ver_ihl >> 4) != 4)
		return 0;
	if (bpf_skb_load_bytes(skb, 9, &proto, 1) < 0)
		return 0;
	key = proto;
	v = bpf_map_lookup_elem(&proto_count, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return proto == IPPROTO_UDP ? 64 : 0;
}

SEC("socket")
int sock_truncate(struct __sk_buff *skb)
{
	return skb->len > 100 ? 100 : skb->len;
}

char _license[] SEC("license") = "GPL";
