// Event output: ring buffer (reserve/submit, reserve/discard, output) and perf event array, from
// XDP and TC programs so test runs leave records behind.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pkt_event {
	__u32 len;
	__u32 ifindex;
	__u8 head[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8192);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

__s64 last_perf_err = 0;

SEC("xdp")
int rb_reserve(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;
	struct pkt_event *e;

	if (data + 8 > data_end)
		return XDP_DROP;
	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e)
		return XDP_ABORTED;
	e->len = data_end - data;
	e->ifindex = ctx->ingress_ifindex;
	__builtin_memcpy(e->head, data, 8);
	if (data[0] == 0xdd) {
		bpf_ringbuf_discard(e, 0);
		return XDP_DROP;
	}
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

SEC("tc")
int rb_output(struct __sk_buff *skb)
{
	struct pkt_event e = {};

	e.len = skb->len;
	e.ifindex = skb->ifindex;
	bpf_skb_load_bytes(skb, 0, e.head, 8);
	return bpf_ringbuf_output(&rb, &e, sizeof(e), 0) == 0 ? 0 : 2;
}

SEC("xdp")
int perf_output(struct xdp_md *ctx)
{
	struct pkt_event e = {};

	e.len = ctx->data_end - ctx->data;
	last_perf_err = bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
