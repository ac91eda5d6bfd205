/**
 * The `bpfkit` command line. `main(argv)` dispatches `argv[0]` through the COMMANDS table below to
 * `lib/cli/commands/<name>.ts`, whose `run(args, io)` does the work and returns an exit code:
 * 0 ok, 1 the object or input is bad (message on stderr), 2 usage error.
 *
 * Adding a command = adding one row to COMMANDS (keep it sorted by name). Command modules are
 * imported lazily, so one command's dependencies never slow down or break another.
 */
import { ArgumentError, BpfError } from '../errors.js';

/** Where a command writes; `process.stdout`/`process.stderr` fit. */
export interface CommandIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

/** What every `lib/cli/commands/<name>.ts` exports. `args` excludes the command name. */
export interface CommandModule {
  run(args: string[], io: CommandIo): Promise<number>;
}

export interface CommandEntry {
  /** One line for `bpfkit --help`. */
  summary: string;
  load: () => Promise<CommandModule>;
}

// ─── The command table: one row per subcommand ────────────────────────────────────────────────
export const COMMANDS: Record<string, CommandEntry> = {
  attach: { summary: 'attach a program of an object to XDP or tc (tcx) of an interface via a pinned link', load: () => import('./commands/attach.js') },
  demo: { summary: 'run the example XDP port filter with an AF_XDP socket on mixed traffic (emulator, or --backend kernel)', load: () => import('./commands/demo.js') },
  detach: { summary: 'detach XDP or tc (tcx) links from an interface or a pinned path', load: () => import('./commands/detach.js') },
  disasm: { summary: 'disassemble the programs of an object (llvm-objdump syntax)', load: () => import('./commands/disasm.js') },
  exec: { summary: 'run raw BPF bytecode on the emulator (exec [MEMORY_HEX] [--program HEX] [--engine jit|interpreter])', load: () => import('./commands/exec.js') },
  gen: { summary: 'generate TypeScript types and a typed loader from an object\'s BTF (gen types OBJ [-o FILE.ts])', load: () => import('./commands/gen.js') },
  inspect: { summary: 'show license, programs and maps of an object', load: () => import('./commands/inspect.js') },
  lb: { summary: 'run the example XDP load balancer from a config (apply, stats, destroy)', load: () => import('./commands/lb.js') },
  link: { summary: 'list the kernel\'s BPF links (link list [--json])', load: () => import('./commands/link.js') },
  map: { summary: 'list kernel maps; dump/lookup/update/delete a pinned map', load: () => import('./commands/map.js') },
  prog: { summary: 'list the kernel\'s BPF programs (prog list [--json])', load: () => import('./commands/prog.js') },
  replay: { summary: 'replay a pcap through a program on the emulator, print a verdict summary (replay OBJ --program P --pcap IN [--out OUT])', load: () => import('./commands/replay.js') },
  run: { summary: 'load an object and test-run one program (kernel or emulator), print retval/data/maps', load: () => import('./commands/run.js') },
  verify: { summary: 'prove the programs of an object safe (emulator verifier, or --backend kernel); --json for verdicts', load: () => import('./commands/verify.js') },
};
// ──────────────────────────────────────────────────────────────────────────────────────────────

export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;

function usage(): string {
  const names = Object.keys(COMMANDS).sort();
  const width = Math.max(...names.map((n) => n.length));
  const rows = names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`).join('\n');
  return `usage: bpfkit COMMAND [ARGS...]

Load, inspect and run eBPF objects on the Linux kernel or on the bpfkit emulator.

commands:
${rows}

Run \`bpfkit COMMAND --help\` for a command's options.
exit codes: 0 ok, 1 bad object or input, 2 usage error
`;
}

function version(): string {
  return '0.1.0';
}

const defaultIo: CommandIo = { stdout: process.stdout, stderr: process.stderr };

/** Run the CLI with `argv` (without node and script path); resolves to the exit code. */
export async function main(argv: string[], io: CommandIo = defaultIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) {
    io.stderr.write(usage());
    return EXIT_USAGE;
  }
  if (cmd === '-h' || cmd === '--help') {
    io.stdout.write(usage());
    return EXIT_OK;
  }
  if (cmd === '--version' || cmd === '-V') {
    io.stdout.write(`bpfkit ${version()}\n`);
    return EXIT_OK;
  }
  if (cmd === 'help') {
    if (rest.length === 0) {
      io.stdout.write(usage());
      return EXIT_OK;
    }
    return main([rest[0]!, '--help'], io);
  }
  const entry = Object.prototype.hasOwnProperty.call(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!entry) {
    io.stderr.write(`bpfkit: unknown command '${cmd}'\n${usage()}`);
    return EXIT_USAGE;
  }
  let mod: CommandModule;
  try {
    mod = await entry.load();
  } catch (e) {
    io.stderr.write(`bpfkit ${cmd}: cannot load the command: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_BAD_INPUT;
  }
  try {
    return await mod.run(rest, io);
  } catch (e) {
    if (e instanceof ArgumentError) {
      io.stderr.write(`bpfkit ${cmd}: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof BpfError) {
      io.stderr.write(`bpfkit ${cmd}: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    io.stderr.write(`bpfkit ${cmd}: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_BAD_INPUT;
  }
}
