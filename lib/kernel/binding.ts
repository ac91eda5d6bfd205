/**
 * The only loader of the `bpf_sys` N-API addon (lib/kernel/bpf_sys.c).
 *
 * The addon is a policy-free syscall shim: every call returns the result or `-errno`; sizes,
 * layouts and validation live in TypeScript. Load order: every path in `BPFKIT_ADDON`
 * (path-delimiter separated), then build/Release/bpf_sys.node, then build/Debug/bpf_sys.node.
 * If none loads, `loadBinding()` throws a NotSupportedError listing every path tried and why.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotSupportedError } from '../errors.js';

/** Anything the shim accepts as a buffer: the pointer is the view's first byte. */
export type BufferLike = ArrayBufferView | ArrayBuffer;

/** The addon's exports. Every number-returning call returns the result, or -errno on failure. */
export interface BpfSys {
  /** bpf(2): `syscall(__NR_bpf, cmd, attr, attr.byteLength)`. */
  bpf(cmd: number, attr: BufferLike): number;
  /**
   * bpf(2) with the thread's blockable signals blocked during the call (program loads: the
   * verifier aborts with EAGAIN when a signal is pending; pending signals are delivered after).
   */
  bpfNoSignals(cmd: number, attr: BufferLike): number;
  /**
   * Register a buffer for bpfSlot (hot path): keeps it alive and remembers its address and
   * length. Returns a slot id (> 0) or -errno.
   */
  bpfRegister(attr: BufferLike): number;
  /** Release a slot: 0, or -ENOENT when unknown. */
  bpfUnregister(id: number): number;
  /** bpf(2) on a registered buffer: `syscall(__NR_bpf, cmd, buf, buf.byteLength)`; result or -errno. */
  bpfSlot(cmd: number, id: number): number;
  /**
   * This thread's control block for bpfSlotRun (an Int32Array of 16, created on first call;
   * always the same array afterwards, so every copy of the library in a thread shares it).
   */
  bpfSlotControl(): Int32Array;
  /**
   * bpfSlot without arguments or return value (the cheapest N-API call): reads
   * `cmd | slotId << 8` from control word 0, writes the result or -errno into word 1.
   * Throws when no control block is registered or the slot is unknown.
   */
  bpfSlotRun(): void;
  /** Address of the buffer's first byte, for attr pointer fields (keep the buffer alive). null → 0n. */
  addressOf(buf: BufferLike | null): bigint;
  /** perf_event_open(2) with an encoded `struct perf_event_attr`. */
  perfEventOpen(attr: BufferLike, pid: number, cpu: number, groupFd: number, flags: number): number;
  /** ioctl(2); `arg` is passed as an integer, or as a pointer to the buffer. */
  ioctl(fd: number, req: number | bigint, arg: number | bigint | BufferLike): number;
  /** mmap(2) of an fd; an external ArrayBuffer (unmapped when collected or by munmap), or -errno. */
  mmap(fd: number, length: number, prot: number, flags: number, offset: number): ArrayBuffer | number;
  /** Unmap an ArrayBuffer returned by mmap now; it is detached afterwards. 0 or -errno. */
  munmap(buf: ArrayBuffer): number;
  close(fd: number): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, sockaddr: BufferLike): number;
  /** `value` is the option bytes, or a number passed as a C int. */
  setsockopt(fd: number, level: number, name: number, value: BufferLike | number): number;
  /** Writes the option into `out`; returns the option length, or -errno. */
  getsockopt(fd: number, level: number, name: number, out: BufferLike): number;
  sendto(fd: number, data: BufferLike | null, flags: number, sockaddr: BufferLike | null): number;
  recv(fd: number, out: BufferLike, flags: number): number;
  /** if_nametoindex(3): index (> 0), or -errno (-ENODEV when unknown). */
  ifNameToIndex(name: string): number;
  getpid(): number;
  gettid(): number;
  pageSize(): number;
  /** strerror(3) of a (positive or negative) errno. */
  errnoString(errno: number): string;
  /** Acquire load of the u64 at `byteOffset` (8-aligned) of `buf`, as a number (< 2^53). */
  atomicLoad64(buf: BufferLike, byteOffset: number): number;
  /** Release store of a u64 at `byteOffset` (8-aligned) of `buf`. */
  atomicStore64(buf: BufferLike, byteOffset: number, value: number | bigint): void;
  /**
   * Watch `fd` for readiness on the Node event loop (libuv uv_poll_t): `events` is a mask of
   * PollEvent; `callback(status, events)` runs on each readiness (status 0 or a negative libuv
   * error). Returns a poll id (> 0) or -errno. The poll keeps the loop alive unless pollRef(id, false).
   */
  pollStart(fd: number, events: number, callback: (status: number, events: number) => void): number;
  /** Stop and release a poll: 0, or -ENOENT (-2) when unknown. */
  pollStop(id: number): number;
  /** Whether the poll keeps the event loop alive: 0, or -ENOENT. */
  pollRef(id: number, ref: boolean): number;
}

/** libuv poll event bits for pollStart. */
export const enum PollEvent {
  Readable = 1,
  Writable = 2,
  Disconnect = 4,
  Prioritized = 8,
}

/** mmap constants (Linux, all architectures we build for). */
export const enum Mmap {
  ProtRead = 1,
  ProtWrite = 2,
  Shared = 1,
  Private = 2,
}

/** errno values the kernel backend branches on. */
export const enum Errno {
  EPERM = 1,
  ENOENT = 2,
  ESRCH = 3,
  EINTR = 4,
  EIO = 5,
  E2BIG = 7,
  EBADF = 9,
  EAGAIN = 11,
  ENOMEM = 12,
  EACCES = 13,
  EFAULT = 14,
  EBUSY = 16,
  EEXIST = 17,
  ENODEV = 19,
  EINVAL = 22,
  ENOSPC = 28,
  ERANGE = 34,
  ENOSYS = 38,
  EOPNOTSUPP = 95,
  ENOTSUPP = 524,
}

const here = dirname(fileURLToPath(import.meta.url));

/** Repository root: lib/kernel → ../.. (also dist/lib/kernel → ../../..). */
function rootCandidates(): string[] {
  const roots = [resolve(here, '..', '..'), resolve(here, '..', '..', '..')];
  return [...new Set(roots)];
}

/** Every path the loader tries, in order. */
export function addonPaths(): string[] {
  const out: string[] = [];
  const env = process.env.BPFKIT_ADDON;
  if (env) for (const p of env.split(delimiter)) if (p) out.push(resolve(p));
  for (const root of rootCandidates()) {
    out.push(join(root, 'build', 'Release', 'bpf_sys.node'));
    out.push(join(root, 'build', 'Debug', 'bpf_sys.node'));
  }
  return [...new Set(out)];
}

const REQUIRED: readonly (keyof BpfSys)[] = [
  'bpf', 'bpfNoSignals', 'bpfRegister', 'bpfUnregister', 'bpfSlot', 'bpfSlotControl', 'bpfSlotRun', 'addressOf', 'perfEventOpen', 'ioctl', 'mmap', 'munmap', 'close', 'socket', 'bind',
  'setsockopt', 'getsockopt', 'sendto', 'recv', 'ifNameToIndex', 'errnoString', 'pollStart',
  'pollStop', 'pollRef', 'atomicLoad64', 'atomicStore64', 'pageSize', 'getpid', 'gettid',
];

let cached: BpfSys | undefined;
let cachedError: NotSupportedError | undefined;

/** Load the addon (once). Throws NotSupportedError listing every path tried and each cause. */
export function loadBinding(): BpfSys {
  if (cached) return cached;
  if (cachedError) throw cachedError;
  const tried: string[] = [];
  if (process.platform !== 'linux') {
    cachedError = new NotSupportedError(
      'kernel backend',
      `load bpf_sys addon: the kernel backend needs Linux (this is ${process.platform}); binding.gyp builds nothing here`,
      { hint: 'use the emulator backend' },
    );
    throw cachedError;
  }
  const require = createRequire(import.meta.url);
  let lastCause: unknown;
  for (const p of addonPaths()) {
    if (!existsSync(p)) {
      tried.push(`${p}: not found`);
      continue;
    }
    try {
      const mod = require(p) as Partial<BpfSys>;
      const missing = REQUIRED.filter((k) => typeof mod[k] !== 'function');
      if (missing.length) {
        tried.push(`${p}: loaded but lacks ${missing.join(', ')} (stale build; run npm install)`);
        continue;
      }
      cached = mod as BpfSys;
      return cached;
    } catch (e) {
      lastCause = e;
      tried.push(`${p}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  cachedError = new NotSupportedError(
    'kernel backend',
    `load bpf_sys addon: no usable addon; tried:\n  ${tried.join('\n  ')}`,
    { cause: lastCause, hint: 'run `npm install` (node-gyp) on Linux, or set BPFKIT_ADDON' },
  );
  throw cachedError;
}

/** The loaded addon, or undefined (never throws). */
export function tryLoadBinding(): BpfSys | undefined {
  try {
    return loadBinding();
  } catch {
    return undefined;
  }
}

export interface ProbeResult {
  ok: boolean;
  reason: string;
}

let probed: ProbeResult | undefined;

/**
 * Can the kernel backend work here? The addon must load and a harmless bpf(2) call must succeed:
 * creating (and closing) a 1-entry array map.
 */
export function probe(): ProbeResult {
  if (probed) return probed;
  let sys: BpfSys;
  try {
    sys = loadBinding();
  } catch (e) {
    probed = { ok: false, reason: e instanceof Error ? e.message : String(e) };
    return probed;
  }
  // union bpf_attr for BPF_MAP_CREATE: map_type u32, key_size u32, value_size u32, max_entries u32
  const attr = new Uint32Array(18);
  attr[0] = 2; // BPF_MAP_TYPE_ARRAY
  attr[1] = 4;
  attr[2] = 4;
  attr[3] = 1;
  const fd = sys.bpf(0 /* BPF_MAP_CREATE */, attr);
  if (fd < 0) {
    const errno = -fd;
    const hint =
      errno === Errno.EPERM || errno === Errno.EACCES
        ? ' (run as root or grant CAP_BPF, or lower kernel.unprivileged_bpf_disabled)'
        : errno === Errno.ENOSYS
          ? ' (kernel built without CONFIG_BPF_SYSCALL)'
          : '';
    probed = { ok: false, reason: `addon loaded, but bpf(BPF_MAP_CREATE) failed: ${sys.errnoString(errno)}${hint}` };
    return probed;
  }
  sys.close(fd);
  probed = { ok: true, reason: 'addon loaded, bpf(2) works' };
  return probed;
}
