/**
 * Small bpf(2) operations shared by links, events and listing: object pin/get, object info,
 * id iteration, and errno → SyscallError with the standard hints. Attr layouts follow
 * `union bpf_attr` of include/uapi/linux/bpf.h (offsets checked against the running kernel's BTF).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { ArgumentError, SyscallError } from '../errors.js';
import { Errno, loadBinding, type BpfSys } from './binding.js';

export const enum Cmd {
  MapLookupElem = 1,
  MapUpdateElem = 2,
  MapDeleteElem = 3,
  ObjPin = 6,
  ObjGet = 7,
  ProgGetNextId = 11,
  MapGetNextId = 12,
  ProgGetFdById = 13,
  MapGetFdById = 14,
  ObjGetInfoByFd = 15,
  ProgQuery = 16,
  RawTracepointOpen = 17,
  LinkCreate = 28,
  LinkUpdate = 29,
  LinkGetFdById = 30,
  LinkGetNextId = 31,
  LinkDetach = 34,
}

/** Size of the attr buffer we pass: large enough for every command used here. */
export const ATTR_SIZE = 64;

export function sys(): BpfSys {
  return loadBinding();
}

/** A NUL-terminated copy of `s` (for attr string pointers). */
export function cstr(s: string): Uint8Array {
  const b = Buffer.from(s + '\0', 'utf8');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function strerror(errno: number): string {
  return sys().errnoString(errno);
}

/** The hint for a permission failure of a BPF operation. */
export const PERM_HINT = 'run as root or grant CAP_BPF, CAP_NET_ADMIN (networking) and CAP_PERFMON (tracing)';

/**
 * A SyscallError for `op` failing with `errno`: message `op: strerror`, with `hint` or the
 * standard one for EPERM/EACCES.
 */
export function syscallError(op: string, syscall: string, errno: number, hint?: string): SyscallError {
  const h = hint ?? (errno === Errno.EPERM || errno === Errno.EACCES ? PERM_HINT : undefined);
  return new SyscallError(syscall, errno, `${op}: ${strerror(errno)}`, h !== undefined ? { hint: h } : {});
}

export function newAttr(): { buf: Uint8Array; dv: DataView } {
  const buf = new Uint8Array(ATTR_SIZE);
  return { buf, dv: new DataView(buf.buffer) };
}

/** bpf(cmd, attr) returning the result or -errno. */
export function bpf(cmd: Cmd, attr: Uint8Array): number {
  return sys().bpf(cmd, attr);
}

/** Close an fd we own; errors (EBADF after a double close) are ignored. */
export function closeFd(fd: number | undefined): void {
  if (fd !== undefined && fd >= 0) sys().close(fd);
}

/** BPF_OBJ_PIN `fd` at `path`. */
export function objPin(fd: number, path: string, what: string): void {
  const name = cstr(path);
  const { buf, dv } = newAttr();
  dv.setBigUint64(0, sys().addressOf(name), true);
  dv.setUint32(8, fd, true);
  const r = bpf(Cmd.ObjPin, buf);
  if (r < 0) {
    const e = -r;
    const hint =
      e === Errno.EEXIST
        ? `${path} already exists; remove it first`
        : e === Errno.ENOENT
          ? `the directory of ${path} does not exist`
          : e === Errno.EPERM || e === Errno.EINVAL
            ? `${path} must be on a bpf filesystem (mount -t bpf bpf /sys/fs/bpf)`
            : undefined;
    throw syscallError(`pin ${what} at ${path}`, 'bpf(BPF_OBJ_PIN)', e, hint);
  }
}

/** BPF_OBJ_GET of a pinned path → fd. */
export function objGet(path: string, what: string): number {
  if (typeof path !== 'string' || path.length === 0) throw new ArgumentError(`open pinned ${what}: path must be a non-empty string`);
  const name = cstr(path);
  const { buf, dv } = newAttr();
  dv.setBigUint64(0, sys().addressOf(name), true);
  const r = bpf(Cmd.ObjGet, buf);
  if (r < 0) {
    const e = -r;
    const hint = e === Errno.ENOENT ? `nothing is pinned at ${path}` : undefined;
    throw syscallError(`open pinned ${what} ${path}`, 'bpf(BPF_OBJ_GET)', e, hint);
  }
  return r;
}

/**
 * BPF_OBJ_GET_INFO_BY_FD into a zeroed buffer of `size` bytes (after `prepare` filled pointer
 * fields); returns the info bytes as a DataView.
 */
export function objInfo(fd: number, size: number, what: string, prepare?: (dv: DataView) => void): DataView {
  const info = new Uint8Array(size);
  const idv = new DataView(info.buffer);
  if (prepare) prepare(idv);
  const { buf, dv } = newAttr();
  dv.setUint32(0, fd, true);
  dv.setUint32(4, size, true);
  dv.setBigUint64(8, sys().addressOf(info), true);
  const r = bpf(Cmd.ObjGetInfoByFd, buf);
  if (r < 0) throw syscallError(`get info of ${what}`, 'bpf(BPF_OBJ_GET_INFO_BY_FD)', -r);
  return idv;
}

/** Next id after `start` (0 = first) for a *_GET_NEXT_ID command; undefined at the end. */
export function nextId(cmd: Cmd.ProgGetNextId | Cmd.MapGetNextId | Cmd.LinkGetNextId, start: number, what: string): number | undefined {
  const { buf, dv } = newAttr();
  dv.setUint32(0, start, true);
  const r = bpf(cmd, buf);
  if (r < 0) {
    if (-r === Errno.ENOENT) return undefined;
    throw syscallError(`list ${what}s`, 'bpf(BPF_*_GET_NEXT_ID)', -r);
  }
  return dv.getUint32(4, true);
}

/**
 * fd for an object id; undefined when the object vanished meanwhile (ENOENT) or is being
 * created or torn down right now (EAGAIN: a link whose id is not settled yet).
 */
export function fdById(cmd: Cmd.ProgGetFdById | Cmd.MapGetFdById | Cmd.LinkGetFdById, id: number, what: string): number | undefined {
  const { buf, dv } = newAttr();
  dv.setUint32(0, id, true);
  const r = bpf(cmd, buf);
  if (r < 0) {
    if (-r === Errno.ENOENT || -r === Errno.EAGAIN) return undefined;
    throw syscallError(`open ${what} id ${id}`, 'bpf(BPF_*_GET_FD_BY_ID)', -r);
  }
  return r;
}

/** Lines of /proc/self/fdinfo/FD as key → value. */
export function fdInfo(fd: number): Map<string, string> {
  const out = new Map<string, string>();
  let text = '';
  try {
    text = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return out;
}

/** A NUL-terminated C string out of `bytes` (stops at the first NUL). */
export function cString(bytes: Uint8Array, off = 0, max = bytes.length - off): string {
  let end = off;
  const lim = Math.min(bytes.length, off + max);
  while (end < lim && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + off, end - off).toString('utf8');
}

/** Interface name of an ifindex via /sys/class/net (undefined when unknown in this netns). */
export function ifName(ifindex: number): string | undefined {
  try {
    for (const name of readdirSync('/sys/class/net')) {
      try {
        if (Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim()) === ifindex) return name;
      } catch {
        /* raced with removal */
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}
