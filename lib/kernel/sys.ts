/**
 * Shared kernel-backend plumbing over the addon: errno → error classes, bpffs pin/get, object
 * info, possible CPUs. Everything else in lib/kernel builds on these.
 */
import { existsSync, mkdirSync, readFileSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MapError, NotSupportedError, SyscallError, type MapErrorCode } from '../errors.js';
import { Attr, BpfCmd, BPF_CMD_NAMES, cString, InfoOff, ObjOff } from './attr.js';
import { Errno, loadBinding, type BpfSys } from './binding.js';

let sysCache: BpfSys | undefined;

/** The loaded addon (throws NotSupportedError listing paths tried when it cannot load). */
export function sys(): BpfSys {
  return (sysCache ??= loadBinding());
}

let control: Int32Array | undefined;

/**
 * This thread's control block for `bpfSlotRun` (owned by the addon, one per thread, the same
 * array for every copy of this module): word 0 takes `cmd | slotId << 8`, word 1 receives the
 * result or -errno. Shared by every map (calls are synchronous).
 */
export function slotControl(): Int32Array {
  return (control ??= sys().bpfSlotControl());
}

/** The hint for an errno of a bpf(2) operation, or undefined. */
export function errnoHint(errno: number): string | undefined {
  switch (errno) {
    case Errno.EPERM:
    case Errno.EACCES:
      return 'run as root or grant CAP_BPF (plus CAP_NET_ADMIN for networking programs and CAP_PERFMON for tracing)';
    case Errno.ENOSYS:
      return 'kernel built without CONFIG_BPF_SYSCALL';
    case Errno.EBADF:
      return 'the file descriptor is closed or not a BPF object';
    case Errno.E2BIG:
      return 'attr larger than this kernel understands, or a size limit was hit';
    default:
      return undefined;
  }
}

/** A SyscallError for a failed bpf(2) command: `op: strerror (hint)`. */
export function bpfError(op: string, cmd: BpfCmd, errno: number, extraHint?: string): SyscallError {
  const hint = extraHint ?? errnoHint(errno);
  return new SyscallError(
    `bpf(${BPF_CMD_NAMES[cmd] ?? cmd})`,
    errno,
    `${op}: ${sys().errnoString(errno)}`,
    hint ? { hint } : {},
  );
}

/** A SyscallError for another system call. */
export function syscallError(op: string, syscall: string, errno: number, extraHint?: string): SyscallError {
  const hint = extraHint ?? errnoHint(errno);
  return new SyscallError(syscall, errno, `${op}: ${sys().errnoString(errno)}`, hint ? { hint } : {});
}

/**
 * Map-operation errno → shared error, the same table the emulator uses (so both backends throw
 * the same class and code for the same cause): ENOENT → KEY_NOT_FOUND, EEXIST → KEY_EXISTS,
 * E2BIG/ENOSPC/ENOMEM → MAP_FULL, EBUSY → BUSY, EOPNOTSUPP/ENOTSUPP → NOT_SUPPORTED,
 * EINVAL/EBADF (closed map)/ENODEV/EOVERFLOW → INVALID_ARGUMENT, EPERM on a write (frozen or
 * read-only map) → INVALID_ARGUMENT; anything else (EPERM elsewhere included) → SyscallError with
 * hint. The errno is kept on the error.
 */
export function mapError(mapName: string, op: string, cmd: BpfCmd, errno: number): Error {
  let code: MapErrorCode | undefined;
  let hint: string | undefined;
  switch (errno) {
    case Errno.ENOENT: code = 'KEY_NOT_FOUND'; break;
    case Errno.EEXIST: code = 'KEY_EXISTS'; break;
    case Errno.E2BIG:
    case Errno.ENOSPC:
    case Errno.ENOMEM: code = 'MAP_FULL'; break;
    case Errno.EBUSY: code = 'BUSY'; break;
    case Errno.EINVAL:
    case Errno.ENODEV:
    case EOVERFLOW: code = 'INVALID_ARGUMENT'; break;
    case Errno.EPERM:
      // On a write, EPERM means a frozen / BPF_F_RDONLY map (the emulator's INVALID_ARGUMENT);
      // elsewhere it is a privilege problem: SyscallError with the capability hint.
      if (cmd === BpfCmd.MapUpdateElem || cmd === BpfCmd.MapDeleteElem || cmd === BpfCmd.MapUpdateBatch || cmd === BpfCmd.MapDeleteBatch || cmd === BpfCmd.MapLookupAndDeleteElem || cmd === BpfCmd.MapLookupAndDeleteBatch) {
        code = 'INVALID_ARGUMENT';
        hint = 'the map is frozen or read-only for user space (BPF_F_RDONLY); otherwise run as root or grant CAP_BPF';
      }
      break;
    case Errno.EBADF:
      code = 'INVALID_ARGUMENT';
      hint = 'the map is closed';
      break;
    case Errno.EOPNOTSUPP:
    case Errno.ENOTSUPP: code = 'NOT_SUPPORTED'; break;
    default: code = undefined;
  }
  const what = `${op} map ${mapName}`;
  if (code === undefined) return bpfError(what, cmd, errno);
  const text: Record<MapErrorCode, string> = {
    KEY_NOT_FOUND: 'key not found',
    KEY_EXISTS: 'key already exists',
    MAP_FULL: 'map is full',
    BUSY: 'map is busy',
    INVALID_ARGUMENT: 'invalid argument',
    NOT_SUPPORTED: 'operation not supported by this map type',
    EMPTY: 'map is empty',
  };
  const opts: { errno: number; hint?: string } = { errno };
  if (hint) opts.hint = hint;
  return new MapError(mapName, code, `${what}: ${text[code]} (${sys().errnoString(errno)})`, opts);
}

const EOVERFLOW = 75;

/** Close an fd, ignoring errors (used in cleanup paths). */
export function closeFd(fd: number): void {
  if (fd >= 0) sys().close(fd);
}

const BPF_FS_MAGIC = 0xcafe4a11;

/** Is `dir` on a bpf filesystem? */
export function isBpffs(dir: string): boolean {
  try {
    return statfsSync(dir).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Create `dir` and its missing parents one level at a time (Node's recursive mkdir can spin
 * forever on sysfs, which is what /sys/fs/bpf is when bpffs is not mounted there).
 */
export function mkdirLevels(dir: string, op: string): void {
  let cur = '';
  for (const part of resolve(dir).split('/').filter(Boolean)) {
    cur += `/${part}`;
    if (existsSync(cur)) continue;
    try {
      mkdirSync(cur);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EEXIST') continue;
      throw new SyscallError('mkdir', Math.abs(err.errno ?? Errno.EIO), `${op}: cannot create ${cur}: ${err.code ?? err.message}`, {
        cause: e,
        hint: 'pins need a bpf filesystem (mount -t bpf bpf /sys/fs/bpf)',
      });
    }
  }
}

/** BPF_OBJ_PIN `fd` at `path` (parent directory must be on bpffs; created if missing). */
export function objPin(op: string, fd: number, path: string): void {
  const dir = dirname(path);
  mkdirLevels(dir, op);
  const s = sys();
  const path0 = cString(path);
  const attr = new Attr(s, ObjOff.Size).ptr(ObjOff.Pathname, path0).setU32(ObjOff.BpfFd, fd);
  const r = attr.call(BpfCmd.ObjPin);
  if (r < 0) {
    const errno = -r;
    const hint =
      errno === Errno.EPERM && !isBpffs(dir)
        ? `${dir} is not on a bpf filesystem; mount one with \`mount -t bpf bpf /sys/fs/bpf\``
        : errno === Errno.EEXIST
          ? `${path} already exists; remove it or pick another path`
          : undefined;
    throw bpfError(`${op}: pin at ${path}`, BpfCmd.ObjPin, errno, hint);
  }
}

/** BPF_OBJ_GET: open a pinned object; returns the fd. */
export function objGet(op: string, path: string, fileFlags = 0): number {
  const s = sys();
  const path0 = cString(path);
  const attr = new Attr(s, ObjOff.Size).ptr(ObjOff.Pathname, path0).setU32(ObjOff.FileFlags, fileFlags);
  const r = attr.call(BpfCmd.ObjGet);
  if (r < 0) {
    const errno = -r;
    const hint = errno === Errno.ENOENT ? `nothing is pinned at ${path}` : undefined;
    throw bpfError(`${op} ${path}`, BpfCmd.ObjGet, errno, hint);
  }
  return r;
}

/** BPF_OBJ_GET_INFO_BY_FD into a zeroed buffer of `size` bytes (the kernel fills what it knows). */
export function objInfo(op: string, fd: number, size: number, prefill?: (info: Uint8Array) => void): Uint8Array {
  const s = sys();
  const info = new Uint8Array(size);
  prefill?.(info);
  const attr = new Attr(s, InfoOff.Size).setU32(InfoOff.BpfFd, fd).setU32(InfoOff.InfoLen, size).ptr(InfoOff.Info, info);
  const r = attr.call(BpfCmd.ObjGetInfoByFd);
  if (r < 0) throw bpfError(`${op}: get object info`, BpfCmd.ObjGetInfoByFd, -r);
  return info;
}

let cpus: number | undefined;

/** Parse a kernel CPU list such as "0-3,5,7-8" into the number of CPUs (max index + 1). */
export function parseCpuList(text: string): number {
  let max = -1;
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    const hi = Number(b ?? a);
    if (!Number.isInteger(hi) || hi < 0) throw new NotSupportedError('possible CPUs', `read possible CPUs: cannot parse "${text.trim()}"`);
    if (hi > max) max = hi;
  }
  if (max < 0) throw new NotSupportedError('possible CPUs', `read possible CPUs: empty list "${text.trim()}"`);
  return max + 1;
}

/** Number of possible CPUs (/sys/devices/system/cpu/possible): the per-CPU value count. */
export function possibleCpus(): number {
  if (cpus !== undefined) return cpus;
  let text: string;
  try {
    text = readFileSync('/sys/devices/system/cpu/possible', 'utf8');
  } catch (e) {
    throw new NotSupportedError('possible CPUs', `read /sys/devices/system/cpu/possible: ${(e as Error).message}`, { cause: e });
  }
  cpus = parseCpuList(text);
  return cpus;
}
