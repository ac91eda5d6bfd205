import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../lib/cli/commands/disasm.js';
import { main } from '../../lib/cli/main.js';
import { encode } from '../../lib/isa/insn.js';
import { allProgs, compileC, type Cpu } from '../helpers/progs.js';
import { allValidInsns, bytesToAsm, llvmMcObject, objdumpFile } from './llvm.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

interface Obj {
  label: string;
  path: string;
  cpu: Cpu;
  source?: string;
}

interface Parsed {
  /** Function headers in order: name and section. */
  functions: { name: string; section: string }[];
  /** section → index → text */
  lines: Map<string, Map<number, string>>;
  /** `; FILE:LINE: TEXT` source lines in order. */
  source: { file: string; line: number; text: string }[];
}

async function disasmCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

function parseOutput(out: string): Parsed {
  const p: Parsed = { functions: [], lines: new Map(), source: [] };
  let section: Map<number, string> | undefined;
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const h = /^(\S+) \((.+)\):$/.exec(line);
    if (h) {
      p.functions.push({ name: h[1]!, section: h[2]! });
      section = p.lines.get(h[2]!) ?? new Map<number, string>();
      p.lines.set(h[2]!, section);
      continue;
    }
    const s = /^; (.*):(\d+): (.*)$/.exec(line);
    if (s) {
      p.source.push({ file: s[1]!, line: Number(s[2]), text: s[3]! });
      continue;
    }
    const i = /^(\d+): (.*)$/.exec(line);
    if (!i || !section) throw new Error(`unexpected disasm output line: ${JSON.stringify(line)}`);
    section.set(Number(i[1]), i[2]!);
  }
  return p;
}

function fixtureCpus(src: string): Cpu[] {
  const m = /^\/\/ cpus: (.*)$/m.exec(readFileSync(src, 'utf8'));
  return (m ? m[1]!.trim().split(/\s+/) : ['v3']) as Cpu[];
}

const FIXTURE_NAMES = ['alu', 'mem', 'jumps', 'atomics', 'calls', 'ldabs'];
let objects: Obj[] = [];
let tmp = '';
let extraCpuBuilds = 0;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'bpfkit-isa-cli-'));
  const progs = await allProgs();
  objects = progs.map((p) => ({ label: `progs/${p.name}`, path: p.path, cpu: p.cpu, source: p.source }));
  // The same programs built for the other cpu versions, where clang can build them (e.g. 32-bit
  // atomics and sdiv need v3/v4: those combinations are compile errors, not test subjects).
  const others = progs.flatMap((p) => (['v1', 'v2', 'v3', 'v4'] as const).filter((c) => c !== p.cpu).map((cpu) => ({ p, cpu })));
  for (let i = 0; i < others.length; i += 2) {
    const built = await Promise.all(others.slice(i, i + 2).map(async ({ p, cpu }) => {
      try {
        return { label: `progs/${p.name} ${cpu}`, path: await compileC(p.source, { cpu }), cpu, source: p.source };
      } catch {
        return undefined;
      }
    }));
    for (const b of built) if (b) objects.push(b);
  }
  extraCpuBuilds = objects.length - progs.length;
  for (const name of FIXTURE_NAMES) {
    const src = join(FIXTURES, `${name}.c`);
    for (const cpu of fixtureCpus(src)) {
      objects.push({ label: `fixtures/${name}.c ${cpu}`, path: await compileC(src, { cpu }), cpu, source: src });
    }
  }
  // Every valid encoding, as one raw function, through the CLI path.
  const raw = join(tmp, 'raw.o');
  llvmMcObject(bytesToAsm(encode(allValidInsns()), 'all_valid'), raw);
  objects.push({ label: 'raw every-valid-instruction object', path: raw, cpu: 'v4' });
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('bpfkit disasm vs llvm-objdump-19', () => {
  it('covers the shared test programs, every fixture at every cpu and raw encodings', () => {
    expect(objects.length).toBeGreaterThanOrEqual(FIXTURE_NAMES.length * 4 + 1);
    expect(objects.filter((o) => o.label.startsWith('progs/')).length).toBeGreaterThan(0);
    // Most test programs build for every cpu version.
    expect(extraCpuBuilds).toBeGreaterThan(objects.filter((o) => /^progs\/\S+$/.test(o.label)).length);
    for (const cpu of ['v1', 'v2', 'v3', 'v4']) expect(objects.some((o) => o.cpu === cpu)).toBe(true);
  });

  it('prints exactly llvm-objdump text for every instruction of every program section', async () => {
    let checked = 0;
    for (const obj of objects) {
      const r = await disasmCli([obj.path]);
      expect(r.stderr, obj.label).toBe('');
      expect(r.code, obj.label).toBe(0);
      const ours = parseOutput(r.stdout);
      const theirs = objdumpFile(obj.path);
      expect([...ours.lines.keys()].sort(), obj.label).toEqual([...theirs.keys()].sort());
      for (const [section, want] of theirs) {
        const got = ours.lines.get(section)!;
        expect(ours.functions.filter((f) => f.section === section).map((f) => f.name), `${obj.label} ${section}`).toEqual(want.symbols);
        const diffs: string[] = [];
        for (const [index, text] of want.lines) if (got.get(index) !== text) diffs.push(`${index}: llvm ${JSON.stringify(text)} bpfkit ${JSON.stringify(got.get(index))}`);
        for (const index of got.keys()) if (!want.lines.has(index)) diffs.push(`${index}: only bpfkit prints it`);
        expect(diffs.slice(0, 10), `${obj.label} section ${section}`).toEqual([]);
        checked += want.lines.size;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('--alu32 matches llvm-objdump --mcpu=v3 on cpu v3/v4 objects', async () => {
    let checked = 0;
    for (const obj of objects.filter((o) => o.cpu === 'v3' || o.cpu === 'v4')) {
      const r = await disasmCli([obj.path, '--alu32']);
      expect(r.code, obj.label).toBe(0);
      const ours = parseOutput(r.stdout);
      for (const [section, want] of objdumpFile(obj.path, 'v3')) {
        const got = ours.lines.get(section)!;
        for (const [index, text] of want.lines) {
          if (got.get(index) !== text) expect(`${obj.label} ${section} ${index}: ${got.get(index)}`).toBe(`${obj.label} ${section} ${index}: ${text}`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
  });
});

describe('bpfkit disasm options', () => {
  it('--program prints just that function, with section-relative indices', async () => {
    const obj = objects.find((o) => o.label === 'fixtures/jumps.c v3')!;
    const full = parseOutput((await disasmCli([obj.path])).stdout);
    const r = await disasmCli([obj.path, '--program', 'sle32']);
    expect(r.code).toBe(0);
    const one = parseOutput(r.stdout);
    expect(one.functions).toEqual([{ name: 'sle32', section: '.text' }]);
    const want = objdumpFile(obj.path).get('.text')!;
    const indices = [...one.lines.get('.text')!.keys()];
    expect(indices.length).toBeGreaterThan(2);
    expect(indices[0]).toBeGreaterThan(0);
    for (const i of indices) expect(one.lines.get('.text')!.get(i)).toBe(want.lines.get(i));
    expect(full.functions.length).toBeGreaterThan(20);
    const r2 = await disasmCli([obj.path, '--program=jumps']);
    expect(parseOutput(r2.stdout).functions).toEqual([{ name: 'jumps', section: 'tc' }]);
  });

  it('--source interleaves the C lines recorded in BTF line info', async () => {
    for (const obj of objects.filter((o) => o.source !== undefined && o.cpu === 'v3')) {
      const r = await disasmCli([obj.path, '--source']);
      expect(r.code, obj.label).toBe(0);
      const p = parseOutput(r.stdout);
      expect(p.source.length, obj.label).toBeGreaterThan(0);
      // Instruction lines are unchanged by --source.
      expect(p.lines).toEqual(parseOutput((await disasmCli([obj.path])).stdout).lines);
      // Every source line shown is that line of the C file (the file itself is the oracle).
      const fileLines = readFileSync(obj.source!, 'utf8').split('\n');
      for (const s of p.source.filter((x) => x.file === basename(obj.source!))) {
        expect(fileLines[s.line - 1]!.trim(), `${obj.label} line ${s.line}`).toBe(s.text);
      }
    }
  });

  it('goes through the bpfkit command table', async () => {
    let stdout = '';
    const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true } };
    const obj = objects.find((o) => o.label === 'fixtures/ldabs.c v1')!;
    expect(await main(['disasm', obj.path], io)).toBe(0);
    expect(stdout).toContain('ldabs (socket):');
    expect(stdout).toMatch(/^\d+: r0 = \*\(u16 \*\)skb\[0xc\]$/m);
  });
});

describe('bpfkit disasm errors', () => {
  it('usage errors exit 2, --help exits 0', async () => {
    expect((await disasmCli([])).code).toBe(2);
    const bad = await disasmCli(['--bogus', 'x.o']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown option --bogus');
    expect((await disasmCli(['a.o', 'b.o'])).stderr).toContain('unexpected argument b.o');
    expect((await disasmCli(['a.o', '--program'])).code).toBe(2);
    const help = await disasmCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: bpfkit disasm OBJ [--program NAME] [--source]');
  });

  it('bad input exits 1 with a message naming the problem', async () => {
    const missing = await disasmCli([join(tmp, 'missing.o')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/missing\.o: no such file/);
    const dir = await disasmCli([tmp]);
    expect(dir.code).toBe(1);
    expect(dir.stderr).toContain('is a directory');
    const empty = join(tmp, 'empty.o');
    writeFileSync(empty, new Uint8Array(0));
    const e = await disasmCli([empty]);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain('empty.o');
    const junk = join(tmp, 'junk.o');
    writeFileSync(junk, new Uint8Array(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff)));
    const j = await disasmCli([junk]);
    expect(j.code).toBe(1);
    expect(j.stderr).toMatch(/^bpfkit disasm: .*junk\.o/);
    const obj = objects.find((o) => o.label === 'fixtures/alu.c v2')!;
    const nf = await disasmCli([obj.path, '--program', 'nope']);
    expect(nf.code).toBe(1);
    expect(nf.stderr).toContain("no program or function named 'nope' (have: alu64, alu32, swaps)");
  });

  it('mutated objects (seeded fuzz) give exit 0 or a typed error with exit 1, never a crash', async () => {
    let seed = 20261125;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 0x100000000;
    };
    const codes = new Map<number, number>();
    const fuzzed = join(tmp, 'fuzzed.o');
    for (const obj of objects.filter((o) => o.label.startsWith('fixtures/') && o.cpu === 'v3')) {
      const orig = new Uint8Array(readFileSync(obj.path));
      for (let k = 0; k < 40; k++) {
        const b = orig.slice();
        const n = 1 + Math.floor(rnd() * 8);
        for (let j = 0; j < n; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        writeFileSync(fuzzed, b);
        for (const args of [[fuzzed], [fuzzed, '--source']]) {
          const r = await disasmCli(args);
          expect([0, 1], `${obj.label} mutation ${k}: ${r.stderr}`).toContain(r.code);
          expect(r.stderr).not.toContain('unexpected error');
          codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
        }
      }
    }
    expect(codes.get(1) ?? 0).toBeGreaterThan(0);
  });
});
