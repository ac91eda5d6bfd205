/**
 * Emulator execution speed: ns per run of a packet-parsing program (Ethernet → IPv4 → TCP
 * destination port, variable IHL, bounds checks against data_end, a small port classifier) and of
 * a checksum loop (32 iterations: the JIT's structured-loop code) on the JIT and on the interpreter, and — as the reference — the same instructions loaded into the
 * kernel as XDP and timed with BPF_PROG_TEST_RUN (repeat), measured side by side in one run:
 * rounds alternate kernel and JIT, then the interpreter's rounds; each series reports its median.
 *
 * The emulator runs the program the way the backend does: one Vm reused across runs, the packet
 * in a region, `runProgram32` per packet (budget/frame reset included). The kernel variant differs
 * only in its 3-instruction prologue (data/data_end from xdp_md instead of r1/r2). The hash-map
 * port filter (maps + helpers) is measured by the emulator backend's own bench.
 * Time is CPU time (process.cpuUsage), not wall time: on a shared machine wall time counts the
 * moments this process waits for a CPU, which the kernel's test-run timer also leaves out.
 * Target: JIT ≤ 1.0× the kernel's per-run time (reported, not asserted). Kernel series needs
 * root on Linux; elsewhere only the emulator series are reported.
 */
import * as A from '../lib/isa/asm.js';
import { createKernelBackend, probeKernel } from '../lib/kernel/index.js';
import type { ObjectSpec, ProgramSpec } from '../lib/spec/index.js';
import { RegionKind, Vm, runProgram32, type CompiledProgram } from '../native-sim/engine.js';
import { ENGINES } from '../native-sim/jit/raw.js';
import { median, type BenchReport } from './run.js';


const ROUNDS = Number(process.env.BPFKIT_BENCH_ROUNDS ?? 7);
const RUNS = 500_000;
const INTERP_RUNS = 20_000;

/** The body: r1 = data, r3 = data_end. Returns XDP_DROP (1) for ports 22/23/3389, else XDP_PASS (2). */
function body(): A.AsmItem[] {
  const { R0, R1, R3, R4, R5, R6 } = A;
  return [
    A.mov64(R0, 2),
    A.mov64(R4, R1), A.add64(R4, 14), A.jgt(R4, R3, 'out'),
    A.ldxh(R5, R1, 12), A.jne(R5, 0x0008, 'out'),
    A.mov64(R4, R1), A.add64(R4, 34), A.jgt(R4, R3, 'out'),
    A.ldxb(R5, R1, 23), A.jne(R5, 6, 'out'),
    A.ldxb(R5, R1, 14), A.and64(R5, 0x0f), A.lsh64(R5, 2), A.jlt(R5, 20, 'out'),
    A.mov64(R4, R1), A.add64(R4, R5), A.add64(R4, 14),
    A.mov64(R6, R4), A.add64(R6, 20), A.jgt(R6, R3, 'out'),
    A.ldxh(R5, R4, 2), A.be(R5, 16),
    A.jeq(R5, 22, 'drop'), A.jeq(R5, 23, 'drop'), A.jeq(R5, 3389, 'drop'),
    A.ldxb(R5, R4, 13), A.jset(R5, 0x04, 'drop'), // RST
    A.ja('out'),
    A.label('drop'), A.mov64(R0, 1),
    A.label('out'), A.exit(),
  ];
}

/** A loop (structured-loop JIT code): ones-complement sum of the first 32 16-bit words, r1 = data, r3 = data_end. */
function checksumBody(): A.AsmItem[] {
  const { R0, R1, R3, R4, R5, R6, R7 } = A;
  return [
    A.mov64(R0, 0), A.mov64(R5, R1), A.mov64(R7, 0),
    A.label('loop'),
    A.jge(R7, 32, 'done'),
    A.mov64(R6, R5), A.add64(R6, 2), A.jgt(R6, R3, 'done'),
    A.ldxh(R4, R5, 0), A.add64(R0, R4), A.mov64(R5, R6), A.add64(R7, 1),
    A.ja('loop'),
    A.label('done'),
    A.mov64(R4, R0), A.rsh64(R4, 16), A.and64(R0, 0xffff), A.add64(R0, R4),
    A.mov64(R4, R0), A.rsh64(R4, 16), A.and64(R0, 0xffff), A.add64(R0, R4),
    A.xor64(R0, 0xffff), A.and64(R0, 1), A.add64(R0, 1), // an XDP verdict (1 or 2) from the sum
    A.exit(),
  ];
}

function packet(dport: number): Uint8Array {
  const p = new Uint8Array(74);
  p.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00], 0);
  p.set([0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  p.set([0x30, 0x39, dport >> 8, dport & 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0], 34);
  return p;
}


function emulatorSeries(prog: CompiledProgram, pkt: Uint8Array, runs: number, expect: number): () => number {
  const vm = new Vm();
  const region = vm.space.add(RegionKind.Packet, 'packet', pkt.slice());
  return () => {
    let sink = 0;
    const c0 = process.cpuUsage();
    for (let i = 0; i < runs; i++) {
      vm.setRegPtr(1, region, 0);
      vm.setReg(2, pkt.length, 0);
      sink += runProgram32(prog, vm);
    }
    const c = process.cpuUsage(c0);
    const dt = (c.user + c.system) * 1000;
    if (sink !== runs * expect) throw new Error(`bench: unexpected verdicts (${sink / runs} per run, expected ${expect})`);
    return dt / runs;
  };
}

interface Workload {
  what: string;
  body: () => A.AsmItem[];
  /** Expected verdict on the benchmark packet. */
  verdict: number;
}

const WORKLOADS: Workload[] = [
  { what: 'packet parse + port classify (straight-line code)', body, verdict: 2 },
  { what: 'checksum loop, 32 words (structured loop code)', body: checksumBody, verdict: 1 },
];

async function benchOne(w: Workload, pkt: Uint8Array): Promise<BenchReport[]> {
  const rawBody = A.assembleBytes([A.mov64(A.R3, A.R1), A.add64(A.R3, A.R2), ...w.body()]);
  const jit = ENGINES.jit.compile({ name: 'bench', insns: rawBody });
  const interp = ENGINES.interpreter.compile({ name: 'bench', insns: rawBody });
  const runJit = emulatorSeries(jit, pkt, RUNS, w.verdict);
  const runInterp = emulatorSeries(interp, pkt, INTERP_RUNS, w.verdict);

  let runKernel: (() => number) | undefined;
  let closeKernel: (() => void) | undefined;
  let kernelNote = '';
  const probe = probeKernel();
  if (probe.ok && process.getuid?.() === 0) {
    const insns = A.assembleBytes([A.ldxw(A.R3, A.R1, 4), A.ldxw(A.R1, A.R1, 0), ...w.body()]);
    const spec: ProgramSpec = {
      name: 'bench_prog', section: 'xdp', type: 'xdp', flags: 0, sleepable: false, instructions: insns, subprograms: [],
      functionStarts: [{ name: 'bench_prog', insn: 0 }], mapReferences: [], externReferences: [], license: 'GPL',
      kernelVersion: 0, funcInfo: [], lineInfo: [], coreRelocs: [],
    };
    const obj: ObjectSpec = { source: '<bench>', license: 'GPL', kernelVersion: 0, programs: [spec], maps: [] };
    const session = createKernelBackend().openSession(obj);
    const prog = session.loadProgram(spec, { maps: new Map() });
    session.close();
    runKernel = () => {
      const r = prog.run({ data: pkt, repeat: RUNS });
      if (r.retval !== w.verdict) throw new Error(`bench: kernel verdict ${r.retval}, expected ${w.verdict}`);
      return r.durationNs;
    };
    closeKernel = () => prog.close();
  } else {
    kernelNote = `kernel series skipped: ${probe.ok ? 'not root' : probe.reason}`;
  }

  // warm up
  runJit();
  runInterp();
  runKernel?.();
  const k: number[] = [];
  const j: number[] = [];
  const it: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (runKernel) k.push(runKernel());
    j.push(runJit());
  }
  // The interpreter allocates (bigint registers): its series runs after the others so that its
  // garbage collection does not land inside their timings.
  for (let r = 0; r < ROUNDS; r++) it.push(runInterp());
  closeKernel?.();
  const jm = median(j);
  const im = median(it);
  const reports: BenchReport[] = [];
  const name = `emulator JIT: ${w.what}, per run`;
  if (k.length) {
    const km = median(k);
    reports.push({
      name, unit: 'ns', value: jm, baseline: km, baselineName: 'kernel BPF_PROG_TEST_RUN (xdp, repeat)',
      ratio: jm / km, target: 1.0, ok: jm / km <= 1.0, samples: ROUNDS,
    });
  } else {
    reports.push({ name, unit: 'ns', value: jm, samples: ROUNDS, note: kernelNote });
  }
  reports.push({
    name: `emulator interpreter: ${w.what}, per run`, unit: 'ns', value: im, baseline: jm,
    baselineName: 'emulator JIT', ratio: im / jm, samples: ROUNDS, note: 'the interpreter is the reference engine (BigInt registers), not meant to be fast',
  });
  return reports;
}

export async function bench(): Promise<BenchReport[]> {
  const pkt = packet(8080);
  const out: BenchReport[] = [];
  for (const w of WORKLOADS) out.push(...(await benchOne(w, pkt)));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  bench().then((r) => console.log(JSON.stringify(r, null, 2)));
}
