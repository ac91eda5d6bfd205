/**
 * `bpfkit exec [MEMORY_HEX] [--program HEX] [--engine jit|interpreter] [--budget N] [--dump-js]`
 *
 * Runs raw BPF bytecode (no ELF) on the emulator, the way userspace BPF VMs are tested. The
 * program is read from stdin as hex bytes unless `--program` is given; the program and
 * MEMORY_HEX accept bytes written together (`b7000000…`) or separated by spaces (`b7 00 00 …`, as
 * one argument). r1 points to a copy of the memory and r2 holds its length (both 0 without
 * memory). Helpers that need no maps or context work (ktime_get_ns, get_prandom_u32,
 * trace_printk — printed on stderr —, csum_diff, ...); a helper id the emulator does not provide
 * is an error naming it.
 * Prints r0 as `0x…` on stdout and exits 0; on any error prints it on stderr and exits 1
 * (2 for usage errors).
 */
import { readFileSync } from 'node:fs';
import { BpfError } from '../../errors.js';
import type { EngineKind } from '../../../native-sim/engine.js';
import { SimEnv, createHelperTable } from '../../../native-sim/helpers/index.js';
import { ENGINES, compileRaw, runCompiledRaw } from '../../../native-sim/jit/raw.js';
import type { CommandIo } from '../main.js';
import { parseOpts } from '../parse-opts.js';

const USAGE = `usage: bpfkit exec [MEMORY_HEX] [--program HEX] [--engine jit|interpreter]

Run raw BPF bytecode on the emulator. The program is read from stdin as one line of hex
unless --program is given. Hex may be written together (b7000000...) or with spaces
(b7 00 00 00 ..., as one argument). r1 = pointer to a copy of MEMORY_HEX, r2 = its length.
Prints r0 as 0x... and exits 0, or prints the error on stderr and exits 1.

options:
  --program HEX        the program (default: read from stdin)
  --engine ENGINE      jit (default) or interpreter
  --budget N           instruction budget (default 33000000)
  --dump-js            print the JIT's generated JavaScript on stderr
  -h, --help           show this help
`;

/** Parse hex bytes written together or separated by whitespace (optional 0x prefixes per token). */
export function parseHex(text: string, what: string): Uint8Array {
  const tokens = text.trim().split(/\s+/).filter((t) => t !== '');
  let joined = '';
  for (const t of tokens) joined += t.startsWith('0x') || t.startsWith('0X') ? t.slice(2) : t;
  if (!/^[0-9a-fA-F]*$/.test(joined)) {
    const bad = /[^0-9a-fA-F]/.exec(joined)![0];
    throw new BpfError('INVALID_INPUT', `exec: ${what} is not hex (unexpected '${bad}')`);
  }
  if (joined.length % 2 !== 0) throw new BpfError('INVALID_INPUT', `exec: ${what} has an odd number of hex digits (${joined.length})`);
  const out = new Uint8Array(joined.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(joined.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export async function run(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('exec', args, { values: ['program', 'engine', 'budget'], flags: ['dump-js'] });
  if (o.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  try {
    const engineName = o.values.get('engine') ?? 'jit';
    if (engineName !== 'jit' && engineName !== 'interpreter') {
      io.stderr.write(`bpfkit exec: unknown engine '${engineName}' (use jit or interpreter)\n`);
      return 2;
    }
    let budget: number | undefined;
    const b = o.values.get('budget');
    if (b !== undefined) {
      budget = Number(b);
      if (!Number.isSafeInteger(budget) || budget <= 0) {
        io.stderr.write(`bpfkit exec: --budget must be a positive integer, got '${b}'\n`);
        return 2;
      }
    }
    let programText = o.values.get('program');
    if (programText === undefined) programText = readFileSync(0, 'utf8');
    const program = parseHex(programText, 'program');
    if (program.length === 0) throw new BpfError('INVALID_INPUT', 'exec: the program is empty (pass --program HEX or hex on stdin)');
    if (program.length % 8 !== 0) {
      throw new BpfError('INVALID_INPUT', `exec: the program is ${program.length} bytes, not a multiple of 8 (one instruction = 8 bytes)`);
    }
    const memory = o.positional.length ? parseHex(o.positional.join(' '), 'MEMORY_HEX') : undefined;
    const engine = ENGINES[engineName as EngineKind];
    const helpers = createHelperTable();
    const prog = compileRaw(engine, program, { helpers });
    if (o.flags.has('dump-js')) io.stderr.write((prog.source ?? '(the interpreter generates no code)') + '\n');
    const r = runCompiledRaw(prog, memory, {
      helpers,
      ...(budget !== undefined ? { budget } : {}),
      setup: (vm) => {
        vm.env.sim = new SimEnv(vm.space, 1, { trace: (m) => io.stderr.write(`trace: ${m}\n`) });
      },
    });
    io.stdout.write(`0x${r.r0.toString(16)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof BpfError) {
      io.stderr.write(`bpfkit exec: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
