// bpfkit kernel-backend tests: event sources driven by BPF_PROG_TEST_RUN. The XDP test packet's
// first 4 bytes are a sequence number and byte 4 a mode: 0 = submit a ring buffer record,
// 1 = reserve and discard it, 2 = ring buffer output of 13 bytes (odd size, padded by the
// kernel). Every run also writes a 20-byte record to the perf event array; failures of that
// (no reader: no perf event for the CPU) are counted in `perf_err`.
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

/* [0] counts bpf_perf_event_output failures (no perf event set for this CPU: -ENOENT) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} perf_err SEC(".maps");

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
	if (bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, &p, sizeof(p)) < 0) {
		__u32 k = 0;
		__u64 *e = bpf_map_lookup_elem(&perf_err, &k);
		if (e)
			__sync_fetch_and_add(e, 1);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
