// SPDX-License-Identifier: MIT
// bpfkit example: an XDP L4 load balancer.
//
// Packets to a VIP (address, port, protocol; port 0 = every port) are hashed on their 5-tuple
// into the VIP's weighted Maglev ring (filled by the control plane), stick to their backend
// through a per-CPU-LRU connection table, and are encapsulated (IPIP, IP6IP6 or IPv4-in-IPv6)
// towards the backend and sent back out of the same interface (XDP_TX) to a gateway MAC.
// Everything else is passed to the kernel stack.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_VIPS 16
#define MAX_BACKENDS 4096
#define RING_SIZE_MAX 65537
#define EMPTY_SLOT 0xffffffffu
#define FLOW_HASH_SEED 0x5bd1e995u
#define OUTER_TTL 64
#define DEFAULT_MAX_PKT 1514

/* ICMP headers, declared here: the uapi icmp headers pull in libc headers. */
struct icmphdr {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u32 rest;
};
#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMP_ECHO 8

struct icmp6hdr {
	__u8 icmp6_type;
	__u8 icmp6_code;
	__u16 icmp6_cksum;
	__u32 rest;
};
#define ICMPV6_PKT_TOOBIG 2
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

/* Ring size M (prime, at most RING_SIZE_MAX); the control plane may set it before load. */
const volatile __u32 ring_size = 65537;

enum family { FAMILY_V4 = 4, FAMILY_V6 = 6 };

/* VIP flags */
#define VIP_F_HASH_DPORT_ONLY 1u   /* hash on destination port only: one backend per VIP port */
#define VIP_F_HASH_NO_SRC_PORT 2u  /* ignore the client's source port: one backend per client */

enum verdict {
	V_PASS = 0,            /* not for a VIP: to the kernel stack */
	V_TX = 1,              /* encapsulated to a backend */
	V_DROP_FRAGMENT = 2,
	V_DROP_IP_OPTIONS = 3,
	V_DROP_OVERSIZE = 4,
	V_DROP_NO_BACKEND = 5,
	V_ICMP_ECHO_REPLY = 6,
	V_ICMP_FORWARD = 7,    /* frag-needed / packet-too-big sent to the flow's backend */
	V_DROP_MALFORMED = 8,
	V_DROP_ENCAP = 9,      /* no encapsulation for this family pair, or adjust_head failed */
	V_MAX = 10,
};

enum lru_counter { LRU_HIT = 0, LRU_MISS = 1, LRU_MAX = 2 };

struct vip_key {
	__u32 addr[4];  /* network order; IPv4 in addr[0] */
	__u16 port;     /* network order; 0 = every port */
	__u8 proto;
	__u8 family;
};

struct vip_meta {
	__u32 vip_num;  /* index of the VIP's ring and stats slot */
	__u32 flags;
};

/* One backend of one VIP. The data plane reads addr and family; vip_num and weight record the
 * control plane's state so that a later `lb apply` can diff against what is running. */
struct backend {
	__u32 addr[4];
	__u8 family;    /* 0 = slot unused */
	__u8 pad[3];
	__u32 vip_num;
	__u32 weight;
};

struct flow_key {
	__u32 src[4];
	__u32 dst[4];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct conn {
	__u32 backend;
	__u32 pad;
};

struct lb_ctl {
	__u8 gw_mac[6];
	__u8 pad[2];
	__u32 src4_prefix;     /* outer IPv4 source: top 16 bits from here, low 16 from the flow hash */
	__u32 src6_prefix[4];  /* outer IPv6 source: first 96 bits from here, last 32 the flow hash */
	__u32 max_pkt_size;    /* largest frame we may emit after encapsulation; 0 = 1514 */
	__u32 pad2;
};

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_VIPS * 4);
	__type(key, struct vip_key);
	__type(value, struct vip_meta);
} vips SEC(".maps");

/* Addresses that carry at least one VIP: fragments and IP options are dropped only for these. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_VIPS * 4);
	__type(key, struct vip_key);  /* port = 0, proto = 0 */
	__type(value, __u32);         /* number of VIPs on the address */
} vip_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_VIPS * RING_SIZE_MAX);
	__type(key, __u32);
	__type(value, __u32);  /* backend index, or EMPTY_SLOT */
} rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);  /* per-CPU LRU lists */
	__type(key, struct flow_key);
	__type(value, struct conn);
} conn_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_ctl);
} ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_VIPS);
	__type(key, __u32);
	__type(value, struct counter);
} vip_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct counter);
} backend_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, V_MAX);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LRU_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lru_stats SEC(".maps");

static __always_inline void bump(void *map, __u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(map, &slot);
	if (n)
		*n += 1;
}

static __always_inline void account(void *map, __u32 slot, __u64 bytes)
{
	struct counter *c = bpf_map_lookup_elem(map, &slot);
	if (c) {
		c->packets += 1;
		c->bytes += bytes;
	}
}

static __always_inline int finish(__u32 verdict, int action)
{
	bump(&verdicts, verdict);
	return action;
}

static __always_inline __u32 rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

/* The flow hash; examples/load-balancer/hash.ts computes the same function. */
static __always_inline __u32 flow_hash(const struct flow_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 h = FLOW_HASH_SEED;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*k) / 4); i++) {
		__u32 x = w[i] * 0xcc9e2d51u;
		x = rotl32(x, 15) * 0x1b873593u;
		h ^= x;
		h = rotl32(h, 13) * 5 + 0xe6546b64u;
	}
	h ^= sizeof(*k);
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static __always_inline __u16 csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* Incremental update (RFC 1624) of a one's complement checksum when a 16-bit word changes. */
static __always_inline void csum_replace2(__u16 *sum, __u16 old, __u16 new)
{
	__u32 s = (__u16)~*sum;
	s += (__u16)~old;
	s += new;
	*sum = csum_fold(s);
}

static __always_inline __u16 ipv4_csum(struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 s = 0;

	ip->check = 0;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(*ip) / 2); i++)
		s += w[i];
	return csum_fold(s);
}

/*
 * Pick the backend for a flow: the connection table first (unless this is a TCP SYN, which
 * always starts a new connection), else the VIP's Maglev ring; remember the choice.
 */
static __always_inline struct backend *pick_backend(struct flow_key *flow, struct vip_meta *vip,
						    int syn, __u32 *backend_idx, __u32 *hash_out)
{
	struct flow_key hk = *flow;
	struct conn *c;
	struct conn nc = {};
	struct backend *b;
	__u32 m = ring_size;
	__u32 slot, *idx;

	if (vip->flags & VIP_F_HASH_DPORT_ONLY) {
		__builtin_memset(hk.src, 0, sizeof(hk.src));
		__builtin_memset(hk.dst, 0, sizeof(hk.dst));
		hk.sport = 0;
	} else if (vip->flags & VIP_F_HASH_NO_SRC_PORT) {
		hk.sport = 0;
	}
	*hash_out = flow_hash(&hk);

	if (!syn) {
		c = bpf_map_lookup_elem(&conn_table, flow);
		if (c) {
			__u32 known = c->backend;
			b = bpf_map_lookup_elem(&backends, &known);
			if (b && b->family) {
				bump(&lru_stats, LRU_HIT);
				*backend_idx = known;
				return b;
			}
		}
	}
	bump(&lru_stats, LRU_MISS);

	if (m == 0 || m > RING_SIZE_MAX)
		return 0;
	slot = vip->vip_num * m + *hash_out % m;
	idx = bpf_map_lookup_elem(&rings, &slot);
	if (!idx || *idx == EMPTY_SLOT)
		return 0;
	nc.backend = *idx;
	b = bpf_map_lookup_elem(&backends, &nc.backend);
	if (!b || !b->family)
		return 0;
	bpf_map_update_elem(&conn_table, flow, &nc, BPF_ANY);
	*backend_idx = nc.backend;
	return b;
}

/*
 * Encapsulate the IP packet that follows the Ethernet header towards `b` and return XDP_TX, or
 * a drop verdict. `inner_family`/`inner_len` describe the packet being carried.
 */
static __always_inline int encap_and_tx(struct xdp_md *ctx, struct backend *b, __u32 backend_idx,
					int inner_family, __u32 inner_len, __u32 hash,
					struct lb_ctl *cfg, __u32 verdict)
{
	void *data, *data_end;
	struct ethhdr *eth;
	__u8 our_mac[ETH_ALEN];
	__u32 max_pkt = cfg->max_pkt_size ? cfg->max_pkt_size : DEFAULT_MAX_PKT;
	int outer_len = b->family == FAMILY_V4 ? (int)sizeof(struct iphdr) : (int)sizeof(struct ipv6hdr);

	if (b->family == FAMILY_V4 && inner_family != FAMILY_V4)
		return finish(V_DROP_ENCAP, XDP_DROP);
	if (b->family != FAMILY_V4 && b->family != FAMILY_V6)
		return finish(V_DROP_ENCAP, XDP_DROP);
	if (sizeof(struct ethhdr) + outer_len + inner_len > max_pkt)
		return finish(V_DROP_OVERSIZE, XDP_DROP);

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return finish(V_DROP_MALFORMED, XDP_DROP);
	__builtin_memcpy(our_mac, eth->h_dest, ETH_ALEN);

	if (bpf_xdp_adjust_head(ctx, -outer_len))
		return finish(V_DROP_ENCAP, XDP_DROP);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;

	if (b->family == FAMILY_V4) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return finish(V_DROP_ENCAP, XDP_DROP);
		ip->version = 4;
		ip->ihl = 5;
		ip->tos = 0;
		ip->tot_len = bpf_htons(inner_len + sizeof(struct iphdr));
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000); /* DF */
		ip->ttl = OUTER_TTL;
		ip->protocol = IPPROTO_IPIP;
		ip->saddr = (cfg->src4_prefix & bpf_htonl(0xffff0000)) | bpf_htonl(hash & 0xffff);
		ip->daddr = b->addr[0];
		ip->check = ipv4_csum(ip);
		eth->h_proto = bpf_htons(ETH_P_IP);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return finish(V_DROP_ENCAP, XDP_DROP);
		ip6->version = 6;
		ip6->priority = 0;
		ip6->flow_lbl[0] = 0;
		ip6->flow_lbl[1] = 0;
		ip6->flow_lbl[2] = 0;
		ip6->payload_len = bpf_htons(inner_len);
		ip6->nexthdr = inner_family == FAMILY_V4 ? IPPROTO_IPIP : IPPROTO_IPV6;
		ip6->hop_limit = OUTER_TTL;
		ip6->saddr.in6_u.u6_addr32[0] = cfg->src6_prefix[0];
		ip6->saddr.in6_u.u6_addr32[1] = cfg->src6_prefix[1];
		ip6->saddr.in6_u.u6_addr32[2] = cfg->src6_prefix[2];
		ip6->saddr.in6_u.u6_addr32[3] = bpf_htonl(hash);
		ip6->daddr.in6_u.u6_addr32[0] = b->addr[0];
		ip6->daddr.in6_u.u6_addr32[1] = b->addr[1];
		ip6->daddr.in6_u.u6_addr32[2] = b->addr[2];
		ip6->daddr.in6_u.u6_addr32[3] = b->addr[3];
		eth->h_proto = bpf_htons(ETH_P_IPV6);
	}
	__builtin_memcpy(eth->h_source, our_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, cfg->gw_mac, ETH_ALEN);

	account(&backend_stats, backend_idx, inner_len);
	return finish(verdict, XDP_TX);
}

static __always_inline struct vip_meta *find_vip(struct vip_key *k)
{
	struct vip_meta *v = bpf_map_lookup_elem(&vips, k);
	if (v)
		return v;
	k->port = 0;
	return bpf_map_lookup_elem(&vips, k);
}

static __always_inline int is_vip_addr(const __u32 *addr, __u8 family)
{
	struct vip_key k = {};
	k.addr[0] = addr[0];
	if (family == FAMILY_V6) {
		k.addr[1] = addr[1];
		k.addr[2] = addr[2];
		k.addr[3] = addr[3];
	}
	k.family = family;
	return bpf_map_lookup_elem(&vip_addrs, &k) != 0;
}

/* Swap Ethernet addresses for a reply sent back out of the receiving interface. */
static __always_inline void swap_mac(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];
	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/*
 * The common tail of both address families: find the VIP of `flow` (exact port, then port 0),
 * count it, pick the backend and encapsulate.
 */
static __always_inline int forward(struct xdp_md *ctx, struct lb_ctl *cfg, struct flow_key *flow, int family,
				   __u32 inner_len, __u32 verdict, int syn, __u64 frame_len)
{
	struct vip_key vk = {};
	struct vip_meta *vip;
	struct backend *b;
	__u32 backend_idx = 0, hash = 0;

	__builtin_memcpy(vk.addr, flow->dst, 16);
	vk.port = flow->dport;
	vk.proto = flow->proto;
	vk.family = family;
	vip = find_vip(&vk);
	if (!vip)
		return finish(V_PASS, XDP_PASS);
	if (vip->vip_num >= MAX_VIPS)
		return finish(V_DROP_NO_BACKEND, XDP_DROP);
	account(&vip_stats, vip->vip_num, frame_len);

	b = pick_backend(flow, vip, syn, &backend_idx, &hash);
	if (!b)
		return finish(V_DROP_NO_BACKEND, XDP_DROP);
	return encap_and_tx(ctx, b, backend_idx, family, inner_len, hash, cfg, verdict);
}

static __always_inline int handle_ipv4(struct xdp_md *ctx, struct lb_ctl *cfg, __u64 frame_len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct flow_key flow = {};
	__u32 inner_len, verdict = V_TX;
	int syn = 0;

	if ((void *)(ip + 1) > data_end)
		return finish(V_DROP_MALFORMED, XDP_DROP);
	if (!is_vip_addr(&ip->daddr, FAMILY_V4))
		return finish(V_PASS, XDP_PASS);
	if (ip->ihl != 5)
		return finish(V_DROP_IP_OPTIONS, XDP_DROP);
	if (ip->frag_off & bpf_htons(0x3fff))
		return finish(V_DROP_FRAGMENT, XDP_DROP);
	inner_len = bpf_ntohs(ip->tot_len);
	if (inner_len < sizeof(*ip) || (void *)ip + inner_len > data_end)
		return finish(V_DROP_MALFORMED, XDP_DROP);

	flow.proto = ip->protocol;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)(ip + 1);
		if ((void *)(tcp + 1) > data_end)
			return finish(V_DROP_MALFORMED, XDP_DROP);
		flow.src[0] = ip->saddr;
		flow.dst[0] = ip->daddr;
		flow.sport = tcp->source;
		flow.dport = tcp->dest;
		syn = tcp->syn && !tcp->ack;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > data_end)
			return finish(V_DROP_MALFORMED, XDP_DROP);
		flow.src[0] = ip->saddr;
		flow.dst[0] = ip->daddr;
		flow.sport = udp->source;
		flow.dport = udp->dest;
	} else if (ip->protocol == IPPROTO_ICMP) {
		struct icmphdr *icmp = (void *)(ip + 1);
		struct iphdr *inner;
		__u16 *ports;
		if ((void *)(icmp + 1) > data_end)
			return finish(V_DROP_MALFORMED, XDP_DROP);
		if (icmp->type == ICMP_ECHO) {
			__u16 old = *(__u16 *)icmp;
			__u32 a = ip->saddr;
			icmp->type = ICMP_ECHOREPLY;
			csum_replace2(&icmp->checksum, old, *(__u16 *)icmp);
			ip->saddr = ip->daddr;
			ip->daddr = a;
			ip->ttl = OUTER_TTL;
			ip->check = ipv4_csum(ip);
			swap_mac(eth);
			return finish(V_ICMP_ECHO_REPLY, XDP_TX);
		}
		if (icmp->type != ICMP_DEST_UNREACH || icmp->code != ICMP_FRAG_NEEDED)
			return finish(V_PASS, XDP_PASS);
		/* The quoted packet went from the VIP to the client: its reverse is our flow. */
		inner = (void *)(icmp + 1);
		if ((void *)(inner + 1) > data_end || inner->ihl != 5)
			return finish(V_DROP_MALFORMED, XDP_DROP);
		ports = (void *)(inner + 1);
		if ((void *)(ports + 2) > data_end)
			return finish(V_DROP_MALFORMED, XDP_DROP);
		flow.proto = inner->protocol;
		flow.src[0] = inner->daddr;
		flow.dst[0] = inner->saddr;
		flow.sport = ports[1];
		flow.dport = ports[0];
		verdict = V_ICMP_FORWARD;
	} else {
		flow.src[0] = ip->saddr;
		flow.dst[0] = ip->daddr;
	}

	return forward(ctx, cfg, &flow, FAMILY_V4, inner_len, verdict, syn, frame_len);
}

static __always_inline int handle_ipv6(struct xdp_md *ctx, struct lb_ctl *cfg, __u64 frame_len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct flow_key flow = {};
	__u32 inner_len, verdict = V_TX;
	int syn = 0;

	if ((void *)(ip6 + 1) > data_end)
		return finish(V_DROP_MALFORMED, XDP_DROP);
	if (!is_vip_addr(ip6->daddr.in6_u.u6_addr32, FAMILY_V6))
		return finish(V_PASS, XDP_PASS);
	inner_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if ((void *)ip6 + inner_len > data_end)
		return finish(V_DROP_MALFORMED, XDP_DROP);
	if (ip6->nexthdr == 44 /* fragment header */)
		return finish(V_DROP_FRAGMENT, XDP_DROP);

	__builtin_memcpy(flow.src, ip6->saddr.in6_u.u6_addr32, 16);
	__builtin_memcpy(flow.dst, ip6->daddr.in6_u.u6_addr32, 16);
	flow.proto = ip6->nexthdr;
	if (ip6->nexthdr == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)(ip6 + 1);
		if ((void *)(tcp + 1) > data_end)
			return finish(V_DROP_MALFORMED, XDP_DROP);
		flow.sport = tcp->source;
		flow.dport = tcp->dest;
		syn = tcp->syn && !tcp->ack;
	} else if (ip6->nexthdr == IPPROTO_UDP) {
		struct udphdr *udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > data_end)
			return finish(V_DROP_MALFORMED, XDP_DROP);
		flow.sport = udp->source;
		flow.dport = udp->dest;
	} else if (ip6->nexthdr == IPPROTO_ICMPV6) {
		struct icmp6hdr *icmp6 = (void *)(ip6 + 1);
		struct ipv6hdr *inner;
		__u16 *ports;
		if ((void *)(icmp6 + 1) > data_end)
			return finish(V_DROP_MALFORMED, XDP_DROP);
		if (icmp6->icmp6_type == ICMPV6_ECHO_REQUEST) {
			__u16 old = *(__u16 *)icmp6;
			struct in6_addr a = ip6->saddr;
			icmp6->icmp6_type = ICMPV6_ECHO_REPLY;
			csum_replace2(&icmp6->icmp6_cksum, old, *(__u16 *)icmp6);
			ip6->saddr = ip6->daddr;
			ip6->daddr = a;
			ip6->hop_limit = OUTER_TTL;
			swap_mac(eth);
			return finish(V_ICMP_ECHO_REPLY, XDP_TX);
		}
		if (icmp6->icmp6_type != ICMPV6_PKT_TOOBIG)
			return finish(V_PASS, XDP_PASS);
		inner = (void *)(icmp6 + 1);
		if ((void *)(inner + 1) > data_end)
			return finish(V_DROP_MALFORMED, XDP_DROP);
		ports = (void *)(inner + 1);
		if ((void *)(ports + 2) > data_end)
			return finish(V_DROP_MALFORMED, XDP_DROP);
		flow.proto = inner->nexthdr;
		__builtin_memcpy(flow.src, inner->daddr.in6_u.u6_addr32, 16);
		__builtin_memcpy(flow.dst, inner->saddr.in6_u.u6_addr32, 16);
		flow.sport = ports[1];
		flow.dport = ports[0];
		verdict = V_ICMP_FORWARD;
	}

	return forward(ctx, cfg, &flow, FAMILY_V6, inner_len, verdict, syn, frame_len);
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0;
	struct lb_ctl *cfg;

	if ((void *)(eth + 1) > data_end)
		return finish(V_PASS, XDP_PASS);
	cfg = bpf_map_lookup_elem(&ctl, &zero);
	if (!cfg)
		return finish(V_PASS, XDP_PASS);
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return handle_ipv4(ctx, cfg, data_end - data);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return handle_ipv6(ctx, cfg, data_end - data);
	return finish(V_PASS, XDP_PASS); /* ARP and everything else */
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
