/**
 * Packet corpus for emulator tests: crafted frames (Ethernet/VLAN, IPv4/IPv6, TCP/UDP/ICMP, ARP,
 * runts, broadcast/multicast, 802.3) and seeded random frames (mutations and raw noise).
 */

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function ipChecksum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[off + i]! << 8) | (b[off + i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

const MAC_A = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0a];
const MAC_B = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0b];

export interface Ipv4Opts {
  proto: number;
  src?: number[];
  dst?: number[];
  ttl?: number;
  sport?: number;
  dport?: number;
  payload?: number;
  tcpFlags?: number;
  dstMac?: number[];
  vlan?: number;
  ihl?: number;
}

function l4(proto: number, sport: number, dport: number, payload: number, tcpFlags: number): number[] {
  const out: number[] = [];
  if (proto === 6) {
    out.push(sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, tcpFlags, 0xff, 0xff, 0, 0, 0, 0);
  } else if (proto === 17) {
    const len = 8 + payload;
    out.push(sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, len >> 8, len & 0xff, 0, 0);
  } else if (proto === 1) {
    out.push(8, 0, 0, 0, 0, 1, 0, 1);
  }
  for (let i = 0; i < payload; i++) out.push((i * 7 + 3) & 0xff);
  return out;
}

export function ipv4(o: Ipv4Opts): Uint8Array {
  const ihl = o.ihl ?? 5;
  const body = l4(o.proto, o.sport ?? 1234, o.dport ?? 80, o.payload ?? 16, o.tcpFlags ?? 0x02);
  const eth = [...(o.dstMac ?? MAC_B), ...MAC_A];
  if (o.vlan !== undefined) eth.push(0x81, 0x00, o.vlan >> 8, o.vlan & 0xff);
  eth.push(0x08, 0x00);
  const total = ihl * 4 + body.length;
  const ip = [0x40 | ihl, 0, total >> 8, total & 0xff, 0x12, 0x34, 0x40, 0, o.ttl ?? 64, o.proto, 0, 0, ...(o.src ?? [10, 0, 0, 1]), ...(o.dst ?? [10, 0, 0, 2])];
  for (let i = 5; i < ihl; i++) ip.push(1, 1, 1, 1);
  const b = new Uint8Array([...eth, ...ip, ...body]);
  const ipOff = eth.length;
  const c = ipChecksum(b, ipOff, ihl * 4);
  b[ipOff + 10] = c >> 8;
  b[ipOff + 11] = c & 0xff;
  return b;
}

export function ipv6(proto: number, dport: number, payload = 16, src = 1, dst = 2): Uint8Array {
  const body = l4(proto === 58 ? 1 : proto, 4321, dport, payload, 0x12);
  const s = new Array(16).fill(0);
  s[0] = 0xfd;
  s[15] = src;
  const d = new Array(16).fill(0);
  d[0] = 0xfd;
  d[15] = dst;
  return new Uint8Array([...MAC_B, ...MAC_A, 0x86, 0xdd, 0x60, 0, 0, 0, body.length >> 8, body.length & 0xff, proto, 64, ...s, ...d, ...body]);
}

export function arp(): Uint8Array {
  return new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...MAC_A, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1, ...MAC_A, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
}

/** Hand-made frames covering the interesting header combinations. */
export function craftedPackets(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const dport of [22, 53, 80, 443, 8080, 9999, 0, 65535]) {
    out.push(ipv4({ proto: 6, dport }));
    out.push(ipv4({ proto: 17, dport, payload: 40 }));
  }
  out.push(ipv4({ proto: 1 }));
  out.push(ipv4({ proto: 6, ttl: 1, dport: 80 }));
  out.push(ipv4({ proto: 6, ttl: 0, dport: 443 }));
  out.push(ipv4({ proto: 6, ihl: 7, dport: 443 }));
  out.push(ipv4({ proto: 17, src: [192, 168, 1, 1], dst: [192, 168, 1, 200], dport: 53 }));
  out.push(ipv4({ proto: 17, src: [172, 16, 5, 4], dst: [8, 8, 8, 8], dport: 53 }));
  out.push(ipv4({ proto: 6, dst: [10, 1, 2, 3], dport: 80 }));
  out.push(ipv4({ proto: 6, dst: [10, 1, 9, 9], dport: 80 }));
  out.push(ipv4({ proto: 6, dst: [10, 200, 0, 1], dport: 80 }));
  out.push(ipv4({ proto: 6, dport: 80, payload: 1200 }));
  out.push(ipv4({ proto: 6, dport: 80, vlan: 100 }));
  out.push(ipv4({ proto: 6, dport: 80, dstMac: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] }));
  out.push(ipv4({ proto: 17, dport: 5000, dstMac: [0x01, 0x00, 0x5e, 0, 0, 1] }));
  out.push(ipv4({ proto: 6, dport: 80, dstMac: [0, 0, 0, 0, 0, 0] }));
  for (const dport of [22, 53, 80, 443]) {
    out.push(ipv6(6, dport));
    out.push(ipv6(17, dport));
  }
  out.push(ipv6(58, 0));
  out.push(arp());
  out.push(new Uint8Array(14));
  out.push(new Uint8Array([...MAC_B, ...MAC_A, 0x08, 0x00]));
  out.push(new Uint8Array([...MAC_B, ...MAC_A, 0x00, 0x40, 0xff, 0xff, 1, 2, 3, 4]));
  out.push(new Uint8Array([...MAC_B, ...MAC_A, 0x00, 0x40, 0xaa, 0xaa, 3, 0, 0, 0]));
  out.push(ipv4({ proto: 6, dport: 80 }).subarray(0, 30));
  out.push(ipv4({ proto: 17, dport: 53 }).subarray(0, 40));
  out.push(ipv6(6, 80).subarray(0, 60));
  return out;
}

/** `n` seeded random frames: mutated crafted frames, truncations and raw noise. */
export function randomPackets(seed: number, n: number): Uint8Array[] {
  const rnd = mulberry32(seed);
  const base = craftedPackets();
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const kind = rnd();
    if (kind < 0.5) {
      const b = base[Math.floor(rnd() * base.length)]!.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      out.push(b.length >= 14 ? b : new Uint8Array(14));
    } else if (kind < 0.75) {
      const b = base[Math.floor(rnd() * base.length)]!;
      out.push(b.slice(0, 14 + Math.floor(rnd() * Math.max(1, b.length - 13))));
    } else {
      const len = 14 + Math.floor(rnd() * 300);
      const b = new Uint8Array(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(rnd() * 256);
      if (rnd() < 0.5) {
        b[12] = 0x08;
        b[13] = 0x00;
        if (len > 14) b[14] = 0x45;
      }
      out.push(b);
    }
  }
  return out;
}
