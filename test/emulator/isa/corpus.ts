/**
 * The data-driven ISA corpus: test/emulator/isa/*.data. Each file holds many cases:
 *
 *     # comment
 *     == name of the case
 *     mov64 r0, 1            one instruction per line: a lib/isa/asm DSL function and its
 *     jeq r0, 1, done        arguments (registers r0..r10, integers, label names, `call name`)
 *     done:                  a label definition
 *     exit
 *     -- raw                 or: raw instruction bytes as hex (instead of asm lines)
 *     b7 00 00 00 01 00 00 00
 *     -- mem                 memory passed to the program (r1 = pointer, r2 = length)
 *     00 01 02 03
 *     -- result 0x1          expected r0 (64-bit)
 *     -- error INSN_LIMIT    or: expected error code (EmulatorFault code)
 *     -- budget 1000         instruction budget for the run
 *     -- kernel no (reason)  do not run on the kernel (default: cases without an expected
 *                            error and without memory, or whose memory is only read by
 *                            LD_ABS/LD_IND, also run on the kernel)
 *     -- ldabs               LD_ABS/LD_IND read the memory (socket-filter style)
 *     -- kernel32 (reason)   on the kernel, check only the low 32 bits (no wrapping call)
 *
 * Cases are independent of engines; the tests run each on the interpreter, the JIT and (where
 * marked possible) the kernel.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as asm from '../../../lib/isa/asm.js';

export interface IsaCase {
  file: string;
  line: number;
  name: string;
  insns: Uint8Array;
  mem?: Uint8Array;
  result?: bigint;
  error?: string;
  budget?: number;
  kernel: boolean;
  kernelWhyNot?: string;
  ldabs: boolean;
  /** Kernel check of the high half via a wrapping call (off with `-- kernel32`). */
  kernelHigh: boolean;
}

export const CORPUS_DIR = dirname(fileURLToPath(import.meta.url));

export function hexBytes(text: string): Uint8Array {
  const clean = text.replace(/#.*$/gm, '').replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function parseArg(tok: string): unknown {
  const t = tok.trim();
  const m = /^r(\d+)$/.exec(t);
  if (m) return asm.REGS[Number(m[1])] ?? (() => { throw new Error(`bad register ${t}`); })();
  if (/^[-+]?(0x[0-9a-fA-F]+|\d+)$/.test(t)) {
    const neg = t.startsWith('-');
    const body = t.replace(/^[-+]/, '');
    const v = BigInt(body);
    const s = neg ? -v : v;
    return s >= BigInt(Number.MIN_SAFE_INTEGER) && s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s;
  }
  return t; // label or helper name
}

function asmLine(line: string): asm.AsmItem {
  const lm = /^([A-Za-z_][\w.]*):$/.exec(line);
  if (lm) return asm.label(lm[1]!);
  const sp = line.indexOf(' ');
  const op = sp < 0 ? line : line.slice(0, sp);
  const args = sp < 0 ? [] : line.slice(sp + 1).split(',').map(parseArg);
  const fn = (asm as unknown as Record<string, unknown>)[op];
  if (typeof fn !== 'function') throw new Error(`unknown mnemonic ${op}`);
  if (op === 'ldImm64' && typeof args[1] === 'number') args[1] = BigInt(args[1]);
  return (fn as (...a: unknown[]) => asm.AsmItem)(...args);
}

export function parseCorpus(file: string, text: string): IsaCase[] {
  const out: IsaCase[] = [];
  const lines = text.split('\n');
  let cur: { name: string; line: number; asm: asm.AsmItem[]; raw: string[]; mem: string[]; section: string; c: Partial<IsaCase> } | undefined;
  const flush = (): void => {
    if (!cur) return;
    const insns = cur.raw.length ? hexBytes(cur.raw.join(' ')) : asm.assembleBytes(cur.asm);
    const c = cur.c;
    const mem = cur.mem.length ? hexBytes(cur.mem.join(' ')) : undefined;
    const kernelDefault = c.error === undefined && (mem === undefined || c.ldabs === true);
    out.push({
      file, line: cur.line, name: cur.name, insns,
      ...(mem ? { mem } : {}),
      ...(c.result !== undefined ? { result: c.result } : {}),
      ...(c.error !== undefined ? { error: c.error } : {}),
      ...(c.budget !== undefined ? { budget: c.budget } : {}),
      kernel: c.kernel ?? kernelDefault,
      ...(c.kernelWhyNot ? { kernelWhyNot: c.kernelWhyNot } : {}),
      ldabs: c.ldabs ?? false,
      kernelHigh: c.kernelHigh ?? !c.ldabs,
    });
    cur = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.replace(/\s+#.*$/, '').replace(/^#.*$/, '').trim();
    if (line === '') continue;
    const where = `${file}:${i + 1}`;
    try {
      if (line.startsWith('==')) {
        flush();
        cur = { name: line.slice(2).trim(), line: i + 1, asm: [], raw: [], mem: [], section: 'asm', c: {} };
        continue;
      }
      if (!cur) throw new Error('instruction before the first == case header');
      if (line.startsWith('--')) {
        const [kw, ...rest] = line.slice(2).trim().split(/\s+/);
        const arg = rest.join(' ');
        switch (kw) {
          case 'raw': case 'mem': cur.section = kw; break;
          case 'result': cur.c.result = BigInt.asUintN(64, BigInt(arg.startsWith('-') ? -BigInt(arg.slice(1)) : BigInt(arg))); break;
          case 'error': cur.c.error = arg; break;
          case 'budget': cur.c.budget = Number(arg); break;
          case 'kernel': cur.c.kernel = arg.startsWith('yes'); cur.c.kernelWhyNot = arg.replace(/^(yes|no)\s*/, ''); break;
          case 'ldabs': cur.c.ldabs = true; break;
          case 'kernel32': cur.c.kernelHigh = false; break;
          default: throw new Error(`unknown directive --${kw}`);
        }
        continue;
      }
      if (cur.section === 'raw') cur.raw.push(line);
      else if (cur.section === 'mem') cur.mem.push(line);
      else cur.asm.push(asmLine(line));
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
  }
  flush();
  return out;
}

export function loadCorpus(): IsaCase[] {
  const files = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.data')).sort();
  return files.flatMap((f) => parseCorpus(f, readFileSync(join(CORPUS_DIR, f), 'utf8')));
}
