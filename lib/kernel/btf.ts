/**
 * BTF in the kernel: BPF_BTF_LOAD of an object's BTF (with the kernel's log on failure), and the
 * running kernel's own BTF (/sys/kernel/btf/vmlinux) parsed once for CO-RE and attach_btf_id.
 */
import { readFileSync } from 'node:fs';
import { BpfError, NotSupportedError } from '../errors.js';
import { BtfKind, parseBtf, type Btf } from '../btf/index.js';
import { Attr, BtfLoadOff, BpfCmd } from './attr.js';
import { Errno } from './binding.js';
import { bpfError, sys } from './sys.js';

const LOG_START = 64 * 1024;
const LOG_MAX = 64 * 1024 * 1024;

/** The last `n` non-empty lines of a kernel log. */
export function logTail(log: string, n: number): string {
  return log.split('\n').filter((l) => l.trim() !== '').slice(-n).join('\n');
}

/**
 * Load BTF into the kernel; returns the BTF fd. On rejection, retries with the log enabled
 * (growing the buffer on ENOSPC) and throws a BpfError('BTF_REJECTED') carrying the log.
 */
export function loadBtf(raw: Uint8Array, what: string): number {
  const s = sys();
  const data = new Uint8Array(raw); // a copy the kernel reads while we hold it
  const attr = new Attr(s, BtfLoadOff.Size).ptr(BtfLoadOff.Btf, data).setU32(BtfLoadOff.BtfSize, data.length);
  const r = attr.call(BpfCmd.BtfLoad);
  if (r >= 0) return r;
  const errno = -r;
  if (errno === Errno.EPERM || errno === Errno.EACCES) throw bpfError(`load BTF of ${what}`, BpfCmd.BtfLoad, errno);
  // Retry with the log to say why.
  let size = LOG_START;
  for (;;) {
    const log = new Uint8Array(size);
    attr.ptr(BtfLoadOff.LogBuf, log).setU32(BtfLoadOff.LogSize, size).setU32(BtfLoadOff.LogLevel, 1).setU32(BtfLoadOff.LogTrueSize, 0);
    const r2 = attr.call(BpfCmd.BtfLoad);
    if (r2 >= 0) return r2; // accepted with logging on (should not happen; take it)
    const trueSize = attr.getU32(BtfLoadOff.LogTrueSize);
    if (-r2 === Errno.ENOSPC && size < LOG_MAX) {
      size = Math.min(LOG_MAX, Math.max(size * 4, trueSize + 1));
      continue;
    }
    const text = decodeLog(log);
    const err = new BpfError('BTF_REJECTED', `load BTF of ${what}: the kernel rejected it: ${logTail(text, 3) || sys().errnoString(-r2)}`, {
      cause: bpfError(`load BTF of ${what}`, BpfCmd.BtfLoad, -r2),
      hint: 'the object BTF is malformed or uses kinds this kernel does not support',
    });
    (err as BpfError & { log?: string }).log = text;
    throw err;
  }
}

/** Decode a NUL-terminated kernel log buffer. */
export function decodeLog(buf: Uint8Array): string {
  let end = buf.indexOf(0);
  if (end < 0) end = buf.length;
  return new TextDecoder().decode(buf.subarray(0, end));
}

let vmlinux: Btf | undefined;
let vmlinuxError: Error | undefined;

export const VMLINUX_BTF_PATH = '/sys/kernel/btf/vmlinux';

/** The running kernel's BTF, parsed once (NotSupportedError when the kernel has none). */
export function vmlinuxBtf(): Btf {
  if (vmlinux) return vmlinux;
  if (vmlinuxError) throw vmlinuxError;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(VMLINUX_BTF_PATH);
  } catch (e) {
    vmlinuxError = new NotSupportedError('kernel BTF', `read ${VMLINUX_BTF_PATH}: ${(e as Error).message}`, {
      cause: e,
      hint: 'CO-RE and BTF-attached programs need a kernel built with CONFIG_DEBUG_INFO_BTF',
      minKernel: '5.4',
    });
    throw vmlinuxError;
  }
  vmlinux = parseBtf(bytes, { file: VMLINUX_BTF_PATH, section: '.BTF' });
  return vmlinux;
}

/**
 * BTF id in vmlinux that a tracing-style program attaches to (attach_btf_id), following
 * libbpf's naming: fentry/fexit/fmod_ret → FUNC `name`; tp_btf → TYPEDEF `btf_trace_<name>`;
 * lsm → FUNC `bpf_lsm_<name>`; iter → FUNC `bpf_iter_<name>`.
 */
export function attachBtfId(kind: 'func' | 'tp_btf' | 'lsm' | 'iter', target: string, prog: string): number {
  const btf = vmlinuxBtf();
  const [name, k] =
    kind === 'tp_btf' ? [`btf_trace_${target}`, BtfKind.Typedef]
    : kind === 'lsm' ? [`bpf_lsm_${target}`, BtfKind.Func]
    : kind === 'iter' ? [`bpf_iter_${target}`, BtfKind.Func]
    : [target, BtfKind.Func];
  const ids = btf.findByName(name, k);
  if (!ids.length) {
    throw new NotSupportedError(`attach target ${target}`, `load program ${prog}: no ${k === BtfKind.Func ? 'function' : 'type'} ${name} in kernel BTF (${VMLINUX_BTF_PATH})`, {
      hint: 'check the SEC() name; the target must exist in this kernel',
    });
  }
  return ids[0]!;
}
