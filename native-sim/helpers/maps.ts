/**
 * Map helpers: map_lookup_elem (1), map_update_elem (2), map_delete_elem (3), map_push_elem (87),
 * map_pop_elem (88), map_peek_elem (89), for_each_map_elem (164), map_lookup_percpu_elem (195).
 * Lookups return checked pointers into the map's value regions (or a MAP_TAG handle for
 * map-in-map), NULL when absent.
 */
import { Access, HI, LO, MAP_TAG, REGION_TAG, RegionFlag, RegionKind, type HelperFn, type Vm } from '../engine.js';
import { MAP_TABLE } from '../maps/registry.js';
import { ArrayMap } from '../maps/array.js';
import type { SimMap } from '../maps/base.js';
import { HashMap } from '../maps/hash.js';
import { EINVAL, ENOTSUPP, argMap, argRef, ref } from './common.js';
import { envOf } from './env.js';

const R1_LO = 2 + LO;
const R1_HI = 2 + HI;
const R2_LO = 4 + LO;
const R2_HI = 4 + HI;

interface MapInMap {
  progLookupMap(kb: Uint8Array, koff: number): SimMap | null;
}
function isMapInMap(m: SimMap): m is SimMap & MapInMap {
  return m.isMapInMap;
}

export const mapLookupElem: HelperFn = (vm: Vm) => {
  const regs = vm.regs;
  const m = regs[R1_HI] === MAP_TAG ? (MAP_TABLE[regs[R1_LO]! >>> 0] as SimMap | undefined) : undefined;
  if (m === undefined) {
    argMap(vm, 1);
    return;
  }
  // hot path: the key in a plain readable region (stack)
  const ks = m.info.keySize;
  const id = (regs[R2_HI]! ^ REGION_TAG) >>> 0;
  const a = regs[R2_LO]! >>> 0;
  const regions = vm.space.regions;
  const sim = vm.env.sim;
  const cpu = sim === undefined ? 0 : sim.cpu;
  if (id < regions.length && m.isMapInMap === false) {
    const kr = regions[id]!;
    if (kr.flags & RegionFlag.FastRead && a >= kr.start && a + ks <= kr.end) {
      const r = m.progLookupRegion(kr.bytes, a, cpu);
      if (r === null) vm.ret(0);
      else vm.retPtr(r, m.refOffset);
      return;
    }
  }
  argRef(vm, 2, ks, Access.Read);
  if (isMapInMap(m)) {
    const inner = m.progLookupMap(ref.bytes, ref.off);
    if (inner === null) vm.ret(0);
    else vm.ret64(inner.info.id, MAP_TAG);
    return;
  }
  const r = m.progLookupRegion(ref.bytes, ref.off, cpu);
  if (r === null) vm.ret(0);
  else vm.retPtr(r, m.refOffset);
};

export const mapUpdateElem: HelperFn = (vm: Vm) => {
  const m = argMap(vm, 1);
  argRef(vm, 2, m.info.keySize, Access.Read);
  const kb = ref.bytes;
  const koff = ref.off;
  argRef(vm, 3, m.info.valueSize, Access.Read);
  const flags = vm.argNum(4);
  const sim = vm.env.sim;
  vm.ret(m.progUpdate(kb, koff, ref.bytes, ref.off, flags, sim === undefined ? 0 : sim.cpu));
};

export const mapDeleteElem: HelperFn = (vm: Vm) => {
  const m = argMap(vm, 1);
  argRef(vm, 2, m.info.keySize, Access.Read);
  vm.ret(m.progDelete(ref.bytes, ref.off));
};

export const mapPushElem: HelperFn = (vm: Vm) => {
  const m = argMap(vm, 1);
  argRef(vm, 2, m.info.valueSize, Access.Read);
  vm.ret(m.progPush(ref.bytes, ref.off, vm.argNum(3)));
};

export const mapPopElem: HelperFn = (vm: Vm) => {
  const m = argMap(vm, 1);
  argRef(vm, 2, m.info.valueSize, Access.Write);
  vm.ret(m.progPop(ref.bytes, ref.off));
};

export const mapPeekElem: HelperFn = (vm: Vm) => {
  const m = argMap(vm, 1);
  argRef(vm, 2, m.info.valueSize, Access.Write);
  vm.ret(m.progPeek(ref.bytes, ref.off));
};

export const mapLookupPercpuElem: HelperFn = (vm: Vm) => {
  const m = argMap(vm, 1);
  argRef(vm, 2, m.info.keySize, Access.Read);
  const cpu = vm.argU32(3);
  let v: Uint8Array | null = null;
  if (m instanceof HashMap || m instanceof ArrayMap) v = m.progLookupPercpu(ref.bytes, ref.off, cpu);
  if (v === null) {
    vm.ret(0);
    return;
  }
  const r = m.progLookupRegion(ref.bytes, ref.off, cpu);
  if (r === null) vm.ret(0);
  else vm.retPtr(r, m.refOffset);
};

/**
 * bpf_for_each_map_elem(map, callback, ctx, flags): callback(map, key, value, ctx) per element
 * until it returns 1; returns the number of elements visited. Keys are passed in a read-only
 * key region, values as pointers into the map.
 */
export const forEachMapElem: HelperFn = (vm: Vm) => {
  const m = argMap(vm, 1);
  const fnLo = vm.argLo(2);
  const fnHi = vm.argHi(2);
  const ctxLo = vm.argLo(3);
  const ctxHi = vm.argHi(3);
  if (vm.argNum(4) !== 0) {
    vm.ret(-EINVAL);
    return;
  }
  const env = envOf(vm);
  const cpu = env.cpu;
  const keyBuf = new Uint8Array(Math.max(m.info.keySize, 1));
  const keyRegion = vm.space.add(RegionKind.Other, `map ${m.info.name} key`, keyBuf, RegionFlag.Read);
  const mapLo = m.info.id;
  try {
    const n = m.forEachElem(cpu, (key) => {
      keyBuf.set(key);
      const vr = m.progLookupRegion(keyBuf, 0, cpu);
      if (vr === null) return 0;
      vm.setArg(1, mapLo, MAP_TAG);
      vm.setArg(2, 0, keyRegion.pointer(0)[1]);
      vm.setArg(3, m.refOffset, vr.pointer(0)[1]);
      vm.setArg(4, ctxLo, ctxHi);
      vm.setArg(5, 0, 0);
      vm.invoke(fnLo, fnHi);
      return vm.regLo(0) !== 0 ? 1 : 0;
    });
    vm.ret(n < 0 ? -ENOTSUPP : n);
  } finally {
    vm.space.release(keyRegion);
  }
};
