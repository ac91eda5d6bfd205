/**
 * Feature probes of the running kernel: which helpers a program type may call.
 *
 * Kernels differ in what they offer (version, config, vendor patches: the 6.18 kernel this
 * project is tested on refuses `bpf_xdp_adjust_meta` to XDP programs). A probe loads a tiny
 * program of the type that calls the helper and reads the verifier's answer: the kernel looks the
 * helper up for the program type before it checks any argument, so "cannot use helper" /
 * "unknown func" means missing, and any other outcome (accepted, or rejected for the argument
 * types the probe did not set up) means present. Results are cached per (type, helper).
 */
import { ArgumentError } from '../errors.js';
import { R0, assembleBytes, call, exit, mov64 } from '../isa/asm.js';
import { helperId, helperName } from '../isa/helpers.js';
import { CallSrc, Op } from '../isa/opcodes.js';
import { PROG_TYPES, progTypeId, type ProgramSpec, type ProgType } from '../spec/index.js';
import { Attr, BpfCmd, ProgLoadOff } from './attr.js';
import { Errno } from './binding.js';
import { decodeLog } from './btf.js';
import { closeFd, sys } from './sysops.js';

export interface HelperSupport {
  /** Whether programs of the type may call the helper on this kernel. */
  supported: boolean;
  /** Helper name (`bpf_` prefix) and id. */
  helper: string;
  id: number;
  progType: ProgType;
  /** Why: the verifier's line when missing, or how the probe load ended. */
  reason: string;
}

const cache = new Map<string, HelperSupport>();

/** Types the kernel refuses to verify without an attach target (BTF id or program). */
const NEEDS_TARGET: ReadonlySet<string> = new Set(['tracing', 'ext', 'lsm', 'struct_ops']);

/** The helper's id from a name (`bpf_xdp_adjust_meta` or `xdp_adjust_meta`) or an id. */
function resolveHelper(helper: number | string): number {
  if (typeof helper === 'number') {
    if (!Number.isInteger(helper) || helper <= 0 || helperName(helper) === undefined) throw new ArgumentError(`probeHelper: unknown helper id ${helper}`);
    return helper;
  }
  const id = helperId(helper);
  if (id === undefined || id <= 0) throw new ArgumentError(`probeHelper: unknown helper ${JSON.stringify(helper)}`);
  return id;
}

/**
 * Whether the running kernel lets programs of `progType` call `helper` (name or id). Needs the
 * rights to load programs (root or CAP_BPF + the type's capability); throws the kernel backend's
 * SyscallError when it cannot ask.
 */
export function probeHelper(progType: ProgType, helper: number | string): HelperSupport {
  const type = progTypeId(progType);
  if (type <= 0) throw new ArgumentError(`probeHelper: unknown program type ${JSON.stringify(progType)} (one of ${PROG_TYPES.slice(1).join(', ')})`);
  if (NEEDS_TARGET.has(progType)) {
    throw new ArgumentError(`probeHelper: ${progType} programs are verified against an attach target; probe by loading the real program`);
  }
  const id = resolveHelper(helper);
  const name = `bpf_${helperName(id)!}`;
  const key = `${type}/${id}`;
  const hit = cache.get(key);
  if (hit) return hit;

  const insns = assembleBytes([call(id), mov64(R0, 0), exit()]);
  const license = new TextEncoder().encode('GPL\0');
  const log = new Uint8Array(4096);
  const s = sys();
  const attr = new Attr(s, ProgLoadOff.Size)
    .setU32(ProgLoadOff.ProgType, type)
    .setU32(ProgLoadOff.InsnCnt, insns.length / 8)
    .ptr(ProgLoadOff.Insns, insns)
    .ptr(ProgLoadOff.License, license)
    .setU32(ProgLoadOff.LogLevel, 1)
    .setU32(ProgLoadOff.LogSize, log.length)
    .ptr(ProgLoadOff.LogBuf, log);
  const r = attr.callNoSignals(BpfCmd.ProgLoad);
  let result: HelperSupport;
  if (r >= 0) {
    closeFd(r);
    result = { supported: true, helper: name, id, progType, reason: 'the probe program loaded' };
  } else {
    const errno = -r;
    const text = decodeLog(log);
    const missing = text.split('\n').find((l) => /cannot use helper|unknown func|invalid func/.test(l));
    if (missing !== undefined) {
      result = { supported: false, helper: name, id, progType, reason: missing.trim() };
    } else if (!text.trim() && errno !== Errno.EINVAL && errno !== Errno.ENOSPC) {
      // no verifier verdict: rights or the type itself (EPERM, E2BIG, ...) — cannot tell
      throw Object.assign(new ArgumentError(`probeHelper(${progType}, ${name}): the kernel refused the probe program before verification: ${s.errnoString(errno)}`), { errno });
    } else {
      const last = text.trim().split('\n').pop() ?? s.errnoString(errno);
      result = { supported: true, helper: name, id, progType, reason: `the verifier looked the helper up and went on (${last.trim()})` };
    }
  }
  cache.set(key, result);
  return result;
}

/** Helper ids a program calls (`call imm` with src_reg 0), in order of first use. */
export function helpersCalled(spec: Pick<ProgramSpec, 'instructions'>): number[] {
  const b = spec.instructions;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const seen = new Set<number>();
  for (let o = 0; o + 8 <= b.length; o += 8) {
    if (b[o] === Op.CALL && b[o + 1]! >> 4 === CallSrc.HELPER) seen.add(dv.getInt32(o + 4, true));
  }
  return [...seen];
}

/** The helpers a program calls that the running kernel does not offer to its type. */
export function unsupportedHelpers(spec: Pick<ProgramSpec, 'instructions' | 'type'>): HelperSupport[] {
  if (progTypeId(spec.type) <= 0 || NEEDS_TARGET.has(spec.type)) return [];
  const out: HelperSupport[] = [];
  for (const id of helpersCalled(spec)) {
    if (helperName(id) === undefined || id <= 0) continue;
    const r = probeHelper(spec.type, id);
    if (!r.supported) out.push(r);
  }
  return out;
}
