/** Errors of BPF_PROG_TEST_RUN-style runs, with the errno the kernel returns for the same input. */
import { SyscallError } from '../../lib/errors.js';

export function runError(prog: string, errno: number, why: string, hint?: string): SyscallError {
  return new SyscallError('BPF_PROG_TEST_RUN', errno, `run ${prog}: ${why}`, hint ? { hint } : {});
}

export const EINVAL = 22;
export const ENOSPC = 28;
export const ENODEV = 19;
export const ENOTSUPP = 524;
export const E2BIG = 7;
