/** Argument decoding shared by the helper groups. */
import { Access, MAP_TAG, REGION_TAG, RegionFlag, type Region, type Vm } from '../engine.js';
import type { SimMap } from '../maps/base.js';
import { MAP_TABLE } from '../maps/registry.js';

/** The map a MAP_TAG handle in argument register `i` names; faults otherwise. */
export function argMap(vm: Vm, i: number): SimMap {
  if (vm.argHi(i) !== MAP_TAG) vm.fault(`argument r${i} is not a map pointer`);
  const m = MAP_TABLE[vm.argLo(i) >>> 0] as SimMap | undefined;
  if (m === undefined) vm.fault(`argument r${i} names map id ${vm.argLo(i) >>> 0}, which does not exist`);
  return m;
}

/**
 * Checked access to `len` bytes at the pointer in argument `i`: sets `ref.bytes`/`ref.off`
 * without allocating (fast path for plain regions), else faults like vm.argBytes.
 */
export const ref: { bytes: Uint8Array; off: number } = { bytes: new Uint8Array(0), off: 0 };

export function argRef(vm: Vm, i: number, len: number, access: Access): void {
  const hi = vm.argHi(i);
  const a = vm.argLo(i) >>> 0;
  const id = (hi ^ REGION_TAG) >>> 0;
  const regions = vm.space.regions;
  if (id < regions.length) {
    const r = regions[id]!;
    const need = access === Access.Read ? RegionFlag.FastRead : access === Access.Write ? RegionFlag.FastWrite : RegionFlag.FastRead | RegionFlag.FastWrite;
    if ((r.flags & need) === need && a >= r.start && a + len <= r.end) {
      ref.bytes = r.bytes;
      ref.off = a;
      return;
    }
  }
  ref.bytes = vm.argBytes(i, len, access);
  ref.off = 0;
}

/** The region an argument points into (must be one), with the offset in `regionOffset`. */
export function argRegion(vm: Vm, i: number): Region {
  const r = vm.argRegion(i);
  if (r === undefined) vm.fault(`argument r${i} is not a pointer to memory`);
  return r;
}

export const EPERM = 1;
export const ENOENT = 2;
export const E2BIG = 7;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const ERANGE = 34;
export const EOPNOTSUPP = 95;
export const ENOTSUPP = 524;
