// Array, per-CPU array and 1-/2-byte-key hash lookups (inlined by the JIT when the key is on the stack): same
// results and map contents on the JIT and the interpreter, on CPU 0 and CPU 2.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load, type BpfObject } from '../../lib/index.js';
import { EmulatorBackend } from '../../native-sim/backend.js';
import { compileC } from '../helpers/progs.js';

const SRC = join(import.meta.dirname, 'progs', 'array_lookup.bpf.c');

function dump(obj: BpfObject): string {
  const out: string[] = [];
  for (const name of ['arr', 'pcpu', 'odd', 'h16', 'h8']) {
    const m = obj.maps[name]!.raw;
    for (let k = 0; k < 6; k++) {
      const key = name === 'h16' ? new Uint8Array([1, k]) : name === 'h8' ? new Uint8Array([k]) : new Uint8Array([k, 0, 0, 0]);
      const v = m.lookup(key);
      out.push(`${name}[${k}]=${v === undefined ? '-' : Buffer.from(v).toString('hex')}`);
    }
  }
  return out.join(' ');
}

describe('array map lookups', () => {
  it('JIT and interpreter agree (values, NULL for keys out of range, per-CPU slots)', async () => {
    const path = await compileC(SRC);
    const runs: string[][] = [];
    for (const engine of ['jit', 'interpreter'] as const) {
      const b = new EmulatorBackend({ engine, possibleCpus: 4 });
      const obj = await load(path, { backend: b });
      // some keys present (lookups hit, values regions created on first use), some absent
      for (const k of [1, 2, 4]) obj.maps.h16!.raw.update(new Uint8Array([1, k]), new Uint8Array(8).fill(k), 0);
      for (const k of [0, 3]) obj.maps.h8!.raw.update(new Uint8Array([k]), new Uint8Array(4).fill(k), 0);
      const log: string[] = [];
      for (const cpu of [0, 2, 2, 0]) {
        const r = obj.programs.lookups!.run({ ctx: new Uint8Array(8), cpu, flags: 1, ctxSizeOut: 0 });
        log.push(`${cpu}:${r.retval} ${dump(obj)}`);
      }
      if (engine === 'jit') {
        // the three lookups are inlined (array path), not calls of progLookupRegion
        const js = (obj.programs.lookups!.handle as unknown as { jsSource(): string }).jsSource();
        expect(js.match(/\.regions\[(CPU|0)\]\[t\]/g)?.length).toBe(18);
        expect(js.match(/\.direct\[SV\.getUint(8|16)\(/g)?.length).toBe(12);
        // the only calls left: hash value regions created on first use
        expect(js.match(/progLookupRegion\(/g)?.length).toBe(12);
      }
      runs.push(log);
      obj.close();
    }
    expect(runs[0]).toEqual(runs[1]);
    // the per-CPU slot of CPU 2 moved, and values were read back
    expect(runs[0]!.join('\n')).toMatch(/pcpu\[0\]=(?!0{64})/);
  });
});
