/**
 * `bpfkit verify OBJ [--program NAME] [--backend emulator|kernel] [--json] [--log]`
 *
 * Runs every program of an object (or one) through a verifier: the emulator's (default; pure,
 * works anywhere) or the running kernel's (BPF_PROG_LOAD through the kernel backend, one program
 * at a time). Prints one line per program, or with `--json` an array of
 * `{ program, accepted, message, insn, line, insnsProcessed }`. `--log` adds the verifier log.
 *
 * Exit codes: 0 every selected program accepted, 1 one was rejected (or the object is bad),
 * 2 usage error.
 */
import { ArgumentError, BpfError, VerifierError } from '../../errors.js';
import type { ObjectSpec } from '../../spec/index.js';
import type { CommandIo } from '../main.js';
import { parseOpts } from '../parse-opts.js';

const USAGE = `usage: bpfkit verify OBJ [--program NAME] [--backend emulator|kernel] [--json] [--log]

Prove the programs of a BPF object safe with a verifier and report each verdict.

options:
  --program NAME     only this program
  --backend B        emulator (default: bpfkit's verifier) or kernel (BPF_PROG_LOAD, needs root)
  --json             print [{ program, accepted, message, insn, line, insnsProcessed }]
  --log              print the verifier log of each program
  -h, --help         show this help

exit codes: 0 all accepted, 1 a program was rejected or the object is bad, 2 usage error
`;

export interface VerifyVerdict {
  program: string;
  accepted: boolean;
  message: string;
  insn: number | null;
  line: number | null;
  insnsProcessed: number | null;
  log?: string;
}

/** Verify with the emulator's verifier (pure). */
export async function verifyEmulator(spec: ObjectSpec, names: readonly string[], logLevel: number): Promise<VerifyVerdict[]> {
  const { verifyProgram } = await import('../../../native-sim/verifier/index.js');
  const maps = new Map(spec.maps.map((m) => [m.name, m]));
  const out: VerifyVerdict[] = [];
  for (const name of names) {
    const prog = spec.programs.find((p) => p.name === name)!;
    try {
      const r = verifyProgram(prog, { maps, logLevel, btf: spec.btf });
      out.push({ program: name, accepted: true, message: '', insn: null, line: null, insnsProcessed: r.insnsProcessed, log: r.log });
    } catch (e) {
      if (!(e instanceof VerifierError)) throw e;
      out.push(rejected(name, e, null));
    }
  }
  return out;
}

/** Verify with the running kernel: load each program on its own through the kernel backend. */
export async function verifyKernel(path: string, names: readonly string[], logLevel: number): Promise<VerifyVerdict[]> {
  const { load } = await import('../../index.js');
  const out: VerifyVerdict[] = [];
  for (const name of names) {
    try {
      const obj = await load(path, { backend: 'kernel', programs: [name], logLevel: logLevel > 0 ? logLevel | 4 : 4 });
      try {
        const p = obj.programs[name]!;
        out.push({ program: name, accepted: true, message: '', insn: null, line: null, insnsProcessed: p.insnsProcessed ?? processedFromLog(p.log), ...(logLevel > 0 && p.log ? { log: p.log } : {}) });
      } finally {
        obj.close();
      }
    } catch (e) {
      if (e instanceof VerifierError) out.push(rejected(name, e, processedFromLog(e.log)));
      else if (e instanceof BpfError && /E2BIG|too long/i.test(`${e.code} ${e.message}`)) {
        out.push({ program: name, accepted: false, message: `verify ${name}: ${e.message} (BPF program is too large or its call stack too deep)`, insn: null, line: null, insnsProcessed: null });
      } else throw e;
    }
  }
  return out;
}

function rejected(name: string, e: VerifierError, processed: number | null): VerifyVerdict {
  return {
    program: name,
    accepted: false,
    message: e.message,
    insn: e.insn ?? null,
    line: e.source?.line ?? null,
    insnsProcessed: processed ?? processedFromLog(e.log),
    log: e.log,
  };
}

/** "processed N insns" from a verifier log (kernel or emulator). */
export function processedFromLog(log: string | undefined): number | null {
  const m = /processed (\d+) insns/.exec(log ?? '');
  return m ? Number(m[1]) : null;
}

export async function run(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('verify', args, { values: ['program', 'backend'], flags: ['json', 'log'] });
  if (o.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (o.positional.length !== 1) throw new ArgumentError(`verify: expected one object file, got ${o.positional.length} (see bpfkit verify --help)`);
  const path = o.positional[0]!;
  const backend = o.values.get('backend') ?? 'emulator';
  if (backend !== 'emulator' && backend !== 'kernel') throw new ArgumentError(`verify: --backend must be emulator or kernel, got '${backend}'`);
  const { openObject } = await import('../../object/index.js');
  const spec = openObject(path);
  const only = o.values.get('program');
  let names = spec.programs.map((p) => p.name);
  if (only !== undefined) {
    if (!names.includes(only)) {
      io.stderr.write(`verify: ${path}: no program '${only}' (programs: ${names.join(', ') || 'none'})\n`);
      return 1;
    }
    names = [only];
  }
  const wantLog = o.flags.has('log');
  const verdicts = backend === 'kernel' ? await verifyKernel(path, names, wantLog ? 2 : 0) : await verifyEmulator(spec, names, wantLog ? 1 : 0);
  if (o.flags.has('json')) {
    const rows = verdicts.map((v) => ({
      program: v.program, accepted: v.accepted, message: v.message, insn: v.insn, line: v.line, insnsProcessed: v.insnsProcessed,
      ...(wantLog ? { log: v.log ?? '' } : {}),
    }));
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    for (const v of verdicts) {
      if (v.accepted) io.stdout.write(`${v.program}: accepted (${v.insnsProcessed ?? '?'} insns processed)\n`);
      else io.stdout.write(`${v.program}: rejected: ${v.message}\n`);
      if (wantLog && v.log) io.stdout.write(`${v.log.replace(/\n?$/, '\n')}`);
    }
  }
  return verdicts.every((v) => v.accepted) ? 0 : 1;
}
