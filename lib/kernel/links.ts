/**
 * Attaching loaded programs to kernel hooks. BPF links (BPF_LINK_CREATE) wherever the kernel has
 * them, so that an attachment is owned by an fd: closing the last reference detaches it unless
 * the link was pinned in bpffs.
 *
 * - XDP: BPF_LINK_CREATE(attach_type xdp, target_ifindex, flags XDP_FLAGS_{SKB,DRV,HW}_MODE).
 * - TC: tcx links (attach types tcx_ingress / tcx_egress).
 * - cgroup: BPF_LINK_CREATE with the cgroup v2 directory's fd and the requested attach type.
 * - tracepoint: perf_event_open(PERF_TYPE_TRACEPOINT, id from tracefs) + BPF_LINK_CREATE
 *   (attach type perf_event); where the kernel has no perf links, PERF_EVENT_IOC_SET_BPF + ENABLE.
 * - raw tracepoint: BPF_RAW_TRACEPOINT_OPEN (returns a link fd).
 * - uprobe: perf_event_open with the uprobe PMU (config1 = path, config2 = file offset resolved
 *   from an ELF symbol, retprobe bit from the PMU format) + a perf_event link.
 * - socket filter: setsockopt(SO_ATTACH_BPF) on a socket fd; SO_DETACH_BPF on detach/close.
 *
 * Link update is BPF_LINK_UPDATE (atomic program replacement), detach is BPF_LINK_DETACH (the
 * link stays valid but defunct; a pin made through this object is removed too).
 */
import { existsSync, openSync, closeSync, readFileSync, readdirSync, rmSync, constants as fsc } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { AttachRequest, BackendLink, BackendProgram, LinkInfo, XdpMode } from '../backend.js';
import { ArgumentError, BpfError, NotSupportedError, SyscallError } from '../errors.js';
import { ATTACH_TYPES, attachTypeId, type AttachType, type ProgType } from '../spec/index.js';
import { Errno } from './binding.js';
import { isLinkFd, linkInfoByFd, type LinkEntry } from './listing.js';
import { Cmd, PERM_HINT, bpf, closeFd, cstr, fdById, ifName, newAttr, objGet, objPin, sys, syscallError } from './sysops.js';
import { resolveSymbolOffset } from './uprobe.js';

/** What attaching needs to know about a loaded program. */
export interface AttachableProgram {
  readonly fd?: number;
  readonly name: string;
  readonly type: ProgType;
}

const enum XdpFlag {
  SkbMode = 1 << 1,
  DrvMode = 1 << 2,
  HwMode = 1 << 3,
}

const enum Perf {
  TypeTracepoint = 2,
  AttrSize = 136,
  FlagFdCloexec = 8,
  IocEnable = 0x2400,
  IocDisable = 0x2401,
  IocSetBpf = 0x40042408,
}

const enum Sock {
  SolSocket = 1,
  SoDetachBpf = 27,
  SoAttachBpf = 50,
  ENOTSOCK = 88,
}

const ATTACH_PERF_EVENT = attachTypeId('perf_event');
const ATTACH_XDP = attachTypeId('xdp');
const ATTACH_TCX_INGRESS = attachTypeId('tcx_ingress');
const ATTACH_TCX_EGRESS = attachTypeId('tcx_egress');

/** Program types each hook accepts (checked before any syscall, for a clear message). */
const HOOK_PROG_TYPES: Partial<Record<AttachRequest['kind'], readonly ProgType[]>> = {
  xdp: ['xdp'],
  tc: ['sched_cls'],
  tracepoint: ['tracepoint'],
  raw_tracepoint: ['raw_tracepoint', 'raw_tracepoint_writable'],
  uprobe: ['kprobe'],
  socket_filter: ['socket_filter'],
};

let socketLinkIds = 0;
const ENOLINK = 67;

function progFd(prog: AttachableProgram, op: string): number {
  const fd = prog.fd;
  if (typeof fd !== 'number' || fd < 0) throw new ArgumentError(`${op}: program ${prog.name} is not loaded in the kernel (no fd)`);
  return fd;
}

function checkInt(v: unknown, what: string, op: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 0xffffffff) {
    throw new ArgumentError(`${op}: ${what} must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

function checkName(v: unknown, what: string, op: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.includes('/') || v.includes('\0') || v === '.' || v === '..') {
    throw new ArgumentError(`${op}: ${what} must be a plain name, got ${JSON.stringify(v)}`);
  }
  return v;
}

function describe(req: AttachRequest): string {
  switch (req.kind) {
    case 'xdp':
      return `xdp on ${req.ifname}`;
    case 'tc':
      return `tc ${req.direction} on ${req.ifname}`;
    case 'cgroup':
      return `cgroup ${req.attachType} on ${req.path}`;
    case 'tracepoint':
      return `tracepoint ${req.category}/${req.name}`;
    case 'raw_tracepoint':
      return `raw tracepoint ${req.name}`;
    case 'uprobe':
      return `${req.ret ? 'uretprobe' : 'uprobe'} ${req.binaryPath}:${req.symbol ?? ''}${req.offset !== undefined ? `+0x${req.offset.toString(16)}` : ''}`;
    case 'socket_filter':
      return `socket filter on fd ${req.socketFd}`;
  }
}

/** Hints for attach failures, by hook and errno. */
function attachHint(req: AttachRequest, errno: number, prog: AttachableProgram): string | undefined {
  if (errno === Errno.EPERM || errno === Errno.EACCES) return PERM_HINT;
  switch (req.kind) {
    case 'xdp':
      // The kernel reports a missing device as EINVAL (xdp) or ENODEV.
      if ((errno === Errno.ENODEV || errno === Errno.EINVAL) && ifName(req.ifindex) === undefined) return `no such interface ${req.ifname} (ifindex ${req.ifindex})`;
      if (errno === Errno.EBUSY || errno === Errno.EEXIST)
        return `an XDP program is already attached to ${req.ifname}; detach it first (bpfkit detach xdp --dev ${req.ifname})`;
      if (errno === Errno.EOPNOTSUPP || errno === Errno.ENOTSUPP)
        return `the driver of ${req.ifname} does not support ${req.mode ?? 'native'} XDP; try mode 'skb'`;
      if (errno === Errno.EINVAL && req.mode === 'offload') return `offload needs a program loaded for ${req.ifname}'s device and a NIC that supports it`;
      return undefined;
    case 'tc':
      if ((errno === Errno.ENODEV || errno === Errno.EINVAL) && ifName(req.ifindex) === undefined) return `no such interface ${req.ifname} (ifindex ${req.ifindex})`;
      if (errno === Errno.EBUSY || errno === Errno.EEXIST) return `something is already attached at tcx ${req.direction} of ${req.ifname}`;
      return undefined;
    case 'cgroup':
      if (errno === Errno.EBUSY || errno === Errno.EEXIST) return `a program is already attached to ${req.path} for ${req.attachType}`;
      if (errno === Errno.EINVAL || errno === Errno.EBADF)
        return `${req.path} must be a cgroup v2 directory and program ${prog.name} (${prog.type}) must fit attach type ${req.attachType}`;
      return undefined;
    case 'tracepoint':
      if (errno === Errno.EEXIST || errno === Errno.EBUSY) return `a program is already attached to this perf event`;
      return undefined;
    case 'uprobe':
      if (errno === Errno.ENOENT) return `${req.binaryPath} does not exist`;
      if (errno === Errno.EINVAL) return `the offset must point at an instruction of an executable mapping of ${req.binaryPath}`;
      if (errno === Errno.ESRCH) return `no process with pid ${req.pid}`;
      return undefined;
    case 'raw_tracepoint':
      if (errno === Errno.ENOENT) return `no raw tracepoint named ${req.name} (see /sys/kernel/tracing/available_events)`;
      return undefined;
    case 'socket_filter':
      if (errno === Errno.EBADF || errno === Sock.ENOTSOCK) return `fd ${req.socketFd} is not an open socket`;
      return undefined;
  }
}

function attachFailed(req: AttachRequest, prog: AttachableProgram, syscall: string, errno: number): SyscallError {
  return syscallError(`attach ${prog.name} to ${describe(req)}`, syscall, errno, attachHint(req, errno, prog));
}

/** Info of a freshly created kernel link (its id). */
function linkId(fd: number): number {
  try {
    return linkInfoByFd(fd).id;
  } catch {
    return 0;
  }
}

/** BPF_LINK_CREATE → link fd or -errno. */
function linkCreate(progFdNum: number, target: number, attachType: number, flags: number): number {
  const { buf, dv } = newAttr();
  dv.setUint32(0, progFdNum, true);
  dv.setUint32(4, target, true);
  dv.setUint32(8, attachType, true);
  dv.setUint32(12, flags, true);
  return bpf(Cmd.LinkCreate, buf);
}

/** A kernel BPF link, owned by an fd. */
export class KernelLink implements BackendLink {
  readonly info: LinkInfo;
  private _fd: number;
  private pinnedAt: string | undefined;
  constructor(fd: number, info: LinkInfo, pinnedAt?: string) {
    this._fd = fd;
    this.info = info;
    this.pinnedAt = pinnedAt;
  }

  get fd(): number | undefined {
    return this._fd >= 0 ? this._fd : undefined;
  }

  private live(op: string): number {
    if (this._fd < 0) throw new BpfError('CLOSED', `${op} link ${this.info.id} (${this.info.target}): link is closed`);
    return this._fd;
  }

  update(program: BackendProgram): void {
    const op = 'update';
    const fd = this.live(op);
    const pfd = program.fd;
    if (typeof pfd !== 'number' || pfd < 0) throw new ArgumentError(`update link ${this.info.id}: program ${program.name} is not loaded in the kernel`);
    const { buf, dv } = newAttr();
    dv.setUint32(0, fd, true);
    dv.setUint32(4, pfd, true);
    const r = bpf(Cmd.LinkUpdate, buf);
    if (r < 0) {
      const e = -r;
      const hint =
        e === Errno.EOPNOTSUPP || e === Errno.ENOTSUPP
          ? `${this.info.kind} links cannot replace their program; detach and attach again`
          : e === Errno.EINVAL
            ? `program ${program.name} (${program.type}) does not fit this ${this.info.kind} link`
            : e === ENOLINK
              ? 'the link was detached'
              : undefined;
      throw syscallError(`update link ${this.info.id} (${this.info.target}) to program ${program.name}`, 'bpf(BPF_LINK_UPDATE)', e, hint);
    }
  }

  pin(path: string): void {
    const fd = this.live('pin');
    if (typeof path !== 'string' || path.length === 0) throw new ArgumentError('pin link: path must be a non-empty string');
    objPin(fd, path, `link ${this.info.id}`);
    this.pinnedAt = path;
  }

  detach(): void {
    const fd = this.live('detach');
    const { buf, dv } = newAttr();
    dv.setUint32(0, fd, true);
    const r = bpf(Cmd.LinkDetach, buf);
    // Links without a detach operation (perf_event, raw_tracepoint) detach when their last
    // reference goes: drop the pin and our fd.
    if (r < 0 && -r !== Errno.EOPNOTSUPP && -r !== Errno.ENOTSUPP && -r !== Errno.EINVAL && -r !== ENOLINK) {
      throw syscallError(`detach link ${this.info.id} (${this.info.target})`, 'bpf(BPF_LINK_DETACH)', -r);
    }
    this.unpin();
    this.close();
  }

  private unpin(): void {
    if (this.pinnedAt !== undefined) {
      rmSync(this.pinnedAt, { force: true });
      this.pinnedAt = undefined;
    }
  }

  close(): void {
    if (this._fd >= 0) {
      closeFd(this._fd);
      this._fd = -1;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A perf event with a program set by ioctl (kernels without perf_event links). */
class PerfIoctlLink implements BackendLink {
  readonly info: LinkInfo;
  private pfd: number;
  constructor(pfd: number, info: LinkInfo) {
    this.pfd = pfd;
    this.info = info;
  }
  get fd(): number | undefined {
    return undefined;
  }
  update(): void {
    throw new NotSupportedError('perf event program replacement', `update ${this.info.target}: a perf event attached by ioctl cannot replace its program`, { hint: 'detach and attach again' });
  }
  pin(): void {
    throw new NotSupportedError('pinning perf event attachments', `pin ${this.info.target}: this kernel has no perf_event links, so the attachment cannot be pinned`, { minKernel: '5.15' });
  }
  detach(): void {
    this.close();
  }
  close(): void {
    if (this.pfd >= 0) {
      sys().ioctl(this.pfd, Perf.IocDisable, 0);
      closeFd(this.pfd);
      this.pfd = -1;
    }
  }
}

/** A socket filter set with SO_ATTACH_BPF: detached (SO_DETACH_BPF) on detach/close. */
class SocketFilterLink implements BackendLink {
  readonly info: LinkInfo;
  private socketFd: number;
  constructor(socketFd: number, info: LinkInfo) {
    this.socketFd = socketFd;
    this.info = info;
  }
  get fd(): number | undefined {
    return undefined;
  }
  update(program: BackendProgram): void {
    if (this.socketFd < 0) throw new BpfError('CLOSED', `update ${this.info.target}: link is closed`);
    const req: AttachRequest = { kind: 'socket_filter', socketFd: this.socketFd };
    const pfd = progFd(program, `update ${this.info.target}`);
    const r = sys().setsockopt(this.socketFd, Sock.SolSocket, Sock.SoAttachBpf, pfd);
    if (r < 0) throw attachFailed(req, program, 'setsockopt(SO_ATTACH_BPF)', -r);
  }
  pin(): void {
    throw new NotSupportedError('pinning socket filters', `pin ${this.info.target}: a socket filter belongs to its socket and cannot be pinned`);
  }
  detach(): void {
    if (this.socketFd < 0) return;
    const r = sys().setsockopt(this.socketFd, Sock.SolSocket, Sock.SoDetachBpf, 0);
    const fd = this.socketFd;
    this.socketFd = -1;
    if (r < 0 && -r !== Errno.ENOENT && -r !== Errno.EBADF && -r !== Sock.ENOTSOCK) {
      throw syscallError(`detach socket filter from fd ${fd}`, 'setsockopt(SO_DETACH_BPF)', -r);
    }
  }
  close(): void {
    if (this.socketFd < 0) return;
    // The socket may already be closed by its owner; the filter went with it then.
    sys().setsockopt(this.socketFd, Sock.SolSocket, Sock.SoDetachBpf, 0);
    this.socketFd = -1;
  }
}

// ---- tracefs / perf events ----------------------------------------------------------------------

let tracefsRoot: string | undefined;

/** Directory containing `events/` of tracefs; mounts tracefs at /sys/kernel/tracing when needed. */
export function tracefs(): string {
  if (tracefsRoot !== undefined) return tracefsRoot;
  for (const d of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) {
    if (existsSync(`${d}/events`)) return (tracefsRoot = d);
  }
  const d = '/sys/kernel/tracing';
  try {
    if (existsSync(d) && readdirSync(d).length === 0) execFileSync('mount', ['-t', 'tracefs', 'nodev', d], { stdio: 'ignore', timeout: 10_000 });
  } catch (e) {
    throw new NotSupportedError('tracefs', `find tracefs: not mounted and mounting it at ${d} failed`, { cause: e, hint: `mount -t tracefs nodev ${d} as root` });
  }
  if (existsSync(`${d}/events`)) return (tracefsRoot = d);
  throw new NotSupportedError('tracefs', 'find tracefs: no tracefs at /sys/kernel/tracing or /sys/kernel/debug/tracing', { hint: 'mount -t tracefs nodev /sys/kernel/tracing as root' });
}

/** Numeric id of tracepoint CATEGORY/NAME from tracefs. */
export function tracepointId(category: string, name: string): number {
  const op = `attach tracepoint ${category}/${name}`;
  checkName(category, 'category', op);
  checkName(name, 'name', op);
  const p = `${tracefs()}/events/${category}/${name}/id`;
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch (e) {
    throw new ArgumentError(`${op}: no such tracepoint (${p} does not exist; see ${tracefs()}/available_events)`, { cause: e });
  }
  const id = Number(text.trim());
  if (!Number.isInteger(id) || id <= 0) throw new BpfError('TRACEFS_INVALID', `${op}: unexpected id ${JSON.stringify(text.trim())} in ${p}`);
  return id;
}

function perfAttr(type: number, config: bigint, config1 = 0n, config2 = 0n): Uint8Array {
  const a = new Uint8Array(Perf.AttrSize);
  const dv = new DataView(a.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, Perf.AttrSize, true);
  dv.setBigUint64(8, config, true);
  dv.setBigUint64(16, 1n, true); // sample_period
  dv.setUint32(48, 1, true); // wakeup_events
  dv.setBigUint64(56, config1, true);
  dv.setBigUint64(64, config2, true);
  return a;
}

function readPmu(name: string, op: string): { type: number; retprobeBit: number } {
  const base = `/sys/bus/event_source/devices/${name}`;
  let type: number;
  try {
    type = Number(readFileSync(`${base}/type`, 'utf8').trim());
  } catch (e) {
    throw new NotSupportedError(`${name} PMU`, `${op}: the kernel has no ${name} PMU (${base}/type missing)`, { cause: e, hint: 'needs CONFIG_UPROBE_EVENTS' });
  }
  let bit = 0;
  try {
    const m = /config:(\d+)/.exec(readFileSync(`${base}/format/retprobe`, 'utf8'));
    if (m) bit = Number(m[1]);
  } catch {
    bit = 0;
  }
  return { type, retprobeBit: bit };
}

/** Options of attachProgram. */
export interface AttachOptions {
  /**
   * Tracepoints and uprobes: attach through a perf_event BPF link (default true). false uses
   * PERF_EVENT_IOC_SET_BPF + ENABLE directly (what kernels before 5.15 need; such an
   * attachment cannot be pinned or updated). With true, the ioctl path is still taken
   * automatically when the kernel rejects perf_event links.
   */
  perfLink?: boolean;
}

/** Attach `prog` to an open perf event: perf_event link, or ioctl on kernels without them. */
function attachPerfEvent(prog: AttachableProgram, pfd: number, req: AttachRequest, info: Omit<LinkInfo, 'id'>, useLink: boolean): BackendLink {
  const p = progFd(prog, `attach ${prog.name}`);
  let linkErr = 0;
  if (useLink) {
    const lfd = linkCreate(p, pfd, ATTACH_PERF_EVENT, 0);
    if (lfd >= 0) {
      // The link holds its own reference to the perf event.
      closeFd(pfd);
      return new KernelLink(lfd, { ...info, id: linkId(lfd) });
    }
    linkErr = -lfd;
    if (linkErr !== Errno.EINVAL && linkErr !== Errno.EOPNOTSUPP && linkErr !== Errno.ENOTSUPP) {
      closeFd(pfd);
      throw attachFailed(req, prog, 'bpf(BPF_LINK_CREATE)', linkErr);
    }
  }
  let r = sys().ioctl(pfd, Perf.IocSetBpf, p);
  let call = 'ioctl(PERF_EVENT_IOC_SET_BPF)';
  if (r >= 0) {
    r = sys().ioctl(pfd, Perf.IocEnable, 0);
    call = 'ioctl(PERF_EVENT_IOC_ENABLE)';
  }
  if (r < 0) {
    closeFd(pfd);
    // After a link failure, report the link error: it is the primary mechanism.
    throw linkErr ? attachFailed(req, prog, 'bpf(BPF_LINK_CREATE)', linkErr) : attachFailed(req, prog, call, -r);
  }
  return new PerfIoctlLink(pfd, { ...info, id: 0 });
}

// ---- attach -------------------------------------------------------------------------------------

/** Attach a loaded program as `req` says. */
export function attachProgram(prog: AttachableProgram, req: AttachRequest, opts: AttachOptions = {}): BackendLink {
  if (req === null || typeof req !== 'object') throw new ArgumentError('attach: request must be an object');
  const kinds = HOOK_PROG_TYPES[req.kind];
  const op = `attach ${prog.name} to ${describe(req)}`;
  if (kinds && !kinds.includes(prog.type)) {
    throw new ArgumentError(`${op}: program ${prog.name} is of type ${prog.type}; ${req.kind} needs ${kinds.join(' or ')}`);
  }
  const p = progFd(prog, op);
  switch (req.kind) {
    case 'xdp': {
      checkInt(req.ifindex, 'ifindex', op, 1);
      const mode: XdpMode | undefined = req.mode;
      let flags = 0;
      if (mode === 'skb') flags = XdpFlag.SkbMode;
      else if (mode === 'native') flags = XdpFlag.DrvMode;
      else if (mode === 'offload') flags = XdpFlag.HwMode;
      else if (mode !== undefined) throw new ArgumentError(`${op}: mode must be 'skb', 'native' or 'offload', got ${JSON.stringify(mode)}`);
      const fd = linkCreate(p, req.ifindex, ATTACH_XDP, flags);
      if (fd < 0) throw attachFailed(req, prog, 'bpf(BPF_LINK_CREATE)', -fd);
      return new KernelLink(fd, { kind: 'xdp', id: linkId(fd), target: req.ifname });
    }
    case 'tc': {
      checkInt(req.ifindex, 'ifindex', op, 1);
      if (req.direction !== 'ingress' && req.direction !== 'egress') throw new ArgumentError(`${op}: direction must be 'ingress' or 'egress'`);
      const at = req.direction === 'ingress' ? ATTACH_TCX_INGRESS : ATTACH_TCX_EGRESS;
      const fd = linkCreate(p, req.ifindex, at, 0);
      if (fd < 0) throw attachFailed(req, prog, 'bpf(BPF_LINK_CREATE)', -fd);
      return new KernelLink(fd, { kind: 'tc', id: linkId(fd), target: `${req.ifname}/${req.direction}` });
    }
    case 'cgroup': {
      if (typeof req.path !== 'string' || req.path.length === 0) throw new ArgumentError(`${op}: path must be a cgroup directory`);
      const at = attachTypeId(req.attachType as AttachType);
      if (at < 0) throw new ArgumentError(`${op}: unknown attach type ${JSON.stringify(req.attachType)} (one of ${ATTACH_TYPES.filter((t) => t.startsWith('cgroup')).join(', ')})`);
      let dirFd: number;
      try {
        dirFd = openSync(req.path, fsc.O_RDONLY | fsc.O_DIRECTORY);
      } catch (e) {
        const code = (e as { code?: string }).code;
        throw new ArgumentError(`${op}: cannot open cgroup directory (${code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : String((e as Error).message)})`, { cause: e });
      }
      try {
        const fd = linkCreate(p, dirFd, at, 0);
        if (fd < 0) throw attachFailed(req, prog, 'bpf(BPF_LINK_CREATE)', -fd);
        return new KernelLink(fd, { kind: 'cgroup', id: linkId(fd), target: `${req.path}:${req.attachType}` });
      } finally {
        closeSync(dirFd);
      }
    }
    case 'tracepoint': {
      const id = tracepointId(req.category, req.name);
      const pfd = sys().perfEventOpen(perfAttr(Perf.TypeTracepoint, BigInt(id)), -1, 0, -1, Perf.FlagFdCloexec);
      if (pfd < 0) throw attachFailed(req, prog, 'perf_event_open', -pfd);
      return attachPerfEvent(prog, pfd, req, { kind: 'tracepoint', target: `${req.category}/${req.name}` }, opts.perfLink !== false);
    }
    case 'raw_tracepoint': {
      if (typeof req.name !== 'string' || req.name.length === 0 || req.name.includes('\0')) throw new ArgumentError(`${op}: name must be a tracepoint name`);
      const name = cstr(req.name);
      const { buf, dv } = newAttr();
      dv.setBigUint64(0, sys().addressOf(name), true);
      dv.setUint32(8, p, true);
      const fd = bpf(Cmd.RawTracepointOpen, buf);
      if (fd < 0) throw attachFailed(req, prog, 'bpf(BPF_RAW_TRACEPOINT_OPEN)', -fd);
      return new KernelLink(fd, { kind: 'raw_tracepoint', id: linkId(fd), target: req.name });
    }
    case 'uprobe': {
      if (typeof req.binaryPath !== 'string' || req.binaryPath.length === 0) throw new ArgumentError(`${op}: binaryPath must be a file path`);
      if (req.symbol === undefined && req.offset === undefined) throw new ArgumentError(`${op}: give a symbol or an offset`);
      let offset = 0;
      if (req.symbol !== undefined) offset = resolveSymbolOffset(req.binaryPath, req.symbol);
      if (req.offset !== undefined) offset += checkInt(req.offset, 'offset', op);
      const pid = req.pid === undefined ? -1 : checkInt(req.pid, 'pid', op, 1);
      const pmu = readPmu('uprobe', op);
      const config = req.ret ? 1n << BigInt(pmu.retprobeBit) : 0n;
      const path = cstr(req.binaryPath);
      const pfd = sys().perfEventOpen(perfAttr(pmu.type, config, sys().addressOf(path), BigInt(offset)), pid, pid === -1 ? 0 : -1, -1, Perf.FlagFdCloexec);
      if (pfd < 0) throw attachFailed(req, prog, 'perf_event_open', -pfd);
      const target = `${req.binaryPath}:${req.symbol ?? ''}+0x${offset.toString(16)}${req.ret ? ' (ret)' : ''}${pid !== -1 ? ` pid ${pid}` : ''}`;
      return attachPerfEvent(prog, pfd, req, { kind: 'uprobe', target }, opts.perfLink !== false);
    }
    case 'socket_filter': {
      checkInt(req.socketFd, 'socketFd', op);
      const r = sys().setsockopt(req.socketFd, Sock.SolSocket, Sock.SoAttachBpf, p);
      if (r < 0) throw attachFailed(req, prog, 'setsockopt(SO_ATTACH_BPF)', -r);
      return new SocketFilterLink(req.socketFd, { kind: 'socket_filter', id: --socketLinkIds, target: `socket fd ${req.socketFd}` });
    }
    default:
      throw new ArgumentError(`attach: unknown attach kind ${JSON.stringify((req as { kind?: unknown }).kind)}`);
  }
}

/** `CATEGORY/NAME` of a tracepoint the kernel names only by NAME (found in tracefs). */
function tracepointTarget(name: string | undefined): string | undefined {
  if (!name) return name;
  try {
    const events = `${tracefs()}/events`;
    for (const cat of readdirSync(events)) if (existsSync(`${events}/${cat}/${name}/id`)) return `${cat}/${name}`;
  } catch {
    return name;
  }
  return name;
}

/** LinkInfo (kind and target) of an existing kernel link. */
export function linkInfoOf(entry: LinkEntry, pinnedPath?: string): LinkInfo {
  switch (entry.type) {
    case 'xdp':
      return { kind: 'xdp', id: entry.id, target: entry.ifname ?? `ifindex ${entry.ifindex}` };
    case 'tcx':
      return { kind: 'tc', id: entry.id, target: `${entry.ifname ?? `ifindex ${entry.ifindex}`}/${entry.attachType === 'tcx_egress' ? 'egress' : 'ingress'}` };
    case 'cgroup':
      return { kind: 'cgroup', id: entry.id, target: `cgroup id ${entry.cgroupId}:${entry.attachType}` };
    case 'raw_tracepoint':
      return { kind: 'raw_tracepoint', id: entry.id, target: entry.tracepoint ?? '' };
    case 'perf_event':
      if (entry.perfEventType === 'uprobe' || entry.perfEventType === 'uretprobe') {
        return { kind: 'uprobe', id: entry.id, target: `${entry.file}:+0x${(entry.offset ?? 0).toString(16)}${entry.perfEventType === 'uretprobe' ? ' (ret)' : ''}` };
      }
      return { kind: 'tracepoint', id: entry.id, target: tracepointTarget(entry.tracepoint) ?? entry.perfEventType ?? '' };
    default:
      throw new NotSupportedError(`${entry.type} links`, `open link ${entry.id}${pinnedPath ? ` at ${pinnedPath}` : ''}: bpfkit does not model ${entry.type} links`);
  }
}

/** Open a link pinned in bpffs (BPF_OBJ_GET). Closing it leaves the pinned attachment alone. */
export function openPinnedLink(path: string): BackendLink {
  const fd = objGet(path, 'link');
  try {
    if (!isLinkFd(fd)) throw new ArgumentError(`open pinned link ${path}: the object pinned there is not a link`);
    return new KernelLink(fd, linkInfoOf(linkInfoByFd(fd), path), path);
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}

/** Open a kernel link by id (BPF_LINK_GET_FD_BY_ID); undefined when no such link exists. */
export function openLinkById(id: number): BackendLink | undefined {
  const fd = fdById(Cmd.LinkGetFdById, id, 'link');
  if (fd === undefined) return undefined;
  try {
    return new KernelLink(fd, linkInfoOf(linkInfoByFd(fd)));
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}
