/**
 * SEC() name → program type, expected attach type, attach target and load flags, following
 * libbpf's section conventions. A definition ending in `+` matches the bare name or the name
 * followed by `/target`; any other definition matches exactly. First match wins, so more
 * specific names come first. Unknown names give type `unspec`.
 */
import type { AttachType, ProgType } from '../spec/index.js';

export const BPF_F_SLEEPABLE = 1 << 4;
export const BPF_F_XDP_HAS_FRAGS = 1 << 5;

const enum Sec { None = 0, Sleepable = 1, XdpFrags = 2 }

interface SecDef {
  name: string;
  prefix: boolean;
  type: ProgType;
  attach?: AttachType;
  opts: number;
}

function d(spec: string, type: ProgType, attach?: AttachType, opts: number = Sec.None): SecDef {
  const prefix = spec.endsWith('+');
  return { name: prefix ? spec.slice(0, -1) : spec, prefix, type, attach, opts };
}

const S = Sec.Sleepable;
const DEFS: SecDef[] = [
  d('socket', 'socket_filter'),
  d('sk_reuseport/migrate', 'sk_reuseport', 'sk_reuseport_select_or_migrate'),
  d('sk_reuseport', 'sk_reuseport', 'sk_reuseport_select'),
  d('kprobe+', 'kprobe'),
  d('uprobe+', 'kprobe'),
  d('uprobe.s+', 'kprobe', undefined, S),
  d('kretprobe+', 'kprobe'),
  d('uretprobe+', 'kprobe'),
  d('uretprobe.s+', 'kprobe', undefined, S),
  d('kprobe.multi+', 'kprobe', 'trace_kprobe_multi'),
  d('kretprobe.multi+', 'kprobe', 'trace_kprobe_multi'),
  d('kprobe.session+', 'kprobe', 'trace_kprobe_session'),
  d('uprobe.multi+', 'kprobe', 'trace_uprobe_multi'),
  d('uretprobe.multi+', 'kprobe', 'trace_uprobe_multi'),
  d('uprobe.multi.s+', 'kprobe', 'trace_uprobe_multi', S),
  d('uretprobe.multi.s+', 'kprobe', 'trace_uprobe_multi', S),
  d('uprobe.session+', 'kprobe', 'trace_uprobe_session'),
  d('uprobe.session.s+', 'kprobe', 'trace_uprobe_session', S),
  d('ksyscall+', 'kprobe'),
  d('kretsyscall+', 'kprobe'),
  d('usdt+', 'kprobe'),
  d('usdt.s+', 'kprobe', undefined, S),
  d('tc/ingress', 'sched_cls', 'tcx_ingress'),
  d('tc/egress', 'sched_cls', 'tcx_egress'),
  d('tcx/ingress', 'sched_cls', 'tcx_ingress'),
  d('tcx/egress', 'sched_cls', 'tcx_egress'),
  d('netkit/primary', 'sched_cls', 'netkit_primary'),
  d('netkit/peer', 'sched_cls', 'netkit_peer'),
  d('tc', 'sched_cls'),
  d('classifier', 'sched_cls'),
  d('action', 'sched_act'),
  d('tracepoint+', 'tracepoint'),
  d('tp+', 'tracepoint'),
  d('raw_tracepoint+', 'raw_tracepoint'),
  d('raw_tp+', 'raw_tracepoint'),
  d('raw_tracepoint.w+', 'raw_tracepoint_writable'),
  d('raw_tp.w+', 'raw_tracepoint_writable'),
  d('tp_btf+', 'tracing', 'trace_raw_tp'),
  d('fentry+', 'tracing', 'trace_fentry'),
  d('fmod_ret+', 'tracing', 'modify_return'),
  d('fexit+', 'tracing', 'trace_fexit'),
  d('fentry.s+', 'tracing', 'trace_fentry', S),
  d('fmod_ret.s+', 'tracing', 'modify_return', S),
  d('fexit.s+', 'tracing', 'trace_fexit', S),
  d('freplace+', 'ext'),
  d('lsm+', 'lsm', 'lsm_mac'),
  d('lsm.s+', 'lsm', 'lsm_mac', S),
  d('lsm_cgroup+', 'lsm', 'lsm_cgroup'),
  d('iter+', 'tracing', 'trace_iter'),
  d('iter.s+', 'tracing', 'trace_iter', S),
  d('syscall', 'syscall', undefined, S),
  d('xdp.frags/devmap', 'xdp', 'xdp_devmap', Sec.XdpFrags),
  d('xdp/devmap', 'xdp', 'xdp_devmap'),
  d('xdp.frags/cpumap', 'xdp', 'xdp_cpumap', Sec.XdpFrags),
  d('xdp/cpumap', 'xdp', 'xdp_cpumap'),
  d('xdp.frags', 'xdp', 'xdp', Sec.XdpFrags),
  d('xdp', 'xdp', 'xdp'),
  d('perf_event', 'perf_event'),
  d('lwt_in', 'lwt_in'),
  d('lwt_out', 'lwt_out'),
  d('lwt_xmit', 'lwt_xmit'),
  d('lwt_seg6local', 'lwt_seg6local'),
  d('sockops', 'sock_ops', 'cgroup_sock_ops'),
  d('sk_skb/stream_parser', 'sk_skb', 'sk_skb_stream_parser'),
  d('sk_skb/stream_verdict', 'sk_skb', 'sk_skb_stream_verdict'),
  d('sk_skb/verdict', 'sk_skb', 'sk_skb_verdict'),
  d('sk_skb', 'sk_skb'),
  d('sk_msg', 'sk_msg', 'sk_msg_verdict'),
  d('lirc_mode2', 'lirc_mode2', 'lirc_mode2'),
  d('flow_dissector', 'flow_dissector', 'flow_dissector'),
  d('cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress'),
  d('cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress'),
  d('cgroup/skb', 'cgroup_skb'),
  d('cgroup/sock_create', 'cgroup_sock', 'cgroup_inet_sock_create'),
  d('cgroup/sock_release', 'cgroup_sock', 'cgroup_inet_sock_release'),
  d('cgroup/sock', 'cgroup_sock', 'cgroup_inet_sock_create'),
  d('cgroup/post_bind4', 'cgroup_sock', 'cgroup_inet4_post_bind'),
  d('cgroup/post_bind6', 'cgroup_sock', 'cgroup_inet6_post_bind'),
  d('cgroup/bind4', 'cgroup_sock_addr', 'cgroup_inet4_bind'),
  d('cgroup/bind6', 'cgroup_sock_addr', 'cgroup_inet6_bind'),
  d('cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect'),
  d('cgroup/connect6', 'cgroup_sock_addr', 'cgroup_inet6_connect'),
  d('cgroup/connect_unix', 'cgroup_sock_addr', 'cgroup_unix_connect'),
  d('cgroup/sendmsg4', 'cgroup_sock_addr', 'cgroup_udp4_sendmsg'),
  d('cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup_udp6_sendmsg'),
  d('cgroup/sendmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_sendmsg'),
  d('cgroup/recvmsg4', 'cgroup_sock_addr', 'cgroup_udp4_recvmsg'),
  d('cgroup/recvmsg6', 'cgroup_sock_addr', 'cgroup_udp6_recvmsg'),
  d('cgroup/recvmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_recvmsg'),
  d('cgroup/getpeername4', 'cgroup_sock_addr', 'cgroup_inet4_getpeername'),
  d('cgroup/getpeername6', 'cgroup_sock_addr', 'cgroup_inet6_getpeername'),
  d('cgroup/getpeername_unix', 'cgroup_sock_addr', 'cgroup_unix_getpeername'),
  d('cgroup/getsockname4', 'cgroup_sock_addr', 'cgroup_inet4_getsockname'),
  d('cgroup/getsockname6', 'cgroup_sock_addr', 'cgroup_inet6_getsockname'),
  d('cgroup/getsockname_unix', 'cgroup_sock_addr', 'cgroup_unix_getsockname'),
  d('cgroup/sysctl', 'cgroup_sysctl', 'cgroup_sysctl'),
  d('cgroup/getsockopt', 'cgroup_sockopt', 'cgroup_getsockopt'),
  d('cgroup/setsockopt', 'cgroup_sockopt', 'cgroup_setsockopt'),
  d('cgroup/dev', 'cgroup_device', 'cgroup_device'),
  d('struct_ops+', 'struct_ops'),
  d('struct_ops.s+', 'struct_ops', undefined, S),
  d('sk_lookup', 'sk_lookup', 'sk_lookup'),
  d('netfilter', 'netfilter', 'netfilter'),
];

export interface SectionProgramInfo {
  type: ProgType;
  attachType?: AttachType;
  attachTo?: string;
  flags: number;
  sleepable: boolean;
}

/** Program type etc. for a SEC() name (type `unspec` when libbpf would not recognise it). */
export function programInfoForSection(section: string): SectionProgramInfo {
  for (const def of DEFS) {
    let attachTo: string | undefined;
    if (def.prefix) {
      if (!section.startsWith(def.name)) continue;
      const rest = section.length - def.name.length;
      if (rest !== 0) {
        if (section.charCodeAt(def.name.length) !== 0x2f /* '/' */) continue;
        attachTo = section.slice(def.name.length + 1);
      }
    } else if (section !== def.name) continue;
    const sleepable = (def.opts & Sec.Sleepable) !== 0;
    let flags = 0;
    if (sleepable) flags |= BPF_F_SLEEPABLE;
    if (def.opts & Sec.XdpFrags) flags |= BPF_F_XDP_HAS_FRAGS;
    const info: SectionProgramInfo = { type: def.type, flags, sleepable };
    if (def.attach) info.attachType = def.attach;
    if (attachTo) info.attachTo = attachTo;
    return info;
  }
  return { type: 'unspec', flags: 0, sleepable: false };
}
