// BTF-defined maps of the common types with typed keys/values (nested struct, array, enum, char
// array) so codecs have something to decode: hash, percpu_hash, lru_hash, lru_percpu_hash,
// percpu_array, array.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

enum flow_state { FLOW_NEW = 0, FLOW_SEEN = 1, FLOW_BIG = 7 };

struct flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct flow_stats {
	__u64 packets;
	__u64 bytes;
	enum flow_state state;
	char tag[4];
	struct {
		__u16 first_len;
		__u16 last_len;
	} lens;
	__u32 hist[4];
	__s32 delta;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} percpu_len SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32);
	__type(key, __u64);
	__type(value, __u32);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} lru_percpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct flow_stats);
} percpu_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u16);
} small_values SEC(".maps");

SEC("xdp")
int track_flows(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;
	struct flow_key key = {};
	struct flow_stats *st, init = {};
	__u64 one = 1, *pc;
	__u32 k32, v32;
	__u64 k64;
	__u16 v16;

	if (data + 16 > data_end)
		return XDP_DROP;
	key.saddr = *(__u32 *)(data + 0);
	key.daddr = *(__u32 *)(data + 4);
	key.sport = *(__u16 *)(data + 8);
	key.dport = *(__u16 *)(data + 10);
	key.proto = data[12];

	st = bpf_map_lookup_elem(&flows, &key);
	if (st) {
		st->packets++;
		st->bytes += len;
		st->state = len > 1000 ? FLOW_BIG : FLOW_SEEN;
		st->lens.last_len = len;
		st->hist[len & 3]++;
		st->delta = (__s32)len - (__s32)st->lens.first_len;
	} else {
		init.packets = 1;
		init.bytes = len;
		init.state = FLOW_NEW;
		init.tag[0] = 'n';
		init.tag[1] = 'e';
		init.tag[2] = 'w';
		init.lens.first_len = len;
		init.lens.last_len = len;
		init.hist[len & 3] = 1;
		if (bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST) < 0)
			return XDP_ABORTED;
	}

	k32 = data[13];
	pc = bpf_map_lookup_elem(&percpu_len, &k32);
	if (pc)
		*pc += len;
	else
		bpf_map_update_elem(&percpu_len, &k32, &one, BPF_ANY);

	k64 = *(__u64 *)data;
	v32 = len;
	bpf_map_update_elem(&lru, &k64, &v32, BPF_ANY);

	pc = bpf_map_lookup_elem(&lru_percpu, &k32);
	if (pc)
		*pc += 1;
	else
		bpf_map_update_elem(&lru_percpu, &k32, &one, BPF_ANY);

	k32 = data[14] & 7;
	st = bpf_map_lookup_elem(&percpu_stats, &k32);
	if (st) {
		st->packets++;
		st->bytes += len;
	}

	k32 = data[15] & 15;
	v16 = len;
	bpf_map_update_elem(&small_values, &k32, &v16, BPF_ANY);
	return st && st->packets > 3 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
