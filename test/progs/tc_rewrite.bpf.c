// TC packet rewriting: store bytes with checksum fix-ups (l3/l4 csum replace), csum_diff,
// redirect to an ifindex, and adjust room.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IP_OFF ETH_HLEN
#define IP_TTL_OFF (IP_OFF + offsetof(struct iphdr, ttl))
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP_DST_OFF (IP_OFF + offsetof(struct iphdr, daddr))

__u32 new_daddr = 0x0a000002; /* host order */
__s64 last_csum = 0;

SEC("tc")
int tc_nat_daddr(struct __sk_buff *skb)
{
	struct iphdr ip;
	__u32 old, new = bpf_htonl(new_daddr);

	if (bpf_skb_load_bytes(skb, IP_OFF, &ip, sizeof(ip)) < 0)
		return TC_ACT_OK;
	if (ip.version != 4 || ip.ihl != 5)
		return TC_ACT_OK;
	old = ip.daddr;
	if (ip.protocol == IPPROTO_UDP)
		bpf_l4_csum_replace(skb, IP_OFF + 20 + offsetof(struct udphdr, check), old, new,
				    BPF_F_PSEUDO_HDR | sizeof(new));
	bpf_l3_csum_replace(skb, IP_CSUM_OFF, old, new, sizeof(new));
	bpf_skb_store_bytes(skb, IP_DST_OFF, &new, sizeof(new), 0);
	return TC_ACT_OK;
}

SEC("tc")
int tc_dec_ttl(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	__u16 old, new;

	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	if (ip->ttl <= 1)
		return TC_ACT_SHOT;
	old = *(__u16 *)&ip->ttl;
	ip->ttl--;
	new = *(__u16 *)&ip->ttl;
	bpf_l3_csum_replace(skb, IP_CSUM_OFF, old, new, 2);
	return TC_ACT_OK;
}

SEC("tc")
int tc_csum_diff(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 *ip = data + ETH_HLEN;

	if ((void *)(ip + 5) > data_end)
		return TC_ACT_OK;
	last_csum = bpf_csum_diff(0, 0, ip, 20, 0);
	return (last_csum & 0xffff) == 0xffff ? TC_ACT_OK : TC_ACT_UNSPEC;
}

SEC("tc")
int tc_redirect(struct __sk_buff *skb)
{
	if (skb->len > 100)
		return bpf_redirect(1, 0);
	return TC_ACT_OK;
}

SEC("tc")
int tc_grow(struct __sk_buff *skb)
{
	if (bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_NET, 0))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
