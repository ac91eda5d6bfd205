/**
 * The kernel backend: real bpf(2) through the bpf_sys N-API shim.
 * `createKernelBackend()` throws NotSupportedError (listing every addon path tried) when the
 * addon cannot load; `probeKernel()` says whether the backend can work here and why not.
 *
 * Modules: bpf_sys.c (syscall shim) → binding.ts (the only loader; BpfSys signature) →
 * attr.ts (union bpf_attr layouts) → sys.ts (errno → errors, pin/get/info, possible CPUs) →
 * maps.ts (BPF_MAP_CREATE, KernelMap), btf.ts (BTF_LOAD, vmlinux BTF), core.ts (CO-RE),
 * externs.ts (kfuncs, ksyms, kconfig), programs.ts (BPF_PROG_LOAD, VerifierError, test runs),
 * backend.ts (LoadSession, Backend). Attaching lives in links.ts, event readers in events.ts.
 */
import type { Backend } from '../backend.js';
import { probe, type ProbeResult } from './binding.js';
import { KernelBackend } from './backend.js';

export { KernelBackend, KernelSession, DEFAULT_PIN_ROOT } from './backend.js';
export { KernelMap } from './maps.js';
export { KernelProgram } from './programs.js';
export { probeHelper, helpersCalled, unsupportedHelpers, type HelperSupport } from './features.js';
export { addonPaths, loadBinding, probe } from './binding.js';
export type { BpfSys, ProbeResult } from './binding.js';

/** A kernel Backend. `reason` is recorded on the backend (e.g. why `auto` picked it). */
export function createKernelBackend(reason?: string): Backend {
  return new KernelBackend(reason);
}

/** Can the kernel backend work here? The addon loads and a harmless bpf(2) call succeeds. */
export function probeKernel(): ProbeResult {
  return probe();
}
