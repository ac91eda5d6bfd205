/**
 * Port filter: ns per packet for the XDP TCP-destination-port lookup in a hash map
 * (test/progs/xdp_port_filter.bpf.c: parse Ethernet/IPv4/TCP, look the port up in `port_policy`,
 * count in a per-CPU array) on the emulator's JIT, its interpreter and the kernel
 * (BPF_PROG_TEST_RUN with repeat), side by side in one run: rounds alternate kernel, JIT,
 * interpreter and each series reports its median. All go through the public API
 * (`load(...).programs.port_filter.run({ data, repeat })`), so the emulator numbers include the
 * backend's per-run work (ctx/packet setup per call, budget, helpers) exactly as users get it.
 * Both sides report time per run as the kernel does: the kernel's test timer excludes time the
 * task was rescheduled, the emulator times long repeats in process CPU time.
 * Target: JIT ≤ 1.0× kernel. Without root on Linux only the emulator series are reported.
 */
import { load, type BpfObject } from '../lib/index.js';
import { EmulatorBackend } from '../native-sim/backend.js';
import { compileProg } from '../test/helpers/progs.js';
import { median, type BenchReport } from './run.js';

const ROUNDS = Number(process.env.BPFKIT_BENCH_ROUNDS ?? 7);
const REPEAT = 200_000;
const INTERP_REPEAT = 10_000;

function tcpPacket(dport: number): Uint8Array {
  const p = new Uint8Array(74);
  p.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00], 0);
  p.set([0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  p.set([0x30, 0x39, dport >> 8, dport & 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0], 34);
  return p;
}


function fillPolicy(obj: BpfObject): void {
  const raw = obj.maps.port_policy!.raw;
  for (const [port, action] of [[22, 1], [23, 1], [80, 0], [443, 0], [8080, 0], [3389, 1]] as const) {
    const v = new Uint8Array(8);
    v[0] = action;
    raw.update(new Uint8Array([port & 0xff, port >> 8]), v);
  }
}

export async function bench(): Promise<BenchReport[]> {
  const path = await compileProg('xdp_port_filter');
  const pkt = tcpPacket(443);
  const series: { name: string; obj: BpfObject; repeat: number; samples: number[] }[] = [];
  let kernelNote = '';
  const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
  if (isRootLinux) {
    try {
      series.push({ name: 'kernel', obj: await load(path, { backend: 'kernel' }), repeat: REPEAT * 5, samples: [] });
    } catch (e) {
      kernelNote = `kernel series unavailable: ${(e as Error).message}`;
    }
  } else {
    kernelNote = 'kernel series needs root on Linux';
  }
  for (const engine of ['jit', 'interpreter'] as const) {
    const b = new EmulatorBackend({ engine });
    series.push({ name: engine, obj: await load(path, { backend: b }), repeat: engine === 'jit' ? REPEAT : INTERP_REPEAT, samples: [] });
  }
  try {
    for (const s of series) {
      fillPolicy(s.obj);
      const r = s.obj.programs.port_filter!.run({ data: pkt });
      if (r.retval !== 2) throw new Error(`port_filter on ${s.name} returned ${r.retval}, expected XDP_PASS (2)`);
      s.obj.programs.port_filter!.run({ data: pkt, repeat: Math.min(s.repeat, 50_000) }); // warm up
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of series) s.samples.push(s.obj.programs.port_filter!.run({ data: pkt, repeat: s.repeat }).durationNs);
    }
  } finally {
    for (const s of series) s.obj.close();
  }
  const by = (n: string) => series.find((s) => s.name === n);
  const kernel = by('kernel');
  const k = kernel ? median(kernel.samples) : undefined;
  const out: BenchReport[] = [];
  for (const name of ['jit', 'interpreter'] as const) {
    const s = by(name)!;
    const v = median(s.samples);
    const r: BenchReport = { name: `port-filter XDP hash lookup: emulator ${name}`, unit: 'ns/packet', value: v, samples: s.samples.length };
    if (k !== undefined) {
      r.baseline = { name: 'kernel BPF_PROG_TEST_RUN', value: k };
      r.ratio = v / k;
      if (name === 'jit') r.target = 1.0;
      else r.ok = true;
    } else {
      r.ok = true;
      r.note = kernelNote;
    }
    if (name === 'interpreter') r.note = 'reference engine: correctness over speed (no target)';
    out.push(r);
  }
  if (k !== undefined) out.push({ name: 'port-filter XDP hash lookup: kernel', unit: 'ns/packet', value: k, samples: kernel!.samples.length, ok: true });
  return out;
}
