/**
 * Map operations from TypeScript vs a small C program doing the same raw bpf(2) syscalls
 * (bench/c/map_ops.c, compiled with gcc at bench time), measured side by side in one run.
 *
 * The map is a BTF-typed `BPF_MAP_TYPE_HASH` (u32 → u64, 20k entries max) in a tiny object
 * compiled with clang-19 at bench time and loaded through the public `load()`; the C program opens
 * the very same map by id, so both sides work on one map (same buckets, same memory). The C
 * program runs as a child "server"; C and TS measurements are interleaved chunk by chunk (which
 * side goes first alternates), so both see the same machine load. Each side times only its own
 * operations, inside its own process.
 *
 * Rows (identical work on both sides; keys cycle over 0..9999, batches are the 10k keys 0..9999):
 *  - single update / lookup: `KernelMap.update` / `KernelMap.lookup` (the BackendMap the public
 *    API sits on; TS writes the key per op and gets a fresh value copy back), chunks of 1000 ops;
 *    and `KernelMap.lookupInto` (the value copied into one buffer the caller reuses, which is what
 *    the C side does: the fresh Uint8Array per lookup costs ~60–80 ns here, most of the gap);
 *  - batch update / lookup / delete of 10k entries through the BackendMap packed API:
 *    `updateBatch`, `lookupBatch` (result copied out into memory the caller owns),
 *    `lookupBatchView` (views valid until the next batch lookup), `deleteBatch` (each delete is
 *    preceded by an untimed update batch that refills the map, on both sides);
 *  - the same batches through the public `BpfMap` (`updateBatch(number[], bigint[])`,
 *    `lookupBatch({ batchSize: 10000 })` → `[number, bigint][]`, `deleteBatch(number[])`): encode
 *    and decode of every entry included, against the same C syscalls.
 * Batch samples are bursts of 5 calls (a burst reports its median call, on both sides).
 *
 * Reported: value/baseline = medians of all TS/C samples of all rounds; ratio = median of the
 * per-pair ratios TS/C (each pair measured back to back, so slow load drift cancels), all wall
 * time. The note also gives the interquartile range of the paired ratios, the ratio of the
 * medians, the same comparison in CPU time of each process (TS: process.cpuUsage of the whole
 * Node process; C: CLOCK_PROCESS_CPUTIME_ID; CPU time leaves out time spent preempted, so it
 * stays stable on a loaded machine) and the load average (start → end, max). Targets: ≤ 1.15 single ops,
 * ≤ 1.05 batch ops. Needs root on Linux. BPFKIT_BENCH_ROUNDS sets the rounds (default 5).
 */
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probe } from '../lib/kernel/binding.js';
import type { KernelMap } from '../lib/kernel/maps.js';
import { load, type BpfMap, type BpfObject } from '../lib/index.js';
import { median, type BenchReport } from './run.js';

export type { BenchReport };

const here = dirname(fileURLToPath(import.meta.url));

const ROUNDS = Math.max(1, Number(process.env.BPFKIT_BENCH_ROUNDS ?? 5) || 5);
const CHUNK = 1000;
const CHUNKS = 100;
const BATCH = 10_000;
/** Batch bursts per round and kind. */
const BATCH_CALLS = 24;
/** Batch calls per burst; a burst reports its median (both sides), which drops calls hit by preemption. */
const BATCH_BURST = 5;

const BPF_SRC = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ${BATCH * 2});
	__type(key, __u32);
	__type(value, __u64);
} bench_map SEC(".maps");
char LICENSE[] SEC("license") = "GPL";
`;

/** [wall ns, CPU ns] of one measurement (per op or per entry). */
type Sample = [number, number];

/** CPU time of this process in ns (user + system; leaves out time spent preempted). */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

type Kind = 'update' | 'lookup' | 'lookupInto' | 'updateBatch' | 'lookupBatch' | 'lookupBatchView' | 'deleteBatch' | 'pubUpdateBatch' | 'pubLookupBatch' | 'pubDeleteBatch';


/** The q-quantile (0..1) of `a`, nearest rank. */
function quantile(a: readonly number[], q: number): number {
  const s = a.slice().sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
}

function multiarchInclude(): string {
  try {
    return execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
  } catch {
    return `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  }
}

/** The C baseline as a line-protocol child process. */
class CBaseline {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buf = '';
  private waiting: ((line: string) => void)[] = [];

  constructor(bin: string) {
    this.proc = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
  }

  cmd(line: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.proc.stdin.write(line + '\n');
    });
  }

  /** A measurement reply: [wall ns, CPU ns] per op/entry. */
  async num(line: string): Promise<Sample> {
    const r = await this.cmd(line);
    const [w, c] = r.split(' ').map(Number);
    if (!Number.isFinite(w) || !Number.isFinite(c)) throw new Error(`bench/c/map_ops: ${line}: ${r}`);
    return [w!, c!];
  }

  close(): void {
    this.proc.stdin.end('quit\n');
  }
}

/** The TS side: the same operations through the BackendMap (KernelMap) and the public BpfMap. */
class TsSide {
  private obj: BpfObject | undefined;
  private pm!: BpfMap<number, bigint>;
  private m!: KernelMap;
  private readonly key = new Uint8Array(4);
  private readonly kv = new DataView(this.key.buffer);
  private readonly value = new Uint8Array(8);
  /** lookupInto target, reused (the C side looks up into one stack buffer too). */
  private readonly out = new Uint8Array(8);
  private readonly vv = new DataView(this.value.buffer);
  private readonly keys = new Uint8Array(BATCH * 4);
  private readonly vals = new Uint8Array(BATCH * 8);
  private readonly pkeys: number[] = [];
  private readonly pvals: bigint[] = [];
  sum = 0;

  constructor(private readonly objPath: string) {
    const kd = new DataView(this.keys.buffer);
    const vd = new DataView(this.vals.buffer);
    for (let i = 0; i < BATCH; i++) {
      kd.setUint32(i * 4, i, true);
      vd.setBigUint64(i * 8, BigInt(i * 3), true);
      this.pkeys.push(i);
      this.pvals.push(BigInt(i * 3));
    }
  }

  /** Load a fresh object; returns the map id for the C side. */
  async init(): Promise<number> {
    this.obj?.close();
    this.obj = await load(this.objPath, { backend: 'kernel' });
    this.pm = this.obj.map('bench_map') as BpfMap<number, bigint>;
    this.m = this.pm.handle as KernelMap;
    if (this.pm.keyCodec.typeName !== 'u32' && this.pm.keyCodec.typeName !== '__u32') throw new Error(`bench map key codec is ${this.pm.keyCodec.typeName}, expected u32 from BTF`);
    return this.pm.id;
  }

  upd(start: number, n: number): Sample {
    const m = this.m;
    const c0 = cpuNs();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      this.kv.setUint32(0, (start + i) % 10_000, true);
      this.vv.setUint32(0, start + i, true);
      m.update(this.key, this.value, 0);
    }
    const t1 = process.hrtime.bigint();
    const c1 = cpuNs();
    return [Number(t1 - t0) / n, (c1 - c0) / n];
  }

  lkp(start: number, n: number): Sample {
    const m = this.m;
    let sum = 0;
    const c0 = cpuNs();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      this.kv.setUint32(0, (start + i) % 10_000, true);
      sum += m.lookup(this.key)![0]!;
    }
    const t1 = process.hrtime.bigint();
    const c1 = cpuNs();
    this.sum += sum;
    return [Number(t1 - t0) / n, (c1 - c0) / n];
  }

  /** Like lkp, through lookupInto: the value lands in memory the caller reuses, as in the C program. */
  lkpInto(start: number, n: number): Sample {
    const m = this.m;
    const out = this.out;
    let sum = 0;
    const c0 = cpuNs();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      this.kv.setUint32(0, (start + i) % 10_000, true);
      if (m.lookupInto(this.key, out)) sum += out[0]!;
    }
    const t1 = process.hrtime.bigint();
    const c1 = cpuNs();
    this.sum += sum;
    return [Number(t1 - t0) / n, (c1 - c0) / n];
  }

  /** Median over `k` calls of `f`, each timed alone; `f` returns the entries it handled. */
  private burst(k: number, f: () => number, before?: () => void): Sample {
    const t: number[] = [];
    const u: number[] = [];
    for (let i = 0; i < k; i++) {
      before?.();
      const c0 = cpuNs();
      const t0 = process.hrtime.bigint();
      const got = f();
      const t1 = process.hrtime.bigint();
      const c1 = cpuNs();
      t.push(Number(t1 - t0) / Math.max(got, 1));
      u.push((c1 - c0) / Math.max(got, 1));
    }
    return [median(t), median(u)];
  }

  private refill = (): void => {
    this.m.updateBatch(this.keys, this.vals, BATCH, 0);
  };

  bupd(k: number): Sample {
    return this.burst(k, () => this.m.updateBatch(this.keys, this.vals, BATCH, 0));
  }

  blkp(k: number): Sample {
    return this.burst(k, () => {
      const r = this.m.lookupBatch(undefined, BATCH);
      this.sum += r.values[0] ?? 0;
      return r.count;
    });
  }

  blkpv(k: number): Sample {
    return this.burst(k, () => {
      const r = this.m.lookupBatchView(undefined, BATCH);
      this.sum += r.values[0] ?? 0;
      return r.count;
    });
  }

  bdel(k: number): Sample {
    return this.burst(k, () => this.m.deleteBatch(this.keys, BATCH), this.refill);
  }

  pupd(k: number): Sample {
    return this.burst(k, () => this.pm.updateBatch(this.pkeys, this.pvals));
  }

  plkp(k: number): Sample {
    return this.burst(k, () => {
      const r = this.pm.lookupBatch({ batchSize: BATCH });
      this.sum += r.length;
      return r.length;
    });
  }

  pdel(k: number): Sample {
    return this.burst(k, () => this.pm.deleteBatch(this.pkeys), this.refill);
  }

  close(): void {
    this.obj?.close();
  }
}

export async function bench(): Promise<BenchReport[]> {
  const p = probe();
  if (!p.ok) return [{ name: 'map-ops', unit: 'ns/op', value: NaN, note: `skipped: kernel backend unavailable: ${p.reason}` }];
  const dir = join(tmpdir(), 'bpfkit-bench');
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, `map_ops_${process.pid}`);
  const src = join(dir, `map_ops_${process.pid}.bpf.c`);
  const obj = join(dir, `map_ops_${process.pid}.bpf.o`);
  execFileSync('gcc', ['-O2', '-o', bin, join(here, 'c', 'map_ops.c')]);
  writeFileSync(src, BPF_SRC);
  execFileSync(process.env.BPFKIT_CLANG ?? 'clang-19', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${multiarchInclude()}`, '-c', src, '-o', obj]);
  const c = new CBaseline(bin);
  const ts = new TsSide(obj);
  const kinds: Kind[] = ['update', 'lookup', 'lookupInto', 'updateBatch', 'lookupBatch', 'lookupBatchView', 'deleteBatch', 'pubUpdateBatch', 'pubLookupBatch', 'pubDeleteBatch'];
  const cs = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
  const tss = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
  const ccpu = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
  const tcpu = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
  const load0 = loadavg()[0]!;
  let loadMax = load0;
  try {
    for (let r = -1; r < ROUNDS; r++) {
      const warm = r < 0; // round -1 warms both sides up (JIT, map code paths) and is discarded
      const id = await ts.init();
      const ok = await c.cmd(`open ${id} ${BATCH}`);
      if (ok !== 'ok') throw new Error(`bench/c/map_ops: ${ok}`);
      const pair = async (kind: Kind, cCmd: string, tsRun: () => Sample, i: number) => {
        let cv: Sample;
        let tv: Sample;
        if (i % 2 === 0) {
          cv = await c.num(cCmd);
          tv = tsRun();
        } else {
          tv = tsRun();
          cv = await c.num(cCmd);
        }
        if (!warm) {
          cs[kind].push(cv[0]);
          tss[kind].push(tv[0]);
          ccpu[kind].push(cv[1]);
          tcpu[kind].push(tv[1]);
        }
      };
      const B = BATCH_BURST;
      for (let i = 0; i < CHUNKS; i++) await pair('update', `upd ${i * CHUNK} ${CHUNK}`, () => ts.upd(i * CHUNK, CHUNK), i);
      for (let i = 0; i < CHUNKS; i++) await pair('lookup', `lkp ${i * CHUNK} ${CHUNK}`, () => ts.lkp(i * CHUNK, CHUNK), i);
      for (let i = 0; i < CHUNKS; i++) await pair('lookupInto', `lkp ${i * CHUNK} ${CHUNK}`, () => ts.lkpInto(i * CHUNK, CHUNK), i);
      // Batch kinds take turns call by call (not one kind after the other), so every kind sees
      // the whole round's load; the map holds keys 0..9999 between calls.
      for (let i = 0; i < BATCH_CALLS; i++) {
        await pair('updateBatch', `bupd ${B}`, () => ts.bupd(B), i);
        await pair('pubUpdateBatch', `bupd ${B}`, () => ts.pupd(B), i);
        await pair('lookupBatch', `blkp ${B}`, () => ts.blkp(B), i);
        await pair('lookupBatchView', `blkp ${B}`, () => ts.blkpv(B), i);
        await pair('pubLookupBatch', `blkp ${B}`, () => ts.plkp(B), i);
        await pair('deleteBatch', `bdel ${B}`, () => ts.bdel(B), i);
        await pair('pubDeleteBatch', `bdel ${B}`, () => ts.pdel(B), i);
        await c.num(`bupd 1`); // refill after the deletes
      }
      loadMax = Math.max(loadMax, loadavg()[0]!);
    }
  } finally {
    c.close();
    ts.close();
    rmSync(bin, { force: true });
    rmSync(src, { force: true });
    rmSync(obj, { force: true });
  }
  const load1 = loadavg()[0]!;
  const rows: [Kind, string, number][] = [
    ['update', 'map update (single, hash u32→u64)', 1.15],
    ['lookup', 'map lookup (single, hash u32→u64, fresh value copy per op)', 1.15],
    ['lookupInto', 'map lookup (single, hash u32→u64, lookupInto a reused buffer, as the C side)', 1.15],
    ['updateBatch', 'map update batch (10k, packed)', 1.05],
    ['lookupBatch', 'map lookup batch (10k, packed, copied out)', 1.05],
    ['lookupBatchView', 'map lookup batch (10k, packed, views)', 1.05],
    ['deleteBatch', 'map delete batch (10k, packed)', 1.05],
    ['pubUpdateBatch', 'BpfMap.updateBatch (10k, number→bigint)', 1.05],
    ['pubLookupBatch', 'BpfMap.lookupBatch (10k, [number, bigint][])', 1.05],
    ['pubDeleteBatch', 'BpfMap.deleteBatch (10k, number[])', 1.05],
  ];
  return rows.map(([k, name, target]) => {
    const value = median(tss[k]);
    const baseline = median(cs[k]);
    const ratios = tss[k].map((t, i) => t / cs[k][i]!);
    const ratio = median(ratios);
    const cpuRatio = median(tcpu[k].map((t, i) => t / ccpu[k][i]!));
    return {
      name,
      unit: k === 'update' || k === 'lookup' || k === 'lookupInto' ? 'ns/op' : 'ns/entry',
      value: Math.round(value * 10) / 10,
      baseline: Math.round(baseline * 10) / 10,
      baselineName: 'C raw bpf(2) (bench/c/map_ops.c, gcc -O2)',
      ratio: Math.round(ratio * 1000) / 1000,
      target,
      ok: ratio <= target,
      samples: tss[k].length,
      note: `median of paired ratios (IQR ${quantile(ratios, 0.25).toFixed(3)}–${quantile(ratios, 0.75).toFixed(3)}); ratio of medians ${(value / baseline).toFixed(3)}; CPU time: ${median(tcpu[k]).toFixed(1)} vs ${median(ccpu[k]).toFixed(1)}, paired ratio ${cpuRatio.toFixed(3)}; interleaved with C on the same map; load average ${load0.toFixed(1)} → ${load1.toFixed(1)} (max ${loadMax.toFixed(1)})`,
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) {
    console.log(
      `${r.name.padEnd(46)} ts ${String(r.value).padStart(7)} c ${String(r.baseline).padStart(7)} ${r.unit.padEnd(8)} ratio ${r.ratio} (≤ ${r.target}) ${r.ok ? 'ok' : 'MISSED'}  [${r.samples}; ${r.note}]`,
    );
  }
}
