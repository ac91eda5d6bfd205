// Which test programs the running kernel refuses because they call a helper it does not offer to
// their program type (kernels differ: the 6.18 kernel here refuses bpf_xdp_adjust_meta to XDP).
// Probed with probeHelper (lib/kernel/features.ts), never from a list of kernel versions; the
// kernel tests load the rest and check that the refused ones fail naming the helper.
import type { HelperSupport } from '../../lib/kernel/features.js';
import type { ObjectSpec } from '../../lib/spec/index.js';

export const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;

/** program name → the helpers this kernel does not offer it (only programs with some). Needs root on Linux. */
export async function refusedByKernel(spec: Pick<ObjectSpec, 'programs'>): Promise<Map<string, HelperSupport[]>> {
  const { unsupportedHelpers } = await import('../../lib/kernel/features.js');
  const out = new Map<string, HelperSupport[]>();
  for (const p of spec.programs) {
    const missing = unsupportedHelpers(p);
    if (missing.length) out.set(p.name, missing);
  }
  return out;
}

/** The programs of `spec` the running kernel can load (all but the refused ones). */
export async function kernelLoadable(spec: Pick<ObjectSpec, 'programs'>): Promise<string[]> {
  const refused = await refusedByKernel(spec);
  return spec.programs.filter((p) => !refused.has(p.name)).map((p) => p.name);
}

/** "xdp_meta: this kernel does not offer bpf_xdp_adjust_meta to xdp programs (verifier: ...)" */
export function refusalReason(prog: string, missing: HelperSupport[]): string {
  return `${prog}: this kernel does not offer ${missing.map((m) => m.helper).join(', ')} to ${missing[0]!.progType} programs (verifier: ${missing[0]!.reason})`;
}
