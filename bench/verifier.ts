/**
 * Verifier speed: the emulator's verifier vs the running kernel's own reported verification time
 * ("verification time N usec" in a BPF_LOG_STATS log) for the largest test programs (by
 * instructions the kernel processes), side by side in one run. Medians of several runs each.
 * Without root on Linux only the emulator side is measured (no ratio).
 */
import { readFileSync } from 'node:fs';
import { median, type BenchReport } from './run.js';
import { allProgs } from '../test/helpers/progs.js';
import { examplePrograms } from '../test/verifier/corpus.js';
import { parseObject } from '../lib/elf/index.js';
import { verifyProgram } from '../native-sim/verifier/index.js';
import type { ObjectSpec } from '../lib/spec/index.js';

const RUNS = 11;
const TOP = 5;


interface Candidate { path: string; spec: ObjectSpec; name: string; insns: number }

export async function bench(): Promise<BenchReport[]> {
  const progs = [...(await allProgs()), ...(await examplePrograms())];
  const cands: Candidate[] = [];
  for (const p of progs) {
    const spec = parseObject(readFileSync(p.path), p.path);
    const maps = new Map(spec.maps.map((m) => [m.name, m]));
    for (const prog of spec.programs) {
      try {
        const r = verifyProgram(prog, { maps, btf: spec.btf });
        cands.push({ path: p.path, spec, name: prog.name, insns: r.insnsProcessed });
      } catch {
        // rejected programs are not benchmarked
      }
    }
  }
  cands.sort((a, b) => b.insns - a.insns);
  const top = cands.slice(0, TOP);
  const kernelOk = process.platform === 'linux' && process.getuid?.() === 0;
  const load = kernelOk ? (await import('../lib/index.js')).load : undefined;
  const reports: BenchReport[] = [];
  for (const c of top) {
    const prog = c.spec.programs.find((p) => p.name === c.name)!;
    const maps = new Map(c.spec.maps.map((m) => [m.name, m]));
    for (let w = 0; w < 10; w++) verifyProgram(prog, { maps, btf: c.spec.btf }); // warm-up (V8 tiers the verifier up)
    const ours: number[] = [];
    const kernel: number[] = [];
    let kernelInsns: number | undefined;
    for (let r = 0; r < RUNS; r++) {
      const t0 = process.hrtime.bigint();
      verifyProgram(prog, { maps, btf: c.spec.btf });
      ours.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (load) {
        const obj = await load(c.path, { backend: 'kernel', programs: [c.name], logLevel: 4 });
        try {
          const log = obj.programs[c.name]!.log ?? '';
          const m = /verification time (\d+) usec/.exec(log);
          if (m) kernel.push(Number(m[1]));
          kernelInsns = obj.programs[c.name]!.insnsProcessed ?? kernelInsns;
        } finally {
          obj.close();
        }
      }
    }
    const value = median(ours);
    const report: BenchReport = {
      name: `verify ${c.name} (ours ${c.insns} insns${kernelInsns !== undefined ? `, kernel ${kernelInsns}` : ''})`,
      unit: 'us',
      value,
      samples: RUNS,
      target: 2,
    };
    if (kernel.length) {
      report.baseline = { name: 'kernel verification time', value: median(kernel) };
      report.ratio = value / median(kernel);
    } else {
      report.note = 'kernel side not measured (needs root on Linux)';
    }
    reports.push(report);
  }
  return reports;
}
