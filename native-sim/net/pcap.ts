/**
 * Classic libpcap files (what `tcpdump -r` reads and `tcpdump -w` writes): a 24-byte global
 * header (magic 0xa1b2c3d4 for microsecond or 0xa1b23c4d for nanosecond timestamps, either byte
 * order), then per packet a 16-byte record header (ts_sec, ts_frac, incl_len, orig_len) and the
 * bytes. We write little-endian microsecond files with LINKTYPE_ETHERNET (1) by default.
 */
import { ArgumentError } from '../../lib/errors.js';

export const LINKTYPE_ETHERNET = 1;

export interface PcapPacket {
  data: Uint8Array;
  /** Capture time in nanoseconds since the epoch (default: 0 + index µs when writing). */
  timestampNs?: bigint;
  /** Original length on the wire (default: data length). */
  origLen?: number;
}

export interface PcapFile {
  linkType: number;
  snapLen: number;
  nanosecond: boolean;
  packets: PcapPacket[];
}

export function writePcap(packets: readonly (PcapPacket | Uint8Array)[], opts: { linkType?: number; snapLen?: number } = {}): Uint8Array {
  const snapLen = opts.snapLen ?? 262144;
  const list = packets.map((p) => (p instanceof Uint8Array ? { data: p } : p));
  let total = 24;
  for (const p of list) total += 16 + Math.min(p.data.length, snapLen);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setInt32(8, 0, true);
  dv.setUint32(12, 0, true);
  dv.setUint32(16, snapLen, true);
  dv.setUint32(20, opts.linkType ?? LINKTYPE_ETHERNET, true);
  let o = 24;
  list.forEach((p, i) => {
    const ts = p.timestampNs ?? BigInt(i) * 1000n;
    const incl = Math.min(p.data.length, snapLen);
    dv.setUint32(o, Number(ts / 1_000_000_000n), true);
    dv.setUint32(o + 4, Number((ts % 1_000_000_000n) / 1000n), true);
    dv.setUint32(o + 8, incl, true);
    dv.setUint32(o + 12, p.origLen ?? p.data.length, true);
    out.set(p.data.subarray(0, incl), o + 16);
    o += 16 + incl;
  });
  return out;
}

export function readPcap(bytes: Uint8Array, source = '<pcap>'): PcapFile {
  if (bytes.length < 24) throw new ArgumentError(`read pcap ${source}: file is ${bytes.length} bytes, shorter than the 24-byte pcap header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = dv.getUint32(0, true);
  let le: boolean;
  let nano: boolean;
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) {
    le = true;
    nano = m === 0xa1b23c4d;
  } else if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) {
    le = false;
    nano = m === 0x4d3cb2a1;
  } else if (m === 0x0a0d0d0a) {
    throw new ArgumentError(`read pcap ${source}: this is a pcapng file (convert it with \`tcpdump -r in.pcapng -w out.pcap\` or editcap -F pcap)`);
  } else {
    throw new ArgumentError(`read pcap ${source}: bad magic 0x${m.toString(16).padStart(8, '0')} (not a pcap file)`);
  }
  const snapLen = dv.getUint32(16, le);
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  const packets: PcapPacket[] = [];
  let o = 24;
  while (o < bytes.length) {
    if (o + 16 > bytes.length) throw new ArgumentError(`read pcap ${source}: truncated record header at offset ${o}`);
    const sec = dv.getUint32(o, le);
    const frac = dv.getUint32(o + 4, le);
    const incl = dv.getUint32(o + 8, le);
    const orig = dv.getUint32(o + 12, le);
    if (o + 16 + incl > bytes.length) throw new ArgumentError(`read pcap ${source}: packet ${packets.length + 1} at offset ${o} is truncated (${incl} bytes announced)`);
    packets.push({
      data: bytes.slice(o + 16, o + 16 + incl),
      timestampNs: BigInt(sec) * 1_000_000_000n + BigInt(frac) * (nano ? 1n : 1000n),
      origLen: orig,
    });
    o += 16 + incl;
  }
  return { linkType, snapLen, nanosecond: nano, packets };
}
