// hello: the smallest useful XDP program. Counts frames and bytes per EtherType in a hash map
// and drops frames shorter than `min_len` (a load-time constant in .rodata).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct counter {
	__u64 frames;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, struct counter);
} by_ethertype SEC(".maps");

const volatile __u32 min_len = 60;

SEC("xdp")
int hello(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct counter init = {}, *c;
	__u16 proto;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	proto = bpf_ntohs(eth->h_proto);
	c = bpf_map_lookup_elem(&by_ethertype, &proto);
	if (c) {
		__sync_fetch_and_add(&c->frames, 1);
		__sync_fetch_and_add(&c->bytes, data_end - data);
	} else {
		init.frames = 1;
		init.bytes = data_end - data;
		bpf_map_update_elem(&by_ethertype, &proto, &init, BPF_NOEXIST);
	}
	return data_end - data < min_len ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
