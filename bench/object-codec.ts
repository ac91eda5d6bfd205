/**
 * Cost of the object layer: `BpfMap.update` + `BpfMap.lookup` with typed keys/values (BTF codecs,
 * size checks) vs the same operations on the backend handle with pre-encoded bytes, measured side
 * by side in one run (rounds alternate raw, typed, raw, typed...; medians reported).
 *
 * Workloads: a u32 → u64 hash (numbers/bigints through the no-BTF integer codecs) and the hello
 * example's `by_ethertype` (u16 → struct counter { u64 frames, bytes }), on the kernel backend when
 * it works here and on the emulator. Targets (typed/raw): kernel ≤ 1.3 (the syscall dominates),
 * emulator ≤ 3 (in-process map ops are cheap, so the codec is a large share).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfMap, load } from '../lib/index.js';
import type { BackendMap } from '../lib/backend.js';
import { probeKernel } from '../lib/kernel/index.js';
import { median, type BenchReport } from './run.js';

const here = dirname(fileURLToPath(import.meta.url));
const OPS = Number(process.env.BPFKIT_BENCH_OPS ?? 20000);
const ROUNDS = Number(process.env.BPFKIT_BENCH_ROUNDS ?? 7);


function timeNs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0);
}

function sideBySide(raw: () => void, typed: () => void): { raw: number; typed: number } {
  raw();
  typed(); // warm up both paths
  const r: number[] = [];
  const t: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    r.push(timeNs(raw) / OPS);
    t.push(timeNs(typed) / OPS);
  }
  return { raw: median(r), typed: median(t) };
}

async function measure(backend: 'kernel' | 'emulator'): Promise<BenchReport[]> {
  const target = backend === 'kernel' ? 1.3 : 3;
  const out: BenchReport[] = [];
  {
    using m = await BpfMap.create<number, bigint>({ name: 'bench_u32_u64', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024 }, { backend });
    const h: BackendMap = m.handle;
    const kb = new Uint8Array(4);
    const vb = new Uint8Array(8);
    const res = sideBySide(
      () => {
        for (let i = 0; i < OPS; i++) {
          kb[0] = i & 255;
          vb[0] = i & 255;
          h.update(kb, vb, 0);
          h.lookup(kb);
        }
      },
      () => {
        for (let i = 0; i < OPS; i++) {
          m.update(i & 255, BigInt(i & 255));
          m.lookup(i & 255);
        }
      },
    );
    out.push({ name: `${backend}: update+lookup u32→u64 (typed vs bytes)`, unit: 'ns/op', value: res.typed, baseline: { name: 'backend handle, bytes', value: res.raw }, target });
  }
  {
    using obj = await load(join(here, '..', 'examples', 'hello', 'hello.bpf.o'), { backend });
    const m = obj.map<number, { frames: bigint; bytes: bigint }>('by_ethertype');
    const h = m.handle;
    const kb = new Uint8Array(2);
    const vb = new Uint8Array(16);
    const value = { frames: 1n, bytes: 64n };
    const res = sideBySide(
      () => {
        for (let i = 0; i < OPS; i++) {
          kb[0] = i & 31;
          h.update(kb, vb, 0);
          h.lookup(kb);
        }
      },
      () => {
        for (let i = 0; i < OPS; i++) {
          m.update(i & 31, value);
          m.lookup(i & 31);
        }
      },
    );
    out.push({ name: `${backend}: update+lookup u16→struct (typed vs bytes)`, unit: 'ns/op', value: res.typed, baseline: { name: 'backend handle, bytes', value: res.raw }, target });
  }
  return out;
}

export async function bench(): Promise<BenchReport[]> {
  const out: BenchReport[] = [];
  if (probeKernel().ok) out.push(...(await measure('kernel')));
  out.push(...(await measure('emulator')));
  return out;
}
