/**
 * Event output helpers: ringbuf_output (130), ringbuf_reserve (131), ringbuf_submit (132),
 * ringbuf_discard (133), ringbuf_query (134), perf_event_output (25) and skb/xdp_output (111/121,
 * perf output with packet bytes appended from the context, size in the upper 32 flag bits).
 * A reservation is its own checked region (kind ringbuf) that lives until submit/discard.
 */
import { Access, RegionFlag, RegionKind, type HelperFn, type Region, type Vm } from '../engine.js';
import { SkbContext } from '../context/skb.js';
import { XdpContext } from '../context/xdp.js';
import { PerfEventArrayMap } from '../maps/perf-event-array.js';
import { RingBufMap } from '../maps/ringbuf.js';
import { EINVAL, argMap } from './common.js';
import { envOf } from './env.js';

interface Reservation {
  rb: RingBufMap;
  view: Uint8Array;
}

function ringbuf(vm: Vm, i: number): RingBufMap {
  const m = argMap(vm, i);
  if (!(m instanceof RingBufMap)) vm.fault(`argument r${i} must be a ringbuf map (got ${m.info.type} ${m.info.name})`);
  return m;
}

export const ringbufOutput: HelperFn = (vm) => {
  const rb = ringbuf(vm, 1);
  const size = vm.argNum(3);
  const data = vm.argBytes(2, size, Access.Read);
  vm.ret(rb.output(data, 0, size, vm.argNum(4)));
};

export const ringbufReserve: HelperFn = (vm) => {
  const rb = ringbuf(vm, 1);
  const view = rb.reserve(vm.argNum(2), vm.argNum(3));
  if (view === null) {
    vm.ret(0);
    return;
  }
  const r = vm.space.add(RegionKind.Ringbuf, `ringbuf ${rb.info.name} record`, view, RegionFlag.Read | RegionFlag.Write);
  r.owner = { rb, view } satisfies Reservation;
  vm.retPtr(r, 0);
};

function commit(discard: boolean): HelperFn {
  return (vm) => {
    const r: Region | undefined = vm.argRegion(1);
    const o = r?.owner as Reservation | undefined;
    if (r === undefined || o === undefined || !(o.rb instanceof RingBufMap) || (vm.argLo(1) >>> 0) !== 0) {
      return vm.fault(`argument r1 must be a pointer returned by bpf_ringbuf_reserve`);
    }
    if (!o.rb.commit(o.view, discard, vm.argNum(2))) vm.fault('ring buffer record was already submitted or discarded');
    vm.space.release(r);
    vm.ret(0);
  };
}
export const ringbufSubmit = commit(false);
export const ringbufDiscard = commit(true);

export const ringbufQuery: HelperFn = (vm) => {
  vm.retBig(ringbuf(vm, 1).query(vm.argNum(2)));
};

function perfMap(vm: Vm, i: number): PerfEventArrayMap {
  const m = argMap(vm, i);
  if (!(m instanceof PerfEventArrayMap)) vm.fault(`argument r${i} must be a perf_event_array map (got ${m.info.type} ${m.info.name})`);
  return m;
}

/** bpf_perf_event_output(ctx, map, flags, data, size). */
export const perfEventOutput: HelperFn = (vm) => {
  const m = perfMap(vm, 2);
  const size = vm.argNum(5);
  const data = vm.argBytes(4, size, Access.Read);
  vm.ret(m.output(vm.argU64(3), envOf(vm).cpu, data, 0, size));
};

/** bpf_skb_output / bpf_xdp_output: the sample, then `flags >> 32` bytes of the packet. */
export const ctxOutput: HelperFn = (vm) => {
  const o = vm.argRegion(1)?.owner;
  const m = perfMap(vm, 2);
  const flags = vm.argU64(3);
  const pktLen = Number(flags >> 32n);
  const size = vm.argNum(5);
  const data = vm.argBytes(4, size, Access.Read);
  let pkt: Uint8Array;
  if (o instanceof XdpContext || o instanceof SkbContext) {
    const p = o.pkt;
    if (pktLen > p.end - p.data) {
      vm.ret(-14);
      return;
    }
    pkt = p.bytes.subarray(p.data, p.data + pktLen);
  } else {
    vm.ret(-EINVAL);
    return;
  }
  const all = new Uint8Array(size + pktLen);
  all.set(data);
  all.set(pkt, size);
  vm.ret(m.output(flags & 0xffffffffn, envOf(vm).cpu, all, 0, all.length));
};
