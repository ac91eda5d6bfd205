/**
 * The verifier corpus against the running kernel's verifier: every case goes through BPF_PROG_LOAD
 * (lib/object `load` on the kernel backend, one program at a time) and through the emulator's
 * verifier. Requirements: no program the kernel rejects is accepted by ours; agreement ≥ 97%;
 * DISAGREEMENTS.md lists exactly the disagreements found; each case's intent (safe / unsafe for
 * the named kernel rule) matches what the kernel says, so the corpus itself is checked.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CASES, compileCorpus, runKernel, runOurs, type Case, type Outcome } from './corpus.js';

const canLoad = process.platform === 'linux' && process.getuid?.() === 0;
const here = dirname(fileURLToPath(import.meta.url));

interface Row { c: Case; ours: Outcome; kernel: Outcome & { log?: string } }

/** Names listed in DISAGREEMENTS.md (lines "- `name`: reason"). */
export function listedDisagreements(): Map<string, string> {
  const text = readFileSync(join(here, 'DISAGREEMENTS.md'), 'utf8');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^- `([A-Za-z0-9_]+)`:\s*(.+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

describe('verifier corpus: shape', () => {
  it('has at least 300 cases, at least 40% of each kind, unique names, a rule on every unsafe case', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(300);
    const unsafe = CASES.filter((c) => c.expect === 'unsafe');
    expect(unsafe.length / CASES.length).toBeGreaterThan(0.4);
    expect((CASES.length - unsafe.length) / CASES.length).toBeGreaterThan(0.4);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    for (const c of unsafe) expect(c.rule, c.name).toBeTruthy();
    expect(CASES.filter((c) => c.c !== undefined).length).toBeGreaterThan(40);
    expect(CASES.filter((c) => c.asm !== undefined).length).toBeGreaterThan(200);
  });
});

describe.skipIf(!canLoad)('verifier corpus: emulator vs kernel (needs root on Linux for BPF_PROG_LOAD)', () => {
  const rows: Row[] = [];

  beforeAll(async () => {
    const objs = await compileCorpus();
    for (const c of CASES) {
      const o = objs.get(c.group)!;
      const ours = runOurs(o.spec, c.name);
      const kernel = await runKernel(o.path, c.name);
      rows.push({ c, ours, kernel });
    }
  }, 900_000);

  it('no program the kernel rejects is accepted by the emulator', () => {
    const unsound = rows.filter((r) => !r.kernel.accepted && r.ours.accepted).map((r) => `${r.c.name}: ${r.kernel.message}`);
    expect(unsound).toEqual([]);
  });

  it('agrees with the kernel on at least 97% of the corpus', () => {
    const agree = rows.filter((r) => r.kernel.accepted === r.ours.accepted).length;
    expect(rows.length).toBe(CASES.length);
    expect(agree / rows.length).toBeGreaterThanOrEqual(0.97);
  });

  it('DISAGREEMENTS.md lists exactly the disagreements found, each with a reason', () => {
    const found = rows.filter((r) => r.kernel.accepted !== r.ours.accepted).map((r) => r.c.name).sort();
    const listed = listedDisagreements();
    expect([...listed.keys()].sort()).toEqual(found);
    for (const [name, reason] of listed) expect(reason.length, name).toBeGreaterThan(20);
  });

  it('every case means what it says: safe cases load into the kernel, unsafe ones fail for the named rule', () => {
    const wrong: string[] = [];
    for (const r of rows) {
      if ((r.c.expect === 'safe') !== r.kernel.accepted) wrong.push(`${r.c.name}: expected ${r.c.expect}, kernel ${r.kernel.accepted ? 'accepted' : `rejected: ${r.kernel.message}`}`);
      else if (!r.kernel.accepted && !(r.kernel.log ?? r.kernel.message).includes(r.c.rule!)) wrong.push(`${r.c.name}: rule '${r.c.rule}' not in: ${r.kernel.message}`);
    }
    expect(wrong).toEqual([]);
  });

  it('our rejections name the instruction, the source line and a reason', () => {
    const rejected = rows.filter((r) => !r.ours.accepted);
    expect(rejected.length).toBeGreaterThan(100);
    for (const r of rejected) expect(r.ours.message, r.c.name).toMatch(/^verify \w+: insn \d+( at [^:]+:\d+:\d+)?.*: \S/);
  });
});
