/**
 * The ISA corpus (test/emulator/isa/*.data) on both engines: every case's r0 or error code must
 * match the expectation written in the corpus (hand-written, or computed independently in
 * Python by gen_corpus.py). The kernel comparison of the same corpus is in isa-kernel.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { EmulatorFault } from '../../lib/errors.js';
import { ENGINES, runRaw } from '../../native-sim/jit/raw.js';
import { loadCorpus, type IsaCase } from './isa/corpus.js';

const cases = loadCorpus();

function outcome(engine: 'jit' | 'interpreter', c: IsaCase): { r0?: bigint; error?: string; message?: string } {
  try {
    const r = runRaw(ENGINES[engine], c.insns, c.mem, {
      ldabs: c.ldabs,
      ...(c.budget !== undefined ? { budget: c.budget } : {}),
      name: c.name,
    });
    return { r0: r.r0 };
  } catch (e) {
    if (e instanceof EmulatorFault) return { error: e.code, message: e.message };
    throw e;
  }
}

describe('ISA corpus', () => {
  it('has hundreds of cases covering every opcode class', () => {
    expect(cases.length).toBeGreaterThan(500);
    const codes = new Set<number>();
    for (const c of cases) for (let i = 0; i < c.insns.length; i += 8) codes.add(c.insns[i]!);
    // every ALU/ALU64 op (K and X), every JMP/JMP32 conditional op, loads/stores of every size
    for (const cls of [0x04, 0x07]) for (let op = 0; op <= 0xc0; op += 0x10) if (op !== 0x80) {
      expect(codes.has(cls | op | 0x08), `alu 0x${(cls | op | 0x08).toString(16)}`).toBe(true);
      expect(codes.has(cls | op), `alu 0x${(cls | op).toString(16)}`).toBe(true);
    }
    for (const cls of [0x05, 0x06]) for (const op of [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0]) {
      expect(codes.has(cls | op), `jmp 0x${(cls | op).toString(16)}`).toBe(true);
      expect(codes.has(cls | op | 0x08), `jmp 0x${(cls | op | 0x08).toString(16)}`).toBe(true);
    }
    for (const c of [0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, 0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0x18, 0x84, 0x87, 0xd4, 0xdc, 0xd7, 0x05, 0x06, 0x85, 0x8d, 0x95, 0xe5, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50]) {
      expect(codes.has(c), `opcode 0x${c.toString(16)}`).toBe(true);
    }
  });

  for (const engine of ['interpreter', 'jit'] as const) {
    describe(engine, () => {
      const byFile = new Map<string, IsaCase[]>();
      for (const c of cases) byFile.set(c.file, [...(byFile.get(c.file) ?? []), c]);
      for (const [file, list] of byFile) {
        it(`${file} (${list.length} cases)`, () => {
          const failures: string[] = [];
          for (const c of list) {
            const got = outcome(engine, c);
            if (c.error !== undefined) {
              if (got.error !== c.error) failures.push(`${c.file}:${c.line} ${c.name}: expected error ${c.error}, got ${got.error ?? `r0 0x${got.r0!.toString(16)}`}`);
            } else if (got.error !== undefined || got.r0 !== c.result) {
              failures.push(`${c.file}:${c.line} ${c.name}: expected 0x${c.result?.toString(16)}, got ${got.error ? `${got.error}: ${got.message}` : `0x${got.r0!.toString(16)}`}`);
            }
          }
          expect(failures).toEqual([]);
        });
      }
    });
  }
});
