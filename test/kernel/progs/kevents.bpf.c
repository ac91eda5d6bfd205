// bpfkit kernel-backend tests: event sources driven by BPF_PROG_TEST_RUN. The XDP test packet's
// first 4 bytes are a sequence number and byte 4 a mode: 0 = submit a ring buffer record,
// 1 = reserve and discard it, 2 = ring buffer output of 13 bytes (odd size, padded by the
// kernel). Every run also writes a 20-byte record to the perf event array.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rec {
	__u32 seq;
	__u32 mode;
	__u8 payload[16];
};

struct perf_rec {
	__u32 seq;
	__u8 payload[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

SEC("xdp")
int emit(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct rec *r;
	struct perf_rec p;
	__u8 *pkt = data;
	__u32 seq;
	__u8 mode;
	int i;

	if (data + 24 > data_end)
		return XDP_ABORTED;
	seq = *(__u32 *)pkt;
	mode = pkt[4];
	if (mode == 2) {
		__u8 odd[13];
		for (i = 0; i < 13; i++)
			odd[i] = pkt[i];
		bpf_ringbuf_output(&rb, odd, 13, 0);
	} else {
		r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
		if (r) {
			r->seq = seq;
			r->mode = mode;
			for (i = 0; i < 16; i++)
				r->payload[i] = pkt[8 + i];
			if (mode == 1)
				bpf_ringbuf_discard(r, 0);
			else
				bpf_ringbuf_submit(r, 0);
		}
	}
	p.seq = seq;
	for (i = 0; i < 16; i++)
		p.payload[i] = pkt[8 + i];
	bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, &p, sizeof(p));
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
