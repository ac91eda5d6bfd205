/**
 * Every test object parses, and what parseObject reports agrees with independent tools:
 * program and map names / sizes with llvm-readelf-19 and bpftool, linked code with the
 * original section bytes, call targets with llvm-readelf's relocations, line info with the
 * C sources and llvm-objdump's DWARF line table.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAZY_LINK_INSNS, parseObject } from '../../lib/elf/index.js';
import type { ObjectSpec, ProgramSpec } from '../../lib/spec/index.js';
import {
  allObjects, bpftoolBtf, objdumpLines, readelfRelocs, readelfSections, readelfSymbols,
  type BpftoolType, type ReadelfSection, type ReadelfSymbol, type TestObject,
} from './util.js';

let objects: TestObject[] = [];
beforeAll(async () => {
  objects = await allObjects();
});

interface Oracle {
  bytes: Uint8Array;
  spec: ObjectSpec;
  sections: ReadelfSection[];
  symbols: ReadelfSymbol[];
}

const cache = new Map<string, Oracle>();
function load(o: TestObject): Oracle {
  let or = cache.get(o.path);
  if (!or) {
    const bytes = new Uint8Array(readFileSync(o.path));
    or = { bytes, spec: parseObject(bytes, o.path), sections: readelfSections(o.path), symbols: readelfSymbols(o.path) };
    cache.set(o.path, or);
  }
  return or;
}

function sectionOf(or: Oracle, sym: ReadelfSymbol): ReadelfSection | undefined {
  return /^\d+$/.test(sym.ndx) ? or.sections.find((s) => s.index === Number(sym.ndx)) : undefined;
}

/** The readelf FUNC symbol a linked function came from. */
function funcSym(or: Oracle, p: ProgramSpec, name: string): ReadelfSymbol {
  const cands = or.symbols.filter((s) => s.type === 'FUNC' && s.name === name);
  expect(cands.length, `${p.name}: FUNC symbol ${name}`).toBe(1);
  return cands[0]!;
}

describe('parseObject on every test object', () => {
  it('finds the shared test programs and the fixtures', async () => {
    expect(objects.length).toBeGreaterThanOrEqual(10);
    expect(objects.some((o) => o.name === 'fixture:maps_all')).toBe(true);
  });

  it('is deterministic: same bytes in, deep-equal spec out', () => {
    for (const o of objects) {
      const b = readFileSync(o.path);
      const a = parseObject(new Uint8Array(b), o.path);
      const c = parseObject(new Uint8Array(Buffer.from(b)), o.path);
      expect(c, o.name).toEqual(a);
    }
  });

  it('programs are exactly the global functions of executable sections other than .text (llvm-readelf)', () => {
    for (const o of objects) {
      const or = load(o);
      const expected = or.symbols
        .filter((s) => s.type === 'FUNC' && s.bind !== 'LOCAL')
        .map((s) => ({ s, sec: sectionOf(or, s)! }))
        .filter(({ sec }) => sec && sec.flags.includes('X') && sec.name !== '.text')
        .sort((a, b) => a.sec.index - b.sec.index || a.s.value - b.s.value)
        .map(({ s, sec }) => `${sec.name}:${s.name}`);
      expect(or.spec.programs.map((p) => `${p.section}:${p.name}`), o.name).toEqual(expected);
      expect(or.spec.programs.length, o.name).toBeGreaterThan(0);
    }
  });

  it('linked code is the original function bytes, with subprograms appended in first-use order', () => {
    for (const o of objects) {
      const or = load(o);
      for (const p of or.spec.programs) {
        expect(p.functionStarts[0], `${o.name} ${p.name}`).toEqual({ name: p.name, insn: 0 });
        expect(p.subprograms).toEqual(p.functionStarts.slice(1).map((f) => f.name));
        let end = 0;
        for (const fs of p.functionStarts) {
          const sym = funcSym(or, p, fs.name);
          const sec = sectionOf(or, sym)!;
          expect(fs.insn, `${p.name}: ${fs.name} starts right after the previous function`).toBe(end);
          end = fs.insn + sym.size / 8;
          const orig = or.bytes.subarray(sec.offset + sym.value, sec.offset + sym.value + sym.size);
          const linked = p.instructions.subarray(fs.insn * 8, fs.insn * 8 + sym.size);
          const bad: number[] = [];
          for (let i = 0; i < sym.size; i += 8) {
            const op = orig[i]!;
            if (linked[i] !== op) bad.push(i / 8);
            if (op === 0x85 || op === 0x18) {
              i += op === 0x18 ? 8 : 0;
              continue;
            }
            for (let k = 1; k < 8; k++) if (linked[i + k] !== orig[i + k]) bad.push(i / 8);
          }
          expect(bad, `${o.name} ${p.name}/${fs.name}: instructions differing from the original`).toEqual([]);
        }
        expect(p.instructions.length / 8, `${p.name}: total length`).toBe(end);
      }
    }
  });

  it('bpf-to-bpf calls land on the function llvm-readelf relocations name', () => {
    let checked = 0;
    for (const o of objects) {
      const or = load(o);
      const relocs = readelfRelocs(o.path);
      for (const p of or.spec.programs) {
        const startName = new Map(p.functionStarts.map((f) => [f.insn, f.name]));
        for (const fs of p.functionStarts) {
          const sym = funcSym(or, p, fs.name);
          const sec = sectionOf(or, sym)!;
          for (let i = 0; i < sym.size / 8; i++) {
            const at = fs.insn + i;
            const op = p.instructions[at * 8]!;
            const src = p.instructions[at * 8 + 1]! >> 4;
            const isCall = op === 0x85 && src === 1;
            const isFuncAddr = op === 0x18 && src === 4;
            if (!isCall && !isFuncAddr) continue;
            const imm = new DataView(p.instructions.buffer, p.instructions.byteOffset + at * 8 + 4, 4).getInt32(0, true);
            const landed = startName.get(at + imm + 1);
            expect(landed, `${o.name} ${p.name}: call at ${at} lands on a function start`).toBeDefined();
            // Expected callee, computed from llvm-readelf's view of the original instruction.
            const secOff = sym.value + i * 8;
            const origImm = new DataView(or.bytes.buffer, or.bytes.byteOffset + sec.offset + secOff + 4, 4).getInt32(0, true);
            const r = relocs.find((x) => x.section === sec.name && x.offset === secOff);
            let targetSec = sec.index;
            let targetByte: number;
            if (r) {
              const rs = or.symbols.find((s) => s.name === r.symName && (s.type === 'FUNC' || s.type === 'SECTION'))!;
              targetSec = Number(rs.ndx);
              targetByte = isCall ? r.symValue + (origImm + 1) * 8 : r.symValue + origImm;
            } else {
              targetByte = secOff + (origImm + 1) * 8;
            }
            const callee = or.symbols.find((s) => s.type === 'FUNC' && Number(s.ndx) === targetSec && s.value === targetByte);
            expect(landed, `${o.name} ${p.name}: insn ${at}`).toBe(callee?.name);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('maps agree with bpftool (.maps DATASEC), llvm-readelf (legacy maps, data sections)', () => {
    for (const o of objects) {
      const or = load(o);
      const types = new Map<number, BpftoolType>();
      const hasBtf = or.sections.some((s) => s.name === '.BTF');
      if (hasBtf) for (const t of bpftoolBtf(o.path)) types.set(t.id, t);
      const skip = (id: number): BpftoolType => {
        let t = types.get(id)!;
        while (t && ['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG'].includes(t.kind)) t = types.get(t.type_id as number)!;
        return t;
      };
      const sizeOf = (id: number): number => {
        const t = skip(id);
        if (t.kind === 'ARRAY') return (t.nr_elems as number) * sizeOf(t.type_id as number);
        if (t.kind === 'PTR') return 8;
        return t.size as number;
      };
      const expected: { name: string; keySize: number; valueSize: number; maxEntries: number }[] = [];
      const ds = [...types.values()].find((t) => t.kind === 'DATASEC' && t.name === '.maps');
      if (ds) {
        for (const v of ds.vars as { type_id: number }[]) {
          const vt = types.get(v.type_id)!;
          const def = skip(vt.type_id as number);
          const f: Record<string, number> = { key_size: 0, value_size: 0, max_entries: 0 };
          for (const m of def.members as { name: string; type_id: number }[]) {
            const ptr = skip(m.type_id);
            if (m.name === 'key' || m.name === 'value') f[`${m.name}_size`] = sizeOf(ptr.type_id as number);
            else if (m.name === 'values') f.value_size = 4;
            else if (ptr.kind === 'PTR') f[m.name] = skip(ptr.type_id as number).nr_elems as number;
          }
          expected.push({ name: vt.name, keySize: f.key_size!, valueSize: f.value_size!, maxEntries: f.max_entries! });
        }
      }
      const legacy = or.sections.find((s) => s.name === 'maps');
      if (legacy) {
        const syms = or.symbols.filter((s) => Number(s.ndx) === legacy.index && s.type === 'OBJECT').sort((a, b) => a.value - b.value);
        for (const s of syms) {
          const dv = new DataView(or.bytes.buffer, or.bytes.byteOffset + legacy.offset + s.value, 16);
          expected.push({ name: s.name, keySize: dv.getUint32(4, true), valueSize: dv.getUint32(8, true), maxEntries: dv.getUint32(12, true) });
        }
      }
      for (const s of or.sections) {
        if (/^\.(data|rodata|bss)(\..+)?$/.test(s.name) && s.flags.includes('A') && s.size > 0) {
          expected.push({ name: s.name, keySize: 4, valueSize: s.size, maxEntries: 1 });
        }
      }
      const got = or.spec.maps.map((m) => ({ name: m.name, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries }));
      const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
      expect(got.sort(byName), o.name).toEqual(expected.sort(byName));
      for (const m of or.spec.maps.filter((x) => x.globalData)) {
        const sec = or.sections.find((s) => s.name === m.name)!;
        if (sec.type === 'NOBITS') expect(m.initialData).toBeUndefined();
        else expect([...m.initialData!], `${o.name} ${m.name} initial data`).toEqual([...or.bytes.subarray(sec.offset, sec.offset + sec.size)]);
        expect(m.freeze).toBe(m.name.startsWith('.rodata'));
      }
    }
  });

  it('map references point at ld_imm64 with the right pseudo src_reg, and at a known map', () => {
    for (const o of objects) {
      const or = load(o);
      const names = new Set(or.spec.maps.map((m) => m.name));
      for (const p of or.spec.programs) {
        for (const r of p.mapReferences) {
          expect(names.has(r.map), `${o.name} ${p.name} -> ${r.map}`).toBe(true);
          const m = or.spec.maps.find((x) => x.name === r.map)!;
          const ins = p.instructions.subarray(r.insn * 8, r.insn * 8 + 16);
          expect(ins[0]).toBe(0x18);
          expect(ins[1]! >> 4, `${p.name} insn ${r.insn}`).toBe(m.globalData ? 2 : 1);
          const dv = new DataView(ins.buffer, ins.byteOffset, 16);
          expect(dv.getInt32(4, true)).toBe(0);
          expect(dv.getInt32(12, true)).toBe(r.offset);
          if (!m.globalData) expect(r.offset).toBe(0);
        }
      }
    }
  });

  it('line info maps instructions to the right C source lines', () => {
    let checked = 0;
    let dwarfChecked = 0;
    for (const o of objects) {
      const or = load(o);
      const dwarf = objdumpLines(o.path);
      for (const p of or.spec.programs) {
        expect(p.lineInfo.length, `${o.name} ${p.name} has line info`).toBeGreaterThan(0);
        expect(p.lineInfo[0]!.insn).toBe(0);
        for (let i = 1; i < p.lineInfo.length; i++) expect(p.lineInfo[i]!.insn).toBeGreaterThan(p.lineInfo[i - 1]!.insn);
        for (const li of p.lineInfo) {
          // The recorded text is the real line of the real file.
          const src = readFileSync(li.file, 'utf8').split('\n');
          expect(src[li.line - 1], `${li.file}:${li.line}`).toBe(li.text);
          checked++;
          // And DWARF agrees on the line of that instruction (function-entry records, column 0,
          // use the declaration line in BTF but the opening brace in DWARF).
          if (li.column === 0) continue;
          const fs = [...p.functionStarts].reverse().find((f) => f.insn <= li.insn)!;
          const sym = funcSym(or, p, fs.name);
          const sec = sectionOf(or, sym)!;
          const line = dwarf.get(sec.name)?.get(sym.value / 8 + li.insn - fs.insn);
          expect(line, `${o.name} ${p.name} insn ${li.insn} (${fs.name})`).toBe(li.line);
          dwarfChecked++;
        }
        for (const fi of p.funcInfo) expect(p.functionStarts.some((f) => f.insn === fi.insn && f.name === fi.name)).toBe(true);
        expect(p.funcInfo.length).toBe(p.functionStarts.length);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(dwarfChecked).toBeGreaterThan(50);
  });

  it('lazily linked programs (huge code) read, copy and compare as plain data', () => {
    const big = objects.map((o) => load(o)).find((or) => or.spec.programs.some((p) => p.instructions.length / 8 > LAZY_LINK_INSNS));
    expect(big, 'a test object above the lazy-link threshold (long_jump)').toBeDefined();
    const path = big!.spec.source;
    const fresh = parseObject(new Uint8Array(readFileSync(path)), path);
    const p = fresh.programs[0]!;
    const d = Object.getOwnPropertyDescriptor(p, 'instructions')!;
    expect(d.enumerable).toBe(true);
    expect(typeof d.get).toBe('function');
    const copy = structuredClone(p);
    expect(Object.getOwnPropertyDescriptor(copy, 'instructions')!.value).toBeInstanceOf(Uint8Array);
    expect(copy).toEqual(big!.spec.programs[0]);
    expect(JSON.parse(JSON.stringify(p, (_k, v) => (v instanceof Uint8Array ? v.length : v))).instructions).toBe(p.instructions.length);
    // Assignment replaces the accessor with a plain value.
    const q = parseObject(new Uint8Array(readFileSync(path)), path).programs[0]!;
    q.lineInfo = [];
    expect(Object.getOwnPropertyDescriptor(q, 'lineInfo')!.value).toEqual([]);
    expect(q.instructions.length).toBe(p.instructions.length);
  });
});
