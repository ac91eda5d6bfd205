/**
 * Kernel helper function ids (enum bpf_func_id), the `imm` of a `call` instruction with src_reg 0.
 * Names are the kernel's without the `bpf_` prefix. Generated from the running kernel's BTF
 * (`enum bpf_func_id`, Linux 6.18); index = helper id.
 */
export const HELPER_NAMES: readonly string[] = [
  /*   0 */ 'unspec',
  /*   1 */ 'map_lookup_elem',
  /*   2 */ 'map_update_elem',
  /*   3 */ 'map_delete_elem',
  /*   4 */ 'probe_read',
  /*   5 */ 'ktime_get_ns',
  /*   6 */ 'trace_printk',
  /*   7 */ 'get_prandom_u32',
  /*   8 */ 'get_smp_processor_id',
  /*   9 */ 'skb_store_bytes',
  /*  10 */ 'l3_csum_replace',
  /*  11 */ 'l4_csum_replace',
  /*  12 */ 'tail_call',
  /*  13 */ 'clone_redirect',
  /*  14 */ 'get_current_pid_tgid',
  /*  15 */ 'get_current_uid_gid',
  /*  16 */ 'get_current_comm',
  /*  17 */ 'get_cgroup_classid',
  /*  18 */ 'skb_vlan_push',
  /*  19 */ 'skb_vlan_pop',
  /*  20 */ 'skb_get_tunnel_key',
  /*  21 */ 'skb_set_tunnel_key',
  /*  22 */ 'perf_event_read',
  /*  23 */ 'redirect',
  /*  24 */ 'get_route_realm',
  /*  25 */ 'perf_event_output',
  /*  26 */ 'skb_load_bytes',
  /*  27 */ 'get_stackid',
  /*  28 */ 'csum_diff',
  /*  29 */ 'skb_get_tunnel_opt',
  /*  30 */ 'skb_set_tunnel_opt',
  /*  31 */ 'skb_change_proto',
  /*  32 */ 'skb_change_type',
  /*  33 */ 'skb_under_cgroup',
  /*  34 */ 'get_hash_recalc',
  /*  35 */ 'get_current_task',
  /*  36 */ 'probe_write_user',
  /*  37 */ 'current_task_under_cgroup',
  /*  38 */ 'skb_change_tail',
  /*  39 */ 'skb_pull_data',
  /*  40 */ 'csum_update',
  /*  41 */ 'set_hash_invalid',
  /*  42 */ 'get_numa_node_id',
  /*  43 */ 'skb_change_head',
  /*  44 */ 'xdp_adjust_head',
  /*  45 */ 'probe_read_str',
  /*  46 */ 'get_socket_cookie',
  /*  47 */ 'get_socket_uid',
  /*  48 */ 'set_hash',
  /*  49 */ 'setsockopt',
  /*  50 */ 'skb_adjust_room',
  /*  51 */ 'redirect_map',
  /*  52 */ 'sk_redirect_map',
  /*  53 */ 'sock_map_update',
  /*  54 */ 'xdp_adjust_meta',
  /*  55 */ 'perf_event_read_value',
  /*  56 */ 'perf_prog_read_value',
  /*  57 */ 'getsockopt',
  /*  58 */ 'override_return',
  /*  59 */ 'sock_ops_cb_flags_set',
  /*  60 */ 'msg_redirect_map',
  /*  61 */ 'msg_apply_bytes',
  /*  62 */ 'msg_cork_bytes',
  /*  63 */ 'msg_pull_data',
  /*  64 */ 'bind',
  /*  65 */ 'xdp_adjust_tail',
  /*  66 */ 'skb_get_xfrm_state',
  /*  67 */ 'get_stack',
  /*  68 */ 'skb_load_bytes_relative',
  /*  69 */ 'fib_lookup',
  /*  70 */ 'sock_hash_update',
  /*  71 */ 'msg_redirect_hash',
  /*  72 */ 'sk_redirect_hash',
  /*  73 */ 'lwt_push_encap',
  /*  74 */ 'lwt_seg6_store_bytes',
  /*  75 */ 'lwt_seg6_adjust_srh',
  /*  76 */ 'lwt_seg6_action',
  /*  77 */ 'rc_repeat',
  /*  78 */ 'rc_keydown',
  /*  79 */ 'skb_cgroup_id',
  /*  80 */ 'get_current_cgroup_id',
  /*  81 */ 'get_local_storage',
  /*  82 */ 'sk_select_reuseport',
  /*  83 */ 'skb_ancestor_cgroup_id',
  /*  84 */ 'sk_lookup_tcp',
  /*  85 */ 'sk_lookup_udp',
  /*  86 */ 'sk_release',
  /*  87 */ 'map_push_elem',
  /*  88 */ 'map_pop_elem',
  /*  89 */ 'map_peek_elem',
  /*  90 */ 'msg_push_data',
  /*  91 */ 'msg_pop_data',
  /*  92 */ 'rc_pointer_rel',
  /*  93 */ 'spin_lock',
  /*  94 */ 'spin_unlock',
  /*  95 */ 'sk_fullsock',
  /*  96 */ 'tcp_sock',
  /*  97 */ 'skb_ecn_set_ce',
  /*  98 */ 'get_listener_sock',
  /*  99 */ 'skc_lookup_tcp',
  /* 100 */ 'tcp_check_syncookie',
  /* 101 */ 'sysctl_get_name',
  /* 102 */ 'sysctl_get_current_value',
  /* 103 */ 'sysctl_get_new_value',
  /* 104 */ 'sysctl_set_new_value',
  /* 105 */ 'strtol',
  /* 106 */ 'strtoul',
  /* 107 */ 'sk_storage_get',
  /* 108 */ 'sk_storage_delete',
  /* 109 */ 'send_signal',
  /* 110 */ 'tcp_gen_syncookie',
  /* 111 */ 'skb_output',
  /* 112 */ 'probe_read_user',
  /* 113 */ 'probe_read_kernel',
  /* 114 */ 'probe_read_user_str',
  /* 115 */ 'probe_read_kernel_str',
  /* 116 */ 'tcp_send_ack',
  /* 117 */ 'send_signal_thread',
  /* 118 */ 'jiffies64',
  /* 119 */ 'read_branch_records',
  /* 120 */ 'get_ns_current_pid_tgid',
  /* 121 */ 'xdp_output',
  /* 122 */ 'get_netns_cookie',
  /* 123 */ 'get_current_ancestor_cgroup_id',
  /* 124 */ 'sk_assign',
  /* 125 */ 'ktime_get_boot_ns',
  /* 126 */ 'seq_printf',
  /* 127 */ 'seq_write',
  /* 128 */ 'sk_cgroup_id',
  /* 129 */ 'sk_ancestor_cgroup_id',
  /* 130 */ 'ringbuf_output',
  /* 131 */ 'ringbuf_reserve',
  /* 132 */ 'ringbuf_submit',
  /* 133 */ 'ringbuf_discard',
  /* 134 */ 'ringbuf_query',
  /* 135 */ 'csum_level',
  /* 136 */ 'skc_to_tcp6_sock',
  /* 137 */ 'skc_to_tcp_sock',
  /* 138 */ 'skc_to_tcp_timewait_sock',
  /* 139 */ 'skc_to_tcp_request_sock',
  /* 140 */ 'skc_to_udp6_sock',
  /* 141 */ 'get_task_stack',
  /* 142 */ 'load_hdr_opt',
  /* 143 */ 'store_hdr_opt',
  /* 144 */ 'reserve_hdr_opt',
  /* 145 */ 'inode_storage_get',
  /* 146 */ 'inode_storage_delete',
  /* 147 */ 'd_path',
  /* 148 */ 'copy_from_user',
  /* 149 */ 'snprintf_btf',
  /* 150 */ 'seq_printf_btf',
  /* 151 */ 'skb_cgroup_classid',
  /* 152 */ 'redirect_neigh',
  /* 153 */ 'per_cpu_ptr',
  /* 154 */ 'this_cpu_ptr',
  /* 155 */ 'redirect_peer',
  /* 156 */ 'task_storage_get',
  /* 157 */ 'task_storage_delete',
  /* 158 */ 'get_current_task_btf',
  /* 159 */ 'bprm_opts_set',
  /* 160 */ 'ktime_get_coarse_ns',
  /* 161 */ 'ima_inode_hash',
  /* 162 */ 'sock_from_file',
  /* 163 */ 'check_mtu',
  /* 164 */ 'for_each_map_elem',
  /* 165 */ 'snprintf',
  /* 166 */ 'sys_bpf',
  /* 167 */ 'btf_find_by_name_kind',
  /* 168 */ 'sys_close',
  /* 169 */ 'timer_init',
  /* 170 */ 'timer_set_callback',
  /* 171 */ 'timer_start',
  /* 172 */ 'timer_cancel',
  /* 173 */ 'get_func_ip',
  /* 174 */ 'get_attach_cookie',
  /* 175 */ 'task_pt_regs',
  /* 176 */ 'get_branch_snapshot',
  /* 177 */ 'trace_vprintk',
  /* 178 */ 'skc_to_unix_sock',
  /* 179 */ 'kallsyms_lookup_name',
  /* 180 */ 'find_vma',
  /* 181 */ 'loop',
  /* 182 */ 'strncmp',
  /* 183 */ 'get_func_arg',
  /* 184 */ 'get_func_ret',
  /* 185 */ 'get_func_arg_cnt',
  /* 186 */ 'get_retval',
  /* 187 */ 'set_retval',
  /* 188 */ 'xdp_get_buff_len',
  /* 189 */ 'xdp_load_bytes',
  /* 190 */ 'xdp_store_bytes',
  /* 191 */ 'copy_from_user_task',
  /* 192 */ 'skb_set_tstamp',
  /* 193 */ 'ima_file_hash',
  /* 194 */ 'kptr_xchg',
  /* 195 */ 'map_lookup_percpu_elem',
  /* 196 */ 'skc_to_mptcp_sock',
  /* 197 */ 'dynptr_from_mem',
  /* 198 */ 'ringbuf_reserve_dynptr',
  /* 199 */ 'ringbuf_submit_dynptr',
  /* 200 */ 'ringbuf_discard_dynptr',
  /* 201 */ 'dynptr_read',
  /* 202 */ 'dynptr_write',
  /* 203 */ 'dynptr_data',
  /* 204 */ 'tcp_raw_gen_syncookie_ipv4',
  /* 205 */ 'tcp_raw_gen_syncookie_ipv6',
  /* 206 */ 'tcp_raw_check_syncookie_ipv4',
  /* 207 */ 'tcp_raw_check_syncookie_ipv6',
  /* 208 */ 'ktime_get_tai_ns',
  /* 209 */ 'user_ringbuf_drain',
  /* 210 */ 'cgrp_storage_get',
  /* 211 */ 'cgrp_storage_delete',
];

/** One past the highest helper id known here. */
export const HELPER_MAX_ID = HELPER_NAMES.length;

const BY_NAME = new Map<string, number>();
for (let i = 0; i < HELPER_NAMES.length; i++) BY_NAME.set(HELPER_NAMES[i]!, i);

/** Helper name for an id (`1` → `map_lookup_elem`), or undefined if unknown. */
export function helperName(id: number): string | undefined {
  return id >= 0 && id < HELPER_NAMES.length ? HELPER_NAMES[id] : undefined;
}

/** Helper id for a name, with or without the `bpf_` prefix, or undefined if unknown. */
export function helperId(name: string): number | undefined {
  const id = BY_NAME.get(name);
  if (id !== undefined) return id;
  return name.startsWith('bpf_') ? BY_NAME.get(name.slice(4)) : undefined;
}

/**
 * Helper ids by name: `Helper.map_lookup_elem === 1`. A frozen plain object so that it works from
 * any module without enum inlining.
 */
export const Helper: Readonly<Record<string, number>> & {
  readonly unspec: 0;
  readonly map_lookup_elem: 1;
  readonly map_update_elem: 2;
  readonly map_delete_elem: 3;
  readonly probe_read: 4;
  readonly ktime_get_ns: 5;
  readonly trace_printk: 6;
  readonly get_prandom_u32: 7;
  readonly get_smp_processor_id: 8;
  readonly skb_store_bytes: 9;
  readonly l3_csum_replace: 10;
  readonly l4_csum_replace: 11;
  readonly tail_call: 12;
  readonly clone_redirect: 13;
  readonly get_current_pid_tgid: 14;
  readonly get_current_uid_gid: 15;
  readonly get_current_comm: 16;
  readonly get_cgroup_classid: 17;
  readonly skb_vlan_push: 18;
  readonly skb_vlan_pop: 19;
  readonly skb_get_tunnel_key: 20;
  readonly skb_set_tunnel_key: 21;
  readonly perf_event_read: 22;
  readonly redirect: 23;
  readonly get_route_realm: 24;
  readonly perf_event_output: 25;
  readonly skb_load_bytes: 26;
  readonly get_stackid: 27;
  readonly csum_diff: 28;
  readonly skb_get_tunnel_opt: 29;
  readonly skb_set_tunnel_opt: 30;
  readonly skb_change_proto: 31;
  readonly skb_change_type: 32;
  readonly skb_under_cgroup: 33;
  readonly get_hash_recalc: 34;
  readonly get_current_task: 35;
  readonly probe_write_user: 36;
  readonly current_task_under_cgroup: 37;
  readonly skb_change_tail: 38;
  readonly skb_pull_data: 39;
  readonly csum_update: 40;
  readonly set_hash_invalid: 41;
  readonly get_numa_node_id: 42;
  readonly skb_change_head: 43;
  readonly xdp_adjust_head: 44;
  readonly probe_read_str: 45;
  readonly get_socket_cookie: 46;
  readonly get_socket_uid: 47;
  readonly set_hash: 48;
  readonly setsockopt: 49;
  readonly skb_adjust_room: 50;
  readonly redirect_map: 51;
  readonly sk_redirect_map: 52;
  readonly sock_map_update: 53;
  readonly xdp_adjust_meta: 54;
  readonly perf_event_read_value: 55;
  readonly perf_prog_read_value: 56;
  readonly getsockopt: 57;
  readonly override_return: 58;
  readonly sock_ops_cb_flags_set: 59;
  readonly msg_redirect_map: 60;
  readonly msg_apply_bytes: 61;
  readonly msg_cork_bytes: 62;
  readonly msg_pull_data: 63;
  readonly bind: 64;
  readonly xdp_adjust_tail: 65;
  readonly skb_get_xfrm_state: 66;
  readonly get_stack: 67;
  readonly skb_load_bytes_relative: 68;
  readonly fib_lookup: 69;
  readonly sock_hash_update: 70;
  readonly msg_redirect_hash: 71;
  readonly sk_redirect_hash: 72;
  readonly lwt_push_encap: 73;
  readonly lwt_seg6_store_bytes: 74;
  readonly lwt_seg6_adjust_srh: 75;
  readonly lwt_seg6_action: 76;
  readonly rc_repeat: 77;
  readonly rc_keydown: 78;
  readonly skb_cgroup_id: 79;
  readonly get_current_cgroup_id: 80;
  readonly get_local_storage: 81;
  readonly sk_select_reuseport: 82;
  readonly skb_ancestor_cgroup_id: 83;
  readonly sk_lookup_tcp: 84;
  readonly sk_lookup_udp: 85;
  readonly sk_release: 86;
  readonly map_push_elem: 87;
  readonly map_pop_elem: 88;
  readonly map_peek_elem: 89;
  readonly msg_push_data: 90;
  readonly msg_pop_data: 91;
  readonly rc_pointer_rel: 92;
  readonly spin_lock: 93;
  readonly spin_unlock: 94;
  readonly sk_fullsock: 95;
  readonly tcp_sock: 96;
  readonly skb_ecn_set_ce: 97;
  readonly get_listener_sock: 98;
  readonly skc_lookup_tcp: 99;
  readonly tcp_check_syncookie: 100;
  readonly sysctl_get_name: 101;
  readonly sysctl_get_current_value: 102;
  readonly sysctl_get_new_value: 103;
  readonly sysctl_set_new_value: 104;
  readonly strtol: 105;
  readonly strtoul: 106;
  readonly sk_storage_get: 107;
  readonly sk_storage_delete: 108;
  readonly send_signal: 109;
  readonly tcp_gen_syncookie: 110;
  readonly skb_output: 111;
  readonly probe_read_user: 112;
  readonly probe_read_kernel: 113;
  readonly probe_read_user_str: 114;
  readonly probe_read_kernel_str: 115;
  readonly tcp_send_ack: 116;
  readonly send_signal_thread: 117;
  readonly jiffies64: 118;
  readonly read_branch_records: 119;
  readonly get_ns_current_pid_tgid: 120;
  readonly xdp_output: 121;
  readonly get_netns_cookie: 122;
  readonly get_current_ancestor_cgroup_id: 123;
  readonly sk_assign: 124;
  readonly ktime_get_boot_ns: 125;
  readonly seq_printf: 126;
  readonly seq_write: 127;
  readonly sk_cgroup_id: 128;
  readonly sk_ancestor_cgroup_id: 129;
  readonly ringbuf_output: 130;
  readonly ringbuf_reserve: 131;
  readonly ringbuf_submit: 132;
  readonly ringbuf_discard: 133;
  readonly ringbuf_query: 134;
  readonly csum_level: 135;
  readonly skc_to_tcp6_sock: 136;
  readonly skc_to_tcp_sock: 137;
  readonly skc_to_tcp_timewait_sock: 138;
  readonly skc_to_tcp_request_sock: 139;
  readonly skc_to_udp6_sock: 140;
  readonly get_task_stack: 141;
  readonly load_hdr_opt: 142;
  readonly store_hdr_opt: 143;
  readonly reserve_hdr_opt: 144;
  readonly inode_storage_get: 145;
  readonly inode_storage_delete: 146;
  readonly d_path: 147;
  readonly copy_from_user: 148;
  readonly snprintf_btf: 149;
  readonly seq_printf_btf: 150;
  readonly skb_cgroup_classid: 151;
  readonly redirect_neigh: 152;
  readonly per_cpu_ptr: 153;
  readonly this_cpu_ptr: 154;
  readonly redirect_peer: 155;
  readonly task_storage_get: 156;
  readonly task_storage_delete: 157;
  readonly get_current_task_btf: 158;
  readonly bprm_opts_set: 159;
  readonly ktime_get_coarse_ns: 160;
  readonly ima_inode_hash: 161;
  readonly sock_from_file: 162;
  readonly check_mtu: 163;
  readonly for_each_map_elem: 164;
  readonly snprintf: 165;
  readonly sys_bpf: 166;
  readonly btf_find_by_name_kind: 167;
  readonly sys_close: 168;
  readonly timer_init: 169;
  readonly timer_set_callback: 170;
  readonly timer_start: 171;
  readonly timer_cancel: 172;
  readonly get_func_ip: 173;
  readonly get_attach_cookie: 174;
  readonly task_pt_regs: 175;
  readonly get_branch_snapshot: 176;
  readonly trace_vprintk: 177;
  readonly skc_to_unix_sock: 178;
  readonly kallsyms_lookup_name: 179;
  readonly find_vma: 180;
  readonly loop: 181;
  readonly strncmp: 182;
  readonly get_func_arg: 183;
  readonly get_func_ret: 184;
  readonly get_func_arg_cnt: 185;
  readonly get_retval: 186;
  readonly set_retval: 187;
  readonly xdp_get_buff_len: 188;
  readonly xdp_load_bytes: 189;
  readonly xdp_store_bytes: 190;
  readonly copy_from_user_task: 191;
  readonly skb_set_tstamp: 192;
  readonly ima_file_hash: 193;
  readonly kptr_xchg: 194;
  readonly map_lookup_percpu_elem: 195;
  readonly skc_to_mptcp_sock: 196;
  readonly dynptr_from_mem: 197;
  readonly ringbuf_reserve_dynptr: 198;
  readonly ringbuf_submit_dynptr: 199;
  readonly ringbuf_discard_dynptr: 200;
  readonly dynptr_read: 201;
  readonly dynptr_write: 202;
  readonly dynptr_data: 203;
  readonly tcp_raw_gen_syncookie_ipv4: 204;
  readonly tcp_raw_gen_syncookie_ipv6: 205;
  readonly tcp_raw_check_syncookie_ipv4: 206;
  readonly tcp_raw_check_syncookie_ipv6: 207;
  readonly ktime_get_tai_ns: 208;
  readonly user_ringbuf_drain: 209;
  readonly cgrp_storage_get: 210;
  readonly cgrp_storage_delete: 211;
} = Object.freeze(Object.fromEntries(HELPER_NAMES.map((n, i) => [n, i]))) as never;
