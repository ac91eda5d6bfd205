/**
 * Formatted output: trace_printk (6), trace_vprintk (177), snprintf (165). Formatting follows the
 * kernel's bpf_bprintf_prepare rules: conversions %d %i %u %x %X with optional l/ll, %c, %s
 * (a string read from program or simulated memory), %p with %pK %px %pI4 %pi4 %pI6 %pi6 %pB-less
 * forms, %%; flags [0 +-] and a width; no precision. trace_printk takes at most 3 arguments,
 * the others up to 12. An invalid format returns -EINVAL. Messages go to SimEnv's trace stream.
 */
import { Access, type HelperFn, type Vm } from '../engine.js';
import { E2BIG, EINVAL } from './common.js';
import { envOf } from './env.js';
import { readAddress } from './task.js';

const MAX_BPRINTF_BUF = 1024;

function pad(s: string, width: number, left: boolean, zero: boolean): string {
  if (s.length >= width) return s;
  if (left) return s + ' '.repeat(width - s.length);
  if (zero) {
    const neg = s.startsWith('-') || s.startsWith('+') || s.startsWith(' ');
    return neg ? s[0] + '0'.repeat(width - s.length) + s.slice(1) : '0'.repeat(width - s.length) + s;
  }
  return ' '.repeat(width - s.length) + s;
}

function readCString(vm: Vm, addr: bigint): string {
  const e = envOf(vm);
  const b = readAddress(vm, e.kernelMemory.concat(e.userMemory), addr, MAX_BPRINTF_BUF, true);
  if (b === null) return '(efault)';
  const n = b.indexOf(0);
  return new TextDecoder('latin1').decode(n < 0 ? b : b.subarray(0, n));
}

function ip6(b: Uint8Array, compact: boolean): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i]! << 8) | b[i + 1]!).toString(16).padStart(compact ? 4 : 1, '0'));
  if (compact) return words.join('');
  // the kernel's %pI6 prints all 8 groups with leading zeros, colon separated
  return words.map((w) => w.padStart(4, '0')).join(':');
}

/**
 * Format `fmt` with 64-bit `args`. Returns the string or a negative errno. `maxArgs` bounds the
 * number of conversions (3 for trace_printk).
 */
export function bpfFormat(vm: Vm, fmt: string, args: readonly bigint[], maxArgs: number): string | number {
  let out = '';
  let ai = 0;
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c !== '%') {
      const code = c.charCodeAt(0);
      if (code < 0x20 && c !== '\n' && c !== '\t' && c !== '\r' && c !== '\b') return -EINVAL;
      if (code >= 0x7f) return -EINVAL;
      out += c;
      continue;
    }
    i++;
    if (fmt[i] === '%') {
      out += '%';
      continue;
    }
    if (ai >= maxArgs) return -E2BIG;
    let left = false;
    let zero = false;
    let plus = false;
    let space = false;
    while (fmt[i] === '0' || fmt[i] === '+' || fmt[i] === '-' || fmt[i] === ' ') {
      if (fmt[i] === '-') left = true;
      else if (fmt[i] === '0') zero = true;
      else if (fmt[i] === '+') plus = true;
      else space = true;
      i++;
    }
    let width = 0;
    while (fmt[i] !== undefined && fmt[i]! >= '0' && fmt[i]! <= '9') width = width * 10 + Number(fmt[i++]);
    const arg = args[ai] ?? 0n;
    const k = fmt[i];
    if (k === 'p') {
      ai++;
      const sub = fmt[i + 1];
      if (sub === 'K' || sub === 'x') {
        i++;
        out += pad(sub === 'K' ? '0000000000000000' : arg.toString(16).padStart(16, '0'), width, left, zero);
      } else if ((sub === 'I' || sub === 'i') && (fmt[i + 2] === '4' || fmt[i + 2] === '6')) {
        const v6 = fmt[i + 2] === '6';
        i += 2;
        const b = readAddress(vm, envOf(vm).kernelMemory, arg, v6 ? 16 : 4, false);
        if (b === null) out += '(efault)';
        else if (v6) out += ip6(b, sub === 'i');
        else out += sub === 'I' ? [...b].join('.') : [...b].map((x) => String(x).padStart(3, '0')).join('.');
      } else {
        out += pad('0x' + arg.toString(16), width, left, false);
      }
      continue;
    }
    if (k === 's') {
      ai++;
      out += pad(readCString(vm, arg), width, left, false);
      continue;
    }
    if (k === 'c') {
      ai++;
      out += pad(String.fromCharCode(Number(arg & 0xffn)), width, left, false);
      continue;
    }
    let bits = 32;
    if (fmt[i] === 'l') {
      bits = 64;
      i++;
      if (fmt[i] === 'l') i++;
    }
    const conv = fmt[i];
    if (conv !== 'd' && conv !== 'i' && conv !== 'u' && conv !== 'x' && conv !== 'X') return -EINVAL;
    ai++;
    let s: string;
    if (conv === 'd' || conv === 'i') {
      const v = BigInt.asIntN(bits, arg);
      s = v.toString();
      if (v >= 0n && plus) s = '+' + s;
      else if (v >= 0n && space) s = ' ' + s;
    } else {
      const v = BigInt.asUintN(bits, arg);
      s = conv === 'u' ? v.toString() : conv === 'x' ? v.toString(16) : v.toString(16).toUpperCase();
    }
    out += pad(s, width, left, zero);
  }
  return out;
}

function readFmt(vm: Vm, ptrArg: number, size: number): string | number {
  if (size === 0) return -EINVAL;
  const b = vm.argBytes(ptrArg, size, Access.Read);
  if (b[size - 1] !== 0) return -EINVAL;
  const n = b.indexOf(0);
  return new TextDecoder('latin1').decode(b.subarray(0, n));
}

/** bpf_trace_printk(fmt, fmt_size, arg1, arg2, arg3). */
export const tracePrintk: HelperFn = (vm) => {
  const fmt = readFmt(vm, 1, vm.argNum(2));
  if (typeof fmt === 'number') {
    vm.ret(fmt);
    return;
  }
  const s = bpfFormat(vm, fmt, [vm.argU64(3), vm.argU64(4), vm.argU64(5)], 3);
  if (typeof s === 'number') {
    vm.ret(s);
    return;
  }
  const msg = s.slice(0, MAX_BPRINTF_BUF - 1);
  envOf(vm).emitTrace(msg);
  vm.ret(msg.length);
};

function dataArgs(vm: Vm, ptrArg: number, len: number): bigint[] | number {
  if (len & 7 || len > 12 * 8) return -EINVAL;
  const b = vm.argBytes(ptrArg, len, Access.Read);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: bigint[] = [];
  for (let i = 0; i < len; i += 8) out.push(dv.getBigUint64(i, true));
  return out;
}

/** bpf_trace_vprintk(fmt, fmt_size, data, data_len). */
export const traceVprintk: HelperFn = (vm) => {
  const fmt = readFmt(vm, 1, vm.argNum(2));
  const args = dataArgs(vm, 3, vm.argNum(4));
  if (typeof fmt === 'number' || typeof args === 'number') {
    vm.ret(typeof fmt === 'number' ? fmt : (args as number));
    return;
  }
  const s = bpfFormat(vm, fmt, args, 12);
  if (typeof s === 'number') {
    vm.ret(s);
    return;
  }
  const msg = s.slice(0, MAX_BPRINTF_BUF - 1);
  envOf(vm).emitTrace(msg);
  vm.ret(msg.length);
};

/** bpf_snprintf(str, str_size, fmt, data, data_len): returns the length including the NUL. */
export const snprintf: HelperFn = (vm) => {
  const size = vm.argNum(2);
  vm.argBytes(3, 1, Access.Read);
  const r = vm.argRegion(3);
  if (r === undefined) return vm.fault('argument r3 is not a pointer to memory');
  const start = vm.argLo(3) >>> 0;
  const nul = r.bytes.subarray(start, r.end).indexOf(0);
  if (nul < 0) {
    vm.ret(-EINVAL);
    return;
  }
  const fmt = new TextDecoder('latin1').decode(r.bytes.subarray(start, start + nul));
  const args = dataArgs(vm, 4, vm.argNum(5));
  if (typeof args === 'number') {
    vm.ret(args);
    return;
  }
  const s = bpfFormat(vm, fmt, args, 12);
  if (typeof s === 'number') {
    vm.ret(s);
    return;
  }
  if (size > 0) {
    const dst = vm.argBytes(1, size, Access.Write);
    const enc = new TextEncoder().encode(s).subarray(0, size - 1);
    dst.set(enc);
    dst[enc.length] = 0;
  }
  vm.ret(s.length + 1);
};
