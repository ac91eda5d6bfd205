/**
 * LLVM oracles for the isa tests: llvm-objdump-19 (disassembly text), llvm-mc-19 (assembling
 * text and raw `.byte` slots into objects) and llvm-objcopy-19 (extracting section bytes).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Insn } from '../../lib/isa/insn.js';
import { invalidReason, insn } from '../../lib/isa/insn.js';

const OBJDUMP = 'llvm-objdump-19';
const MC = 'llvm-mc-19';
const OBJCOPY = 'llvm-objcopy-19';

/** Strip llvm-objdump's trailing ` <symbol+offset>` annotation. */
export function stripAnnotation(text: string): string {
  return text.replace(/ <[^<>]*>$/, '');
}

export interface ObjdumpSection {
  /** Function symbols in the order llvm-objdump prints them. */
  symbols: string[];
  /** Slot index → text. */
  lines: Map<number, string>;
}

/** Parse `llvm-objdump -d --no-show-raw-insn` output: section → symbols and index → text. */
export function parseObjdump(out: string): Map<string, ObjdumpSection> {
  const sections = new Map<string, ObjdumpSection>();
  let cur: ObjdumpSection | undefined;
  for (const line of out.split('\n')) {
    const sec = /^Disassembly of section (.*):$/.exec(line);
    if (sec) {
      cur = { symbols: [], lines: new Map() };
      sections.set(sec[1]!, cur);
      continue;
    }
    const sym = /^[0-9a-f]{16} <(.*)>:$/.exec(line);
    if (sym && cur) {
      cur.symbols.push(sym[1]!);
      continue;
    }
    const ins = /^\s*(\d+):\t(.*)$/.exec(line);
    if (ins && cur) cur.lines.set(Number(ins[1]), stripAnnotation(ins[2]!));
  }
  return sections;
}

/** Disassemble an object file with llvm-objdump-19. */
export function objdumpFile(path: string, mcpu?: string): Map<string, ObjdumpSection> {
  const args = ['-d', '--no-show-raw-insn', ...(mcpu ? [`--mcpu=${mcpu}`] : []), path];
  return parseObjdump(execFileSync(OBJDUMP, args, { maxBuffer: 1 << 28 }).toString());
}

function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-isa-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Assembly text with the given bytes as `.byte` lines in `.text`, under function symbol `name`. */
export function bytesToAsm(bytes: Uint8Array, name = 'raw'): string {
  let s = `\t.text\n\t.globl ${name}\n\t.type ${name},@function\n${name}:\n`;
  for (let i = 0; i < bytes.length; i += 8) s += `\t.byte ${Array.from(bytes.subarray(i, i + 8)).join(',')}\n`;
  return s + `\t.size ${name}, ${bytes.length}\n`;
}

/** Assemble text with llvm-mc-19 into an object at `out`. */
export function llvmMcObject(asm: string, out: string, mcpu = 'v4'): void {
  withTmp((dir) => {
    const src = join(dir, 'a.s');
    writeFileSync(src, asm);
    execFileSync(MC, ['-triple', 'bpfel', `-mcpu=${mcpu}`, '-filetype=obj', src, '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  });
}

/** Raw slots → llvm-objdump text per slot index (through an llvm-mc object). */
export function objdumpSlots(bytes: Uint8Array, mcpu?: string): Map<number, string> {
  return withTmp((dir) => {
    const obj = join(dir, 'a.o');
    llvmMcObject(bytesToAsm(bytes), obj);
    const secs = objdumpFile(obj, mcpu);
    return secs.get('.text')?.lines ?? new Map();
  });
}

/** Assemble BPF assembly text with llvm-mc-19 and return the `.text` bytes. */
export function llvmAssemble(asm: string): Uint8Array {
  return withTmp((dir) => {
    const obj = join(dir, 'a.o');
    const bin = join(dir, 'a.bin');
    llvmMcObject(`\t.text\n${asm}\n`, obj);
    execFileSync(OBJCOPY, ['-O', 'binary', '--only-section=.text', obj, bin]);
    return new Uint8Array(readFileSync(bin));
  });
}

/**
 * Every valid instruction over a grid of field values: each opcode byte with registers
 * (r1, r2), (r10, r0), (r0, r10) and offsets/immediates that hit every operation-selecting value.
 */
export function allValidInsns(): Insn[] {
  const list: Insn[] = [];
  const offs = [0, 1, 8, 16, 32, 3, -3, 0x7fff, -0x8000];
  const imms = [0, 1, 16, 32, 64, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1, 0x100, 0x110, 0x10000, -4, 0x7fffffff, -0x80000000];
  const regPairs: [number, number][] = [[1, 2], [10, 0], [0, 10], [0, 0]];
  for (let code = 0; code < 256; code++) {
    for (const [d, s] of regPairs) {
      for (const off of offs) {
        for (const imm of imms) {
          // For ld_imm64 and call the src field is a pseudo/call kind, not a register.
          const srcs = code === 0x18 ? [0, 1, 2, 3, 4, 5, 6] : code === 0x85 ? [0, 1, 2] : [s];
            if ((code === 0x18 || code === 0x85) && d !== 0 && s !== 2) continue;
          for (const src of srcs) {
            const hi = code === 0x18 && src === 0 ? -2 : 0;
            if (invalidReason(code, d, src, off, imm) === null) list.push(insn(code, d, src, off, imm, hi));
          }
        }
      }
    }
  }
  return list;
}
