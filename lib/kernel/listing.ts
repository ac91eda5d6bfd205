/**
 * Enumeration of the kernel's BPF programs, maps and links (what `bpftool prog|map|link list`
 * shows): BPF_*_GET_NEXT_ID → BPF_*_GET_FD_BY_ID → BPF_OBJ_GET_INFO_BY_FD. Objects that vanish
 * between the id walk and the fd open are skipped. Layouts of `struct bpf_prog_info`,
 * `bpf_map_info` and `bpf_link_info` are those of include/uapi/linux/bpf.h.
 */
import { readFileSync } from 'node:fs';
import { attachTypeName, mapTypeName, progTypeName } from '../spec/index.js';
import { Cmd, cString, closeFd, fdById, fdInfo, ifName, nextId, objInfo, sys } from './sysops.js';

export const LINK_TYPES = [
  'unspec', 'raw_tracepoint', 'tracing', 'cgroup', 'iter', 'netns', 'xdp', 'perf_event',
  'kprobe_multi', 'struct_ops', 'netfilter', 'tcx', 'uprobe_multi', 'netkit', 'sockmap',
] as const;

/** bpf_perf_event_type values. */
export const PERF_EVENT_TYPES = ['unspec', 'uprobe', 'uretprobe', 'kprobe', 'kretprobe', 'tracepoint', 'event'] as const;

const PROG_INFO_SIZE = 232;
const MAP_INFO_SIZE = 104;
const LINK_INFO_SIZE = 64;
const NAME_BUF = 4096;

export interface ProgEntry {
  id: number;
  /** Program type name (`xdp`, `sched_cls`, ...) or `type N` when unknown. */
  type: string;
  name: string;
  /** 8-byte program tag, hex. */
  tag: string;
  gplCompatible: boolean;
  /** Load time as an ISO date (from the boot-time clock). */
  loadedAt: string;
  uid: number;
  xlatedBytes: number;
  jitedBytes: number;
  mapIds: number[];
  btfId: number;
  verifiedInsns: number;
  runCount: number;
  runTimeNs: number;
}

export interface MapEntry {
  id: number;
  type: string;
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  btfId: number;
  frozen: boolean;
  memlock?: number;
}

export interface LinkEntry {
  id: number;
  /** Link type name (`xdp`, `tcx`, `cgroup`, `perf_event`, ...). */
  type: string;
  progId: number;
  ifindex?: number;
  ifname?: string;
  attachType?: string;
  cgroupId?: string;
  /** Tracepoint name (raw_tracepoint, perf_event tracepoint). */
  tracepoint?: string;
  /** perf_event link: `uprobe`, `uretprobe`, `tracepoint`, ... */
  perfEventType?: string;
  /** Uprobe: file and offset. */
  file?: string;
  offset?: number;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function u8view(dv: DataView): Uint8Array {
  return new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
}

let bootEpochMs: number | undefined;
function bootTimeMs(): number {
  if (bootEpochMs === undefined) {
    let up = 0;
    try {
      up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    } catch {
      up = 0;
    }
    bootEpochMs = Date.now() - up * 1000;
  }
  return bootEpochMs;
}

/** Decode a program's info from its fd. */
export function progInfoByFd(fd: number): ProgEntry {
  let dv = objInfo(fd, PROG_INFO_SIZE, `program fd ${fd}`);
  const nrMaps = dv.getUint32(52, true);
  let mapIds: number[] = [];
  if (nrMaps > 0) {
    const ids = new Uint32Array(nrMaps);
    dv = objInfo(fd, PROG_INFO_SIZE, `program fd ${fd}`, (p) => {
      p.setUint32(52, nrMaps, true);
      p.setBigUint64(56, sys().addressOf(ids), true);
    });
    mapIds = [...ids.subarray(0, Math.min(nrMaps, dv.getUint32(52, true)))];
  }
  const typeId = dv.getUint32(0, true);
  const bytes = u8view(dv);
  const loadNs = Number(dv.getBigUint64(40, true));
  return {
    id: dv.getUint32(4, true),
    type: progTypeName(typeId) ?? `type ${typeId}`,
    name: cString(bytes, 64, 16),
    tag: hex(bytes.subarray(8, 16)),
    gplCompatible: (dv.getUint32(84, true) & 1) !== 0,
    loadedAt: new Date(bootTimeMs() + loadNs / 1e6).toISOString(),
    uid: dv.getUint32(48, true),
    xlatedBytes: dv.getUint32(20, true),
    jitedBytes: dv.getUint32(16, true),
    mapIds,
    btfId: dv.getUint32(128, true),
    verifiedInsns: dv.getUint32(216, true),
    runCount: Number(dv.getBigUint64(200, true)),
    runTimeNs: Number(dv.getBigUint64(192, true)),
  };
}

/** Decode a map's info from its fd. */
export function mapInfoByFd(fd: number): MapEntry {
  const dv = objInfo(fd, MAP_INFO_SIZE, `map fd ${fd}`);
  const typeId = dv.getUint32(0, true);
  const fdi = fdInfo(fd);
  const memlock = fdi.get('memlock');
  const entry: MapEntry = {
    id: dv.getUint32(4, true),
    type: mapTypeName(typeId) ?? `type ${typeId}`,
    name: cString(u8view(dv), 24, 16),
    keySize: dv.getUint32(8, true),
    valueSize: dv.getUint32(12, true),
    maxEntries: dv.getUint32(16, true),
    flags: dv.getUint32(20, true),
    btfId: dv.getUint32(64, true),
    frozen: fdi.get('frozen') === '1',
  };
  if (memlock !== undefined) entry.memlock = Number(memlock);
  return entry;
}

/** True when `fd` refers to a bpf link (its fdinfo has `link_type`). */
export function isLinkFd(fd: number): boolean {
  return fdInfo(fd).has('link_type');
}

/** Decode a link's info from its fd (names of tracepoints and uprobe files included). */
export function linkInfoByFd(fd: number): LinkEntry {
  const what = `link fd ${fd}`;
  let dv = objInfo(fd, LINK_INFO_SIZE, what);
  const typeId = dv.getUint32(0, true);
  const type = LINK_TYPES[typeId] ?? `type ${typeId}`;
  const nameBuf = new Uint8Array(NAME_BUF);
  if (type === 'raw_tracepoint') {
    dv = objInfo(fd, LINK_INFO_SIZE, what, (p) => {
      p.setBigUint64(16, sys().addressOf(nameBuf), true);
      p.setUint32(24, NAME_BUF, true);
    });
  } else if (type === 'perf_event') {
    dv = objInfo(fd, LINK_INFO_SIZE, what, (p) => {
      p.setBigUint64(24, sys().addressOf(nameBuf), true);
      p.setUint32(32, NAME_BUF, true);
    });
  }
  const e: LinkEntry = { id: dv.getUint32(4, true), type, progId: dv.getUint32(8, true) };
  switch (type) {
    case 'raw_tracepoint':
      e.tracepoint = cString(nameBuf);
      break;
    case 'cgroup':
      e.cgroupId = dv.getBigUint64(16, true).toString();
      e.attachType = attachTypeName(dv.getUint32(24, true)) ?? String(dv.getUint32(24, true));
      break;
    case 'xdp':
      e.ifindex = dv.getUint32(16, true);
      break;
    case 'tcx':
    case 'netkit':
      e.ifindex = dv.getUint32(16, true);
      e.attachType = attachTypeName(dv.getUint32(20, true)) ?? String(dv.getUint32(20, true));
      break;
    case 'netns':
      e.attachType = attachTypeName(dv.getUint32(20, true)) ?? String(dv.getUint32(20, true));
      break;
    case 'tracing':
      e.attachType = attachTypeName(dv.getUint32(16, true)) ?? String(dv.getUint32(16, true));
      break;
    case 'perf_event': {
      const pt = dv.getUint32(16, true);
      e.perfEventType = PERF_EVENT_TYPES[pt] ?? `type ${pt}`;
      if (pt === 1 || pt === 2) {
        e.file = cString(nameBuf);
        e.offset = dv.getUint32(36, true);
      } else if (pt === 5) {
        e.tracepoint = cString(nameBuf);
      } else if (pt === 3 || pt === 4) {
        e.tracepoint = cString(nameBuf);
        e.offset = dv.getUint32(36, true);
      }
      break;
    }
    default:
      break;
  }
  if (e.ifindex !== undefined && e.ifindex > 0) {
    const n = ifName(e.ifindex);
    if (n !== undefined) e.ifname = n;
  }
  return e;
}

function walk<T>(
  next: Cmd.ProgGetNextId | Cmd.MapGetNextId | Cmd.LinkGetNextId,
  open: Cmd.ProgGetFdById | Cmd.MapGetFdById | Cmd.LinkGetFdById,
  what: string,
  decode: (fd: number) => T,
): T[] {
  const out: T[] = [];
  let id = 0;
  for (;;) {
    const n = nextId(next, id, what);
    if (n === undefined) break;
    id = n;
    const fd = fdById(open, id, what);
    if (fd === undefined) continue;
    try {
      out.push(decode(fd));
    } finally {
      closeFd(fd);
    }
  }
  return out;
}

/** Every program loaded in the kernel, by id. */
export function listPrograms(): ProgEntry[] {
  return walk(Cmd.ProgGetNextId, Cmd.ProgGetFdById, 'program', progInfoByFd);
}

/** Every map in the kernel, by id. */
export function listMaps(): MapEntry[] {
  return walk(Cmd.MapGetNextId, Cmd.MapGetFdById, 'map', mapInfoByFd);
}

/** Every link in the kernel, by id. */
export function listLinks(): LinkEntry[] {
  return walk(Cmd.LinkGetNextId, Cmd.LinkGetFdById, 'link', linkInfoByFd);
}
