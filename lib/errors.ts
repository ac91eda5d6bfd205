/**
 * One error family for all of bpfkit. Every error is a `BpfError` with a string `code`;
 * subclasses exist only where callers branch on them. Messages: lowercase operation prefix,
 * cause kept, hint in parentheses — e.g. `load program xdp_prog: permission denied (run as root
 * or grant CAP_BPF)`.
 */

export interface BpfErrorOptions {
  cause?: unknown;
  hint?: string;
}

export class BpfError extends Error {
  readonly code: string;
  readonly hint?: string;
  constructor(code: string, message: string, opts: BpfErrorOptions = {}) {
    super(opts.hint ? `${message} (${opts.hint})` : message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    if (opts.hint !== undefined) this.hint = opts.hint;
  }
}

/** Where in an ELF object something went wrong. */
export interface ElfLocation {
  file?: string;
  section?: string;
  offset?: number;
  symbol?: string;
  insn?: number;
}

/** The object file is malformed or uses something we do not understand. */
export class ElfError extends BpfError {
  readonly location: ElfLocation;
  constructor(message: string, location: ElfLocation = {}, opts: BpfErrorOptions = {}) {
    super('ELF_INVALID', formatLocated(message, location), opts);
    this.location = location;
  }
}

function formatLocated(message: string, loc: ElfLocation): string {
  const parts: string[] = [];
  if (loc.file) parts.push(loc.file);
  if (loc.section) parts.push(`section ${loc.section}`);
  if (loc.symbol) parts.push(`symbol ${loc.symbol}`);
  if (loc.insn !== undefined) parts.push(`insn ${loc.insn}`);
  if (loc.offset !== undefined) parts.push(`offset 0x${loc.offset.toString(16)}`);
  return parts.length ? `${parts.join(': ')}: ${message}` : message;
}

/** A feature that this platform, kernel or backend does not have. */
export class NotSupportedError extends BpfError {
  readonly feature: string;
  readonly minKernel?: string;
  constructor(feature: string, message?: string, opts: BpfErrorOptions & { minKernel?: string } = {}) {
    const hint = opts.hint ?? (opts.minKernel ? `needs Linux ${opts.minKernel} or later` : undefined);
    super('NOT_SUPPORTED', message ?? `${feature} is not supported`, { cause: opts.cause, hint });
    this.feature = feature;
    if (opts.minKernel !== undefined) this.minKernel = opts.minKernel;
  }
}

/** Where in a program's source a verifier rejection points. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  text: string;
}

/**
 * A program was rejected by a verifier (the kernel's or the emulator's). `log` is the full log;
 * the message summarises the cause and names the instruction and its C source line.
 */
export class VerifierError extends BpfError {
  readonly program: string;
  readonly log: string;
  readonly insn?: number;
  readonly source?: SourceLocation;
  readonly errno?: number;
  constructor(
    program: string,
    message: string,
    opts: BpfErrorOptions & { log?: string; insn?: number; source?: SourceLocation; errno?: number } = {},
  ) {
    super('VERIFIER_REJECTED', message, opts);
    this.program = program;
    this.log = opts.log ?? '';
    if (opts.insn !== undefined) this.insn = opts.insn;
    if (opts.source !== undefined) this.source = opts.source;
    if (opts.errno !== undefined) this.errno = opts.errno;
  }
}

/** A system call failed. `errno` is the positive errno value, `syscall` names the call. */
export class SyscallError extends BpfError {
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number, message: string, opts: BpfErrorOptions = {}) {
    super(errnoName(errno) ?? 'SYSCALL_FAILED', message, opts);
    this.errno = errno;
    this.syscall = syscall;
  }
}

export type MapErrorCode = 'KEY_NOT_FOUND' | 'KEY_EXISTS' | 'MAP_FULL' | 'INVALID_ARGUMENT' | 'NOT_SUPPORTED' | 'EMPTY' | 'BUSY';

/** A map operation failed for a reason callers commonly branch on. */
export class MapError extends BpfError {
  declare readonly code: MapErrorCode;
  readonly map: string;
  readonly errno?: number;
  constructor(map: string, code: MapErrorCode, message: string, opts: BpfErrorOptions & { errno?: number } = {}) {
    super(code, message, opts);
    this.map = map;
    if (opts.errno !== undefined) this.errno = opts.errno;
  }
}

/** The emulator stopped a program that did something the kernel would never allow at run time. */
export class EmulatorFault extends BpfError {
  readonly program: string;
  readonly insn: number;
  readonly address?: bigint;
  readonly region?: string;
  readonly source?: SourceLocation;
  constructor(
    program: string,
    insn: number,
    message: string,
    opts: BpfErrorOptions & { address?: bigint; region?: string; source?: SourceLocation; code?: string } = {},
  ) {
    const where = opts.source ? ` at ${opts.source.file}:${opts.source.line}:${opts.source.column}` : '';
    super(opts.code ?? 'EMULATOR_FAULT', `run ${program}: insn ${insn}${where}: ${message}`, opts);
    this.program = program;
    this.insn = insn;
    if (opts.address !== undefined) this.address = opts.address;
    if (opts.region !== undefined) this.region = opts.region;
    if (opts.source !== undefined) this.source = opts.source;
  }
}

/** A bad argument passed to a bpfkit API. */
export class ArgumentError extends BpfError {
  constructor(message: string, opts: BpfErrorOptions = {}) {
    super('INVALID_ARGUMENT', message, opts);
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 7: 'E2BIG', 9: 'EBADF', 11: 'EAGAIN',
  12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL',
  24: 'EMFILE', 28: 'ENOSPC', 34: 'ERANGE', 38: 'ENOSYS', 95: 'EOPNOTSUPP', 524: 'ENOTSUPP',
};

export function errnoName(errno: number): string | undefined {
  return ERRNO_NAMES[errno];
}
