/**
 * Helper prototypes (argument and return kinds, after the kernel's `struct bpf_func_proto`) and
 * the helper sets each program type may call, plus context-access rules per program type
 * (after the `*_is_valid_access` callbacks of net/core/filter.c and kernel/trace/bpf_trace.c).
 */
import type { AttachType, ProgType } from '../../lib/spec/index.js';

export const enum Arg {
  None = 0,
  /** ARG_ANYTHING: any initialised value. */
  Any,
  /** ARG_CONST_MAP_PTR. */
  Map,
  /** ARG_PTR_TO_MAP_KEY: key_size readable bytes. */
  Key,
  /** ARG_PTR_TO_MAP_VALUE: value_size readable bytes. */
  Value,
  /** ARG_PTR_TO_MAP_VALUE | MEM_UNINIT: value_size writable bytes. */
  ValueOut,
  /** ARG_PTR_TO_MEM | MEM_RDONLY: readable memory of the size in the next argument. */
  Mem,
  /** ARG_PTR_TO_MEM | MEM_RDONLY | PTR_MAYBE_NULL. */
  MemOrNull,
  /** ARG_PTR_TO_UNINIT_MEM: writable memory of the size in the next argument. */
  MemOut,
  /** ARG_CONST_SIZE: size of the previous memory argument, > 0. */
  Size,
  /** ARG_CONST_SIZE_OR_ZERO. */
  Size0,
  /** ARG_PTR_TO_CTX. */
  Ctx,
  /** ARG_CONST_ALLOC_SIZE_OR_ZERO: a known constant. */
  AllocSize,
  /** ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE. */
  RingbufRelease,
  /** ARG_PTR_TO_SOCK_COMMON. */
  SockCommon,
  /** ARG_PTR_TO_BTF_ID_SOCK_COMMON | OBJ_RELEASE (bpf_sk_release). */
  SockRelease,
  /** ARG_PTR_TO_SPIN_LOCK. */
  SpinLock,
  /** ARG_PTR_TO_FUNC: a static callback function. */
  Func,
  /** ARG_PTR_TO_STACK_OR_NULL: the callback context. */
  StackOrNull,
}

export const enum Ret {
  Int = 0,
  Void,
  MapValueOrNull,
  MapValue,
  RingbufOrNull,
  SockOrNull,
  SockCommonOrNull,
  TcpSockOrNull,
}

export interface Proto {
  args: readonly Arg[];
  ret: Ret;
  /** Returns a reference that must be released (acquire function). */
  acquire?: boolean;
}

const P = (ret: Ret, ...args: Arg[]): Proto => ({ args, ret });

export const PROTOS: ReadonlyMap<number, Proto> = new Map<number, Proto>([
  [1, P(Ret.MapValueOrNull, Arg.Map, Arg.Key)],
  [2, P(Ret.Int, Arg.Map, Arg.Key, Arg.Value, Arg.Any)],
  [3, P(Ret.Int, Arg.Map, Arg.Key)],
  [4, P(Ret.Int, Arg.MemOut, Arg.Size0, Arg.Any)],
  [5, P(Ret.Int)],
  [6, P(Ret.Int, Arg.Mem, Arg.Size)],
  [7, P(Ret.Int)],
  [8, P(Ret.Int)],
  [9, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.Mem, Arg.Size, Arg.Any)],
  [10, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.Any, Arg.Any, Arg.Any)],
  [11, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.Any, Arg.Any, Arg.Any)],
  [12, P(Ret.Void, Arg.Ctx, Arg.Map, Arg.Any)],
  [13, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.Any)],
  [14, P(Ret.Int)],
  [15, P(Ret.Int)],
  [16, P(Ret.Int, Arg.MemOut, Arg.Size)],
  [17, P(Ret.Int, Arg.Ctx)],
  [18, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.Any)],
  [19, P(Ret.Int, Arg.Ctx)],
  [20, P(Ret.Int, Arg.Ctx, Arg.MemOut, Arg.Size, Arg.Any)],
  [21, P(Ret.Int, Arg.Ctx, Arg.Mem, Arg.Size, Arg.Any)],
  [22, P(Ret.Int, Arg.Map, Arg.Any)],
  [23, P(Ret.Int, Arg.Any, Arg.Any)],
  [24, P(Ret.Int, Arg.Ctx)],
  [25, P(Ret.Int, Arg.Ctx, Arg.Map, Arg.Any, Arg.Mem, Arg.Size0)],
  [26, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.MemOut, Arg.Size)],
  [27, P(Ret.Int, Arg.Ctx, Arg.Map, Arg.Any)],
  [28, P(Ret.Int, Arg.MemOrNull, Arg.Size0, Arg.MemOrNull, Arg.Size0, Arg.Any)],
  [31, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.Any)],
  [32, P(Ret.Int, Arg.Ctx, Arg.Any)],
  [33, P(Ret.Int, Arg.Ctx, Arg.Map, Arg.Any)],
  [34, P(Ret.Int, Arg.Ctx)],
  [35, P(Ret.Int)],
  [36, P(Ret.Int, Arg.Any, Arg.Mem, Arg.Size)],
  [37, P(Ret.Int, Arg.Map, Arg.Any)],
  [38, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.Any)],
  [39, P(Ret.Int, Arg.Ctx, Arg.Any)],
  [40, P(Ret.Int, Arg.Ctx, Arg.Any)],
  [41, P(Ret.Void, Arg.Ctx)],
  [42, P(Ret.Int)],
  [43, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.Any)],
  [44, P(Ret.Int, Arg.Ctx, Arg.Any)],
  [45, P(Ret.Int, Arg.MemOut, Arg.Size0, Arg.Any)],
  [46, P(Ret.Int, Arg.Ctx)],
  [47, P(Ret.Int, Arg.Ctx)],
  [48, P(Ret.Int, Arg.Ctx, Arg.Any)],
  [50, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.Any, Arg.Any)],
  [51, P(Ret.Int, Arg.Map, Arg.Any, Arg.Any)],
  [54, P(Ret.Int, Arg.Ctx, Arg.Any)],
  [65, P(Ret.Int, Arg.Ctx, Arg.Any)],
  [67, P(Ret.Int, Arg.Ctx, Arg.MemOut, Arg.Size0, Arg.Any)],
  [68, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.MemOut, Arg.Size, Arg.Any)],
  [69, P(Ret.Int, Arg.Ctx, Arg.MemOut, Arg.Size, Arg.Any)],
  [79, P(Ret.Int, Arg.Ctx)],
  [80, P(Ret.Int)],
  [81, P(Ret.MapValue, Arg.Map, Arg.Any)],
  [83, P(Ret.Int, Arg.Ctx, Arg.Any)],
  [84, { args: [Arg.Ctx, Arg.Mem, Arg.Size, Arg.Any, Arg.Any], ret: Ret.SockOrNull, acquire: true }],
  [85, { args: [Arg.Ctx, Arg.Mem, Arg.Size, Arg.Any, Arg.Any], ret: Ret.SockOrNull, acquire: true }],
  [86, P(Ret.Int, Arg.SockRelease)],
  [87, P(Ret.Int, Arg.Map, Arg.Value, Arg.Any)],
  [88, P(Ret.Int, Arg.Map, Arg.ValueOut)],
  [89, P(Ret.Int, Arg.Map, Arg.ValueOut)],
  [93, P(Ret.Void, Arg.SpinLock)],
  [94, P(Ret.Void, Arg.SpinLock)],
  [95, P(Ret.SockOrNull, Arg.SockCommon)],
  [96, P(Ret.TcpSockOrNull, Arg.SockCommon)],
  [97, P(Ret.Int, Arg.Ctx)],
  [98, P(Ret.SockOrNull, Arg.SockCommon)],
  [99, { args: [Arg.Ctx, Arg.Mem, Arg.Size, Arg.Any, Arg.Any], ret: Ret.SockCommonOrNull, acquire: true }],
  [112, P(Ret.Int, Arg.MemOut, Arg.Size0, Arg.Any)],
  [113, P(Ret.Int, Arg.MemOut, Arg.Size0, Arg.Any)],
  [114, P(Ret.Int, Arg.MemOut, Arg.Size0, Arg.Any)],
  [115, P(Ret.Int, Arg.MemOut, Arg.Size0, Arg.Any)],
  [118, P(Ret.Int)],
  [125, P(Ret.Int)],
  [130, P(Ret.Int, Arg.Map, Arg.Mem, Arg.Size0, Arg.Any)],
  [131, { args: [Arg.Map, Arg.AllocSize, Arg.Any], ret: Ret.RingbufOrNull, acquire: true }],
  [132, P(Ret.Void, Arg.RingbufRelease, Arg.Any)],
  [133, P(Ret.Void, Arg.RingbufRelease, Arg.Any)],
  [134, P(Ret.Int, Arg.Map, Arg.Any)],
  [135, P(Ret.Int, Arg.Ctx, Arg.Any)],
  [152, P(Ret.Int, Arg.Any, Arg.MemOrNull, Arg.Size0, Arg.Any)],
  [155, P(Ret.Int, Arg.Any, Arg.Any)],
  [160, P(Ret.Int)],
  [188, P(Ret.Int, Arg.Ctx)],
  [189, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.MemOut, Arg.Size)],
  [190, P(Ret.Int, Arg.Ctx, Arg.Any, Arg.Mem, Arg.Size)],
  [181, P(Ret.Int, Arg.Any, Arg.Func, Arg.StackOrNull, Arg.Any)],
  [208, P(Ret.Int)],
]);

const BASE = [14, 15, 17, 80, 181, 1, 2, 3, 5, 6, 7, 8, 12, 42, 87, 88, 89, 93, 94, 113, 115, 118, 125, 130, 131, 132, 133, 134, 160, 208, 35, 112, 114];
const TRACING = [4, 14, 15, 16, 22, 25, 27, 36, 37, 45, 67, 80];
const XDP = [23, 25, 28, 44, 51, 54, 65, 69, 84, 85, 86, 99, 188, 189, 190];
const TC = [9, 10, 11, 13, 17, 18, 19, 20, 21, 23, 24, 25, 26, 28, 31, 32, 33, 34, 38, 39, 40, 41, 43, 46, 47, 48, 50, 68, 69,
  79, 83, 84, 85, 86, 95, 96, 97, 98, 99, 135, 152, 155];
const SOCKET_FILTER = [25, 26, 46, 47, 68];
const CGROUP_SKB = [25, 26, 46, 47, 68, 79, 81, 83, 95, 96, 97, 98];

const ALLOWED = new Map<ProgType, Set<number>>();
function allow(types: ProgType[], ids: number[]): void {
  for (const t of types) {
    let s = ALLOWED.get(t);
    if (!s) ALLOWED.set(t, (s = new Set(BASE)));
    for (const id of ids) s.add(id);
  }
}
allow(['kprobe', 'tracepoint', 'perf_event', 'raw_tracepoint', 'raw_tracepoint_writable'], TRACING);
allow(['xdp'], XDP);
allow(['sched_cls', 'sched_act'], TC);
allow(['socket_filter'], SOCKET_FILTER);
allow(['cgroup_skb'], CGROUP_SKB);
// bpf_ktime_get_coarse_ns is not available to tracing programs (it may run in NMI context)
for (const t of ['kprobe', 'tracepoint', 'perf_event', 'raw_tracepoint', 'raw_tracepoint_writable'] as ProgType[]) ALLOWED.get(t)!.delete(160);

/** Whether a program of `type` may call helper `id` (undefined set: the program type is not modelled). */
export function helperAllowed(type: ProgType, id: number): boolean {
  const s = ALLOWED.get(type);
  return s ? s.has(id) : false;
}

export function progTypeModelled(type: ProgType): boolean {
  return ALLOWED.has(type);
}

// ---- context access ----

export const enum CtxField {
  Invalid = -1,
  Scalar = 0,
  Pkt = 1,
  PktEnd = 2,
  PktMeta = 3,
  SockCommonOrNull = 4,
}

/** Size of the context structure as the program sees it (for messages). */
export function ctxSize(type: ProgType): number {
  switch (type) {
    case 'xdp': return 24;
    case 'sched_cls': case 'sched_act': case 'socket_filter': case 'cgroup_skb': return SKB_SIZE;
    case 'kprobe': return 168;
    case 'raw_tracepoint': return 96;
    default: return 8192;
  }
}

const SKB_SIZE = 192;
// __sk_buff offsets
const SKB = {
  len: 0, pkt_type: 4, mark: 8, queue_mapping: 12, protocol: 16, vlan_present: 20, vlan_tci: 24, vlan_proto: 28,
  priority: 32, ingress_ifindex: 36, ifindex: 40, tc_index: 44, cb0: 48, cb4end: 68, hash: 68, tc_classid: 72,
  data: 76, data_end: 80, napi_id: 84, family: 88, remote_ip4: 92, local_ip4: 96, remote_ip6: 100, local_ip6: 116,
  remote_port: 132, local_port: 136, localPortEnd: 140, data_meta: 140, flow_keys: 144, tstamp: 152, wire_len: 160,
  gso_segs: 164, sk: 168, gso_size: 176, tstamp_type: 180, hwtstamp: 184,
} as const;

function within(off: number, start: number, end: number): boolean {
  return off >= start && off < end;
}

/** Common __sk_buff rules (bpf_skb_is_valid_access). */
function skbCommon(off: number, size: number, write: boolean): CtxField {
  if (off < 0 || off >= SKB_SIZE) return CtxField.Invalid;
  if (off % size !== 0) return CtxField.Invalid;
  if (within(off, SKB.cb0, SKB.cb4end)) {
    if (off + size > SKB.cb4end) return CtxField.Invalid;
    return CtxField.Scalar;
  }
  if (within(off, SKB.remote_ip6, SKB.remote_port) || within(off, SKB.remote_ip4, SKB.remote_ip4 + 4) ||
    within(off, SKB.local_ip4, SKB.local_ip4 + 4) || within(off, SKB.data, SKB.data + 4) ||
    within(off, SKB.data_meta, SKB.data_meta + 4) || within(off, SKB.data_end, SKB.data_end + 4)) {
    return size === 4 ? CtxField.Scalar : CtxField.Invalid;
  }
  if (within(off, SKB.flow_keys, SKB.flow_keys + 8)) return CtxField.Invalid;
  if (within(off, SKB.hwtstamp, SKB.hwtstamp + 8)) return write || size !== 8 ? CtxField.Invalid : CtxField.Scalar;
  if (within(off, SKB.tstamp, SKB.tstamp + 8)) return size !== 8 ? CtxField.Invalid : CtxField.Scalar;
  if (off === SKB.sk) return write || size !== 8 ? CtxField.Invalid : CtxField.SockCommonOrNull;
  if (within(off, SKB.sk, SKB.sk + 8)) return CtxField.Invalid;
  if (within(off, SKB.tstamp_type, SKB.hwtstamp)) return CtxField.Invalid;
  if (write) return size === 4 ? CtxField.Scalar : CtxField.Invalid;
  return size <= 4 ? CtxField.Scalar : CtxField.Invalid;
}

function skbPtrField(off: number, r: CtxField): CtxField {
  if (r !== CtxField.Scalar) return r;
  if (off === SKB.data) return CtxField.Pkt;
  if (off === SKB.data_end) return CtxField.PktEnd;
  if (off === SKB.data_meta) return CtxField.PktMeta;
  return r;
}

/**
 * What a `size`-byte read (or write) at `off` of the context yields for a program of `type`:
 * the loaded register's kind, or Invalid.
 */
export function ctxAccess(type: ProgType, attach: AttachType | undefined, off: number, size: number, write: boolean): CtxField {
  switch (type) {
    case 'xdp': {
      if (off === 20 && attach !== 'xdp_devmap') return CtxField.Invalid;
      if (write) return CtxField.Invalid;
      if (off < 0 || off >= 24 || off % size !== 0 || size !== 4) return CtxField.Invalid;
      if (off === 0) return CtxField.Pkt;
      if (off === 4) return CtxField.PktEnd;
      if (off === 8) return CtxField.PktMeta;
      return CtxField.Scalar;
    }
    case 'socket_filter': {
      if (within(off, SKB.tc_classid, SKB.tc_classid + 4) || within(off, SKB.data, SKB.data + 4) ||
        within(off, SKB.data_meta, SKB.data_meta + 4) || within(off, SKB.data_end, SKB.data_end + 4) ||
        within(off, SKB.family, SKB.localPortEnd) || within(off, SKB.tstamp, SKB.tstamp + 8) ||
        within(off, SKB.wire_len, SKB.wire_len + 4) || within(off, SKB.hwtstamp, SKB.hwtstamp + 8)) return CtxField.Invalid;
      if (write && !within(off, SKB.cb0, SKB.cb4end)) return CtxField.Invalid;
      return skbCommon(off, size, write);
    }
    case 'sched_cls':
    case 'sched_act': {
      if (write && !(within(off, SKB.mark, SKB.mark + 4) || within(off, SKB.tc_index, SKB.tc_index + 4) ||
        within(off, SKB.priority, SKB.priority + 4) || within(off, SKB.tc_classid, SKB.tc_classid + 4) ||
        within(off, SKB.cb0, SKB.cb4end) || within(off, SKB.tstamp, SKB.tstamp + 8) ||
        within(off, SKB.queue_mapping, SKB.queue_mapping + 4))) return CtxField.Invalid;
      if (within(off, SKB.family, SKB.localPortEnd)) return CtxField.Invalid;
      return skbPtrField(off, skbCommon(off, size, write));
    }
    case 'cgroup_skb': {
      if (within(off, SKB.tc_classid, SKB.tc_classid + 4) || within(off, SKB.data_meta, SKB.data_meta + 4) ||
        within(off, SKB.wire_len, SKB.wire_len + 4)) return CtxField.Invalid;
      if (write && !(within(off, SKB.mark, SKB.mark + 4) || within(off, SKB.priority, SKB.priority + 4) ||
        within(off, SKB.cb0, SKB.cb4end) || within(off, SKB.tstamp, SKB.tstamp + 8))) return CtxField.Invalid;
      const r = skbCommon(off, size, write);
      if (r !== CtxField.Scalar) return r;
      if (off === SKB.data) return CtxField.Pkt;
      if (off === SKB.data_end) return CtxField.PktEnd;
      return r;
    }
    case 'tracepoint':
      if (write || off < 0 || off >= 8192 || off % size !== 0) return CtxField.Invalid;
      return CtxField.Scalar;
    case 'kprobe':
      if (write || off < 0 || off >= 168 || off % size !== 0 || off + size > 168) return CtxField.Invalid;
      return CtxField.Scalar;
    case 'perf_event':
      if (write || off < 0 || off % size !== 0) return CtxField.Invalid;
      // struct bpf_perf_event_data: regs (168), sample_period (8), addr (8)
      if (off + size > 184) return CtxField.Invalid;
      if (off >= 168 && size !== 8) return CtxField.Invalid;
      return CtxField.Scalar;
    case 'raw_tracepoint':
    case 'raw_tracepoint_writable':
      if (write || off < 0 || off >= 96 || off % size !== 0 || size !== 8) return CtxField.Invalid;
      return CtxField.Scalar;
    default:
      return CtxField.Invalid;
  }
}

/** Allowed return values [min, max] per program type, or undefined when any value is fine. */
export function returnRange(type: ProgType, attach: AttachType | undefined): [number, number] | undefined {
  switch (type) {
    case 'cgroup_skb':
      return attach === 'cgroup_inet_egress' ? [0, 3] : [0, 1];
    case 'cgroup_sock':
    case 'sock_ops':
    case 'cgroup_device':
    case 'cgroup_sysctl':
    case 'cgroup_sockopt':
    case 'sk_lookup':
    case 'netfilter':
      return [0, 1];
    default:
      return undefined;
  }
}
