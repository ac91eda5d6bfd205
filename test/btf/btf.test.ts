/**
 * .BTF / .BTF.ext parsing against bpftool's decoding of the same objects, the Btf helpers, the
 * libbpf-style fix-ups (checked against llvm-readelf and by loading the result into the kernel
 * with BPF_BTF_LOAD), and malformed BTF.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtfKind, parseBtf, parseBtfExt, type BtfType } from '../../lib/btf/index.js';
import { readElf } from '../../lib/elf/container.js';
import { parseObject } from '../../lib/elf/index.js';
import { BpfError, ElfError } from '../../lib/errors.js';
import { CACHE_DIR } from '../helpers/progs.js';
import { allObjects, bpftoolBtf, fixture, readelfSections, readelfSymbols, type BpftoolType, type TestObject } from '../elf/util.js';

const KIND_NAMES = ['UNKN', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE', 'CONST', 'RESTRICT',
  'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64'];
const LINKAGE = ['static', 'global', 'extern'];

let objects: TestObject[] = [];
let dir = '';
beforeAll(async () => {
  objects = await allObjects();
  dir = mkdtempSync(join(tmpdir(), 'bpfkit-btf-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function btfSection(path: string, name = '.BTF'): Uint8Array {
  const elf = readElf(new Uint8Array(readFileSync(path)), path);
  return elf.sectionByName(name)!.data;
}

/** Our type, rendered the way `bpftool btf dump -j` renders it. */
function asBpftool(t: BtfType): Record<string, unknown> {
  const name = t.name || '(anon)';
  const base = { id: t.id, kind: KIND_NAMES[t.kind], name };
  switch (t.kind) {
    case BtfKind.Int:
      return { ...base, size: t.size, bits_offset: t.bitOffset, nr_bits: t.bits, encoding: t.encoding.bool ? 'BOOL' : t.encoding.char ? 'CHAR' : t.encoding.signed ? 'SIGNED' : '(none)' };
    case BtfKind.Ptr: case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict: case BtfKind.TypeTag:
      return { ...base, type_id: t.type };
    case BtfKind.Array:
      return { ...base, type_id: t.elemType, index_type_id: t.indexType, nr_elems: t.nelems };
    case BtfKind.Struct: case BtfKind.Union:
      return { ...base, size: t.size, vlen: t.members.length, members: t.members.map((m) => ({ name: m.name || '(anon)', type_id: m.type, bits_offset: m.bitOffset, ...(m.bitSize ? { bitfield_size: m.bitSize } : {}) })) };
    case BtfKind.Enum: case BtfKind.Enum64:
      return { ...base, encoding: t.signed ? 'SIGNED' : 'UNSIGNED', size: t.size, vlen: t.values.length, values: t.values.map((v) => ({ name: v.name, val: Number(v.value) })) };
    case BtfKind.Fwd:
      return { ...base, fwd_kind: t.union ? 'union' : 'struct' };
    case BtfKind.Func:
      return { ...base, type_id: t.type, linkage: LINKAGE[t.linkage] };
    case BtfKind.FuncProto:
      return { ...base, ret_type_id: t.returnType, vlen: t.params.length, params: t.params.map((p) => ({ name: p.name || '(anon)', type_id: p.type })) };
    case BtfKind.Var:
      return { ...base, type_id: t.type, linkage: ['static', 'global', 'extern'][t.linkage] };
    case BtfKind.Datasec:
      return { ...base, size: t.size, vlen: t.vars.length, vars: t.vars.map((v) => ({ type_id: v.type, offset: v.offset, size: v.size })) };
    case BtfKind.Float:
      return { ...base, size: t.size };
    case BtfKind.DeclTag:
      return { ...base, type_id: t.type, component_idx: t.componentIdx };
    default:
      return base;
  }
}

/** bpftool's JSON, normalised (64-bit enum values as Numbers, as JSON.parse gives them). */
function normalise(t: BpftoolType): Record<string, unknown> {
  const r: Record<string, unknown> = { ...t };
  if (Array.isArray(r.values)) r.values = (r.values as { name: string; val: number }[]).map((v) => ({ name: v.name, val: Number(v.val) }));
  return r;
}

let btfLoad = '';
function kernelLoad(raw: Uint8Array): { ok: boolean; out: string } {
  if (!btfLoad) {
    mkdirSync(CACHE_DIR, { recursive: true });
    btfLoad = join(CACHE_DIR, 'btf_load');
    if (!existsSync(btfLoad)) execFileSync('gcc', ['-O2', '-o', btfLoad, join(import.meta.dirname, 'fixtures', 'btf_load.c'), '-lbpf']);
  }
  const f = join(dir, `raw-${Math.random().toString(36).slice(2)}.btf`);
  writeFileSync(f, raw);
  const r = spawnSync(btfLoad, [f], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

const canLoad = process.platform === 'linux' && process.getuid?.() === 0;

describe('.BTF parsing', () => {
  it('decodes every type of every test object exactly as bpftool does', () => {
    let n = 0;
    for (const o of objects) {
      const btf = parseBtf(btfSection(o.path), { file: o.path });
      const want = bpftoolBtf(o.path).map(normalise);
      const got = btf.types.slice(1).map((t) => asBpftool(t));
      expect(got, o.name).toEqual(want);
      n += got.length;
    }
    expect(n).toBeGreaterThan(500);
  });

  it('covers FLOAT, ENUM64, signed ENUM, DECL_TAG, TYPE_TAG, RESTRICT, FWD, bitfields', async () => {
    const path = await fixture('kinds');
    const btf = parseBtf(btfSection(path));
    const kinds = new Set(btf.types.map((t) => t.kind));
    for (const k of [BtfKind.Float, BtfKind.Enum64, BtfKind.DeclTag, BtfKind.TypeTag, BtfKind.Restrict, BtfKind.Fwd, BtfKind.Union]) expect(kinds.has(k), KIND_NAMES[k]).toBe(true);
    const big = btf.typeByName('big', BtfKind.Enum64);
    expect(big && 'values' in big ? big.values.map((v) => v.value) : []).toEqual([1n, 0x1122334455667788n]);
    const neg = btf.typeByName('neg', BtfKind.Enum);
    expect(neg && 'values' in neg ? [neg.signed, neg.values[0]!.value] : []).toEqual([true, -5n]);
    const tags = btf.types.filter((t) => t.kind === BtfKind.DeclTag).map((t) => [t.name, t.kind === BtfKind.DeclTag ? t.componentIdx : 0]);
    expect(tags).toEqual(expect.arrayContaining([['struct-tag', -1], ['member-tag', 4], ['func-tag', -1], ['param-tag', 0], ['var-tag', -1]]));
    const s = btf.typeByName('tagged', BtfKind.Struct)!;
    expect(s.kind === BtfKind.Struct && s.members.find((m) => m.name === 'bits_hi')!.bitSize).toBe(13);
  });

  it('helpers: resolve, sizeof, findByName, stringAt agree with bpftool', async () => {
    const path = await fixture('kinds');
    const btf = parseBtf(btfSection(path));
    const bt = new Map(bpftoolBtf(path).map((t) => [t.id, t]));
    const tagged = btf.findByName('tagged', BtfKind.Struct);
    expect(tagged).toHaveLength(1);
    expect(btf.sizeof(tagged[0]!)).toBe(bt.get(tagged[0]!)!.size);
    // A const volatile int resolves to int; a typedef chain to its base.
    const u32 = btf.typeByName('__u32', BtfKind.Typedef)!;
    expect(btf.resolve(u32.id)!.name).toBe('unsigned int');
    expect(btf.sizeof(u32.id)).toBe(4);
    // Arrays multiply; pointers are 8; void and functions have no size.
    const arr = btf.types.find((t) => t.kind === BtfKind.Array && t.nelems === 4 && btf.sizeof(t.elemType) === 1)!;
    expect(btf.sizeof(arr.id)).toBe(4);
    expect(btf.sizeof(btf.types.find((t) => t.kind === BtfKind.Ptr)!.id)).toBe(8);
    expect(btf.sizeof(0)).toBeUndefined();
    expect(btf.sizeof(btf.typeByName('kinds_prog', BtfKind.Func)!.id)).toBeUndefined();
    expect(btf.typeById(99999)).toBeUndefined();
    expect(btf.stringAt(0)).toBe('');
    expect(btf.stringAt(1 << 30)).toBe('');
  });
});

describe('.BTF.ext parsing', () => {
  it('func_info names the function at each recorded offset (llvm-readelf symbols)', () => {
    let n = 0;
    for (const o of objects) {
      const btf = parseBtf(btfSection(o.path));
      const ext = parseBtfExt(btfSection(o.path, '.BTF.ext'), btf);
      const syms = readelfSymbols(o.path);
      const secs = readelfSections(o.path);
      for (const [sec, recs] of ext.funcInfo) {
        const idx = secs.find((s) => s.name === sec)!.index;
        for (const r of recs) {
          const sym = syms.find((s) => s.type === 'FUNC' && Number(s.ndx) === idx && s.value === r.insnOff);
          expect(btf.types[r.typeId]!.name, `${o.name} ${sec}+${r.insnOff}`).toBe(sym?.name);
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(50);
  });

  it('CO-RE relocation records are kept with kind and access string', async () => {
    const path = await fixture('kinds');
    const spec = parseObject(new Uint8Array(readFileSync(path)), path);
    const p = spec.programs.find((x) => x.name === 'kinds_prog')!;
    const target = spec.btf!.typeByName('core_target', BtfKind.Struct)!;
    expect(p.coreRelocs.map((r) => [r.kind, r.accessString, r.typeId]).sort()).toEqual([
      ['field_byte_offset', '0:1', target.id],
      ['field_byte_size', '0:1', target.id],
    ]);
    for (const r of p.coreRelocs) expect(p.instructions[r.insn * 8]).not.toBe(0);
  });
});

describe('BTF fix-ups', () => {
  it('DATASEC sizes come from ELF sections and VAR offsets from symbols', () => {
    let n = 0;
    let statics = 0;
    for (const o of objects) {
      const spec = parseObject(new Uint8Array(readFileSync(o.path)), o.path);
      const secs = readelfSections(o.path);
      const syms = readelfSymbols(o.path);
      const btf = spec.btf!;
      for (const t of btf.types) {
        if (t.kind !== BtfKind.Datasec || t.name === '.ksyms' || t.name === '.kconfig') continue;
        const sec = secs.find((s) => s.name === t.name)!;
        expect(t.size, `${o.name} ${t.name}`).toBe(sec.size);
        for (const v of t.vars) {
          const vt = btf.types[v.type]!;
          const cands = syms.filter((s) => s.name === vt.name && Number(s.ndx) === sec.index && s.type === 'OBJECT');
          // Globals always have a symbol; statics when it is unambiguous.
          if (vt.kind === BtfKind.Var && (vt.linkage !== 0 || cands.length === 1)) {
            expect(v.offset, `${o.name} ${t.name}/${vt.name}`).toBe(cands[0]!.value);
            if (vt.linkage === 0) statics++;
          }
          n++;
        }
        for (let i = 1; i < t.vars.length; i++) expect(t.vars[i]!.offset).toBeGreaterThanOrEqual(t.vars[i - 1]!.offset);
      }
      // The fixed-up raw blob decodes (bpftool) to the same model.
      const f = join(dir, `${o.name.replace(/\W/g, '_')}.btf`);
      writeFileSync(f, btf.raw);
      expect(btf.types.slice(1).map((t) => asBpftool(t)), o.name).toEqual(bpftoolBtf(f).map(normalise));
    }
    expect(n).toBeGreaterThan(20);
    expect(statics).toBeGreaterThanOrEqual(3);
  });

  it('extern FUNCs and VARs in .ksyms/.kconfig become kernel-acceptable', async () => {
    const path = await fixture('externs');
    const spec = parseObject(new Uint8Array(readFileSync(path)), path);
    const btf = spec.btf!;
    const ksyms = btf.typeByName('.ksyms', BtfKind.Datasec)!;
    expect(ksyms.kind === BtfKind.Datasec && ksyms.vars.every((v) => btf.types[v.type]!.kind === BtfKind.Var)).toBe(true);
    for (const t of btf.types) {
      if (t.kind === BtfKind.Func) expect(t.linkage, t.name).toBeLessThan(2);
      if (t.kind === BtfKind.Var) expect(t.linkage, t.name).toBeLessThan(2);
    }
    const p = spec.programs[0]!;
    expect(p.externReferences.map((e) => [e.name, e.kind])).toEqual(expect.arrayContaining([
      ['bpf_rcu_read_lock', 'func'], ['bpf_rcu_read_unlock', 'func'], ['LINUX_KERNEL_VERSION', 'kconfig'], ['bpf_prog_active', 'ksym'],
    ]));
    for (const e of p.externReferences.filter((x) => x.kind === 'func')) expect(p.instructions[e.insn * 8 + 1]! >> 4).toBe(2);
  });

  it.skipIf(!canLoad)('the kernel accepts btf.raw of every test object (BPF_BTF_LOAD; skipped only when not root on Linux)', () => {
    for (const o of objects) {
      const spec = parseObject(new Uint8Array(readFileSync(o.path)), o.path);
      const r = kernelLoad(spec.btf!.raw);
      expect(r.ok, `${o.name}: ${r.out}`).toBe(true);
    }
  });

  it.skipIf(!canLoad)('control: the kernel rejects the same BTF without the fix-ups (skipped only when not root on Linux)', async () => {
    const path = await fixture('basic');
    const r = kernelLoad(btfSection(path));
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/Invalid|size|offset/i);
  });
});

describe('malformed BTF', () => {
  async function good(): Promise<Uint8Array> {
    return btfSection(await fixture('basic')).slice();
  }
  function fails(b: Uint8Array, re: RegExp): void {
    let err: unknown;
    try {
      parseBtf(b, { file: 'x.o' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ElfError);
    expect((err as Error).message).toMatch(/^x\.o: section \.BTF: offset 0x[0-9a-f]+: parse BTF: /);
    expect((err as Error).message).toMatch(re);
  }

  it('bad magic, version, header and section bounds', async () => {
    const b = await good();
    const dv = (x: Uint8Array) => new DataView(x.buffer, x.byteOffset, x.byteLength);
    let c = b.slice(); c[0] = 0; fails(c, /bad magic/);
    c = b.slice(); c[2] = 9; fails(c, /unsupported BTF version 9/);
    c = b.slice(); dv(c).setUint32(4, 4, true); fails(c, /header length 4 is invalid/);
    c = b.slice(); dv(c).setUint32(12, 0x7ffffff0, true); fails(c, /type section .* extends past the end/);
    c = b.slice(); dv(c).setUint32(20, 0x7ffffff0, true); fails(c, /string section .* extends past the end/);
    fails(b.slice(0, 10), /too small for the BTF header/);
  });

  it('truncated records, unknown kinds, bad string offsets and dangling type ids name the offset', async () => {
    const b = await good();
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const hdr = dv.getUint32(4, true);
    const typeOff = hdr + dv.getUint32(8, true);
    // Type 1: set its kind to 31 (unknown).
    let c = b.slice();
    new DataView(c.buffer).setUint32(typeOff + 4, 31 << 24, true);
    fails(c, new RegExp(`offset 0x${typeOff.toString(16)}: parse BTF: type 1 has unknown kind 31`));
    // Type 1: name offset past the string table.
    c = b.slice();
    new DataView(c.buffer).setUint32(typeOff, 0x7fffffff, true);
    fails(c, /string offset 2147483647 is outside the string section/);
    // Type 1 (a PTR in this object) pointing at a type that does not exist.
    c = b.slice();
    new DataView(c.buffer).setUint32(typeOff + 8, 100000, true);
    fails(c, /type 1 refers to type 100000, but there are only \d+ types/);
    // A struct whose vlen runs past the type section.
    c = b.slice();
    const cdv = new DataView(c.buffer);
    cdv.setUint32(typeOff + 4, (4 << 24) | 0xffff, true);
    fails(c, /type 1 \(kind 4\) record extends past the type section/);
  });

  it('never throws anything but ElfError on random corruption of .BTF and .BTF.ext', async () => {
    const path = await fixture('kinds');
    const btfBytes = btfSection(path);
    const extBytes = btfSection(path, '.BTF.ext');
    const btf = parseBtf(btfBytes);
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
    let typed = 0;
    for (let i = 0; i < 3000; i++) {
      const which = i % 2;
      const c = (which ? extBytes : btfBytes).slice();
      for (let k = 0; k < 1 + (i % 3); k++) c[Math.floor(rnd() * c.length)] = Math.floor(rnd() * 256);
      try {
        if (which) parseBtfExt(c, btf);
        else parseBtf(c);
      } catch (e) {
        expect(e).toBeInstanceOf(BpfError);
        typed++;
      }
    }
    expect(typed).toBeGreaterThan(100);
  });
});
