/**
 * Byte layouts of the structs shared with lb.bpf.c. Keep in step with the C definitions (a test
 * checks every size against the object's BTF).
 */
import { ArgumentError } from '../../lib/errors.js';
import { parseIp, type Family } from '../common/packets.js';

export const MAX_VIPS = 16;
export const MAX_BACKENDS = 4096;
export const RING_SIZE_MAX = 65537;
export const DEFAULT_RING_SIZE = 65537;
export const EMPTY_SLOT = 0xffffffff;

export const VIP_FLAGS = { 'hash-dport-only': 1, 'hash-no-src-port': 2 } as const;
export type VipFlagName = keyof typeof VIP_FLAGS;

export const PROTOCOLS = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 } as const;
export type ProtocolName = keyof typeof PROTOCOLS;

/** Indexes of the `verdicts` counters (enum verdict in lb.bpf.c). */
export const VERDICTS = [
  'pass', 'tx', 'drop_fragment', 'drop_ip_options', 'drop_oversize', 'drop_no_backend',
  'icmp_echo_reply', 'icmp_forward', 'drop_malformed', 'drop_encap',
] as const;
export type VerdictName = (typeof VERDICTS)[number];

export const SIZES = { vip_key: 20, vip_meta: 8, backend: 28, flow_key: 40, conn: 8, lb_ctl: 36, counter: 16 } as const;

export interface VipId {
  address: string;
  port: number;
  protocol: ProtocolName;
}

export function vipIdString(v: VipId): string {
  return `${v.protocol}/${v.address}:${v.port}`;
}

function addrBytes(address: string): { family: Family; addr16: Uint8Array } {
  const { family, bytes } = parseIp(address);
  const addr16 = new Uint8Array(16);
  addr16.set(bytes);
  return { family, addr16 };
}

/** struct vip_key: addr[16] (network order, IPv4 in the first 4 bytes), port (BE), proto, family. */
export function encodeVipKey(v: { address: string; port: number; protocol: ProtocolName | number }): Uint8Array {
  const { family, addr16 } = addrBytes(v.address);
  const k = new Uint8Array(SIZES.vip_key);
  k.set(addr16, 0);
  k[16] = (v.port >> 8) & 0xff;
  k[17] = v.port & 0xff;
  k[18] = typeof v.protocol === 'number' ? v.protocol : PROTOCOLS[v.protocol];
  k[19] = family;
  return k;
}

/** The vip_addrs key of an address: a vip_key with port 0 and protocol 0. */
export function encodeVipAddrKey(address: string): Uint8Array {
  return encodeVipKey({ address, port: 0, protocol: 0 });
}

export function encodeVipMeta(vipNum: number, flags: number): Uint8Array {
  const b = new Uint8Array(SIZES.vip_meta);
  const v = new DataView(b.buffer);
  v.setUint32(0, vipNum, true);
  v.setUint32(4, flags, true);
  return b;
}

export function decodeVipMeta(b: Uint8Array): { vipNum: number; flags: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { vipNum: v.getUint32(0, true), flags: v.getUint32(4, true) };
}

export function encodeBackend(address: string | undefined, vipNum: number, weight: number): Uint8Array {
  const b = new Uint8Array(SIZES.backend);
  const v = new DataView(b.buffer);
  if (address !== undefined) {
    const { family, addr16 } = addrBytes(address);
    b.set(addr16, 0);
    b[16] = family;
  }
  v.setUint32(20, vipNum, true);
  v.setUint32(24, weight, true);
  return b;
}

export function decodeBackend(b: Uint8Array): { family: number; addr: Uint8Array; vipNum: number; weight: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const family = b[16]!;
  return { family, addr: b.slice(0, family === 4 ? 4 : 16), vipNum: v.getUint32(20, true), weight: v.getUint32(24, true) };
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

export interface CtlConfig {
  gatewayMac: Uint8Array;
  /** Outer IPv4 source prefix (network-order bytes; the low 16 bits come from the flow hash). */
  sourcePrefix4: Uint8Array;
  /** Outer IPv6 source prefix (first 12 bytes used; the last 4 come from the flow hash). */
  sourcePrefix6: Uint8Array;
  maxPacketSize: number;
}

export function encodeCtl(c: CtlConfig): Uint8Array {
  const b = new Uint8Array(SIZES.lb_ctl);
  const v = new DataView(b.buffer);
  if (c.gatewayMac.length !== 6) throw new ArgumentError('lb: gateway MAC must be 6 bytes');
  b.set(c.gatewayMac, 0);
  b.set(c.sourcePrefix4.subarray(0, 4), 8);
  b.set(c.sourcePrefix6.subarray(0, 16), 12);
  v.setUint32(28, c.maxPacketSize, true);
  return b;
}

/** struct flow_key of a client → VIP flow, as the data plane builds it. */
export interface Flow {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  protocol: ProtocolName | number;
}

export function encodeFlowKey(f: Flow): Uint8Array {
  const s = parseIp(f.src);
  const d = parseIp(f.dst);
  const k = new Uint8Array(SIZES.flow_key);
  k.set(s.bytes, 0);
  k.set(d.bytes, 16);
  k[32] = (f.sport >> 8) & 0xff;
  k[33] = f.sport & 0xff;
  k[34] = (f.dport >> 8) & 0xff;
  k[35] = f.dport & 0xff;
  k[36] = typeof f.protocol === 'number' ? f.protocol : PROTOCOLS[f.protocol];
  return k;
}
