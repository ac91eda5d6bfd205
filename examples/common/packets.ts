/**
 * Frame crafting for the examples, their tests and fixtures: Ethernet / IPv4 / IPv6 / TCP / UDP /
 * ICMP frames with correct checksums, plus address parsing and formatting.
 */
import { ArgumentError } from '../../lib/errors.js';

export type Family = 4 | 6;

/** Parse a dotted-quad IPv4 or an RFC 4291 IPv6 address into network-order bytes. */
export function parseIp(text: string): { family: Family; bytes: Uint8Array } {
  if (text.includes(':')) return { family: 6, bytes: parseIpv6(text) };
  const parts = text.split('.');
  if (parts.length !== 4) throw new ArgumentError(`address ${JSON.stringify(text)}: not an IPv4 or IPv6 address`);
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new ArgumentError(`address ${JSON.stringify(text)}: bad IPv4 octet ${JSON.stringify(p)}`);
    bytes[i] = Number(p);
  }
  return { family: 4, bytes };
}

function parseIpv6(text: string): Uint8Array {
  const bad = () => new ArgumentError(`address ${JSON.stringify(text)}: not a valid IPv6 address`);
  const halves = text.split('::');
  if (halves.length > 2) throw bad();
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const words: number[] = [];
  const push = (g: string) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
    words.push(parseInt(g, 16));
  };
  head.forEach(push);
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) throw bad();
    for (let i = 0; i < fill; i++) words.push(0);
  }
  tail.forEach(push);
  if (words.length !== 8) throw bad();
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return words.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new ArgumentError(`mac ${JSON.stringify(text)}: expected six hex octets like 02:00:00:00:00:01`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** One's complement sum of `bytes` (big-endian 16-bit words) added to `initial`, not folded. */
export function onesSum(bytes: Uint8Array, initial = 0): number {
  let s = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length & 1) s += bytes[bytes.length - 1]! << 8;
  return s;
}

export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function unhex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 || /[^0-9a-fA-F]/.test(clean)) throw new ArgumentError(`hex: ${JSON.stringify(text.slice(0, 40))} is not an even-length hex string`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export interface L4Spec {
  proto: 'tcp' | 'udp' | 'icmp' | number;
  sport?: number;
  dport?: number;
  /** TCP flags as a string of letters: S, A, F, R, P. Default "A". */
  flags?: string;
  /** ICMP / ICMPv6 type, code and the 4 "rest of header" bytes. */
  icmpType?: number;
  icmpCode?: number;
  icmpRest?: number;
  payload?: Uint8Array;
  /** Raw L4 bytes instead of building a header (checksum not computed). */
  raw?: Uint8Array;
}

export interface FrameSpec extends L4Spec {
  srcMac?: string;
  dstMac?: string;
  src: string;
  dst: string;
  ttl?: number;
  /** IPv4 only: IP options bytes (multiple of 4), fragment offset field (flags + offset). */
  ipOptions?: Uint8Array;
  fragOff?: number;
  ipId?: number;
}

const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1 };

function l4Bytes(spec: L4Spec, family: Family, src: Uint8Array, dst: Uint8Array): { proto: number; bytes: Uint8Array } {
  const payload = spec.payload ?? new Uint8Array(0);
  let proto = typeof spec.proto === 'number' ? spec.proto : PROTO[spec.proto]!;
  if (spec.proto === 'icmp' && family === 6) proto = 58;
  if (spec.raw) return { proto, bytes: spec.raw };
  let hdr: Uint8Array;
  let csumAt = -1;
  if (proto === 6) {
    hdr = new Uint8Array(20 + payload.length);
    const v = new DataView(hdr.buffer);
    v.setUint16(0, spec.sport ?? 0);
    v.setUint16(2, spec.dport ?? 0);
    v.setUint32(4, 1);
    v.setUint32(8, 0);
    let f = 0;
    for (const c of spec.flags ?? 'A') f |= ({ F: 1, S: 2, R: 4, P: 8, A: 16 } as Record<string, number>)[c] ?? 0;
    hdr[12] = 5 << 4;
    hdr[13] = f;
    v.setUint16(14, 65535);
    csumAt = 16;
  } else if (proto === 17) {
    hdr = new Uint8Array(8 + payload.length);
    const v = new DataView(hdr.buffer);
    v.setUint16(0, spec.sport ?? 0);
    v.setUint16(2, spec.dport ?? 0);
    v.setUint16(4, 8 + payload.length);
    csumAt = 6;
  } else if (proto === 1 || proto === 58) {
    hdr = new Uint8Array(8 + payload.length);
    const v = new DataView(hdr.buffer);
    hdr[0] = spec.icmpType ?? (proto === 1 ? 8 : 128);
    hdr[1] = spec.icmpCode ?? 0;
    v.setUint32(4, spec.icmpRest ?? 0);
    csumAt = 2;
  } else {
    hdr = new Uint8Array(payload.length);
  }
  hdr.set(payload, hdr.length - payload.length);
  if (csumAt >= 0) {
    let pseudo = 0;
    if (proto !== 1) {
      pseudo = onesSum(src) + onesSum(dst) + proto + hdr.length;
    }
    let c = foldChecksum(onesSum(hdr, pseudo));
    if (proto === 17 && c === 0) c = 0xffff;
    hdr[csumAt] = c >> 8;
    hdr[csumAt + 1] = c & 0xff;
  }
  return { proto, bytes: hdr };
}

/** An IPv4 or IPv6 packet (no Ethernet header). */
export function ipPacket(spec: Omit<FrameSpec, 'srcMac' | 'dstMac'>): Uint8Array {
  const s = parseIp(spec.src);
  const d = parseIp(spec.dst);
  if (s.family !== d.family) throw new ArgumentError(`frame: source ${spec.src} and destination ${spec.dst} differ in family`);
  const l4 = l4Bytes(spec, s.family, s.bytes, d.bytes);
  if (s.family === 4) {
    const opts = spec.ipOptions ?? new Uint8Array(0);
    const ihl = 5 + (opts.length >> 2);
    const pkt = new Uint8Array(ihl * 4 + l4.bytes.length);
    const v = new DataView(pkt.buffer);
    pkt[0] = 0x40 | ihl;
    v.setUint16(2, pkt.length);
    v.setUint16(4, spec.ipId ?? 0);
    v.setUint16(6, spec.fragOff ?? 0x4000);
    pkt[8] = spec.ttl ?? 64;
    pkt[9] = l4.proto;
    pkt.set(s.bytes, 12);
    pkt.set(d.bytes, 16);
    pkt.set(opts, 20);
    const c = foldChecksum(onesSum(pkt.subarray(0, ihl * 4)));
    v.setUint16(10, c);
    pkt.set(l4.bytes, ihl * 4);
    return pkt;
  }
  const pkt = new Uint8Array(40 + l4.bytes.length);
  const v = new DataView(pkt.buffer);
  v.setUint32(0, 0x60000000);
  v.setUint16(4, l4.bytes.length);
  pkt[6] = l4.proto;
  pkt[7] = spec.ttl ?? 64;
  pkt.set(s.bytes, 8);
  pkt.set(d.bytes, 24);
  pkt.set(l4.bytes, 40);
  return pkt;
}

export function ethernet(dstMac: string, srcMac: string, ethertype: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(parseMac(dstMac), 0);
  f.set(parseMac(srcMac), 6);
  f[12] = ethertype >> 8;
  f[13] = ethertype & 0xff;
  f.set(payload, 14);
  return f;
}

/** A complete Ethernet frame. */
export function frame(spec: FrameSpec): Uint8Array {
  const ip = ipPacket(spec);
  const family = parseIp(spec.src).family;
  return ethernet(spec.dstMac ?? '02:00:00:00:00:02', spec.srcMac ?? '02:00:00:00:00:01', family === 4 ? 0x0800 : 0x86dd, ip);
}

/** An ARP request frame (who-has `target` tell `sender`). */
export function arpRequest(senderMac: string, sender: string, target: string): Uint8Array {
  const body = new Uint8Array(28);
  const v = new DataView(body.buffer);
  v.setUint16(0, 1);
  v.setUint16(2, 0x0800);
  body[4] = 6;
  body[5] = 4;
  v.setUint16(6, 1);
  body.set(parseMac(senderMac), 8);
  body.set(parseIp(sender).bytes, 14);
  body.set(parseIp(target).bytes, 24);
  return ethernet('ff:ff:ff:ff:ff:ff', senderMac, 0x0806, body);
}

/** Verify the IPv4 header checksum of the header at `off`. */
export function ipv4HeaderChecksumOk(bytes: Uint8Array, off: number): boolean {
  const ihl = (bytes[off]! & 0xf) * 4;
  return foldChecksum(onesSum(bytes.subarray(off, off + ihl))) === 0;
}
