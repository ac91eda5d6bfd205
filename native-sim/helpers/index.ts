/**
 * The emulator's helper table, indexed by kernel helper id (lib/isa/helpers.ts). Helpers not in
 * the table are rejected when a program is compiled, with an error naming the helper
 * (native-sim/engine.ts `analyze`). bpf_tail_call (12) is executed by the engines through
 * `vm.tailCallHook`, which the backend installs.
 */
import { Helper } from '../../lib/isa/helpers.js';
import type { HelperFn, HelperTable } from '../engine.js';
import { fibLookup } from './fib.js';
import { loop, spinLock, spinUnlock } from './loop.js';
import {
  forEachMapElem, mapDeleteElem, mapLookupElem, mapLookupPercpuElem, mapPeekElem, mapPopElem, mapPushElem, mapUpdateElem,
} from './maps.js';
import { ctxOutput, perfEventOutput, ringbufDiscard, ringbufOutput, ringbufQuery, ringbufReserve, ringbufSubmit } from './ringbuf.js';
import {
  csumDiff, csumUpdate, getHashRecalc, l3CsumReplace, l4CsumReplace, setHash, setHashInvalid, skbAdjustRoom, skbChangeHead,
  skbChangeTail, skbChangeType, skbLoadBytes, skbLoadBytesRelative, skbPullData, skbStoreBytes,
} from './skb.js';
import {
  getCurrentComm, getCurrentPidTgid, getCurrentUidGid, getNumaNodeId, getPrandomU32, getSmpProcessorId, jiffies64, ktimeGetBootNs,
  ktimeGetCoarseNs, ktimeGetNs, ktimeGetTaiNs, probeReadKernel, probeReadKernelStr, probeReadUser, probeReadUserStr,
} from './task.js';
import { snprintf, tracePrintk, traceVprintk } from './trace.js';
import {
  redirect, redirectMap, xdpAdjustHead, xdpAdjustMeta, xdpAdjustTail, xdpGetBuffLen, xdpLoadBytes, xdpStoreBytes,
} from './xdp.js';

export { SimEnv, envOf } from './env.js';
export type { FibRoute, FibTable, RedirectTarget, SimEnvOptions, SimMemoryBlock } from './env.js';
export { bpfFormat } from './trace.js';
export { csumAdd, csumFold, csumPartial, csumSub } from './skb.js';
export { hexKey } from './fib.js';

const ENTRIES: readonly [number, HelperFn][] = [
  [Helper.map_lookup_elem, mapLookupElem],
  [Helper.map_update_elem, mapUpdateElem],
  [Helper.map_delete_elem, mapDeleteElem],
  [Helper.map_push_elem, mapPushElem],
  [Helper.map_pop_elem, mapPopElem],
  [Helper.map_peek_elem, mapPeekElem],
  [Helper.map_lookup_percpu_elem, mapLookupPercpuElem],
  [Helper.for_each_map_elem, forEachMapElem],
  [Helper.probe_read, probeReadKernel],
  [Helper.probe_read_str, probeReadKernelStr],
  [Helper.probe_read_kernel, probeReadKernel],
  [Helper.probe_read_user, probeReadUser],
  [Helper.probe_read_kernel_str, probeReadKernelStr],
  [Helper.probe_read_user_str, probeReadUserStr],
  [Helper.ktime_get_ns, ktimeGetNs],
  [Helper.ktime_get_boot_ns, ktimeGetBootNs],
  [Helper.ktime_get_coarse_ns, ktimeGetCoarseNs],
  [Helper.ktime_get_tai_ns, ktimeGetTaiNs],
  [Helper.jiffies64, jiffies64],
  [Helper.get_prandom_u32, getPrandomU32],
  [Helper.get_smp_processor_id, getSmpProcessorId],
  [Helper.get_numa_node_id, getNumaNodeId],
  [Helper.get_current_pid_tgid, getCurrentPidTgid],
  [Helper.get_current_uid_gid, getCurrentUidGid],
  [Helper.get_current_comm, getCurrentComm],
  [Helper.trace_printk, tracePrintk],
  [Helper.trace_vprintk, traceVprintk],
  [Helper.snprintf, snprintf],
  [Helper.redirect, redirect],
  [Helper.redirect_map, redirectMap],
  [Helper.xdp_adjust_head, xdpAdjustHead],
  [Helper.xdp_adjust_meta, xdpAdjustMeta],
  [Helper.xdp_adjust_tail, xdpAdjustTail],
  [Helper.xdp_get_buff_len, xdpGetBuffLen],
  [Helper.xdp_load_bytes, xdpLoadBytes],
  [Helper.xdp_store_bytes, xdpStoreBytes],
  [Helper.csum_diff, csumDiff],
  [Helper.csum_update, csumUpdate],
  [Helper.l3_csum_replace, l3CsumReplace],
  [Helper.l4_csum_replace, l4CsumReplace],
  [Helper.skb_load_bytes, skbLoadBytes],
  [Helper.skb_load_bytes_relative, skbLoadBytesRelative],
  [Helper.skb_store_bytes, skbStoreBytes],
  [Helper.skb_adjust_room, skbAdjustRoom],
  [Helper.skb_change_tail, skbChangeTail],
  [Helper.skb_change_head, skbChangeHead],
  [Helper.skb_pull_data, skbPullData],
  [Helper.skb_change_type, skbChangeType],
  [Helper.get_hash_recalc, getHashRecalc],
  [Helper.set_hash_invalid, setHashInvalid],
  [Helper.set_hash, setHash],
  [Helper.ringbuf_output, ringbufOutput],
  [Helper.ringbuf_reserve, ringbufReserve],
  [Helper.ringbuf_submit, ringbufSubmit],
  [Helper.ringbuf_discard, ringbufDiscard],
  [Helper.ringbuf_query, ringbufQuery],
  [Helper.perf_event_output, perfEventOutput],
  [Helper.skb_output, ctxOutput],
  [Helper.xdp_output, ctxOutput],
  [Helper.loop, loop],
  [Helper.spin_lock, spinLock],
  [Helper.spin_unlock, spinUnlock],
  [Helper.fib_lookup, fibLookup],
];

/** A fresh helper table (an array indexed by helper id). */
export function createHelperTable(): HelperTable {
  const t: (HelperFn | undefined)[] = [];
  for (const [id, fn] of ENTRIES) t[id] = fn;
  for (let i = 0; i < t.length; i++) if (t[i] === undefined) t[i] = undefined;
  return t;
}

/** Ids of the helpers the emulator implements (bpf_tail_call included). */
export function implementedHelperIds(): number[] {
  return [...ENTRIES.map(([id]) => id), Helper.tail_call].sort((a, b) => a - b);
}

/** The shared default table. */
export const HELPERS: HelperTable = createHelperTable();
