/** One-line summaries of Ethernet frames for the port filter's output (what the filter parses). */
import { formatIp } from '../common/packets.js';

export interface FrameInfo {
  /** 'tcp' | 'udp' | 'icmp' | 'icmp6' | 'arp' | 'ipv4' | 'ipv6' | 'ether' | 'runt' */
  proto: string;
  /** Destination port for TCP/UDP the filter can read, else null. */
  port: number | null;
  summary: string;
}

const hex4 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;

export function describeFrame(f: Uint8Array): FrameInfo {
  if (f.length < 14) return { proto: 'runt', port: null, summary: `runt frame (${f.length} bytes)` };
  const type = (f[12]! << 8) | f[13]!;
  let l4 = -1;
  let proto = -1;
  let src = '';
  let dst = '';
  let frag = false;
  if (type === 0x0806) return { proto: 'arp', port: null, summary: `ARP (${f.length} bytes)` };
  if (type === 0x0800 && f.length >= 34) {
    const ihl = (f[14]! & 0xf) * 4;
    proto = f[23]!;
    src = formatIp(f.subarray(26, 30));
    dst = formatIp(f.subarray(30, 34));
    frag = (((f[20]! << 8) | f[21]!) & 0x3fff) !== 0;
    l4 = 14 + ihl;
  } else if (type === 0x86dd && f.length >= 54) {
    proto = f[20]!;
    src = formatIp(f.subarray(22, 38));
    dst = formatIp(f.subarray(38, 54));
    l4 = 54;
  } else {
    return { proto: type === 0x0800 ? 'ipv4' : type === 0x86dd ? 'ipv6' : 'ether', port: null, summary: `EtherType ${hex4(type)} (${f.length} bytes)` };
  }
  const family = type === 0x0800 ? 'IPv4' : 'IPv6';
  const name = proto === 6 ? 'tcp' : proto === 17 ? 'udp' : proto === 1 ? 'icmp' : proto === 58 ? 'icmp6' : `proto ${proto}`;
  const need = proto === 6 ? 20 : proto === 17 ? 8 : 0;
  if ((proto === 6 || proto === 17) && !frag && l4 + need <= f.length) {
    const sport = (f[l4]! << 8) | f[l4 + 1]!;
    const dport = (f[l4 + 2]! << 8) | f[l4 + 3]!;
    const a = family === 'IPv6' ? `[${src}]:${sport}` : `${src}:${sport}`;
    const b = family === 'IPv6' ? `[${dst}]:${dport}` : `${dst}:${dport}`;
    return { proto: name, port: dport, summary: `${family} ${name.toUpperCase()} ${a} → ${b} (${f.length} bytes)` };
  }
  const why = frag ? ', fragment' : proto === 6 || proto === 17 ? ', truncated header' : '';
  return { proto: name, port: null, summary: `${family} ${name.toUpperCase()} ${src} → ${dst}${why} (${f.length} bytes)` };
}
