/**
 * Benchmark runner (`npm run bench` = `tsx bench/run.ts`). Imports every `bench/*.ts` (except
 * this file) that exports `async function bench(): Promise<BenchReport[]>`, runs them one after
 * another, each in its own Node process (never in parallel: they measure time), and prints one table. Writes nothing into the
 * tree; benches keep scratch files under the OS temp dir.
 *
 *   npm run bench                     all benchmarks
 *   npm run bench -- map-ops elf      only files whose name contains one of the words
 *   npm run bench -- --json           the reports as JSON on stdout (table on stderr)
 *   npm run bench -- --same-process   all files in this process (default: each in a fresh one,
 *                                     so no bench runs in a heap the ones before it left)
 *
 * Each bench measures bpfkit and its baseline side by side in the same run and reports medians;
 * `ratio` = value / baseline, compared against `target` (ratio ≤ target is ok).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchReport {
  /** What was measured. */
  name: string;
  /** Unit of `value` (e.g. `ns/op`, `ms`, `packets/s`). */
  unit: string;
  /** Median of the bpfkit series. */
  value: number;
  /** The baseline measured in the same run: `{ name, value }`, or a number with `baselineName`. */
  baseline?: { name: string; value: number } | number;
  baselineName?: string;
  /** value / baseline. Computed here when missing. */
  ratio?: number;
  /** Goal for the ratio (≤ target is ok). */
  target?: number;
  /** Set by the bench when "ok" is not simply ratio ≤ target (e.g. higher is better). */
  ok?: boolean;
  samples?: number;
  note?: string;
}

/** Median of a series (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface BenchModule {
  bench(): Promise<BenchReport[]>;
}

interface Row {
  file: string;
  report?: BenchReport;
  error?: string;
  seconds: number;
}

const here = dirname(fileURLToPath(import.meta.url));

export function benchFiles(dir = here): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts') && f !== 'run.ts')
    .sort()
    .map((f) => join(dir, f));
}

function baselineOf(r: BenchReport): { name: string; value: number } | undefined {
  if (r.baseline === undefined) return undefined;
  if (typeof r.baseline === 'number') return { name: r.baselineName ?? 'baseline', value: r.baseline };
  return r.baseline;
}

/** Normalise a report: compute ratio and ok where the bench did not. */
export function normalise(r: BenchReport): BenchReport & { baselineValue?: number; baselineLabel?: string } {
  const b = baselineOf(r);
  const out: BenchReport & { baselineValue?: number; baselineLabel?: string } = { ...r };
  if (b) {
    out.baselineValue = b.value;
    out.baselineLabel = b.name;
    if (out.ratio === undefined && b.value > 0) out.ratio = r.value / b.value;
  }
  if (out.ok === undefined && out.ratio !== undefined && out.target !== undefined) out.ok = out.ratio <= out.target;
  return out;
}

function fmt(n: number | undefined, digits = 3): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  if (Math.abs(n) >= 1000) return n.toFixed(0);
  return Number(n.toPrecision(digits)).toString();
}

export function formatTable(rows: Row[]): string {
  const header = ['file', 'benchmark', 'value', 'baseline', 'ratio', 'target', 'ok'];
  const lines: string[][] = [header];
  for (const row of rows) {
    if (row.error) {
      lines.push([row.file, `ERROR: ${row.error}`, '', '', '', '', 'no']);
      continue;
    }
    const r = normalise(row.report!);
    lines.push([
      row.file,
      r.name,
      `${fmt(r.value)} ${r.unit}`,
      r.baselineValue !== undefined ? `${fmt(r.baselineValue)} ${r.unit} (${r.baselineLabel})` : '-',
      r.ratio !== undefined ? `${fmt(r.ratio)}×` : '-',
      r.target !== undefined ? `≤ ${fmt(r.target)}` : '-',
      r.ok === undefined ? '-' : r.ok ? 'yes' : 'NO',
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines.map((l) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

async function runOne(path: string): Promise<Row[]> {
  const file = basename(path, '.ts');
  const t0 = performance.now();
  try {
    const mod = (await import(pathToFileURL(path).href)) as Partial<BenchModule>;
    if (typeof mod.bench !== 'function') return [];
    const reports = await mod.bench();
    const seconds = (performance.now() - t0) / 1000;
    if (!Array.isArray(reports) || reports.length === 0) return [{ file, error: 'bench() returned no reports', seconds }];
    return reports.map((report) => ({ file, report, seconds }));
  } catch (e) {
    return [{ file, error: e instanceof Error ? e.message.split('\n')[0]! : String(e), seconds: (performance.now() - t0) / 1000 }];
  }
}

/**
 * Run one bench file in a fresh Node process (same flags and loaders as this one), so that no
 * bench measures in a heap, JIT state or map set left by the benches before it.
 */
function runIsolated(path: string): Row[] {
  const file = basename(path, '.ts');
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-bench-'));
  const out = join(dir, 'rows.json');
  const t0 = performance.now();
  try {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', path, out], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (existsSync(out)) return JSON.parse(readFileSync(out, 'utf8')) as Row[];
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    return [{ file, error: `bench process ended without a report (${why})`, seconds: (performance.now() - t0) / 1000 }];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runBenches(filters: string[], log: (s: string) => void, isolate = true): Promise<Row[]> {
  const files = benchFiles().filter((f) => filters.length === 0 || filters.some((w) => basename(f).includes(w)));
  const rows: Row[] = [];
  for (const f of files) {
    log(`running ${basename(f)} ...\n`);
    const r = isolate ? runIsolated(f) : await runOne(f);
    for (const row of r) log(row.error ? `  ${row.file}: error: ${row.error}\n` : `  ${row.report!.name}: ${fmt(row.report!.value)} ${row.report!.unit}\n`);
    rows.push(...r);
  }
  return rows;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--child') {
    // one bench file in this process; rows to the file the parent named
    writeFileSync(argv[2]!, JSON.stringify(await runOne(argv[1]!)));
    return 0;
  }
  const json = argv.includes('--json');
  const filters = argv.filter((a) => !a.startsWith('--'));
  const log = (s: string) => process.stderr.write(s);
  const rows = await runBenches(filters, log, !argv.includes('--same-process'));
  if (rows.length === 0) {
    log(`no benchmarks matched${filters.length ? ` ${filters.join(', ')}` : ''} in ${here}\n`);
    return 1;
  }
  const table = formatTable(rows);
  if (json) {
    process.stderr.write('\n' + table);
    process.stdout.write(JSON.stringify(rows.map((r) => (r.error ? { file: r.file, error: r.error } : { file: r.file, ...normalise(r.report!) })), null, 2) + '\n');
  } else {
    process.stdout.write('\n' + table);
  }
  return rows.some((r) => r.error) ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
