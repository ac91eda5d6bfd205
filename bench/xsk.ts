/**
 * AF_XDP receive path: ns per frame to get frames from a veth peer into the Node process, through
 * the port filter's XDP redirect into an AF_XDP socket (bpfkit's XskSocket, copy mode), against
 * the usual way without AF_XDP: the same frames passed by the same program to the stack and read
 * with an AF_PACKET socket (one recv(2) per frame). Both series send the same frames the same way
 * (AF_PACKET sendto on the peer, 32 in flight at most) and alternate rounds; medians reported.
 * The send cost is in both series, so the ratio understates the receive-side difference.
 * Target: AF_XDP ≤ 1.0× AF_PACKET. Root on Linux only (creates a veth pair, removed afterwards).
 */
import { execFileSync } from 'node:child_process';
import { frame } from '../examples/common/packets.js';
import { OBJECT } from '../examples/port-filter/filter.js';
import { load, openXskSocket, type BpfObject, type XskSocket } from '../lib/index.js';
import { loadBinding, type BpfSys } from '../lib/kernel/binding.js';
import { median, type BenchReport } from './run.js';

const ROUNDS = Number(process.env.BPFKIT_BENCH_ROUNDS ?? 7);
const FRAMES = 20_000;
const IN_FLIGHT = 32;


/** An AF_PACKET socket on `ifname`: receiving (bound, ETH_P_ALL) or send-only (protocol 0, unbound). */
function packetSocket(sys: BpfSys, ifname: string, receive: boolean): { fd: number; sa: Uint8Array } {
  const fd = sys.socket(17 /* AF_PACKET */, 3 /* SOCK_RAW */, receive ? 0x0300 /* htons(ETH_P_ALL) */ : 0);
  if (fd < 0) throw new Error(`socket(AF_PACKET): ${sys.errnoString(-fd)}`);
  const sa = new Uint8Array(20);
  const v = new DataView(sa.buffer);
  v.setUint16(0, 17, true);
  v.setUint16(2, 0x0300, true);
  v.setInt32(4, sys.ifNameToIndex(ifname), true);
  sa[11] = 6;
  if (receive && sys.bind(fd, sa) < 0) throw new Error('bind(AF_PACKET)');
  return { fd, sa };
}

/** Send FRAMES frames from the peer; `drain()` returns how many arrived since the last call. */
function pump(sys: BpfSys, tx: { fd: number; sa: Uint8Array }, f: Uint8Array, drain: () => number): number {
  let got = 0;
  const t0 = process.hrtime.bigint();
  for (let sent = 0; sent < FRAMES; sent++) {
    if (sys.sendto(tx.fd, f, 0, tx.sa) !== f.length) throw new Error('sendto failed');
    got += drain();
    for (let spins = 0; sent + 1 - got >= IN_FLIGHT && spins < 1_000_000; spins++) got += drain();
  }
  for (let spins = 0; got < FRAMES && spins < 1_000_000; spins++) got += drain();
  const ns = Number(process.hrtime.bigint() - t0);
  if (got !== FRAMES) throw new Error(`only ${got} of ${FRAMES} frames arrived`);
  return ns / FRAMES;
}

export async function bench(): Promise<BenchReport[]> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return [];
  const sys = loadBinding();
  const tag = `xb${process.pid % 100000}`;
  const A = `${tag}a`;
  const B = `${tag}b`;
  execFileSync('ip', ['link', 'add', A, 'numtxqueues', '1', 'numrxqueues', '1', 'type', 'veth', 'peer', 'name', B, 'numtxqueues', '1', 'numrxqueues', '1']);
  let obj: BpfObject | undefined;
  let sock: XskSocket | undefined;
  const fds: number[] = [];
  try {
    for (const d of [A, B]) {
      execFileSync('sysctl', ['-qw', `net.ipv6.conf.${d}.disable_ipv6=1`]);
      execFileSync('ip', ['link', 'set', d, 'up']);
    }
    obj = await load(OBJECT, { backend: 'kernel' });
    obj.map('port_policy').update(443, { action: 'to_socket', flags: 0 });
    obj.program('port_filter').attachXdp(A);
    sock = await openXskSocket(obj, { ifname: A, queue: 0 });
    const tx = packetSocket(sys, B, false);
    const rx = packetSocket(sys, A, true);
    fds.push(tx.fd, rx.fd);
    const toSocket = frame({ src: '10.99.0.2', dst: '10.99.0.1', proto: 'tcp', sport: 40000, dport: 443, flags: 'S' });
    const toStack = frame({ src: '10.99.0.2', dst: '10.99.0.1', proto: 'tcp', sport: 40000, dport: 444, flags: 'S' });
    const buf = new Uint8Array(2048);
    const s = sock;
    const drainXsk = () => s.receive().length;
    const drainPacket = () => {
      let n = 0;
      while (sys.recv(rx.fd, buf, 0x40 /* MSG_DONTWAIT */) > 0) n++;
      return n;
    };
    drainPacket();
    const xsk: number[] = [];
    const packet: number[] = [];
    pump(sys, tx, toSocket, drainXsk); // warm-up
    drainPacket();
    pump(sys, tx, toStack, drainPacket);
    for (let r = 0; r < ROUNDS; r++) {
      xsk.push(pump(sys, tx, toSocket, drainXsk));
      packet.push(pump(sys, tx, toStack, drainPacket));
    }
    const value = median(xsk);
    const baseline = median(packet);
    return [{
      name: `AF_XDP receive (XDP redirect → XskSocket.receive), ${FRAMES} frames/round`,
      unit: 'ns/frame', value, baseline, baselineName: 'AF_PACKET recv (XDP_PASS → stack)',
      ratio: value / baseline, target: 1.0, ok: value / baseline <= 1.0, samples: ROUNDS,
      note: 'send cost (AF_PACKET sendto on the veth peer) is included in both series',
    }];
  } finally {
    sock?.close();
    for (const fd of fds) sys.close(fd);
    obj?.close();
    try {
      execFileSync('ip', ['link', 'del', A]);
    } catch {
      // already gone
    }
  }
}
