/**
 * Load balancer benchmarks:
 * - Maglev ring generation (M = 65537) for 100 and 1000 weighted backends (median ms);
 * - ns per packet for a VIP hit (an established TCP flow: connection-table hit, IPIP
 *   encapsulation, XDP_TX) on the emulator's JIT vs the kernel's BPF_PROG_TEST_RUN with repeat,
 *   side by side in one run. Target: emulator ≤ 1.5× kernel.
 */
import { median, type BenchReport } from './run.js';
import { frame } from '../examples/common/packets.js';
import { LoadBalancer } from '../examples/load-balancer/control.js';
import { buildMaglevRing } from '../examples/load-balancer/maglev.js';


function maglevMs(n: number, runs: number): number {
  const backends = Array.from({ length: n }, (_, i) => ({ id: i, identity: new Uint8Array([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]), weight: 1 + (i % 4) }));
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    buildMaglevRing(backends, 65537);
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function perPacketNs(backend: 'kernel' | 'emulator', rounds: number, repeat: number): Promise<number[]> {
  const lb = await LoadBalancer.load({ backend, ringSize: 65537, gatewayMac: '02:00:00:00:00:fe' });
  try {
    const vip = { address: '10.0.0.10', port: 80, protocol: 'tcp' as const };
    lb.addVip(vip);
    for (let i = 1; i <= 16; i++) lb.addBackend(vip, `10.1.0.${i}`);
    const pkt = frame({ src: '192.168.1.1', dst: '10.0.0.10', proto: 'tcp', sport: 40000, dport: 80, flags: 'A', payload: new Uint8Array(64) });
    const prog = lb.object!.program('xdp_lb');
    prog.run({ data: pkt }); // establish the flow in the connection table
    // Steady state, as the kernel (whose JIT compiles at load) is measured: let the emulator's
    // generated code reach V8's optimizing tier before timing (same warm-up on both backends).
    // Several calls: each test run starts from the original frame (a VIP hit, then the encapsulated
    // frame on the repeats), so both paths' type feedback is in before the code is optimized;
    // otherwise the timed run pays for a deopt and a background recompile (process CPU time).
    for (let i = 0; i < 5; i++) prog.run({ data: pkt, repeat: 40_000 });
    const out: number[] = [];
    for (let r = 0; r < rounds; r++) out.push(prog.run({ data: pkt, repeat }).durationNs);
    return out;
  } finally {
    lb.close();
  }
}

export async function bench(): Promise<BenchReport[]> {
  const reports: BenchReport[] = [
    { name: 'maglev ring, 100 backends, M=65537', unit: 'ms', value: maglevMs(100, 15), samples: 15 },
    { name: 'maglev ring, 1000 backends, M=65537', unit: 'ms', value: maglevMs(1000, 9), samples: 9 },
  ];
  const rounds = 11;
  const kernel: number[] = [];
  const emulator: number[] = [];
  // Interleave the two backends round by round so machine noise hits both alike.
  for (let r = 0; r < rounds; r++) {
    kernel.push(...(await perPacketNs('kernel', 1, 200_000)));
    emulator.push(...(await perPacketNs('emulator', 1, 200_000)));
  }
  reports.push({
    name: 'lb VIP hit (conn-table hit + IPIP + XDP_TX): emulator JIT vs kernel test run',
    unit: 'ns/packet',
    value: median(emulator),
    baseline: { name: 'kernel BPF_PROG_TEST_RUN', value: median(kernel) },
    target: 1.5,
    samples: rounds,
  });
  return reports;
}
