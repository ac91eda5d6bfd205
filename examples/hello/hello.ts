/**
 * hello: load the object, push a few frames through the XDP program with test runs, and read the
 * per-EtherType counters back — on the kernel when it can be used (root on Linux), otherwise on
 * the emulator. `BPFKIT_BACKEND=emulator npx tsx examples/hello/hello.ts` forces the emulator.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from '../../lib/index.js';

export const OBJECT = join(dirname(fileURLToPath(import.meta.url)), 'hello.bpf.o');

/** An Ethernet frame of `len` bytes with EtherType `type`. */
export function frame(type: number, len: number): Uint8Array {
  const f = new Uint8Array(len);
  f.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2], 0);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  return f;
}

export interface HelloResult {
  backend: string;
  reason: string;
  verdicts: number[];
  counters: Record<string, { frames: bigint; bytes: bigint }>;
}

export async function hello(opts: { backend?: 'auto' | 'kernel' | 'emulator'; minLen?: number } = {}): Promise<HelloResult> {
  using obj = await load(OBJECT, { backend: opts.backend ?? 'auto', globals: { min_len: opts.minLen ?? 60 } });
  const prog = obj.program('hello');
  const frames = [frame(0x0800, 64), frame(0x0800, 1500), frame(0x86dd, 40), frame(0x0806, 42)];
  const verdicts = frames.map((data) => prog.run({ data }).retval);
  const counters: HelloResult['counters'] = {};
  for (const [type, c] of obj.map<number, { frames: bigint; bytes: bigint }>('by_ethertype')) {
    counters[`0x${type.toString(16).padStart(4, '0')}`] = c;
  }
  return { backend: obj.backend.kind, reason: obj.backend.reason, verdicts, counters };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await hello();
  console.log(`backend: ${r.backend} (${r.reason})`);
  console.log(`verdicts (1 = drop, 2 = pass): ${r.verdicts.join(' ')}`);
  for (const [type, c] of Object.entries(r.counters).sort()) console.log(`ethertype ${type}: ${c.frames} frames, ${c.bytes} bytes`);
}
