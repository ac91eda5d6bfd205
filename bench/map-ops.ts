/**
 * Map operations from TypeScript (KernelMap over the bpf_sys addon) vs a small C program doing
 * the same raw bpf(2) syscalls (bench/c/map_ops.c, compiled with gcc at bench time), measured
 * side by side in one run: rounds alternate C, TS, C, TS... and each series reports its median.
 *
 * Workload (identical on both sides): a BPF_MAP_TYPE_HASH with u32 keys and u64 values;
 * single ops = 100k BPF_MAP_UPDATE_ELEM then 100k BPF_MAP_LOOKUP_ELEM over keys 0..9999
 * (TS writes the key per op and gets a fresh value copy back, as the API does), timed in
 * 1000-op chunks with the median chunk per round on both sides (robust to preemption bursts);
 * batch ops = BPF_MAP_UPDATE_BATCH and BPF_MAP_LOOKUP_BATCH of 10k entries, 5 calls each per round,
 * each call timed on its own (medians over all calls).
 * Targets: TS/C ≤ 1.15 for single ops, ≤ 1.05 for batch ops. Needs root on Linux.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelMap } from '../lib/kernel/maps.js';
import { probe } from '../lib/kernel/binding.js';
import type { BenchReport } from './run.js';

export type { BenchReport };

const here = dirname(fileURLToPath(import.meta.url));

const ROUNDS = Number(process.env.BPFKIT_BENCH_ROUNDS ?? 7);
const OPS = 100_000;
const BATCH = 10_000;
/** Batch calls per round, as in map_ops.c. */
const BATCH_REPEAT = 5;
/** Single ops are timed in chunks of this many ops; a round reports the median chunk (as map_ops.c). */
const CHUNK = 1000;

interface Series {
  update: number[];
  lookup: number[];
  updateBatch: number[];
  lookupBatch: number[];
}

function median(a: number[]): number {
  const s = a.slice().sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function buildC(): string {
  const outDir = join(tmpdir(), 'bpfkit-bench');
  mkdirSync(outDir, { recursive: true });
  const bin = join(outDir, `map_ops_${process.pid}`);
  execFileSync('gcc', ['-O2', '-o', bin, join(here, 'c', 'map_ops.c')]);
  return bin;
}

function runC(bin: string): Series {
  return JSON.parse(execFileSync(bin, ['1', String(OPS), String(BATCH)], { encoding: 'utf8' })) as Series;
}

/** One TS round: exactly the C program's work. */
function runTs(): Series {
  const maxEntries = Math.max(BATCH, 10_000) * 2;
  const m = KernelMap.create({
    name: 'bench_ts', type: 'hash', keySize: 4, valueSize: 8, maxEntries, flags: 0, pinning: 'none',
    section: '.maps', keyTypeId: 0, valueTypeId: 0, contents: [], freeze: false, globalData: false,
  });
  try {
    const key = new Uint8Array(4);
    const kv = new DataView(key.buffer);
    const value = new Uint8Array(8);
    const vv = new DataView(value.buffer);
    const chunks = OPS / CHUNK;
    const cu: number[] = [];
    const cl: number[] = [];
    for (let c = 0; c < chunks; c++) {
      const t0 = process.hrtime.bigint();
      for (let j = 0; j < CHUNK; j++) {
        const i = c * CHUNK + j;
        kv.setUint32(0, i % 10_000, true);
        vv.setUint32(0, i, true);
        m.update(key, value, 0);
      }
      cu.push(Number(process.hrtime.bigint() - t0) / CHUNK);
    }
    let sum = 0;
    for (let c = 0; c < chunks; c++) {
      const t0 = process.hrtime.bigint();
      for (let j = 0; j < CHUNK; j++) {
        const i = c * CHUNK + j;
        kv.setUint32(0, i % 10_000, true);
        const v = m.lookup(key)!;
        sum += v[0]!;
      }
      cl.push(Number(process.hrtime.bigint() - t0) / CHUNK);
    }
    if (sum === -1) console.error('unlikely');
    const update = median(cu);
    const lookup = median(cl);

    const keys = new Uint8Array(BATCH * 4);
    const vals = new Uint8Array(BATCH * 8);
    const kd = new DataView(keys.buffer);
    const vd = new DataView(vals.buffer);
    for (let i = 0; i < BATCH; i++) {
      kd.setUint32(i * 4, i, true);
      vd.setBigUint64(i * 8, BigInt(i * 3), true);
    }
    const updateBatch: number[] = [];
    const lookupBatch: number[] = [];
    for (let k = 0; k < BATCH_REPEAT; k++) {
      const t0 = process.hrtime.bigint();
      m.updateBatch(keys, vals, BATCH, 0);
      updateBatch.push(Number(process.hrtime.bigint() - t0) / BATCH);
    }
    for (let k = 0; k < BATCH_REPEAT; k++) {
      const t0 = process.hrtime.bigint();
      const got = m.lookupBatch(undefined, BATCH).count;
      lookupBatch.push(Number(process.hrtime.bigint() - t0) / Math.max(got, 1));
    }
    return { update: [update], lookup: [lookup], updateBatch, lookupBatch };
  } finally {
    m.close();
  }
}

export async function bench(): Promise<BenchReport[]> {
  const p = probe();
  if (!p.ok) {
    return [{ name: 'map-ops', unit: 'ns/op', value: NaN, note: `skipped: kernel backend unavailable: ${p.reason}` }];
  }
  const bin = buildC();
  const c: Series = { update: [], lookup: [], updateBatch: [], lookupBatch: [] };
  const ts: Series = { update: [], lookup: [], updateBatch: [], lookupBatch: [] };
  // warm up both (JIT, page cache, map allocation paths)
  runC(bin);
  runTs();
  for (let r = 0; r < ROUNDS; r++) {
    // alternate which side goes first so drift on a shared machine hits both equally
    let a: Series, b: Series;
    if (r % 2 === 0) {
      a = runC(bin);
      b = runTs();
    } else {
      b = runTs();
      a = runC(bin);
    }
    for (const k of Object.keys(c) as (keyof Series)[]) {
      c[k].push(...a[k]);
      ts[k].push(...b[k]);
    }
  }
  const rows: [keyof Series, string, number][] = [
    ['update', 'map update (single, hash u32→u64)', 1.15],
    ['lookup', 'map lookup (single, hash u32→u64)', 1.15],
    ['updateBatch', 'map update batch (10k entries)', 1.05],
    ['lookupBatch', 'map lookup batch (10k entries)', 1.05],
  ];
  return rows.map(([k, name, target]) => {
    const value = median(ts[k]);
    const baseline = median(c[k]);
    const ratio = value / baseline;
    return {
      name,
      unit: 'ns/op',
      value: Math.round(value * 10) / 10,
      baseline: Math.round(baseline * 10) / 10,
      baselineName: 'C raw bpf(2) (bench/c/map_ops.c, gcc -O2)',
      ratio: Math.round(ratio * 1000) / 1000,
      target,
      ok: ratio <= target,
      samples: ts[k].length,
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) {
    console.log(
      `${r.name.padEnd(38)} ts ${String(r.value).padStart(8)} ${r.unit}  c ${String(r.baseline).padStart(8)} ${r.unit}  ratio ${r.ratio} (target ≤ ${r.target}) ${r.ok ? 'ok' : 'MISSED'}`,
    );
  }
}
