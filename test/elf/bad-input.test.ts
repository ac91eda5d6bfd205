/**
 * Bad input: each case gives ElfError (or NotSupportedError for big-endian objects) with a
 * message naming what is wrong — never any other exception.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BpfError, ElfError, NotSupportedError } from '../../lib/errors.js';
import { parseObject } from '../../lib/elf/index.js';
import { fixture, FIXTURES, prng, readelfSections } from './util.js';

let dir = '';
let basicPath = '';
let basic: Uint8Array;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bpfkit-elf-bad-'));
  basicPath = await fixture('basic');
  basic = new Uint8Array(readFileSync(basicPath));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run parseObject and return the error it throws (failing the test if it does not throw). */
function failure(bytes: Uint8Array, source = 'bad.o'): BpfError {
  try {
    parseObject(bytes, source);
  } catch (e) {
    if (!(e instanceof BpfError)) throw new Error(`expected a BpfError, got ${String(e)}`, { cause: e });
    return e;
  }
  throw new Error('expected parseObject to throw');
}

function u64(b: Uint8Array, off: number): number {
  return Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true));
}

/** Header field offsets of section `name` in `b` (ELF64 section header layout). */
function sectionSize(name: string): number {
  return readelfSections(basicPath).find((s) => s.name === name)!.size;
}

function sectionHeader(b: Uint8Array, name: string): number {
  const idx = readelfSections(basicPath).find((s) => s.name === name)!.index;
  return u64(b, 40) + idx * 64;
}

describe('parseObject rejects bad input with typed, specific errors', () => {
  it('empty file', () => {
    const e = failure(new Uint8Array(0), 'empty.o');
    expect(e).toBeInstanceOf(ElfError);
    expect(e.message).toMatch(/^empty\.o: read ELF: file is empty$/);
  });

  it('truncated at 20 random offsets', () => {
    const rnd = prng(0x5eed);
    const offsets = new Set<number>();
    while (offsets.size < 20) offsets.add(1 + Math.floor(rnd() * (basic.length - 1)));
    for (const off of [...offsets].sort((a, b) => a - b)) {
      const e = failure(basic.slice(0, off), `trunc${off}.o`);
      expect(e, `truncated at ${off}`).toBeInstanceOf(ElfError);
      expect(e.message).toMatch(new RegExp(`^trunc${off}\\.o: `));
      // The message says what does not fit in the file.
      expect(e.message, `truncated at ${off}`).toMatch(/too small|past end of file|extends past/);
    }
  });

  it('random bytes, with and without an ELF magic', () => {
    const rnd = prng(42);
    for (let n = 0; n < 50; n++) {
      const b = new Uint8Array(64 + Math.floor(rnd() * 4096));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
      const e = failure(b, 'random.o');
      expect(e).toBeInstanceOf(ElfError);
      expect(e.message).toMatch(/bad magic, not an ELF file/);
      b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
      const e2 = failure(b, 'random-elf.o');
      expect(e2 instanceof ElfError || e2 instanceof NotSupportedError).toBe(true);
      expect(e2.message).toMatch(/^random-elf\.o: /);
    }
  });

  it('an x86-64 object names the machine', () => {
    const src = join(dir, 'x86.c');
    writeFileSync(src, 'int add(int a, int b) { return a + b; }\n');
    const obj = join(dir, 'x86.o');
    execFileSync('clang-19', ['-c', '-target', 'x86_64-linux-gnu', src, '-o', obj]);
    const e = failure(new Uint8Array(readFileSync(obj)), obj);
    expect(e).toBeInstanceOf(ElfError);
    expect(e.message).toContain('object is for x86-64 (e_machine 62), not BPF (e_machine 247)');
  });

  it('a big-endian BPF object is NotSupportedError', () => {
    const obj = join(dir, 'be.o');
    execFileSync('clang-19', ['-O2', '-target', 'bpfeb', '-I/usr/include/x86_64-linux-gnu', '-c', join(FIXTURES, 'basic.bpf.c'), '-o', obj]);
    const e = failure(new Uint8Array(readFileSync(obj)), obj);
    expect(e).toBeInstanceOf(NotSupportedError);
    expect(e.message).toContain('big-endian objects are not supported');
  });

  it('a corrupted section table', () => {
    // Section table offset past the end of the file.
    const a = basic.slice();
    new DataView(a.buffer).setBigUint64(40, BigInt(a.length - 10), true);
    expect(failure(a, 'shoff.o').message).toMatch(/section table \(\d+ entries at 0x[0-9a-f]+\) extends past end of file/);
    // One section's data offset pointing outside the file: the message names the section.
    const b = basic.slice();
    new DataView(b.buffer).setBigUint64(sectionHeader(b, 'xdp') + 24, 0xfffff0n, true);
    expect(failure(b, 'secoff.o').message).toMatch(
      new RegExp(`^secoff\\.o: section xdp: offset 0x[0-9a-f]+: read ELF: section data 0xfffff0\\+${sectionSize('xdp')} extends past end of file`),
    );
    // Wrong section header size.
    const c = basic.slice();
    new DataView(c.buffer).setUint16(58, 40, true);
    expect(failure(c, 'shentsize.o').message).toContain('section header size 40 is not 64');
    // Section name table index out of range.
    const d = basic.slice();
    new DataView(d.buffer).setUint16(62, 999, true);
    expect(failure(d, 'shstrndx.o').message).toContain('section name table index 999 is out of range');
  });

  it('a relocation pointing out of range', () => {
    const b = basic.slice();
    const rel = u64(b, sectionHeader(b, '.relxdp') + 24);
    new DataView(b.buffer).setBigUint64(rel, 0x10000n, true);
    const e = failure(b, 'reloc.o');
    expect(e).toBeInstanceOf(ElfError);
    expect(e.message).toContain('section .relxdp');
    expect(e.message).toContain(`relocation 0 at offset 0x10000 is outside section xdp (${sectionSize('xdp')} bytes)`);
    // A relocation against a symbol index past the symbol table.
    const c = basic.slice();
    new DataView(c.buffer).setUint32(rel + 12, 100000, true);
    expect(failure(c, 'relsym.o').message).toContain('relocation 0 refers to symbol 100000, out of range');
  });

  it('an unsupported relocation type names the instruction', () => {
    const b = basic.slice();
    const rel = u64(b, sectionHeader(b, '.relxdp') + 24);
    new DataView(b.buffer).setUint32(rel + 8, 3, true); // R_BPF_64_ABS32 on an ld_imm64
    const e = failure(b, 'reltype.o');
    expect(e.message).toMatch(/^reltype\.o: section xdp: insn 5: unsupported relocation type 3 for ld_imm64 against counts$/);
  });

  it('a map with no BTF and no legacy definition', async () => {
    const orphan = await fixture('legacy_only');
    const e = failure(new Uint8Array(readFileSync(orphan)), orphan);
    expect(e).toBeInstanceOf(ElfError);
    expect(e.message).toContain('section xdp: insn');
    expect(e.message).toContain('map orphan (section mymaps) has no BTF definition and no legacy definition');
    // A `.maps` map in an object compiled without -g has no BTF to describe it.
    const obj = join(dir, 'nobtf.o');
    execFileSync('clang-19', ['-O2', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', join(FIXTURES, 'basic.bpf.c'), '-o', obj]);
    const e2 = failure(new Uint8Array(readFileSync(obj)), obj);
    expect(e2.message).toContain('section .maps: symbol counts: map counts is in .maps but the object has no BTF to describe it');
  });

  it('a program calling a missing subprogram', async () => {
    const obj = await fixture('missing_subprog');
    const e = failure(new Uint8Array(readFileSync(obj)), obj);
    expect(e).toBeInstanceOf(ElfError);
    expect(e.message).toMatch(/section xdp: insn \d+: call to missing subprogram not_defined_anywhere/);
  });

  it('a call into the middle of a function', () => {
    // basic.o's xdp -> helper_add call is relocated against .text with imm = target/8 - 1.
    const b = basic.slice();
    const dv = new DataView(b.buffer);
    const xdp = u64(b, sectionHeader(b, 'xdp') + 24);
    let patched = false;
    for (let i = 0; i < sectionSize('xdp'); i += 8) {
      if (b[xdp + i] === 0x85 && b[xdp + i + 1]! >> 4 === 1) {
        dv.setInt32(xdp + i + 4, dv.getInt32(xdp + i + 4, true) + 1, true);
        patched = true;
      }
    }
    expect(patched).toBe(true);
    expect(failure(b, 'midcall.o').message).toMatch(/call target \.text\+0x[0-9a-f]+ \(\.text\) is not the start of a function/);
  });

  it('an in-section call (no relocation) into the middle of a function', async () => {
    // In calls.o, global_fn (in .text) calls middle with a call the assembler resolved itself.
    const path = await fixture('calls');
    const b = new Uint8Array(readFileSync(path));
    const secs = readelfSections(path);
    const text = secs.find((s) => s.name === '.text')!;
    const dv = new DataView(b.buffer);
    let at = -1;
    for (let i = 0; i < text.size && at < 0; i += 8) if (b[text.offset + i] === 0x85 && b[text.offset + i + 1]! >> 4 === 1) at = i;
    expect(at).toBeGreaterThanOrEqual(0);
    dv.setInt32(text.offset + at + 4, dv.getInt32(text.offset + at + 4, true) + 1, true);
    let err: unknown;
    try {
      // Small programs are linked by parseObject; huge ones on first read of their code.
      const spec = parseObject(b, 'local.o');
      void spec.programs.find((p) => p.name === 'caller_one')!.instructions;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ElfError);
    expect((err as Error).message).toMatch(new RegExp(`^local\\.o: section \\.text: insn ${at / 8}: call target insn \\d+ is not the start of a function$`));
  });
});
