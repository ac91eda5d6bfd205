/**
 * Shared by test/elf and test/btf: the objects every reader test runs over (the shared test
 * programs plus this directory's fixtures) and small wrappers around the independent oracles
 * (llvm-readelf-19, llvm-objdump-19, bpftool).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allProgs, compileC } from '../helpers/progs.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Fixtures that must parse (the others are deliberately broken). */
export const GOOD_FIXTURES = ['basic', 'calls', 'maps_all', 'externs', 'kinds', 'sections'];

export function fixture(name: string, extraFlags?: string[]): Promise<string> {
  return compileC(join(FIXTURES, `${name}.bpf.c`), extraFlags ? { extraFlags } : {});
}

export interface TestObject {
  name: string;
  path: string;
}

/** Every shared test program and every good fixture, compiled. */
export async function allObjects(): Promise<TestObject[]> {
  const progs = (await allProgs()).map((p) => ({ name: p.name, path: p.path }));
  const fx: TestObject[] = [];
  for (const f of GOOD_FIXTURES) fx.push({ name: `fixture:${f}`, path: await fixture(f) });
  return [...progs, ...fx];
}

/** Names of fixture sources present (to detect new ones). */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.bpf.c')).map((f) => f.slice(0, -6));
}

export interface ReadelfSection { index: number; name: string; type: string; offset: number; size: number; flags: string }
export interface ReadelfSymbol { num: number; value: number; size: number; type: string; bind: string; vis: string; ndx: string; name: string }
export interface ReadelfReloc { section: string; offset: number; type: string; symValue: number; symName: string }

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
}

export function readelfSections(path: string): ReadelfSection[] {
  const out = run('llvm-readelf-19', ['-S', '--wide', path]);
  const res: ReadelfSection[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+(\S*)\s+(\S+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s*([A-Za-z]*)\s+\d+/.exec(line);
    if (!m) continue;
    res.push({ index: Number(m[1]), name: m[2]!, type: m[3]!, offset: parseInt(m[5]!, 16), size: parseInt(m[6]!, 16), flags: m[7]! });
  }
  // The NULL section has an empty name: the regex captures the type in the name slot.
  if (res[0] && res[0].index === 0) res[0] = { ...res[0], name: '', type: 'NULL' };
  return res;
}

export function readelfSymbols(path: string): ReadelfSymbol[] {
  const out = run('llvm-readelf-19', ['-s', '--wide', path]);
  const res: ReadelfSymbol[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+):\s+([0-9a-f]+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    res.push({ num: Number(m[1]), value: parseInt(m[2]!, 16), size: Number(m[3]), type: m[4]!, bind: m[5]!, vis: m[6]!, ndx: m[7]!, name: m[8]!.trim() });
  }
  return res;
}

export function readelfRelocs(path: string): ReadelfReloc[] {
  const out = run('llvm-readelf-19', ['-r', '--wide', path]);
  const res: ReadelfReloc[] = [];
  let section = '';
  for (const line of out.split('\n')) {
    const h = /^Relocation section '([^']+)'/.exec(line);
    if (h) {
      section = h[1]!.replace(/^\.rel/, '');
      continue;
    }
    const m = /^([0-9a-f]{16})\s+[0-9a-f]{16}\s+(\S+)\s+([0-9a-f]{16})\s+(.*)$/.exec(line);
    if (m) res.push({ section, offset: parseInt(m[1]!, 16), type: m[2]!, symValue: parseInt(m[3]!, 16), symName: m[4]!.trim() });
  }
  return res;
}

/** Source line of each instruction (section-relative slot) from llvm-objdump -l (DWARF). */
export function objdumpLines(path: string): Map<string, Map<number, number>> {
  const out = run('llvm-objdump-19', ['-d', '-l', '--no-show-raw-insn', path]);
  const res = new Map<string, Map<number, number>>();
  let cur: Map<number, number> | undefined;
  let line = 0;
  for (const l of out.split('\n')) {
    const s = /^Disassembly of section (.*):$/.exec(l);
    if (s) {
      cur = new Map();
      res.set(s[1]!, cur);
      line = 0;
      continue;
    }
    const f = /^; .*:(\d+)$/.exec(l);
    if (f) {
      line = Number(f[1]);
      continue;
    }
    const i = /^\s+(\d+):\t/.exec(l);
    if (i && cur) cur.set(Number(i[1]), line);
  }
  return res;
}

export interface BpftoolType { id: number; kind: string; name: string; [k: string]: unknown }

export function bpftoolBtf(path: string): BpftoolType[] {
  return (JSON.parse(run('bpftool', ['btf', 'dump', 'file', path, '-j'])) as { types: BpftoolType[] }).types;
}

/** Deterministic PRNG (xorshift32) for seeded tests. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}
