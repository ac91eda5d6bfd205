/**
 * The demo's mixed traffic, built reproducibly from examples/common/packets.ts and committed as
 * `traffic.pcap` (the demo replays the pcap; a test checks it equals a fresh build).
 *
 *   npx tsx examples/port-filter/traffic.ts          rewrite traffic.pcap
 *
 * TCP and UDP over IPv4 and IPv6 to ports with and without a policy, plus frames the filter does
 * not parse (ARP, ICMP, an IPv4 fragment, a truncated TCP header, a runt): they must pass.
 */
import { writeFileSync } from 'node:fs';
import { readPcap, writePcap } from '../../native-sim/net/pcap.js';
import { arpRequest, frame, type FrameSpec } from '../common/packets.js';
import { exampleAsset } from '../common/paths.js';

/** MACs of the demo's two ends: traffic goes from the peer (B) to the filtered interface (A). */
export const MAC_A = '02:00:00:00:0a:01';
export const MAC_B = '02:00:00:00:0b:01';
export const IP_A = '10.77.0.1';
export const IP_B = '10.77.0.2';
export const IP6_A = 'fd00:77::1';
export const IP6_B = 'fd00:77::2';

export const TRAFFIC_PCAP = exampleAsset(import.meta.url, './traffic.pcap');

const text = new TextEncoder();

function f(spec: Omit<FrameSpec, 'srcMac' | 'dstMac'>): Uint8Array {
  return frame({ srcMac: MAC_B, dstMac: MAC_A, ...spec });
}

/** The frames, in replay order. */
export function buildTraffic(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const tcpPorts = [22, 80, 443, 8080, 23, 3306, 443, 80, 9000, 443];
  tcpPorts.forEach((dport, i) => {
    out.push(f({ src: IP_B, dst: IP_A, proto: 'tcp', sport: 40000 + i, dport, flags: 'S', ipId: 100 + i }));
  });
  for (let i = 0; i < 4; i++) {
    out.push(f({ src: IP_B, dst: IP_A, proto: 'tcp', sport: 41000 + i, dport: [443, 22, 23, 8080][i]!, flags: 'PA', payload: text.encode(`request ${i}\n`), ipId: 200 + i }));
  }
  for (let i = 0; i < 4; i++) {
    out.push(f({ src: IP6_B, dst: IP6_A, proto: 'tcp', sport: 42000 + i, dport: [443, 80, 23, 8080][i]!, flags: 'S' }));
  }
  for (let i = 0; i < 5; i++) {
    const dport = [53, 123, 53, 5353, 9999][i]!;
    out.push(f({ src: i % 2 ? IP6_B : IP_B, dst: i % 2 ? IP6_A : IP_A, proto: 'udp', sport: 43000 + i, dport, payload: text.encode(`query ${i}`), ipId: 300 + i }));
  }
  // not parsed by the filter: these pass
  out.push(arpRequest(MAC_B, IP_B, IP_A));
  out.push(f({ src: IP_B, dst: IP_A, proto: 'icmp', icmpType: 8, icmpRest: 0x00010001, payload: text.encode('ping'), ipId: 400 }));
  out.push(f({ src: IP6_B, dst: IP6_A, proto: 'icmp', icmpType: 128, icmpRest: 0x00010001, payload: text.encode('ping6') }));
  out.push(f({ src: IP_B, dst: IP_A, proto: 'udp', sport: 44000, dport: 53, payload: text.encode('first fragment'), fragOff: 0x2000, ipId: 401 }));
  const truncated = f({ src: IP_B, dst: IP_A, proto: 'tcp', sport: 44001, dport: 443, flags: 'S', ipId: 402 });
  out.push(truncated.subarray(0, 14 + 20 + 10).slice());
  out.push(new Uint8Array([0x02, 0, 0, 0, 0x0a, 0x01, 0x02, 0, 0, 0, 0x0b, 0x01, 0x88, 0xb5, 0xde, 0xad]));
  // a second burst to the socket port so several frames reach user space
  for (let i = 0; i < 3; i++) out.push(f({ src: IP_B, dst: IP_A, proto: 'tcp', sport: 45000 + i, dport: 443, flags: 'A', payload: text.encode(`data ${i}`), ipId: 500 + i }));
  return out;
}

/** The pcap bytes of the traffic (timestamps 1 ms apart from 2026-01-01T00:00:00Z). */
export function buildTrafficPcap(): Uint8Array {
  const base = 1_767_225_600n * 1_000_000_000n;
  return writePcap(buildTraffic().map((data, i) => ({ data, timestampNs: base + BigInt(i) * 1_000_000n })));
}

/** The committed traffic, read from `traffic.pcap` (or `path`). */
export function readTraffic(bytes: Uint8Array, source: string): Uint8Array[] {
  return readPcap(bytes, source).packets.map((p) => p.data);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(TRAFFIC_PCAP, buildTrafficPcap());
  console.log(`wrote ${TRAFFIC_PCAP} (${buildTraffic().length} frames)`);
}
