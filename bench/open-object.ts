/**
 * Opening an object: bpfkit's parseObject (what `openObject(bytes)` runs) vs libbpf's
 * `bpf_object__open_mem` in a small C program (bench/c/open_mem.c, built with gcc -lbpf at
 * bench time), both parsing from memory, measured side by side in one run: rounds alternate
 * C, TS, C, TS ...; each round reports the median of its iterations and each series the median
 * of its rounds.
 *
 * Reports:
 * - the largest test object (test/progs), target TS/C ≤ 2;
 * - every test object opened once per iteration (the mix a test run sees), target ≤ 2;
 * - for information: open + link every program (read `instructions` and `lineInfo`), which
 *   libbpf does only at load time, so this row has no target.
 *
 * Runs from `npm run bench` (bench/run.ts imports `bench()`), or standalone:
 * `npx tsx bench/open-object.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseObject } from '../lib/elf/index.js';
import { allProgs } from '../test/helpers/progs.js';
import { median, type BenchReport } from './run.js';


const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BPFKIT_BENCH_ROUNDS ?? 7);
const WARMUP = 200;
const ITERS = Number(process.env.BPFKIT_BENCH_ITERS ?? 501);


function buildC(): string {
  const outDir = join(tmpdir(), 'bpfkit-bench');
  mkdirSync(outDir, { recursive: true });
  const bin = join(outDir, `open_mem_${process.pid}`);
  execFileSync('gcc', ['-O2', '-o', bin, join(here, 'c', 'open_mem.c'), '-lbpf']);
  return bin;
}

/** One C round: median µs per iteration over ITERS iterations (after WARMUP). */
function roundC(bin: string, files: string[], iters: number): number {
  const out = execFileSync(bin, [String(WARMUP), String(iters), ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return median(out.trim().split('\n').map((l) => Number(l) / 1000));
}

/** One TS round, same shape as the C one. */
function roundTs(objs: Uint8Array[], names: string[], iters: number, link: boolean): number {
  const once = (): void => {
    for (let i = 0; i < objs.length; i++) {
      const spec = parseObject(objs[i]!, names[i]);
      if (link) for (const p of spec.programs) if (p.instructions.length === 0 || !p.lineInfo) throw new Error('empty program');
    }
  };
  for (let i = 0; i < WARMUP; i++) once();
  const ts: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    once();
    ts.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return median(ts);
}

function series(bin: string, files: string[], iters: number, link: boolean): { ts: number; c: number } {
  const objs = files.map((f) => new Uint8Array(readFileSync(f)));
  const ts: number[] = [];
  const c: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    c.push(roundC(bin, files, iters));
    ts.push(roundTs(objs, files, iters, link));
  }
  return { ts: median(ts), c: median(c) };
}

function report(name: string, s: { ts: number; c: number }, target: number | undefined, note: string): BenchReport {
  const ratio = s.ts / s.c;
  const r: BenchReport = {
    name, unit: 'µs', value: round(s.ts), baseline: round(s.c), baselineName: 'libbpf bpf_object__open_mem',
    ratio: round(ratio), samples: ROUNDS, note,
  };
  if (target !== undefined) {
    r.target = target;
    r.ok = ratio <= target;
  }
  return r;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export async function bench(): Promise<BenchReport[]> {
  const progs = await allProgs();
  const files = progs.map((p) => p.path);
  const largest = files.reduce((a, b) => (statSync(b).size > statSync(a).size ? b : a));
  const largestName = progs.find((p) => p.path === largest)!.name;
  const bin = buildC();
  // libbpf ≥ 1.0 refuses legacy SEC("maps") definitions: compare on the objects both can open.
  const opened = files.filter((f) => {
    try {
      execFileSync(bin, ['0', '1', f], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  const skipped = progs.filter((p) => !opened.includes(p.path)).map((p) => p.name);
  const big = series(bin, [largest], ITERS, false);
  const all = series(bin, opened, Math.max(51, Math.floor(ITERS / 5)), false);
  const linked = series(bin, [largest], ITERS, true);
  return [
    report(`open largest test object (${largestName}, ${statSync(largest).size} bytes)`, big, 2, 'parseObject(bytes) vs bpf_object__open_mem(bytes)'),
    report(`open all ${opened.length} test objects libbpf accepts`, all, 2,
      `per iteration: each object once${skipped.length ? `; without ${skipped.join(', ')} (libbpf 1.x rejects legacy SEC("maps"))` : ''}`),
    report(`open + link every program of ${largestName}`, linked, undefined, 'reads instructions and lineInfo of every program; libbpf links only at load, so no target'),
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const reports = await bench();
  for (const r of reports) {
    const ratio = r.ratio !== undefined ? ` ratio ${r.ratio}${r.target !== undefined ? ` (target ≤ ${r.target}: ${r.ok ? 'ok' : 'MISSED'})` : ''}` : '';
    console.log(`${r.name}: ${r.value} ${r.unit} vs ${r.baseline} ${r.unit} (${r.baselineName})${ratio}`);
  }
}
