// LPM trie: longest-prefix match of the IPv4 source address → action; a second trie keyed by
// IPv6 source. Unmatched packets pass.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct route {
	__u32 action; /* an XDP verdict */
	__u32 hits;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct v4_key);
	__type(value, struct route);
} routes_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct v6_key);
	__type(value, struct route);
} routes_v6 SEC(".maps");

SEC("xdp")
int lpm_lookup(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct route *r = 0;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct v4_key k = { .prefixlen = 32 };
		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		__builtin_memcpy(k.addr, &ip->saddr, 4);
		r = bpf_map_lookup_elem(&routes_v4, &k);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct v6_key k = { .prefixlen = 128 };
		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		__builtin_memcpy(k.addr, &ip6->saddr, 16);
		r = bpf_map_lookup_elem(&routes_v6, &k);
	}
	if (!r)
		return XDP_PASS;
	__sync_fetch_and_add(&r->hits, 1);
	return r->action <= XDP_TX ? r->action : XDP_ABORTED;
}

char _license[] SEC("license") = "GPL";
