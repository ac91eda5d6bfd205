/**
 * Frame sender for the kernel runs of the port filter (run inside the peer namespace with
 * `ip netns exec`): reads one hex frame per line on stdin, puts it on the wire of IFNAME through
 * an AF_PACKET socket (the bpf_sys shim's socket/sendto), answers `ok N` (bytes sent) per line.
 *
 *   ip netns exec NS tsx sender.ts IFNAME
 */
import { createInterface } from 'node:readline';
import { loadBinding } from '../../../lib/kernel/binding.js';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const ETH_P_ALL_BE = 0x0300; // htons(0x0003)

const ifname = process.argv[2];
if (!ifname) {
  process.stderr.write('usage: sender.ts IFNAME\n');
  process.exit(2);
}
const sys = loadBinding();
const ifindex = sys.ifNameToIndex(ifname);
if (ifindex < 0) {
  process.stderr.write(`sender: no interface ${ifname}: ${sys.errnoString(-ifindex)}\n`);
  process.exit(1);
}
const fd = sys.socket(AF_PACKET, SOCK_RAW, ETH_P_ALL_BE);
if (fd < 0) {
  process.stderr.write(`sender: socket(AF_PACKET): ${sys.errnoString(-fd)}\n`);
  process.exit(1);
}
// struct sockaddr_ll { u16 family; be16 protocol; s32 ifindex; u16 hatype; u8 pkttype; u8 halen; u8 addr[8] }
const sa = new Uint8Array(20);
const sv = new DataView(sa.buffer);
sv.setUint16(0, AF_PACKET, true);
sv.setUint16(2, ETH_P_ALL_BE, true);
sv.setInt32(4, ifindex, true);
sa[11] = 6;

const rl = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of rl) {
  const hex = line.trim();
  if (!hex) continue;
  const frame = Uint8Array.from(Buffer.from(hex, 'hex'));
  sa.set(frame.subarray(0, 6), 12);
  const n = sys.sendto(fd, frame, 0, sa);
  process.stdout.write(n < 0 ? `error ${sys.errnoString(-n)}\n` : `ok ${n}\n`);
}
sys.close(fd);
