// XDP redirect targets: devmap, devmap_hash, cpumap, xskmap. With an empty slot the verdict is the
// fallback action in the low bits of flags, so test runs see packet-dependent results.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} tx_ports_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

static __always_inline int first_byte(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;
	if (data + 1 > data_end)
		return -1;
	return data[0];
}

SEC("xdp")
int redirect_dev(struct xdp_md *ctx)
{
	int b = first_byte(ctx);
	if (b < 0)
		return XDP_ABORTED;
	return bpf_redirect_map(&tx_ports, b & 7, b & 0x80 ? XDP_DROP : XDP_PASS);
}

SEC("xdp")
int redirect_dev_hash(struct xdp_md *ctx)
{
	int b = first_byte(ctx);
	if (b < 0)
		return XDP_ABORTED;
	return bpf_redirect_map(&tx_ports_hash, b, XDP_PASS);
}

SEC("xdp")
int redirect_cpu(struct xdp_md *ctx)
{
	int b = first_byte(ctx);
	if (b < 0)
		return XDP_ABORTED;
	return bpf_redirect_map(&cpus, b & 3, XDP_DROP);
}

SEC("xdp")
int redirect_xsk(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

SEC("xdp")
int redirect_ifindex(struct xdp_md *ctx)
{
	int b = first_byte(ctx);
	if (b < 0)
		return XDP_ABORTED;
	if (b == 0xff)
		return bpf_redirect(1, 0);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
