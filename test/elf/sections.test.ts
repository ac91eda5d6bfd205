/**
 * SEC() names → program type / expected attach type / attach target / flags, following libbpf's
 * conventions, checked both on the table directly and on a compiled object with one program
 * per convention.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, parseObject, programInfoForSection } from '../../lib/elf/index.js';
import { fixture } from './util.js';

// [section, type, attachType, attachTo, flags]
const TABLE: [string, string, string | undefined, string | undefined, number][] = [
  ['xdp', 'xdp', 'xdp', undefined, 0],
  ['xdp.frags', 'xdp', 'xdp', undefined, BPF_F_XDP_HAS_FRAGS],
  ['xdp/devmap', 'xdp', 'xdp_devmap', undefined, 0],
  ['xdp.frags/cpumap', 'xdp', 'xdp_cpumap', undefined, BPF_F_XDP_HAS_FRAGS],
  ['tc', 'sched_cls', undefined, undefined, 0],
  ['classifier', 'sched_cls', undefined, undefined, 0],
  ['tcx/ingress', 'sched_cls', 'tcx_ingress', undefined, 0],
  ['tcx/egress', 'sched_cls', 'tcx_egress', undefined, 0],
  ['action', 'sched_act', undefined, undefined, 0],
  ['socket', 'socket_filter', undefined, undefined, 0],
  ['tracepoint/syscalls/sys_enter_getpid', 'tracepoint', undefined, 'syscalls/sys_enter_getpid', 0],
  ['tp/sched/sched_switch', 'tracepoint', undefined, 'sched/sched_switch', 0],
  ['raw_tp/sched_switch', 'raw_tracepoint', undefined, 'sched_switch', 0],
  ['raw_tracepoint.w/foo', 'raw_tracepoint_writable', undefined, 'foo', 0],
  ['tp_btf/sched_wakeup', 'tracing', 'trace_raw_tp', 'sched_wakeup', 0],
  ['kprobe/do_sys_open', 'kprobe', undefined, 'do_sys_open', 0],
  ['kretprobe/do_sys_open', 'kprobe', undefined, 'do_sys_open', 0],
  ['uprobe//bin/true:main', 'kprobe', undefined, '/bin/true:main', 0],
  ['uretprobe.s/libc.so.6:malloc', 'kprobe', undefined, 'libc.so.6:malloc', BPF_F_SLEEPABLE],
  ['usdt', 'kprobe', undefined, undefined, 0],
  ['cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress', undefined, 0],
  ['cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress', undefined, 0],
  ['cgroup/skb', 'cgroup_skb', undefined, undefined, 0],
  ['cgroup/sock_create', 'cgroup_sock', 'cgroup_inet_sock_create', undefined, 0],
  ['cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect', undefined, 0],
  ['cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup_udp6_sendmsg', undefined, 0],
  ['cgroup/getsockopt', 'cgroup_sockopt', 'cgroup_getsockopt', undefined, 0],
  ['cgroup/dev', 'cgroup_device', 'cgroup_device', undefined, 0],
  ['cgroup/sysctl', 'cgroup_sysctl', 'cgroup_sysctl', undefined, 0],
  ['sockops', 'sock_ops', 'cgroup_sock_ops', undefined, 0],
  ['sk_skb/stream_parser', 'sk_skb', 'sk_skb_stream_parser', undefined, 0],
  ['sk_skb/stream_verdict', 'sk_skb', 'sk_skb_stream_verdict', undefined, 0],
  ['sk_msg', 'sk_msg', 'sk_msg_verdict', undefined, 0],
  ['perf_event', 'perf_event', undefined, undefined, 0],
  ['fentry/tcp_connect', 'tracing', 'trace_fentry', 'tcp_connect', 0],
  ['fexit/tcp_connect', 'tracing', 'trace_fexit', 'tcp_connect', 0],
  ['fmod_ret/security_x', 'tracing', 'modify_return', 'security_x', 0],
  ['fentry.s/do_nanosleep', 'tracing', 'trace_fentry', 'do_nanosleep', BPF_F_SLEEPABLE],
  ['lsm/file_open', 'lsm', 'lsm_mac', 'file_open', 0],
  ['lsm.s/bprm_check_security', 'lsm', 'lsm_mac', 'bprm_check_security', BPF_F_SLEEPABLE],
  ['iter/task', 'tracing', 'trace_iter', 'task', 0],
  ['struct_ops/tcp_init', 'struct_ops', undefined, 'tcp_init', 0],
  ['sk_lookup', 'sk_lookup', 'sk_lookup', undefined, 0],
  ['flow_dissector', 'flow_dissector', 'flow_dissector', undefined, 0],
  ['lwt_xmit', 'lwt_xmit', undefined, undefined, 0],
  ['syscall', 'syscall', undefined, undefined, BPF_F_SLEEPABLE],
  ['netfilter', 'netfilter', 'netfilter', undefined, 0],
  ['sk_reuseport', 'sk_reuseport', 'sk_reuseport_select', undefined, 0],
  ['my_custom_section', 'unspec', undefined, undefined, 0],
  // libbpf 1.x requires the exact name or name + '/': these are not XDP / kprobe programs.
  ['xdp_not_a_prefix', 'unspec', undefined, undefined, 0],
  ['xdp/foo', 'unspec', undefined, undefined, 0],
  ['kprobex/foo', 'unspec', undefined, undefined, 0],
];

describe('SEC() conventions', () => {
  it.each(TABLE)('%s → %s', (sec, type, attachType, attachTo, flags) => {
    const info = programInfoForSection(sec);
    expect(info.type).toBe(type);
    expect(info.attachType).toBe(attachType);
    expect(info.attachTo).toBe(attachTo);
    expect(info.flags).toBe(flags);
    expect(info.sleepable).toBe((flags & BPF_F_SLEEPABLE) !== 0);
  });

  it('a compiled object with one program per convention gets the same answers', async () => {
    const path = await fixture('sections');
    const spec = parseObject(new Uint8Array(readFileSync(path)), path);
    const rows = new Map(TABLE.map((r) => [r[0], r]));
    let n = 0;
    for (const p of spec.programs) {
      const row = rows.get(p.section);
      expect(row, `section ${p.section} is in the table`).toBeDefined();
      expect([p.type, p.attachType, p.attachTo, p.flags, p.sleepable]).toEqual([row![1], row![2], row![3], row![4], (row![4] & BPF_F_SLEEPABLE) !== 0]);
      n++;
    }
    expect(n).toBe(41);
  });
});
