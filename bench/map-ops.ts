/**
 * Map operations from TypeScript (KernelMap over the bpf_sys addon) vs a small C program doing
 * the same raw bpf(2) syscalls (bench/c/map_ops.c, compiled with gcc at bench time), measured
 * side by side in one run.
 *
 * The C program runs as a child "server"; C and TS measurements are interleaved chunk by chunk
 * (which side goes first alternates), so both see the same machine load. Each side times only
 * its own operations, inside its own process.
 *
 * Workload (identical on both sides), per round: a fresh BPF_MAP_TYPE_HASH with u32 keys and u64
 * values; single ops = 100 chunks of 1000 BPF_MAP_UPDATE_ELEM, then 100 chunks of 1000
 * BPF_MAP_LOOKUP_ELEM, keys cycling over 0..9999 (TS writes the key per op and gets a fresh value
 * copy back, as the API does); batch ops = 15 bursts of 3 x BPF_MAP_UPDATE_BATCH and of
 * 3 x BPF_MAP_LOOKUP_BATCH of 10k entries (a burst reports its median call). Reported: medians over all chunks/calls of all rounds, ratio = TS / C.
 * Targets: ≤ 1.15 for single ops, ≤ 1.05 for batch ops. Needs root on Linux.
 */
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probe } from '../lib/kernel/binding.js';
import { KernelMap } from '../lib/kernel/maps.js';
import type { BenchReport } from './run.js';

export type { BenchReport };

const here = dirname(fileURLToPath(import.meta.url));

const ROUNDS = Number(process.env.BPFKIT_BENCH_ROUNDS ?? 3);
const CHUNK = 1000;
const CHUNKS = 100;
const BATCH = 10_000;
const BATCH_CALLS = 15;
/** Batch calls per burst; a burst reports its median (both sides). */
const BATCH_BURST = 3;

type Kind = 'update' | 'lookup' | 'updateBatch' | 'lookupBatch';

function median(a: number[]): number {
  const s = a.slice().sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
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

  async num(line: string): Promise<number> {
    const r = await this.cmd(line);
    const n = Number(r);
    if (!Number.isFinite(n)) throw new Error(`bench/c/map_ops: ${line}: ${r}`);
    return n;
  }

  close(): void {
    this.proc.stdin.end('quit\n');
  }
}

/** The TS side: the same operations through KernelMap. */
class TsSide {
  private m: KernelMap | undefined;
  private readonly key = new Uint8Array(4);
  private readonly kv = new DataView(this.key.buffer);
  private readonly value = new Uint8Array(8);
  private readonly vv = new DataView(this.value.buffer);
  private readonly keys = new Uint8Array(BATCH * 4);
  private readonly vals = new Uint8Array(BATCH * 8);
  sum = 0;

  constructor() {
    const kd = new DataView(this.keys.buffer);
    const vd = new DataView(this.vals.buffer);
    for (let i = 0; i < BATCH; i++) {
      kd.setUint32(i * 4, i, true);
      vd.setBigUint64(i * 8, BigInt(i * 3), true);
    }
  }

  init(): void {
    this.m?.close();
    this.m = KernelMap.create({
      name: 'bench_ts', type: 'hash', keySize: 4, valueSize: 8, maxEntries: Math.max(BATCH, 10_000) * 2, flags: 0,
      pinning: 'none', section: '.maps', keyTypeId: 0, valueTypeId: 0, contents: [], freeze: false, globalData: false,
    });
  }

  upd(start: number, n: number): number {
    const m = this.m!;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      this.kv.setUint32(0, (start + i) % 10_000, true);
      this.vv.setUint32(0, start + i, true);
      m.update(this.key, this.value, 0);
    }
    return Number(process.hrtime.bigint() - t0) / n;
  }

  lkp(start: number, n: number): number {
    const m = this.m!;
    let sum = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      this.kv.setUint32(0, (start + i) % 10_000, true);
      sum += m.lookup(this.key)![0]!;
    }
    const t = Number(process.hrtime.bigint() - t0) / n;
    this.sum += sum;
    return t;
  }

  bupd(k: number): number {
    const t: number[] = [];
    for (let i = 0; i < k; i++) {
      const t0 = process.hrtime.bigint();
      this.m!.updateBatch(this.keys, this.vals, BATCH, 0);
      t.push(Number(process.hrtime.bigint() - t0) / BATCH);
    }
    return median(t);
  }

  blkp(k: number): number {
    const t: number[] = [];
    for (let i = 0; i < k; i++) {
      const t0 = process.hrtime.bigint();
      const got = this.m!.lookupBatch(undefined, BATCH).count;
      t.push(Number(process.hrtime.bigint() - t0) / Math.max(got, 1));
    }
    return median(t);
  }

  close(): void {
    this.m?.close();
  }
}

export async function bench(): Promise<BenchReport[]> {
  const p = probe();
  if (!p.ok) return [{ name: 'map-ops', unit: 'ns/op', value: NaN, note: `skipped: kernel backend unavailable: ${p.reason}` }];
  const dir = join(tmpdir(), 'bpfkit-bench');
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, `map_ops_${process.pid}`);
  execFileSync('gcc', ['-O2', '-o', bin, join(here, 'c', 'map_ops.c')]);
  const c = new CBaseline(bin);
  const ts = new TsSide();
  const cs: Record<Kind, number[]> = { update: [], lookup: [], updateBatch: [], lookupBatch: [] };
  const tss: Record<Kind, number[]> = { update: [], lookup: [], updateBatch: [], lookupBatch: [] };
  const load0 = loadavg()[0]!;
  try {
    for (let r = -1; r < ROUNDS; r++) {
      const warm = r < 0; // round -1 warms both sides up (JIT, map code paths) and is discarded
      if ((await c.cmd(`init ${BATCH}`)) !== 'ok') throw new Error('bench/c/map_ops: init failed');
      ts.init();
      const pair = async (kind: Kind, cCmd: string, tsRun: () => number, i: number) => {
        let cv: number;
        let tv: number;
        if (i % 2 === 0) {
          cv = await c.num(cCmd);
          tv = tsRun();
        } else {
          tv = tsRun();
          cv = await c.num(cCmd);
        }
        if (!warm) {
          cs[kind].push(cv);
          tss[kind].push(tv);
        }
      };
      for (let i = 0; i < CHUNKS; i++) await pair('update', `upd ${i * CHUNK} ${CHUNK}`, () => ts.upd(i * CHUNK, CHUNK), i);
      for (let i = 0; i < CHUNKS; i++) await pair('lookup', `lkp ${i * CHUNK} ${CHUNK}`, () => ts.lkp(i * CHUNK, CHUNK), i);
      for (let i = 0; i < BATCH_CALLS; i++) await pair('updateBatch', `bupd ${BATCH_BURST}`, () => ts.bupd(BATCH_BURST), i);
      for (let i = 0; i < BATCH_CALLS; i++) await pair('lookupBatch', `blkp ${BATCH_BURST}`, () => ts.blkp(BATCH_BURST), i);
    }
  } finally {
    c.close();
    ts.close();
    rmSync(bin, { force: true });
  }
  const load1 = loadavg()[0]!;
  const rows: [Kind, string, number][] = [
    ['update', 'map update (single, hash u32→u64)', 1.15],
    ['lookup', 'map lookup (single, hash u32→u64)', 1.15],
    ['updateBatch', 'map update batch (10k entries)', 1.05],
    ['lookupBatch', 'map lookup batch (10k entries)', 1.05],
  ];
  return rows.map(([k, name, target]) => {
    const value = median(tss[k]);
    const baseline = median(cs[k]);
    const ratio = value / baseline;
    return {
      name,
      unit: k.endsWith('Batch') ? 'ns/entry' : 'ns/op',
      value: Math.round(value * 10) / 10,
      baseline: Math.round(baseline * 10) / 10,
      baselineName: 'C raw bpf(2) (bench/c/map_ops.c, gcc -O2)',
      ratio: Math.round(ratio * 1000) / 1000,
      target,
      ok: ratio <= target,
      samples: tss[k].length,
      note: `interleaved with C; load average ${load0.toFixed(1)} → ${load1.toFixed(1)}`,
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) {
    console.log(
      `${r.name.padEnd(36)} ts ${String(r.value).padStart(7)} c ${String(r.baseline).padStart(7)} ${r.unit}  ratio ${r.ratio} (target ≤ ${r.target}) ${r.ok ? 'ok' : 'MISSED'}  [${r.samples} samples; ${r.note}]`,
    );
  }
}
