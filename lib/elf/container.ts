/**
 * The ELF container of a BPF object: header, section table, symbol table and relocation tables,
 * decoded directly from the bytes with every offset and size checked against the file. Every
 * failure is an `ElfError` naming the file and the offending section or offset.
 *
 * This started as a wrapper around the `elfy` package; it was replaced because (1) elfy reads
 * `sh_addralign`/`sh_entsize` of 64-bit section headers from the wrong offsets (46/54 instead of
 * 48/56), so the symbol table's entry size cannot be validated from its output, (2) it folds
 * 64-bit values into doubles without range checks and throws untyped `Error`/`TypeError`/
 * `AssertionError`s that all had to be caught and re-wrapped, and (3) it parses program headers
 * and slices every section eagerly, which alone cost about half of libbpf's whole
 * `bpf_object__open_mem` time (see bench/open-object.ts). The reader below is ~100 lines and
 * only decodes what a BPF loader needs.
 */
import { ElfError, NotSupportedError } from '../errors.js';
import { latin1, NON_ASCII } from '../btf/parse.js';

export const enum SectionType {
  Null = 0, Progbits = 1, Symtab = 2, Strtab = 3, Rela = 4, Nobits = 8, Rel = 9,
}
export const enum SectionFlag {
  Write = 0x1, Alloc = 0x2, Execinstr = 0x4,
}
export const enum SymbolType {
  NoType = 0, Object = 1, Func = 2, Section = 3, File = 4,
}
export const enum SymbolBind {
  Local = 0, Global = 1, Weak = 2,
}
export const enum SectionIndex {
  Undef = 0, Abs = 0xfff1, Common = 0xfff2,
}

export const EM_NONE = 0;
export const EM_BPF = 247;
const ET_REL = 1;

export interface ElfSection {
  name: string;
  index: number;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** View of the section's bytes in the file (empty for SHT_NOBITS). */
  data: Uint8Array;
}

export interface ElfSymbol {
  /** Index in the symbol table. */
  index: number;
  name: string;
  value: number;
  size: number;
  type: number;
  bind: number;
  visibility: number;
  shndx: number;
}

export interface ElfRelocation {
  /** Byte offset within the target section. */
  offset: number;
  /** Symbol table index. */
  symbol: number;
  type: number;
  /** Addend for SHT_RELA entries; 0 for SHT_REL. */
  addend: number;
}

export interface ElfFile {
  source: string;
  machine: number;
  sections: ElfSection[];
  symbols: ElfSymbol[];
  /**
   * Relocations keyed by the index of the section they apply to. Only sections that are loaded
   * (SHF_ALLOC: code, maps, data) are decoded; relocations of debug and BTF sections are ignored.
   */
  relocations: Map<number, ElfRelocation[]>;
  /** Name of the relocation section for each target section index (for messages). */
  relocationSections: Map<number, string>;
  sectionByName(name: string): ElfSection | undefined;
}

const MACHINE_NAMES: Record<number, string> = {
  3: 'x86 (i386)', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 22: 's390', 40: 'ARM', 62: 'x86-64',
  183: 'AArch64', 243: 'RISC-V', 258: 'LoongArch',
};

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A string table decoded once (see cString). */
export interface StringTable {
  bytes: Uint8Array;
  text: string;
  wide: boolean;
}

export function stringTable(bytes: Uint8Array): StringTable {
  const text = latin1(bytes);
  return { bytes, text, wide: NON_ASCII.test(text) };
}

/** NUL-terminated string at `off` in a string table; out-of-range offsets give an ElfError. */
export function cString(tab: StringTable, off: number, what: () => string): string {
  if (off >= tab.bytes.length) {
    if (off === 0) return '';
    throw new ElfError(`${what()}: string offset ${off} is outside the string table (${tab.bytes.length} bytes)`);
  }
  const end = tab.text.indexOf('\0', off);
  if (end < 0) throw new ElfError(`${what()}: string at offset ${off} is not NUL-terminated`);
  const s = tab.text.slice(off, end);
  return tab.wide && NON_ASCII.test(s) ? utf8.decode(tab.bytes.subarray(off, end)) : s;
}

function u64(dv: DataView, off: number): number {
  const lo = dv.getUint32(off, true);
  const hi = dv.getUint32(off + 4, true);
  // Values ≥ 2^53 cannot be valid offsets/sizes in a file we can hold; make them fail bounds checks.
  return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + lo;
}

/**
 * Read the ELF container of a BPF object. Checks it is a 64-bit little-endian relocatable file
 * for EM_BPF (or EM_NONE, as old LLVM wrote), validates every section, symbol and relocation
 * against the file, and returns views into `bytes` (no copies).
 */
export function readElf(input: Uint8Array, source = '<memory>'): ElfFile {
  const file = source;
  // A plain Uint8Array view: Buffer.subarray is several times slower and every section gets one.
  const bytes = Object.getPrototypeOf(input) === Uint8Array.prototype ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const len = bytes.length;
  if (len === 0) throw new ElfError('read ELF: file is empty', { file });
  if (len < 64) throw new ElfError(`read ELF: file is too small for an ELF header (${len} bytes, need 64)`, { file });
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError('read ELF: bad magic, not an ELF file', { file, offset: 0 });
  }
  const cls = bytes[4]!;
  const data = bytes[5]!;
  if (data === 2) {
    throw new NotSupportedError('big-endian BPF objects', `${file}: read ELF: big-endian objects are not supported`, {
      hint: 'compile with -target bpfel or -target bpf on a little-endian host',
    });
  }
  if (data !== 1) throw new ElfError(`read ELF: invalid data encoding ${data}`, { file, offset: 5 });
  if (cls !== 2) throw new ElfError(`read ELF: ELF class ${cls === 1 ? '32' : cls} is not supported, BPF objects are ELFCLASS64`, { file, offset: 4 });

  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_BPF && machine !== EM_NONE) {
    const mname = MACHINE_NAMES[machine] ?? `machine ${machine}`;
    throw new ElfError(`read ELF: object is for ${mname} (e_machine ${machine}), not BPF (e_machine 247)`, { file, offset: 18 }, {
      hint: 'compile with clang -target bpf',
    });
  }
  const etype = dv.getUint16(16, true);
  if (etype !== ET_REL) throw new ElfError(`read ELF: e_type ${etype} is not a relocatable object (ET_REL)`, { file, offset: 16 });

  const shoff = u64(dv, 40);
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  const shstrndx = dv.getUint16(62, true);
  if (shnum === 0 || shoff === 0) throw new ElfError('read ELF: object has no section table', { file, offset: 40 });
  if (shentsize !== 64) throw new ElfError(`read ELF: section header size ${shentsize} is not 64`, { file, offset: 58 });
  if (shoff > len || shnum * 64 > len - shoff) {
    throw new ElfError(`read ELF: section table (${shnum} entries at 0x${shoff.toString(16)}) extends past end of file (${len} bytes)`, { file, offset: 40 });
  }
  if (shstrndx === 0 || shstrndx >= shnum) {
    throw new ElfError(`read ELF: section name table index ${shstrndx} is out of range (${shnum} sections)`, { file, offset: 62 });
  }

  const sections: ElfSection[] = new Array(shnum);
  // Section name table first, so every section name can be validated as it is read.
  const strHdr = shoff + shstrndx * 64;
  const strType = dv.getUint32(strHdr + 4, true);
  const strOff = u64(dv, strHdr + 24);
  const strSize = u64(dv, strHdr + 32);
  if (strType !== SectionType.Strtab) throw new ElfError(`read ELF: section name table (section ${shstrndx}) has type ${strType}, not SHT_STRTAB`, { file, offset: strHdr });
  if (strOff > len || strSize > len - strOff) {
    throw new ElfError(`read ELF: section name table (section ${shstrndx}) at 0x${strOff.toString(16)}+${strSize} extends past end of file`, { file, offset: strHdr });
  }
  const shstrtab = bytes.subarray(strOff, strOff + strSize);
  const shstr = stringTable(shstrtab);

  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    const nameOff = dv.getUint32(h, true);
    const name = i === 0 ? '' : cString(shstr, nameOff, () => `${file}: read ELF: section ${i} name`);
    const type = dv.getUint32(h + 4, true);
    const flags = u64(dv, h + 8);
    const offset = u64(dv, h + 24);
    const size = u64(dv, h + 32);
    const link = dv.getUint32(h + 40, true);
    const info = dv.getUint32(h + 44, true);
    const addralign = u64(dv, h + 48);
    const entsize = u64(dv, h + 56);
    const label = name || `#${i}`;
    let view: Uint8Array;
    if (type === SectionType.Nobits || type === SectionType.Null) {
      view = bytes.subarray(0, 0);
    } else {
      if (offset > len || size > len - offset) {
        throw new ElfError(`read ELF: section data 0x${offset.toString(16)}+${size} extends past end of file (${len} bytes)`, { file, section: label, offset: h + 24 });
      }
      view = bytes.subarray(offset, offset + size);
    }
    if (link >= shnum && type !== SectionType.Null) {
      throw new ElfError(`read ELF: sh_link ${link} is out of range (${shnum} sections)`, { file, section: label, offset: h + 40 });
    }
    const s: ElfSection = { name, index: i, type, flags, offset, size, link, info, addralign, entsize, data: view };
    sections[i] = s;
  }

  // Symbol table (a BPF object has exactly one SHT_SYMTAB).
  let symtab: ElfSection | undefined;
  for (let i = 1; i < shnum; i++) {
    const s = sections[i]!;
    if (s.type === SectionType.Symtab) {
      if (symtab) throw new ElfError('read ELF: more than one symbol table', { file, section: s.name });
      symtab = s;
    }
  }
  const symbols: ElfSymbol[] = [];
  if (symtab) {
    if (symtab.entsize !== 24 || symtab.size % 24 !== 0) {
      throw new ElfError(`read ELF: symbol table entry size ${symtab.entsize} / size ${symtab.size} is not a multiple of 24`, { file, section: symtab.name });
    }
    const strtabSec = sections[symtab.link]!;
    if (strtabSec.type !== SectionType.Strtab) {
      throw new ElfError(`read ELF: symbol table links to section ${symtab.link} which is not a string table`, { file, section: symtab.name });
    }
    const strtab = strtabSec.data;
    const strs = stringTable(strtab);
    const n = symtab.size / 24;
    const base = symtab.offset;
    for (let i = 0; i < n; i++) {
      const o = base + i * 24;
      const nameOff = dv.getUint32(o, true);
      const info = bytes[o + 4]!;
      const other = bytes[o + 5]!;
      const shndx = dv.getUint16(o + 6, true);
      const value = u64(dv, o + 8);
      const size = u64(dv, o + 16);
      const name = nameOff === 0 ? '' : cString(strs, nameOff, () => `${file}: section ${symtab!.name}: symbol ${i} name`);
      if (shndx !== 0 && shndx < 0xff00 && shndx >= shnum) {
        throw new ElfError(`read ELF: symbol ${name || i} refers to section ${shndx}, out of range (${shnum} sections)`, { file, section: symtab.name, offset: o });
      }
      symbols.push({ index: i, name, value, size, type: info & 0xf, bind: info >> 4, visibility: other & 3, shndx });
    }
  }

  const relocations = new Map<number, ElfRelocation[]>();
  const relocationSections = new Map<number, string>();
  for (let i = 1; i < shnum; i++) {
    const s = sections[i]!;
    if (s.type !== SectionType.Rel && s.type !== SectionType.Rela) continue;
    const rela = s.type === SectionType.Rela;
    const esz = rela ? 24 : 16;
    if (s.size % esz !== 0) throw new ElfError(`read ELF: relocation section size ${s.size} is not a multiple of ${esz}`, { file, section: s.name });
    if (!symtab || s.link !== symtab.index) throw new ElfError(`read ELF: relocation section links to section ${s.link}, not the symbol table`, { file, section: s.name });
    if (s.info === 0 || s.info >= shnum) throw new ElfError(`read ELF: relocation section applies to section ${s.info}, out of range`, { file, section: s.name });
    const target = sections[s.info]!;
    // Relocations of debug info / BTF sections are never applied (as in libbpf): skip decoding them.
    if ((target.flags & SectionFlag.Alloc) === 0) continue;
    const list: ElfRelocation[] = [];
    const n = s.size / esz;
    for (let k = 0; k < n; k++) {
      const o = s.offset + k * esz;
      const offset = u64(dv, o);
      const type = dv.getUint32(o + 8, true);
      const symbol = dv.getUint32(o + 12, true);
      const addend = rela ? Number(dv.getBigInt64(o + 16, true)) : 0;
      if (symbol >= symbols.length) {
        throw new ElfError(`read ELF: relocation ${k} refers to symbol ${symbol}, out of range (${symbols.length} symbols)`, { file, section: s.name, offset: o });
      }
      if (target.type !== SectionType.Nobits && offset >= target.size) {
        throw new ElfError(`read ELF: relocation ${k} at offset 0x${offset.toString(16)} is outside section ${target.name} (${target.size} bytes)`, { file, section: s.name, offset: o });
      }
      list.push({ offset, symbol, type, addend });
    }
    const prev = relocations.get(s.info);
    if (prev) prev.push(...list);
    else relocations.set(s.info, list);
    relocationSections.set(s.info, s.name);
  }

  return {
    source: file,
    machine,
    sections,
    symbols,
    relocations,
    relocationSections,
    sectionByName: (name: string) => {
      // Linear: a loader asks for a handful of names, cheaper than building a map per object.
      for (let i = 1; i < sections.length; i++) if (sections[i]!.name === name) return sections[i];
      return undefined;
    },
  };
}
