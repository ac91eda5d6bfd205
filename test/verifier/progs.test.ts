/**
 * Every test program of test/progs is accepted by the emulator's verifier and by the kernel's.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { allProgs, type ProgInfo } from '../helpers/progs.js';
import { parseObject } from '../../lib/elf/index.js';
import { verifyProgram } from '../../native-sim/verifier/index.js';
import { examplePrograms, runKernel } from './corpus.js';
import { refusedByKernel } from '../helpers/kernel-features.js';

const canLoad = process.platform === 'linux' && process.getuid?.() === 0;

describe('test programs and examples pass both verifiers', () => {
  let progs: ProgInfo[] = [];
  beforeAll(async () => {
    progs = [...(await allProgs()), ...(await examplePrograms())];
  }, 300_000);

  it('the emulator accepts every program of every test object', () => {
    expect(progs.length).toBeGreaterThanOrEqual(13);
    expect(progs.some((p) => p.name.startsWith('examples/'))).toBe(true);
    const rejected: string[] = [];
    let count = 0;
    for (const p of progs) {
      const spec = parseObject(readFileSync(p.path), p.path);
      const maps = new Map(spec.maps.map((m) => [m.name, m]));
      for (const prog of spec.programs) {
        count++;
        try {
          const r = verifyProgram(prog, { maps, btf: spec.btf });
          expect(r.insnsProcessed).toBeGreaterThan(0);
        } catch (e) {
          rejected.push(`${p.name}/${prog.name}: ${(e as Error).message}`);
        }
      }
    }
    expect(rejected).toEqual([]);
    expect(count).toBeGreaterThan(20);
  });

  it.skipIf(!canLoad)('the kernel accepts every program of every test object (needs root on Linux)', async () => {
    const rejected: string[] = [];
    for (const p of progs) {
      const spec = parseObject(readFileSync(p.path), p.path);
      const refused = await refusedByKernel(spec);
      for (const prog of spec.programs) {
        const k = await runKernel(p.path, prog.name);
        const missing = refused.get(prog.name);
        // a helper this kernel does not offer the type (probed): it must refuse, naming the helper
        if (missing) {
          if (k.accepted || !k.message.includes(`cannot use helper ${missing[0]!.helper}`)) rejected.push(`${p.name}/${prog.name}: expected the kernel to refuse ${missing[0]!.helper}, got ${k.accepted ? 'accepted' : k.message}`);
        } else if (!k.accepted) rejected.push(`${p.name}/${prog.name}: ${k.message}`);
      }
    }
    expect(rejected).toEqual([]);
  }, 300_000);
});
