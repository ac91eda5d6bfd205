/**
 * Time, randomness, CPU and task helpers (all injectable through SimEnv): ktime_get_ns (5),
 * ktime_get_boot_ns (125), ktime_get_coarse_ns (160), ktime_get_tai_ns (208), jiffies64 (118),
 * get_prandom_u32 (7), get_smp_processor_id (8), get_numa_node_id (42), get_current_pid_tgid (14),
 * get_current_uid_gid (15), get_current_comm (16), and the probe_read family over simulated
 * memory: probe_read (4), probe_read_str (45), probe_read_user (112), probe_read_kernel (113),
 * probe_read_user_str (114), probe_read_kernel_str (115).
 */
import { Access, REGION_TAG, RegionFlag, type HelperFn, type Vm } from '../engine.js';
import { EFAULT } from './common.js';
import { type SimMemoryBlock, envOf } from './env.js';

export const ktimeGetNs: HelperFn = (vm) => vm.retBig(envOf(vm).now());
export const ktimeGetBootNs: HelperFn = (vm) => vm.retBig(envOf(vm).bootNow());
export const ktimeGetCoarseNs: HelperFn = (vm) => vm.retBig(envOf(vm).now());
export const ktimeGetTaiNs: HelperFn = (vm) => vm.retBig(envOf(vm).taiNow());
/** jiffies64 at HZ=250 (4 ms per jiffy). */
export const jiffies64: HelperFn = (vm) => vm.retBig(envOf(vm).now() / 4_000_000n);
export const getPrandomU32: HelperFn = (vm) => vm.ret64(envOf(vm).random() | 0, 0);
export const getSmpProcessorId: HelperFn = (vm) => vm.ret(envOf(vm).cpu);
export const getNumaNodeId: HelperFn = (vm) => vm.ret(0);

export const getCurrentPidTgid: HelperFn = (vm) => {
  const e = envOf(vm);
  vm.ret64(e.pid | 0, e.tgid | 0);
};
export const getCurrentUidGid: HelperFn = (vm) => {
  const e = envOf(vm);
  vm.ret64(e.uid | 0, e.gid | 0);
};

/** bpf_get_current_comm(buf, size): strscpy_pad of the 16-byte comm. */
export const getCurrentComm: HelperFn = (vm) => {
  const size = vm.argNum(2);
  const buf = vm.argBytes(1, size, Access.Write);
  const comm = new TextEncoder().encode(envOf(vm).comm).subarray(0, 15);
  buf.fill(0);
  buf.set(comm.subarray(0, Math.max(0, size - 1)));
  vm.ret(0);
};

/**
 * Resolve `len` bytes at a 64-bit address: a readable emulator region (the program's own
 * memory), else simulated memory blocks. Returns null when the range is not readable.
 */
export function readAddress(vm: Vm, blocks: readonly SimMemoryBlock[], addr: bigint, len: number, stopAtNul: boolean): Uint8Array | null {
  const hi = Number(addr >> 32n) | 0;
  const lo = Number(addr & 0xffffffffn);
  const id = (hi ^ REGION_TAG) >>> 0;
  if (id < vm.space.regions.length) {
    const r = vm.space.regions[id]!;
    if (r.flags & RegionFlag.Read && lo >= r.start && lo < r.end) {
      const end = stopAtNul ? Math.min(r.end, lo + len) : lo + len;
      if (end > r.end) return null;
      return r.bytes.subarray(lo, end);
    }
    return null;
  }
  for (const b of blocks) {
    if (addr >= b.address && addr < b.address + BigInt(b.bytes.length)) {
      const off = Number(addr - b.address);
      const end = stopAtNul ? Math.min(b.bytes.length, off + len) : off + len;
      if (end > b.bytes.length) return null;
      return b.bytes.subarray(off, end);
    }
  }
  return null;
}

function probeRead(user: boolean): HelperFn {
  return (vm) => {
    const size = vm.argNum(2);
    const dst = vm.argBytes(1, size, Access.Write);
    const e = envOf(vm);
    const src = readAddress(vm, user ? e.userMemory : e.kernelMemory, vm.argU64(3), size, false);
    if (src === null) {
      dst.fill(0);
      vm.ret(-EFAULT);
      return;
    }
    dst.set(src);
    vm.ret(0);
  };
}

function probeReadStr(user: boolean): HelperFn {
  return (vm) => {
    const size = vm.argNum(2);
    if (size === 0) {
      vm.ret(0);
      return;
    }
    const dst = vm.argBytes(1, size, Access.Write);
    const e = envOf(vm);
    const src = readAddress(vm, user ? e.userMemory : e.kernelMemory, vm.argU64(3), size, true);
    if (src === null || src.length === 0) {
      dst.fill(0);
      vm.ret(-EFAULT);
      return;
    }
    let n = src.indexOf(0);
    if (n < 0) {
      if (src.length < size - 1) {
        // ran off the end of readable memory before a NUL
        dst.fill(0);
        vm.ret(-EFAULT);
        return;
      }
      n = size - 1;
    }
    dst.set(src.subarray(0, n));
    dst[n] = 0;
    vm.ret(n + 1);
  };
}

export const probeReadKernel = probeRead(false);
export const probeReadUser = probeRead(true);
export const probeReadKernelStr = probeReadStr(false);
export const probeReadUserStr = probeReadStr(true);
