/**
 * `bpfkit disasm OBJ [--program NAME] [--source]`
 *
 * For every function symbol in an executable section (every program and subprogram, as it is in
 * the file, before linking), prints a header line `NAME (SECTION):` and then one line per
 * instruction `INDEX: TEXT`, where INDEX is the slot index within the ELF section and TEXT is
 * exactly what `llvm-objdump -d --no-show-raw-insn` prints for the instruction (without the
 * trailing ` <symbol+offset>` annotation). `--source` interleaves the C source lines recorded in
 * the object's BTF line info as `; FILE:LINE: TEXT`.
 *
 * Exit codes: 0 ok, 1 bad object or input (message on stderr), 2 usage error.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseBtf, parseBtfExt } from '../../btf/index.js';
import { readElf, type ElfFile, type ElfSection } from '../../elf/container.js';
import { BpfError } from '../../errors.js';
import { disasmSlot, type DisasmOptions } from '../../isa/disasm.js';
import type { CommandIo } from '../main.js';


const USAGE = `usage: bpfkit disasm OBJ [--program NAME] [--source]

Disassemble every program and subprogram of a BPF object file, one line per instruction
("INDEX: TEXT", INDEX = slot within the ELF section, TEXT as llvm-objdump -d prints it).

options:
  --program NAME   only the function NAME
  --source         interleave C source lines from BTF line info
  --alu32          print 32-bit loads, stores and atomics as llvm-objdump --mcpu=v3 does
  -h, --help       show this help
`;

const STT_FUNC = 2;
const SHF_EXECINSTR = 0x4;
const SHT_PROGBITS = 1;

/** One function to print: symbol name, its section, and its slot range within the section. */
export interface DisasmFunction {
  name: string;
  section: ElfSection;
  /** First slot (within the section). */
  start: number;
  /** One past the last slot. */
  end: number;
}

interface SourceLine {
  file: string;
  line: number;
  text: string;
}

interface Args {
  path: string;
  program?: string;
  source: boolean;
  alu32: boolean;
}

function parseArgs(args: string[]): Args | 'help' | string {
  let path: string | undefined;
  let program: string | undefined;
  let source = false;
  let alu32 = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') return 'help';
    if (a === '--source') source = true;
    else if (a === '--alu32') alu32 = true;
    else if (a === '--program' || a.startsWith('--program=')) {
      const v = a === '--program' ? args[++i] : a.slice('--program='.length);
      if (v === undefined || v === '') return 'option --program needs a function name';
      program = v;
    } else if (a.startsWith('-') && a !== '-') return `unknown option ${a}`;
    else if (path === undefined) path = a;
    else return `unexpected argument ${a}`;
  }
  if (path === undefined) return 'missing object file';
  return program === undefined ? { path, source, alu32 } : { path, program, source, alu32 };
}

/**
 * The functions of an object as llvm-objdump splits them: every function symbol in an executable
 * section, each running to the next symbol start (or the section end). Executable sections
 * without function symbols are listed whole under the section name.
 */
export function listFunctions(elf: ElfFile): DisasmFunction[] {
  const out: DisasmFunction[] = [];
  for (const sec of elf.sections) {
    if (sec.type !== SHT_PROGBITS || (sec.flags & SHF_EXECINSTR) === 0 || sec.size === 0) continue;
    const slots = Math.floor(sec.data.length / 8);
    const syms = elf.symbols
      .filter((s) => s.shndx === sec.index && s.type === STT_FUNC && s.value % 8 === 0 && s.value / 8 < slots)
      .sort((a, b) => a.value - b.value || a.index - b.index);
    if (syms.length === 0) {
      out.push({ name: sec.name, section: sec, start: 0, end: slots });
      continue;
    }
    for (let k = 0; k < syms.length; k++) {
      const s = syms[k]!;
      const start = s.value / 8;
      let end = slots;
      for (let j = k + 1; j < syms.length; j++) {
        if (syms[j]!.value / 8 > start) {
          end = syms[j]!.value / 8;
          break;
        }
      }
      out.push({ name: s.name, section: sec, start, end });
    }
  }
  return out;
}

/** Source lines by section name and slot, from .BTF/.BTF.ext (empty if the object has none). */
function sourceLines(elf: ElfFile): Map<string, Map<number, SourceLine>> {
  const out = new Map<string, Map<number, SourceLine>>();
  const btfSec = elf.sectionByName('.BTF');
  const extSec = elf.sectionByName('.BTF.ext');
  if (!btfSec || !extSec) return out;
  const btf = parseBtf(btfSec.data, { file: elf.source, section: '.BTF' });
  const ext = parseBtfExt(extSec.data, btf, { file: elf.source, section: '.BTF.ext' });
  for (const [section, recs] of ext.lineInfo) {
    const m = new Map<number, SourceLine>();
    for (const r of recs) {
      if (r.insnOff % 8 !== 0) continue;
      m.set(r.insnOff / 8, { file: btf.stringAt(r.fileNameOff), line: r.line, text: btf.stringAt(r.lineOff) });
    }
    out.set(section, m);
  }
  return out;
}

/** Disassembly text of one function: header line then `INDEX: TEXT` lines. */
export function formatFunction(
  fn: DisasmFunction,
  opts: DisasmOptions & { source?: Map<number, SourceLine> } = {},
): string {
  const lines: string[] = [`${fn.name} (${fn.section.name}):`];
  const bytes = fn.section.data.subarray(0, fn.end * 8);
  let lastFile = '';
  let lastLine = -1;
  for (let i = fn.start; i < fn.end; ) {
    const src = opts.source?.get(i);
    if (src && (src.line !== lastLine || src.file !== lastFile)) {
      lines.push(`; ${basename(src.file)}:${src.line}: ${src.text.trim()}`);
      lastFile = src.file;
      lastLine = src.line;
    }
    const d = disasmSlot(bytes, i, opts);
    lines.push(`${i}: ${d.text}`);
    i += d.slots;
  }
  return lines.join('\n') + '\n';
}

export async function run(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (typeof parsed === 'string') {
    io.stderr.write(`bpfkit disasm: ${parsed}\n${USAGE}`);
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(parsed.path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    io.stderr.write(`bpfkit disasm: read ${parsed.path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String((e as Error).message)}\n`);
    return 1;
  }
  try {
    const elf = readElf(bytes, parsed.path);
    let fns = listFunctions(elf);
    if (parsed.program !== undefined) {
      const want = parsed.program;
      const all = fns;
      fns = fns.filter((f) => f.name === want);
      if (fns.length === 0) {
        const names = all.map((f) => f.name).join(', ') || 'none';
        io.stderr.write(`bpfkit disasm: ${parsed.path}: no program or function named '${want}' (have: ${names})\n`);
        return 1;
      }
    }
    let source: Map<string, Map<number, SourceLine>> | undefined;
    if (parsed.source) {
      source = sourceLines(elf);
      if (source.size === 0) io.stderr.write(`bpfkit disasm: ${parsed.path}: no BTF line info (compile with -g)\n`);
    }
    const chunks: string[] = [];
    for (const fn of fns) {
      chunks.push(formatFunction(fn, { alu32: parsed.alu32, source: source?.get(fn.section.name) }));
    }
    io.stdout.write(chunks.join('\n'));
    return 0;
  } catch (e) {
    if (e instanceof BpfError) {
      io.stderr.write(`bpfkit disasm: ${e.message}\n`);
      return 1;
    }
    io.stderr.write(`bpfkit disasm: ${parsed.path}: unexpected error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
