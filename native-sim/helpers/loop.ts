/**
 * Control helpers: loop (181) — call a BPF callback up to nr_loops (≤ 1 << 23) times, stopping
 * when it returns 1, returning the iterations done; spin_lock (93) / spin_unlock (94) on a
 * `struct bpf_spin_lock` in a map value (single-threaded: taking a held lock is a deadlock the
 * emulator reports as a fault rather than hanging).
 */
import { Access, type HelperFn } from '../engine.js';
import { E2BIG, EINVAL } from './common.js';

const MAX_LOOPS = 1 << 23;

export const loop: HelperFn = (vm) => {
  const n = vm.argNum(1);
  const fnLo = vm.argLo(2);
  const fnHi = vm.argHi(2);
  const ctxLo = vm.argLo(3);
  const ctxHi = vm.argHi(3);
  if (vm.argNum(4) !== 0) {
    vm.ret(-EINVAL);
    return;
  }
  if (n > MAX_LOOPS) {
    vm.ret(-E2BIG);
    return;
  }
  let i = 0;
  while (i < n) {
    vm.setArg(1, i, 0);
    vm.setArg(2, ctxLo, ctxHi);
    vm.setArg(3, 0, 0);
    vm.setArg(4, 0, 0);
    vm.setArg(5, 0, 0);
    vm.invoke(fnLo, fnHi);
    i++;
    if (vm.regLo(0) !== 0 || vm.regHi(0) !== 0) break;
  }
  vm.ret(i);
};

export const spinLock: HelperFn = (vm) => {
  const w = vm.argBytes(1, 4, Access.ReadWrite);
  if (w[0] !== 0 || w[1] !== 0 || w[2] !== 0 || w[3] !== 0) vm.fault('bpf_spin_lock: the lock is already held (deadlock)', { code: 'DEADLOCK' });
  w[0] = 1;
  vm.ret(0);
};

export const spinUnlock: HelperFn = (vm) => {
  const w = vm.argBytes(1, 4, Access.ReadWrite);
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0) vm.fault('bpf_spin_unlock: the lock is not held');
  w.fill(0);
  vm.ret(0);
};
