/**
 * Uprobe target resolution: function symbol of a host executable or shared library → file
 * offset, as perf_event_open's uprobe PMU wants it (config2). A small reader of 64-bit
 * little-endian ELF files (executables and shared objects of x86_64/aarch64 hosts): the
 * section table, `.symtab` and `.dynsym`, and the PT_LOAD program headers that map a symbol's
 * virtual address back to its file offset. Everything is bounds-checked; a malformed or
 * unsupported file gives an ArgumentError/NotSupportedError naming the file.
 */
import { readFileSync } from 'node:fs';
import { ArgumentError, NotSupportedError } from '../errors.js';

const enum Elf {
  ShtSymtab = 2,
  ShtDynsym = 11,
  PtLoad = 1,
  PfX = 1,
  SttFunc = 2,
  SttGnuIfunc = 10,
  ShnUndef = 0,
  SymSize = 24,
}

export interface HostSymbol {
  name: string;
  /** Virtual address (st_value). */
  address: number;
  size: number;
  /** File offset of the first instruction. */
  offset: number;
  /** 'symtab' or 'dynsym'. */
  table: string;
}

function fail(path: string, why: string): never {
  throw new ArgumentError(`resolve uprobe target ${path}: ${why}`);
}

interface Segment {
  vaddr: number;
  memsz: number;
  offset: number;
  exec: boolean;
}

interface Section {
  type: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

function u64(dv: DataView, off: number): number {
  return Number(dv.getBigUint64(off, true));
}

/** Every defined function symbol of a host ELF file, from .symtab and .dynsym. */
export function readHostSymbols(path: string): HostSymbol[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new ArgumentError(`resolve uprobe target ${path}: ${code === 'ENOENT' ? 'no such file' : String((e as Error).message)}`, { cause: e });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  if (n < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) fail(path, 'not an ELF file');
  if (bytes[4] !== 2) throw new NotSupportedError('32-bit ELF uprobe targets', `resolve uprobe target ${path}: 32-bit ELF is not supported`);
  if (bytes[5] !== 1) throw new NotSupportedError('big-endian ELF uprobe targets', `resolve uprobe target ${path}: big-endian ELF is not supported`);
  const phoff = u64(dv, 0x20);
  const shoff = u64(dv, 0x28);
  const phentsize = dv.getUint16(0x36, true);
  const phnum = dv.getUint16(0x38, true);
  const shentsize = dv.getUint16(0x3a, true);
  const shnum = dv.getUint16(0x3c, true);

  const segments: Segment[] = [];
  if (phnum > 0) {
    if (phentsize < 56 || phoff + phnum * phentsize > n) fail(path, 'program header table out of bounds');
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * phentsize;
      if (dv.getUint32(o, true) !== Elf.PtLoad) continue;
      segments.push({
        exec: (dv.getUint32(o + 4, true) & Elf.PfX) !== 0,
        offset: u64(dv, o + 8),
        vaddr: u64(dv, o + 16),
        memsz: u64(dv, o + 40),
      });
    }
  }
  const sections: Section[] = [];
  if (shnum > 0) {
    if (shentsize < 64 || shoff + shnum * shentsize > n) fail(path, 'section header table out of bounds');
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      sections.push({
        type: dv.getUint32(o + 4, true),
        addr: u64(dv, o + 16),
        offset: u64(dv, o + 24),
        size: u64(dv, o + 32),
        link: dv.getUint32(o + 40, true),
        entsize: u64(dv, o + 56),
      });
    }
  }

  const toOffset = (addr: number, shndx: number): number | undefined => {
    for (const s of segments) if (addr >= s.vaddr && addr < s.vaddr + s.memsz) return addr - s.vaddr + s.offset;
    const sec = sections[shndx];
    if (sec && addr >= sec.addr && addr < sec.addr + sec.size) return addr - sec.addr + sec.offset;
    return undefined;
  };

  const out: HostSymbol[] = [];
  for (const sec of sections) {
    if (sec.type !== Elf.ShtSymtab && sec.type !== Elf.ShtDynsym) continue;
    const table = sec.type === Elf.ShtSymtab ? 'symtab' : 'dynsym';
    const strtab = sections[sec.link];
    if (!strtab || strtab.offset + strtab.size > n) fail(path, `${table}: string table out of bounds`);
    if (sec.offset + sec.size > n) fail(path, `${table} out of bounds`);
    const ent = sec.entsize || Elf.SymSize;
    if (ent < Elf.SymSize) fail(path, `${table}: bad entry size ${ent}`);
    const count = Math.floor(sec.size / ent);
    for (let i = 1; i < count; i++) {
      const o = sec.offset + i * ent;
      const type = bytes[o + 4]! & 0xf;
      if (type !== Elf.SttFunc && type !== Elf.SttGnuIfunc) continue;
      const shndx = dv.getUint16(o + 6, true);
      if (shndx === Elf.ShnUndef) continue;
      const nameOff = dv.getUint32(o, true);
      if (nameOff >= strtab.size) continue;
      let end = strtab.offset + nameOff;
      const lim = strtab.offset + strtab.size;
      while (end < lim && bytes[end] !== 0) end++;
      const name = bytes.toString('utf8', strtab.offset + nameOff, end);
      const address = u64(dv, o + 8);
      const offset = toOffset(address, shndx);
      if (offset === undefined) continue;
      out.push({ name, address, size: u64(dv, o + 16), offset, table });
    }
  }
  return out;
}

/**
 * File offset of function `symbol` in `path` (names may carry an `@VERSION` suffix in the
 * symbol table; `symbol` matches with or without it).
 */
export function resolveSymbolOffset(path: string, symbol: string): number {
  if (typeof symbol !== 'string' || symbol.length === 0) throw new ArgumentError(`resolve uprobe target ${path}: symbol must be a non-empty string`);
  const syms = readHostSymbols(path);
  const exact = syms.find((s) => s.name === symbol) ?? syms.find((s) => s.name.split('@')[0] === symbol);
  if (!exact) fail(path, `no function symbol ${symbol} (not in .symtab or .dynsym; stripped binary?)`);
  return exact.offset;
}
