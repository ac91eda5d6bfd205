/**
 * Object reader: bytes of a clang-built BPF object → ObjectSpec. Pure and deterministic: no
 * backend, no environment; the same bytes always give a deep-equal spec.
 *
 * What it does, following libbpf's rules:
 * - every global function symbol in an executable section other than `.text` is a program;
 *   static functions and everything in `.text` are subprograms;
 * - the section name gives type / expected attach type / target / flags (see sections.ts);
 * - `ld_imm64` relocations become map references (BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE),
 *   function addresses (BPF_PSEUDO_FUNC) or extern references; `call` relocations are
 *   bpf-to-bpf calls; every subprogram a program uses (transitively) is appended to its copy
 *   of the code, in first-use order, and call offsets are rewritten for the linked layout;
 * - func_info / line_info / CO-RE relocation records are rebased onto each linked program;
 * - maps come from `.maps` (BTF-defined), `maps` (legacy `struct bpf_map_def`) and global data
 *   sections (`.data`, `.rodata`, `.bss`, `.data.*`, `.rodata.*`);
 * - the object's BTF is fixed up as libbpf does (DATASEC sizes/offsets, extern linkage) so that
 *   `spec.btf.raw` loads with BPF_BTF_LOAD as is.
 *
 * Map loads in the linked code: `ld_imm64` with src_reg BPF_PSEUDO_MAP_FD (offset 0) or
 * BPF_PSEUDO_MAP_VALUE; imm of the first slot is 0 (the backend patches the map fd/handle in)
 * and, for MAP_VALUE, imm of the second slot already holds the value offset (= MapReference
 * `offset`). Kernel function calls get src_reg BPF_PSEUDO_KFUNC_CALL and an ExternReference.
 *
 * Programs whose code sections exceed LAZY_LINK_INSNS instructions are linked on first read of
 * their linked fields (see `program()`); all others are linked by parseObject.
 */
import { ElfError } from '../errors.js';
import { Btf } from '../btf/btf.js';
import { fixupBtf, type DataSymbol } from '../btf/fixup.js';
import { parseBtfExt, parseBtfLayout, type BtfExt, type ExtLineInfo } from '../btf/parse.js';
import { BtfKind } from '../btf/types.js';
import {
  MAP_TYPES, MapFlag,
  type CoreReloc, type CoreRelocKind, type ExternReference, type FuncInfo, type LineInfo, type MapContent,
  type MapReference, type MapSpec, type ObjectSpec, type ProgramSpec,
} from '../spec/index.js';
import {
  readElf, SectionFlag, SectionType, SymbolBind, SymbolType,
  type ElfFile, type ElfSection, type ElfSymbol,
} from './container.js';
import { programInfoForSection } from './sections.js';

export { readElf } from './container.js';
export type { ElfFile, ElfSection, ElfSymbol, ElfRelocation } from './container.js';
export { programInfoForSection, BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS } from './sections.js';
export type { SectionProgramInfo } from './sections.js';

const enum Op { LdImm64 = 0x18, Call = 0x85 }
const enum Pseudo { MapFd = 1, MapValue = 2, KfuncCall = 2, Call = 1, Func = 4 }
const enum Reloc { Bpf64_64 = 1, Bpf64Abs64 = 2, Bpf64_32 = 10 }

const CORE_KINDS: CoreRelocKind[] = [
  'field_byte_offset', 'field_byte_size', 'field_exists', 'field_signed', 'field_lshift_u64',
  'field_rshift_u64', 'type_id_local', 'type_id_target', 'type_exists', 'type_size',
  'enumval_exists', 'enumval_value', 'type_matches',
];

interface Func {
  name: string;
  section: CodeSection;
  /** First instruction slot within the section. */
  start: number;
  count: number;
  global: boolean;
}

const enum RelKind { Map, Call, FuncAddr, Extern, KfuncCall }

/** Something the linker must patch at one instruction: from a relocation or an in-section call. */
interface Edge {
  /** Instruction slot within the section. */
  insn: number;
  kind: RelKind;
  /** Map name (RelKind.Map). */
  map: string;
  /** src_reg pseudo value to set (RelKind.Map: MAP_FD or MAP_VALUE), 0 to leave as is. */
  pseudo: number;
  /** Byte offset into the map value (MAP_VALUE). */
  offset: number;
  target: Func | undefined;
  name: string;
  externKind: ExternReference['kind'];
}

interface CodeSection {
  sec: ElfSection;
  /** The section's bytes in the file (never modified; programs get patched copies). */
  data: Uint8Array;
  insns: number;
  /** Function starting at each slot. */
  funcAt: Map<number, Func>;
  /** Functions in address order. */
  funcs: Func[];
  /** Patch points in instruction order. */
  edges: Edge[];
  /** Whether unrelocated in-section calls have been collected into `edges` (see scan()). */
  scanned: boolean;
}

interface MapSlot {
  spec: MapSpec;
  offset: number;
  size: number;
  /** Byte offset of the `values` member within the definition, or -1. */
  valuesOff: number;
}

/** Code size (instructions) above which a program is linked on first read; see program(). */
export const LAZY_LINK_INSNS = 4096;

const DATA_SECTION = /^\.(data|rodata|bss)(\..+)?$/;
const utf8 = new TextDecoder();

/** Parse a BPF object into an ObjectSpec. Throws ElfError / NotSupportedError on bad input. */
export function parseObject(bytes: Uint8Array, source = '<memory>'): ObjectSpec {
  const elf = readElf(bytes, source);
  return new ObjectParser(elf).parse();
}

class ObjectParser {
  private readonly file: string;
  private btf: Btf | undefined;
  private ext: BtfExt | undefined;
  private license = '';
  private kernelVersion = 0;
  private readonly maps: MapSpec[] = [];
  /** BTF-defined maps by symbol name. */
  private readonly btfMaps = new Map<string, MapSlot>();
  /** Legacy maps by offset in the `maps` section. */
  private readonly legacyMaps = new Map<number, MapSpec>();
  /** Global data maps by section index. */
  private readonly dataMaps = new Map<number, MapSpec>();
  private readonly code = new Map<number, CodeSection>();
  private readonly strCache = new Map<number, string>();
  private ksymsFuncs: Set<string> | undefined;
  private kconfigVars: Set<string> | undefined;

  constructor(private readonly elf: ElfFile) {
    this.file = elf.source;
  }

  private err(msg: string, loc: { section?: string; insn?: number; symbol?: string; offset?: number } = {}, hint?: string): ElfError {
    return new ElfError(msg, { file: this.file, ...loc }, hint ? { hint } : {});
  }

  parse(): ObjectSpec {
    const elf = this.elf;
    this.readLicense();
    this.readBtf();
    this.readDataMaps();
    this.readBtfMaps();
    this.readLegacyMaps();
    for (const m of this.dataMaps.values()) this.maps.push(m);
    this.readFunctions();
    for (const cs of this.code.values()) this.relocateSection(cs);
    this.readMapValues();

    const entries: Func[] = [];
    for (const cs of this.code.values()) {
      if (cs.sec.name === '.text') continue;
      for (const f of cs.funcAt.values()) if (f.global) entries.push(f);
    }
    // Programs linked now share one buffer (one allocation per object, not per program).
    const plans = entries.map((f) => (this.codeSize(f) <= LAZY_LINK_INSNS ? this.plan(f) : undefined));
    let slots = 0;
    for (const pl of plans) if (pl) slots += pl.total;
    const arena = new Uint8Array(slots * 8);
    let at = 0;
    const programs = entries.map((f, i) => {
      const pl = plans[i];
      if (!pl) return this.program(f);
      const out = arena.subarray(at * 8, (at + pl.total) * 8);
      at += pl.total;
      return this.program(f, this.link(f, pl, out));
    });
    const spec: ObjectSpec = {
      source: elf.source,
      license: this.license,
      kernelVersion: this.kernelVersion,
      programs,
      maps: this.maps,
    };
    if (this.btf) spec.btf = this.btf;
    return spec;
  }

  // --- license / version ------------------------------------------------------------------

  private readLicense(): void {
    const lic = this.elf.sectionByName('license');
    if (lic) {
      const d = lic.data;
      let end = 0;
      while (end < d.length && d[end] !== 0) end++;
      if (end === d.length && d.length > 0 && lic.type !== SectionType.Nobits) {
        throw this.err('license string is not NUL-terminated', { section: 'license' });
      }
      this.license = utf8.decode(d.subarray(0, end));
    }
    const ver = this.elf.sectionByName('version');
    if (ver) {
      if (ver.size !== 4) throw this.err(`version section is ${ver.size} bytes, expected 4`, { section: 'version' });
      this.kernelVersion = new DataView(ver.data.buffer, ver.data.byteOffset, 4).getUint32(0, true);
    }
  }

  // --- BTF --------------------------------------------------------------------------------

  private readBtf(): void {
    const sec = this.elf.sectionByName('.BTF');
    if (!sec) return;
    const { btf, layout } = parseBtfLayout(sec.data, { file: this.file, section: '.BTF' });
    const sectionSizes = (name: string): number | undefined => this.elf.sectionByName(name)?.size;
    const symbols = new Map<string, DataSymbol>();
    const localSymbols = new Map<string, DataSymbol | null>();
    for (const sym of this.elf.symbols) {
      if (sym.type !== SymbolType.Object) continue;
      if (sym.shndx === 0 || sym.shndx >= this.elf.sections.length) continue;
      if (sym.bind === SymbolBind.Local) {
        const sec = this.elf.sections[sym.shndx]!.name;
        const key = `${sec}\0${sym.name}`;
        localSymbols.set(key, localSymbols.has(key) ? null : { value: sym.value, size: sym.size, visibility: sym.visibility, section: sec });
        continue;
      }
      if (!symbols.has(sym.name)) {
        symbols.set(sym.name, { value: sym.value, size: sym.size, visibility: sym.visibility, section: this.elf.sections[sym.shndx]!.name });
      }
    }
    for (const t of btf.types) {
      if (t.kind !== BtfKind.Datasec || (t.name !== '.ksyms' && t.name !== '.kconfig')) continue;
      const set = new Set<string>();
      for (const v of t.vars) set.add(btf.types[v.type]!.name);
      if (t.name === '.ksyms') this.ksymsFuncs = set;
      else this.kconfigVars = set;
    }
    this.btf = fixupBtf(btf, layout, { sectionSizes, symbols, localSymbols }, { file: this.file, section: '.BTF' });
    const extSec = this.elf.sectionByName('.BTF.ext');
    if (extSec) this.ext = parseBtfExt(extSec.data, this.btf, { file: this.file, section: '.BTF.ext' });

  }

  private str(off: number): string {
    let s = this.strCache.get(off);
    if (s === undefined) {
      s = this.btf!.stringAt(off);
      this.strCache.set(off, s);
    }
    return s;
  }

  // --- maps -------------------------------------------------------------------------------

  private datasecs: Map<string, number> | undefined;
  private datasecId(name: string): number {
    if (!this.btf) return 0;
    if (!this.datasecs) {
      this.datasecs = new Map();
      for (const t of this.btf.types) if (t.kind === BtfKind.Datasec && !this.datasecs.has(t.name)) this.datasecs.set(t.name, t.id);
    }
    return this.datasecs.get(name) ?? 0;
  }

  private readDataMaps(): void {
    for (const s of this.elf.sections) {
      if (!s.index || (s.flags & SectionFlag.Alloc) === 0 || (s.flags & SectionFlag.Execinstr) !== 0) continue;
      if (s.type !== SectionType.Progbits && s.type !== SectionType.Nobits) continue;
      if (!DATA_SECTION.test(s.name) || s.size === 0) continue;
      if (s.size > 0xffffffff) throw this.err(`global data section is ${s.size} bytes, too large for a map value`, { section: s.name });
      const rodata = s.name.startsWith('.rodata');
      const m: MapSpec = {
        name: s.name,
        type: 'array',
        keySize: 4,
        valueSize: s.size,
        maxEntries: 1,
        flags: MapFlag.Mmapable | (rodata ? MapFlag.RdonlyProg : 0),
        pinning: 'none',
        section: s.name,
        keyTypeId: 0,
        valueTypeId: this.datasecId(s.name),
        contents: [],
        freeze: rodata,
        globalData: true,
      };
      // .bss (SHT_NOBITS) has no file contents: the map starts zeroed, so no initialData.
      if (s.type !== SectionType.Nobits) m.initialData = s.data.slice();
      this.dataMaps.set(s.index, m);
    }
  }

  private readBtfMaps(): void {
    const sec = this.elf.sectionByName('.maps');
    if (!sec) return;
    const btf = this.btf;
    const mapSyms = this.elf.symbols.filter((s) => s.shndx === sec.index && s.type !== SymbolType.Section && s.name);
    if (!btf) {
      const first = mapSyms[0]?.name ?? '(unnamed)';
      throw this.err(`map ${first} is in .maps but the object has no BTF to describe it`, { section: '.maps', symbol: first }, 'compile with -g so clang emits BTF');
    }
    const dsId = this.datasecId('.maps');
    const ds = dsId ? btf.types[dsId] : undefined;
    const vars = new Map<string, { type: number; offset: number; size: number }>();
    if (ds && ds.kind === BtfKind.Datasec) {
      for (const v of ds.vars) {
        const vt = btf.types[v.type]!;
        if (vt.kind !== BtfKind.Var) throw this.err(`DATASEC .maps entry of type ${v.type} is not a VAR`, { section: '.BTF' });
        vars.set(vt.name, { type: vt.type, offset: v.offset, size: v.size });
      }
    }
    const seen = new Set<string>();
    const ordered = [...vars.entries()].sort((a, b) => a[1].offset - b[1].offset);
    for (const [name, v] of ordered) {
      const { spec, valuesOff } = this.btfMapDef(name, v.type, true);
      this.maps.push(spec);
      this.btfMaps.set(name, { spec, offset: v.offset, size: v.size, valuesOff });
      seen.add(name);
    }
    for (const s of mapSyms) {
      if (!seen.has(s.name)) {
        throw this.err(`map ${s.name} has no BTF definition and no legacy definition`, { section: '.maps', symbol: s.name }, 'declare it with __uint/__type in SEC(".maps") and compile with -g');
      }
    }
  }

  private btfMapDef(name: string, typeId: number, outer: boolean): { spec: MapSpec; valuesOff: number } {
    const btf = this.btf!;
    const def = btf.resolve(typeId);
    const loc = { section: '.maps', symbol: name };
    if (!def || def.kind !== BtfKind.Struct) throw this.err(`map ${name}: definition is not a struct`, loc);
    let type = -1;
    let maxEntries = 0, flags = 0, keySize = -1, valueSize = -1, numaNode: number | undefined, mapExtra: bigint | undefined;
    let keyTypeId = 0, valueTypeId = 0, pinning = 0;
    let inner: MapSpec | undefined;
    let valuesOff = -1;
    let hasValues = false;
    const uint = (member: string, mtype: number): number => {
      const p = btf.resolve(mtype);
      if (p && p.kind === BtfKind.Ptr) {
        const a = btf.resolve(p.type);
        if (a && a.kind === BtfKind.Array) return a.nelems;
      }
      throw this.err(`map ${name}: field ${member} is not __uint(${member}, N)`, loc);
    };
    const ulong = (member: string, mtype: number): bigint => {
      const p = btf.resolve(mtype);
      if (p && (p.kind === BtfKind.Enum || p.kind === BtfKind.Enum64) && p.values.length === 1) return BigInt.asUintN(64, p.values[0]!.value);
      return BigInt(uint(member, mtype));
    };
    const pointee = (member: string, mtype: number): number => {
      const p = btf.resolve(mtype);
      if (!p || p.kind !== BtfKind.Ptr) throw this.err(`map ${name}: field ${member} is not __type(${member}, T)`, loc);
      return p.type;
    };
    for (const m of def.members) {
      switch (m.name) {
        case 'type': type = uint(m.name, m.type); break;
        case 'max_entries': maxEntries = uint(m.name, m.type); break;
        case 'map_flags': flags = uint(m.name, m.type); break;
        case 'numa_node': numaNode = uint(m.name, m.type); break;
        case 'map_extra': mapExtra = ulong(m.name, m.type); break;
        case 'pinning': pinning = uint(m.name, m.type); break;
        case 'key_size': {
          const sz = uint(m.name, m.type);
          if (keySize >= 0 && keySize !== sz) throw this.err(`map ${name}: key_size ${sz} conflicts with key type size ${keySize}`, loc);
          keySize = sz;
          break;
        }
        case 'value_size': {
          const sz = uint(m.name, m.type);
          if (valueSize >= 0 && valueSize !== sz) throw this.err(`map ${name}: value_size ${sz} conflicts with value type size ${valueSize}`, loc);
          valueSize = sz;
          break;
        }
        case 'key': {
          keyTypeId = pointee(m.name, m.type);
          const sz = btf.sizeof(keyTypeId);
          if (sz === undefined) throw this.err(`map ${name}: key type ${keyTypeId} has no size`, loc);
          if (keySize >= 0 && keySize !== sz) throw this.err(`map ${name}: key type size ${sz} conflicts with key_size ${keySize}`, loc);
          keySize = sz;
          break;
        }
        case 'value': {
          valueTypeId = pointee(m.name, m.type);
          const sz = btf.sizeof(valueTypeId);
          if (sz === undefined) throw this.err(`map ${name}: value type ${valueTypeId} has no size`, loc);
          if (valueSize >= 0 && valueSize !== sz) throw this.err(`map ${name}: value type size ${sz} conflicts with value_size ${valueSize}`, loc);
          valueSize = sz;
          break;
        }
        case 'values': {
          if (!outer) throw this.err(`map ${name}: inner map definition cannot have values`, loc);
          const a = btf.resolve(m.type);
          if (!a || a.kind !== BtfKind.Array) throw this.err(`map ${name}: values is not __array(values, T)`, loc);
          const p = btf.resolve(a.elemType);
          if (!p || p.kind !== BtfKind.Ptr) throw this.err(`map ${name}: values elements are not pointers`, loc);
          const target = btf.resolve(p.type);
          if (target && target.kind === BtfKind.Struct) {
            inner = this.btfMapDef(`${name}.inner`, target.id, false).spec;
          } else if (!target || target.kind !== BtfKind.FuncProto) {
            throw this.err(`map ${name}: values must be __array of map definitions or programs`, loc);
          }
          if (m.bitOffset % 8 !== 0) throw this.err(`map ${name}: values member is not byte aligned`, loc);
          valuesOff = m.bitOffset / 8;
          hasValues = true;
          if (valueSize >= 0 && valueSize !== 4) throw this.err(`map ${name}: value_size ${valueSize} conflicts with __array(values) (4)`, loc);
          valueSize = 4;
          break;
        }
        default:
          throw this.err(`map ${name}: unknown field ${m.name}`, loc);
      }
    }
    if (type < 0) throw this.err(`map ${name}: no type`, loc, 'add __uint(type, BPF_MAP_TYPE_...)');
    const mtype = MAP_TYPES[type];
    if (!mtype) throw this.err(`map ${name}: unknown map type ${type}`, loc);
    if (pinning !== 0 && pinning !== 1) throw this.err(`map ${name}: unknown pinning ${pinning}`, loc);
    if (hasValues && mtype !== 'prog_array' && mtype !== 'array_of_maps' && mtype !== 'hash_of_maps') {
      throw this.err(`map ${name}: values are only allowed for prog_array and map-in-map types, not ${mtype}`, loc);
    }
    if (inner && mtype === 'prog_array') throw this.err(`map ${name}: prog_array values must be programs`, loc);
    const spec: MapSpec = {
      name,
      type: mtype,
      keySize: keySize < 0 ? 0 : keySize,
      valueSize: valueSize < 0 ? 0 : valueSize,
      maxEntries,
      flags,
      pinning: pinning === 1 ? 'by_name' : 'none',
      section: '.maps',
      keyTypeId,
      valueTypeId: hasValues ? 0 : valueTypeId,
      contents: [],
      freeze: false,
      globalData: false,
    };
    if (numaNode !== undefined) spec.numaNode = numaNode;
    if (mapExtra !== undefined) spec.mapExtra = mapExtra;
    if (inner) spec.innerMap = inner;
    return { spec, valuesOff };
  }

  private readLegacyMaps(): void {
    const sec = this.elf.sectionByName('maps');
    if (!sec) return;
    const syms = this.elf.symbols
      .filter((s) => s.shndx === sec.index && s.type !== SymbolType.Section && s.type !== SymbolType.File && s.name)
      .sort((a, b) => a.value - b.value);
    const d = sec.data;
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    for (const s of syms) {
      const loc = { section: 'maps', symbol: s.name, offset: s.value };
      if (s.size < 4) throw this.err(`legacy map ${s.name}: definition is ${s.size} bytes, too small for struct bpf_map_def`, loc);
      if (s.value > d.length || s.size > d.length - s.value) throw this.err(`legacy map ${s.name}: definition extends past the maps section`, loc);
      const field = (i: number): number => (i * 4 + 4 <= s.size ? dv.getUint32(s.value + i * 4, true) : 0);
      const type = field(0);
      const mtype = MAP_TYPES[type];
      if (!mtype) throw this.err(`legacy map ${s.name}: unknown map type ${type}`, loc);
      if (this.legacyMaps.has(s.value)) throw this.err(`legacy map ${s.name} overlaps another definition`, loc);
      const spec: MapSpec = {
        name: s.name,
        type: mtype,
        keySize: field(1),
        valueSize: field(2),
        maxEntries: field(3),
        flags: field(4),
        pinning: 'none',
        section: 'maps',
        keyTypeId: 0,
        valueTypeId: 0,
        contents: [],
        freeze: false,
        globalData: false,
      };
      this.legacyMaps.set(s.value, spec);
      this.maps.push(spec);
    }
  }

  // --- code -------------------------------------------------------------------------------

  private readFunctions(): void {
    const elf = this.elf;
    for (const s of elf.sections) {
      if (!s.index || s.type !== SectionType.Progbits || (s.flags & SectionFlag.Execinstr) === 0 || s.size === 0) continue;
      if (s.size % 8 !== 0) throw this.err(`code size ${s.size} is not a multiple of 8`, { section: s.name });
      this.code.set(s.index, { sec: s, data: s.data, insns: s.size / 8, funcAt: new Map(), funcs: [], edges: [], scanned: false });
    }
    const funcs: ElfSymbol[] = elf.symbols.filter((y) => y.type === SymbolType.Func && y.shndx !== 0 && this.code.has(y.shndx));
    funcs.sort((a, b) => a.shndx - b.shndx || a.value - b.value || a.index - b.index);
    for (const y of funcs) {
      const cs = this.code.get(y.shndx)!;
      const loc = { section: cs.sec.name, symbol: y.name };
      if (y.value % 8 !== 0 || y.size % 8 !== 0) throw this.err(`function ${y.name} at 0x${y.value.toString(16)} size ${y.size} is not instruction aligned`, loc);
      if (y.size === 0) throw this.err(`function ${y.name} has size 0`, loc);
      if (y.value > cs.sec.size || y.size > cs.sec.size - y.value) throw this.err(`function ${y.name} (0x${y.value.toString(16)}+${y.size}) extends past the end of the section (${cs.sec.size} bytes)`, loc);
      const start = y.value / 8;
      const prev = cs.funcs[cs.funcs.length - 1];
      if (prev && prev.start + prev.count > start) throw this.err(`functions ${prev.name} and ${y.name} overlap`, loc);
      const global = y.bind !== SymbolBind.Local && cs.sec.name !== '.text';
      const f: Func = { name: y.name, section: cs, start, count: y.size / 8, global };
      cs.funcAt.set(start, f);
      cs.funcs.push(f);
    }
  }

  private relocateSection(cs: CodeSection): void {
    const elf = this.elf;
    const rels = elf.relocations.get(cs.sec.index);
    const secName = cs.sec.name;
    const code = cs.data;
    const dv = new DataView(code.buffer, code.byteOffset, code.byteLength);
    const edges = cs.edges;
    if (rels) {
      for (const r of rels) {
        if (r.offset % 8 !== 0) throw this.err(`relocation at offset 0x${r.offset.toString(16)} is not on an instruction boundary`, { section: secName, offset: r.offset });
        const insn = r.offset / 8;
        edges.push(this.relocation(cs, dv, insn, r.type, r.symbol));
      }
    }
    edges.sort((a, b) => a.insn - b.insn);
    for (let k = 1; k < edges.length; k++) {
      if (edges[k]!.insn === edges[k - 1]!.insn) throw this.err('two relocations for one instruction', { section: secName, insn: edges[k]!.insn });
    }
  }

  /**
   * Find the calls and function addresses the assembler resolved within the section (no
   * relocation): `call` with src_reg BPF_PSEUDO_CALL, or `ld_imm64` with src_reg
   * BPF_PSEUDO_FUNC. One pass over the code, reading the first 32 bits of each slot (opcode,
   * registers). Done once per section, when the first program using it is linked.
   */
  private scan(cs: CodeSection): void {
    if (cs.scanned) return;
    cs.scanned = true;
    const code = cs.data;
    const dv = new DataView(code.buffer, code.byteOffset, code.byteLength);
    const n = cs.insns;
    const relocated = new Uint8Array(n);
    for (const e of cs.edges) relocated[e.insn] = 1;
    const before = cs.edges.length;
    const aligned = (code.byteOffset & 3) === 0;
    const words = aligned ? new Uint32Array(code.buffer, code.byteOffset, n * 2) : undefined;
    for (let i = 0; i < n; i++) {
      const w = words ? words[i * 2]! : code[i * 8]! | (code[i * 8 + 1]! << 8);
      const t = w & 0xf0ff;
      if (t !== 0x1085 && t !== 0x4018) continue;
      if (relocated[i]) continue;
      this.localCall(cs, dv, i, t === 0x1085 ? RelKind.Call : RelKind.FuncAddr);
    }
    if (cs.edges.length !== before) cs.edges.sort((a, b) => a.insn - b.insn);
  }

  private localCall(cs: CodeSection, dv: DataView, i: number, kind: RelKind): void {
    const t = i + dv.getInt32(i * 8 + 4, true) + 1;
    const target = cs.funcAt.get(t);
    if (!target) throw this.err(`call target insn ${t} is not the start of a function`, { section: cs.sec.name, insn: i });
    cs.edges.push({ insn: i, kind, map: '', pseudo: 0, offset: 0, target, name: target.name, externKind: 'func' });
  }

  private relocation(cs: CodeSection, dv: DataView, insn: number, rtype: number, symIdx: number): Edge {
    const elf = this.elf;
    const secName = cs.sec.name;
    const code = cs.data;
    const off = insn * 8;
    const loc = { section: secName, insn };
    const op = code[off]!;
    const sym = elf.symbols[symIdx]!;
    const symName = sym.name || (sym.shndx && sym.shndx < elf.sections.length ? elf.sections[sym.shndx]!.name : `#${sym.index}`);
    const imm = dv.getInt32(off + 4, true);
    const rel: Edge = { insn, kind: RelKind.Map, map: '', pseudo: 0, offset: 0, target: undefined, name: symName, externKind: 'ksym' };
    if (op === Op.LdImm64) {
      if (rtype !== Reloc.Bpf64_64) throw this.err(`unsupported relocation type ${rtype} for ld_imm64 against ${symName}`, loc);
      if (insn + 1 >= cs.insns) throw this.err('ld_imm64 at the end of the section has no second slot', loc);
      if (sym.shndx === 0) {
        rel.kind = RelKind.Extern;
        rel.externKind = this.kconfigVars?.has(sym.name) ? 'kconfig' : 'ksym';
        return rel;
      }
      if (sym.shndx >= 0xff00) throw this.err(`ld_imm64 relocation against special symbol ${symName} (section index 0x${sym.shndx.toString(16)}) is not supported`, loc);
      const target = elf.sections[sym.shndx]!;
      if (target.flags & SectionFlag.Execinstr) {
        const tcs = this.code.get(target.index);
        const byte = sym.value + imm;
        if (!tcs || byte % 8 !== 0) throw this.err(`function address of ${symName}+${imm} is not an instruction`, loc);
        const f = tcs.funcAt.get(byte / 8);
        if (!f) throw this.err(`function address ${target.name}+0x${byte.toString(16)} is not the start of a function`, loc);
        rel.kind = RelKind.FuncAddr;
        rel.target = f;
        return rel;
      }
      rel.pseudo = Pseudo.MapFd;
      if (target.name === '.maps') {
        let slot = sym.type === SymbolType.Section ? undefined : this.btfMaps.get(sym.name);
        if (!slot) {
          const at = sym.value + (sym.type === SymbolType.Section ? imm : 0);
          for (const m of this.btfMaps.values()) if (m.offset === at) slot = m;
        }
        if (!slot) throw this.err(`map ${symName} has no BTF definition and no legacy definition`, loc);
        rel.map = slot.spec.name;
        return rel;
      }
      if (target.name === 'maps') {
        const m = this.legacyMaps.get(sym.value + (sym.type === SymbolType.Section ? imm : 0));
        if (!m) throw this.err(`reference to ${symName} in section maps does not match a legacy map definition`, loc);
        rel.map = m.name;
        return rel;
      }
      const dm = this.dataMaps.get(target.index);
      if (!dm) {
        if (sym.type === SymbolType.Object) {
          throw this.err(`map ${symName} (section ${target.name}) has no BTF definition and no legacy definition`, loc,
            'BTF-defined maps go in SEC(".maps"), legacy struct bpf_map_def maps in SEC("maps")');
        }
        throw this.err(`ld_imm64 relocation against ${symName} in section ${target.name} is not supported (only maps, global data and functions)`, loc);
      }
      const valueOff = (sym.type === SymbolType.Section ? 0 : sym.value) + imm;
      if (valueOff < 0 || valueOff > dm.valueSize) throw this.err(`reference to ${symName}+${imm} is outside ${target.name} (${dm.valueSize} bytes)`, loc);
      rel.map = dm.name;
      rel.pseudo = Pseudo.MapValue;
      rel.offset = valueOff;
      return rel;
    }
    if (op === Op.Call) {
      if (rtype !== Reloc.Bpf64_32) throw this.err(`unsupported relocation type ${rtype} for call against ${symName}`, loc);
      if (sym.shndx === 0) {
        if (this.ksymsFuncs?.has(sym.name)) {
          rel.kind = RelKind.KfuncCall;
          rel.externKind = 'func';
          return rel;
        }
        throw this.err(`call to missing subprogram ${sym.name}`, loc, 'define the function in this object, or declare a kernel function with __ksym');
      }
      const src = code[off + 1]! >> 4;
      if (src !== Pseudo.Call) throw this.err(`relocated call against ${symName} is not a bpf-to-bpf call (src_reg ${src})`, loc);
      const tcs = sym.shndx < elf.sections.length ? this.code.get(sym.shndx) : undefined;
      if (!tcs) throw this.err(`call target ${symName} is not in a code section`, loc);
      const byte = sym.value + (imm + 1) * 8;
      const f = byte % 8 === 0 ? tcs.funcAt.get(byte / 8) : undefined;
      if (!f) throw this.err(`call target ${tcs.sec.name}+0x${byte.toString(16)} (${symName}) is not the start of a function`, loc);
      rel.kind = RelKind.Call;
      rel.target = f;
      return rel;
    }
    throw this.err(`unsupported relocation (type ${rtype}) against ${symName} on instruction with opcode 0x${op.toString(16)}`, loc, 'only ld_imm64 and call instructions can be relocated');
  }

  // --- `values = { ... }` of prog arrays and map-in-map -------------------------------------

  private readMapValues(): void {
    const sec = this.elf.sectionByName('.maps');
    if (!sec) return;
    const rels = this.elf.relocations.get(sec.index);
    if (!rels) return;
    const slots = [...this.btfMaps.values()];
    for (const r of rels) {
      const sym = this.elf.symbols[r.symbol]!;
      const slot = slots.find((m) => r.offset >= m.offset && r.offset < m.offset + m.size);
      const loc = { section: '.maps', offset: r.offset };
      if (!slot) throw this.err(`relocation against ${sym.name} is outside every map definition`, loc);
      const m = slot.spec;
      if (r.type !== Reloc.Bpf64Abs64) throw this.err(`map ${m.name}: unsupported relocation type ${r.type} in values`, loc);
      if (slot.valuesOff < 0) throw this.err(`map ${m.name}: relocation against ${sym.name} but the map has no values member`, loc);
      const rel = r.offset - slot.offset - slot.valuesOff;
      if (rel < 0 || rel % 8 !== 0) throw this.err(`map ${m.name}: relocation against ${sym.name} is not on a values slot`, loc);
      const key = rel / 8;
      if (key >= m.maxEntries) throw this.err(`map ${m.name}: values slot ${key} is beyond max_entries ${m.maxEntries}`, loc);
      let value: string;
      if (m.type === 'prog_array') {
        const cs = this.code.get(sym.shndx);
        const f = cs && sym.type === SymbolType.Func ? cs.funcAt.get(sym.value / 8) : undefined;
        if (!f || !f.global) throw this.err(`map ${m.name}: values slot ${key} refers to ${sym.name}, which is not a program`, loc);
        value = f.name;
      } else {
        const target = this.btfMaps.get(sym.name);
        if (sym.shndx !== sec.index || !target) throw this.err(`map ${m.name}: values slot ${key} refers to ${sym.name}, which is not a map in .maps`, loc);
        value = target.spec.name;
      }
      m.contents.push({ key, value } satisfies MapContent);
    }
    for (const s of slots) s.spec.contents.sort((a, b) => a.key - b.key);
  }

  // --- linking ----------------------------------------------------------------------------

  /** Which functions a program needs, in first-use order (as libbpf appends them). */
  private plan(entry: Func): LinkPlan {
    const funcs: Func[] = [entry];
    const starts = new Map<Func, number>([[entry, 0]]);
    let total = entry.count;
    // First pass: which functions, in first-use order (as libbpf appends them).
    for (let fi = 0; fi < funcs.length; fi++) {
      const f = funcs[fi]!;
      this.scan(f.section);
      const edges = f.section.edges;
      for (let k = firstEdge(edges, f.start), end = f.start + f.count; k < edges.length && edges[k]!.insn < end; k++) {
        const t = edges[k]!.target;
        if (t && !starts.has(t)) {
          starts.set(t, total);
          funcs.push(t);
          total += t.count;
        }
      }
    }
    return { funcs, starts, total };
  }

  /**
   * Link a program: copy its functions into `out` (total * 8 bytes; allocated if not given) and
   * patch calls, function addresses and map loads; rebase func/line/CO-RE info.
   */
  private link(entry: Func, planned?: LinkPlan, out?: Uint8Array): Linked {
    const { funcs, starts, total } = planned ?? this.plan(entry);
    out ??= new Uint8Array(total * 8);
    const odv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const mapRefs: MapReference[] = [];
    const externs: ExternReference[] = [];
    for (const f of funcs) {
      const base = starts.get(f)!;
      out.set(f.section.data.subarray(f.start * 8, (f.start + f.count) * 8), base * 8);
      const edges = f.section.edges;
      for (let k = firstEdge(edges, f.start), end = f.start + f.count; k < edges.length && edges[k]!.insn < end; k++) {
        const e = edges[k]!;
        const at = base + e.insn - f.start;
        const o = at * 8;
        switch (e.kind) {
          case RelKind.Map:
            out[o + 1] = (out[o + 1]! & 0x0f) | (e.pseudo << 4);
            odv.setInt32(o + 4, 0, true);
            if (o + 12 < out.length) odv.setInt32(o + 12, e.offset, true);
            mapRefs.push({ insn: at, map: e.map, offset: e.offset });
            break;
          case RelKind.Extern:
            externs.push({ insn: at, name: e.name, kind: e.externKind });
            break;
          case RelKind.KfuncCall:
            out[o + 1] = (out[o + 1]! & 0x0f) | (Pseudo.KfuncCall << 4);
            externs.push({ insn: at, name: e.name, kind: e.externKind });
            break;
          case RelKind.Call:
            odv.setInt32(o + 4, starts.get(e.target!)! - at - 1, true);
            break;
          case RelKind.FuncAddr:
            out[o + 1] = (out[o + 1]! & 0x0f) | (Pseudo.Func << 4);
            odv.setInt32(o + 4, starts.get(e.target!)! - at - 1, true);
            break;
        }
      }
    }

    const funcInfo: FuncInfo[] = [];
    const lineInfo: LineInfo[] = [];
    const coreRelocs: CoreReloc[] = [];
    if (this.ext && this.btf) {
      for (const f of funcs) {
        const base = starts.get(f)!;
        const sname = f.section.sec.name;
        const lo = f.start * 8;
        const hi = (f.start + f.count) * 8;
        const fis = this.ext.funcInfoFor(sname);
        if (fis) {
          for (const r of fis) {
            if (r.insnOff >= lo && r.insnOff < hi) funcInfo.push({ insn: base + (r.insnOff - lo) / 8, typeId: r.typeId, name: this.btf.types[r.typeId]!.name });
          }
        }
        const lis = this.ext.lineInfoFor(sname);
        if (lis) {
          for (let i = lowerBound(lis, lo); i < lis.length; i++) {
            const r = lis[i]!;
            if (r.insnOff >= hi) break;
            lineInfo.push({
              insn: base + (r.insnOff - lo) / 8, file: this.str(r.fileNameOff), line: r.line, column: r.column,
              text: this.str(r.lineOff), fileNameOff: r.fileNameOff, lineOff: r.lineOff,
            });
          }
        }
        const crs = this.ext.coreRelocsFor(sname);
        if (crs) {
          for (const r of crs) {
            if (r.insnOff < lo || r.insnOff >= hi) continue;
            coreRelocs.push({ insn: base + (r.insnOff - lo) / 8, typeId: r.typeId, accessString: r.accessString, kind: CORE_KINDS[r.kind]! });
          }
        }
      }
    }
    return {
      instructions: out,
      subprograms: funcs.slice(1).map((f) => f.name),
      functionStarts: funcs.map((f) => ({ name: f.name, insn: starts.get(f)! })),
      mapReferences: mapRefs,
      externReferences: externs,
      funcInfo,
      lineInfo,
      coreRelocs,
    };
  }

  /**
   * The ProgramSpec for an entry function. Programs are linked right away, unless their code
   * sections (own section + .text) exceed LAZY_LINK_INSNS instructions: then the linked fields
   * (see `Linked`) are own, enumerable accessors that link once on first read, so opening a
   * huge object stays cheap (libbpf likewise links only at load time) while the spec still
   * reads, copies and compares as plain data. For those programs, calls that the assembler
   * resolved inside a section without a relocation are checked when first linked, so an
   * ElfError about them can come from reading `instructions` (or another linked field).
   */
  private codeSize(entry: Func): number {
    let code = 0;
    for (const cs of this.code.values()) if (cs === entry.section || cs.sec.name === '.text') code += cs.insns;
    return code;
  }

  private program(entry: Func, linked?: Linked): ProgramSpec {
    const info = programInfoForSection(entry.section.sec.name);
    const name = entry.name;
    const section = entry.section.sec.name;
    const spec: ProgramSpec = linked
      ? { name, section, type: info.type, flags: info.flags, sleepable: info.sleepable, license: this.license, kernelVersion: this.kernelVersion, ...linked }
      : lazyProgram(name, section, info.type, info.flags, info.sleepable, this.license, this.kernelVersion, () => this.link(entry));
    if (info.attachType) spec.attachType = info.attachType;
    if (info.attachTo) spec.attachTo = info.attachTo;
    return spec;
  }
}

interface LinkPlan {
  funcs: Func[];
  starts: Map<Func, number>;
  total: number;
}

type Linked = Pick<ProgramSpec, 'instructions' | 'subprograms' | 'functionStarts' | 'mapReferences' | 'externReferences' | 'funcInfo' | 'lineInfo' | 'coreRelocs'>;

/** Replace a lazy accessor by a plain data property (on assignment). */
function own(o: object, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}

/**
 * A ProgramSpec whose linked fields are own, enumerable accessors computing `link` once on
 * first read (so copies, JSON and deep equality see plain values); assigning a field replaces
 * its accessor with a data property.
 */
function lazyProgram(
  name: string, section: string, type: ProgramSpec['type'], flags: number, sleepable: boolean,
  license: string, kernelVersion: number, link: () => Linked,
): ProgramSpec {
  let linked: Linked | undefined;
  const L = (): Linked => (linked ??= link());
  return {
    name, section, type, flags, sleepable, license, kernelVersion,
    get instructions() { return L().instructions; },
    set instructions(v) { own(this, 'instructions', v); },
    get subprograms() { return L().subprograms; },
    set subprograms(v) { own(this, 'subprograms', v); },
    get functionStarts() { return L().functionStarts; },
    set functionStarts(v) { own(this, 'functionStarts', v); },
    get mapReferences() { return L().mapReferences; },
    set mapReferences(v) { own(this, 'mapReferences', v); },
    get externReferences() { return L().externReferences; },
    set externReferences(v) { own(this, 'externReferences', v); },
    get funcInfo() { return L().funcInfo; },
    set funcInfo(v) { own(this, 'funcInfo', v); },
    get lineInfo() { return L().lineInfo; },
    set lineInfo(v) { own(this, 'lineInfo', v); },
    get coreRelocs() { return L().coreRelocs; },
    set coreRelocs(v) { own(this, 'coreRelocs', v); },
  };
}

function firstEdge(edges: Edge[], insn: number): number {
  let a = 0, b = edges.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (edges[m]!.insn < insn) a = m + 1;
    else b = m;
  }
  return a;
}

function lowerBound(l: ExtLineInfo[], off: number): number {
  let a = 0, b = l.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (l[m]!.insnOff < off) a = m + 1;
    else b = m;
  }
  return a;
}

