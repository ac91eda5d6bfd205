/**
 * Extern symbols of a program, resolved against the running kernel as libbpf does:
 * - kfunc calls (`extern void f(void) __ksym`): call src_reg = BPF_PSEUDO_KFUNC_CALL, imm = the
 *   FUNC's id in vmlinux BTF;
 * - ksym variables (`extern T x __ksym`): ld_imm64 src_reg = BPF_PSEUDO_BTF_ID with the VAR's id
 *   in vmlinux BTF, or, for symbols BTF does not describe, the address from /proc/kallsyms;
 * - kconfig values (`extern T CONFIG_X __kconfig`, LINUX_KERNEL_VERSION, ...): a read-only,
 *   frozen `.kconfig` array map laid out as the object's `.kconfig` DATASEC, filled from
 *   /proc/config.gz (or /boot/config-RELEASE) and uname; ld_imm64 becomes a map-value load.
 */
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { ArgumentError, NotSupportedError } from '../errors.js';
import { BtfKind, type Btf } from '../btf/index.js';
import type { ProgramSpec } from '../spec/index.js';
import { KernelMap } from './maps.js';

const PSEUDO_MAP_VALUE = 2;
const PSEUDO_BTF_ID = 3;
const PSEUDO_KFUNC_CALL = 2;
const LD_IMM64 = 0x18;
const CALL = 0x85;
const BPF_F_RDONLY_PROG = 1 << 7;

/** `LINUX_KERNEL_VERSION` of a release string such as "6.18.44-foo": (a << 16) + (b << 8) + min(c, 255). */
export function kernelVersionCode(rel = release()): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(rel);
  if (!m) return 0;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

let kconfigCache: Map<string, string> | undefined;

/** The running kernel's config as NAME → raw value ("y", "m", "1000", "\"str\""). */
export function kernelConfig(): Map<string, string> {
  if (kconfigCache) return kconfigCache;
  let text: string | undefined;
  try {
    text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    try {
      text = readFileSync(`/boot/config-${release()}`, 'utf8');
    } catch {
      text = undefined;
    }
  }
  const out = new Map<string, string>();
  if (text) {
    for (const line of text.split('\n')) {
      const eq = line.indexOf('=');
      if (!line.startsWith('CONFIG_') || eq < 0) continue;
      out.set(line.slice(0, eq), line.slice(eq + 1));
    }
  }
  kconfigCache = out;
  return out;
}

let kallsyms: Map<string, bigint> | undefined;

function kallsymsAddress(name: string): bigint | undefined {
  if (!kallsyms) {
    kallsyms = new Map();
    try {
      for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
        const parts = line.split(/\s+/);
        if (parts.length >= 3 && !kallsyms.has(parts[2]!)) kallsyms.set(parts[2]!, BigInt('0x' + parts[0]));
      }
    } catch {
      /* unreadable: no addresses */
    }
  }
  const a = kallsyms.get(name);
  return a === undefined || a === 0n ? undefined : a;
}

/** Encode one kconfig value into `out` at `off` for a variable of BTF type `typeId`. */
function encodeKconfig(btf: Btf, typeId: number, name: string, raw: string | undefined, out: DataView, off: number, size: number): void {
  const t = btf.resolve(typeId);
  if (raw === undefined) return; // unknown / unset: stays 0 (as a __weak extern)
  if (t && t.kind === BtfKind.Array) {
    const s = raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
    const bytes = new TextEncoder().encode(s);
    for (let i = 0; i < Math.min(bytes.length, size - 1); i++) out.setUint8(off + i, bytes[i]!);
    return;
  }
  let v: bigint;
  if (raw === 'y') v = 1n;
  else if (raw === 'm') v = 2n;
  else if (raw === 'n') v = 0n;
  else if (/^-?(0x[0-9a-fA-F]+|\d+)$/.test(raw)) v = raw.startsWith('-') ? -BigInt(raw.slice(1)) : BigInt(raw);
  else throw new NotSupportedError(`kconfig ${name}`, `resolve extern ${name}: value ${raw} does not fit a ${size}-byte number`);
  switch (size) {
    case 1: out.setUint8(off, Number(BigInt.asUintN(8, v))); break;
    case 2: out.setUint16(off, Number(BigInt.asUintN(16, v)), true); break;
    case 4: out.setUint32(off, Number(BigInt.asUintN(32, v)), true); break;
    case 8: out.setBigUint64(off, BigInt.asUintN(64, v), true); break;
    default: throw new NotSupportedError(`kconfig ${name}`, `resolve extern ${name}: ${size}-byte kconfig values are not supported`);
  }
}

/** The `.kconfig` map of one load session. */
export class KconfigMap {
  readonly map: KernelMap;
  readonly offsets: Map<string, number>;

  private constructor(map: KernelMap, offsets: Map<string, number>) {
    this.map = map;
    this.offsets = offsets;
  }

  /** Create, fill and freeze the map from the object's `.kconfig` DATASEC. */
  static create(btf: Btf, btfFd: number, source: string): KconfigMap {
    const ids = btf.findByName('.kconfig', BtfKind.Datasec);
    const sec = ids.length ? btf.types[ids[0]!] : undefined;
    if (!sec || sec.kind !== BtfKind.Datasec || sec.size === 0) {
      throw new ArgumentError(`load ${source}: kconfig externs but no sized .kconfig DATASEC in the object BTF`);
    }
    const value = new Uint8Array(sec.size);
    const dv = new DataView(value.buffer);
    const offsets = new Map<string, number>();
    const cfg = kernelConfig();
    for (const v of sec.vars) {
      const vt = btf.types[v.type];
      if (!vt || vt.kind !== BtfKind.Var) continue;
      offsets.set(vt.name, v.offset);
      let raw: string | undefined;
      if (vt.name === 'LINUX_KERNEL_VERSION') raw = String(kernelVersionCode());
      else if (vt.name === 'LINUX_HAS_BPF_COOKIE' || vt.name === 'LINUX_HAS_SYSCALL_WRAPPER') raw = 'y';
      else raw = cfg.get(vt.name);
      encodeKconfig(btf, vt.type, vt.name, raw, dv, v.offset, v.size);
    }
    const map = KernelMap.create(
      {
        name: '.kconfig', type: 'array', keySize: 4, valueSize: sec.size, maxEntries: 1, flags: BPF_F_RDONLY_PROG,
        pinning: 'none', section: '.kconfig', keyTypeId: 0, valueTypeId: sec.id, contents: [], freeze: true, globalData: true,
      },
      { btfFd },
    );
    try {
      map.update(new Uint8Array(4), value, 0);
      map.freeze();
    } catch (e) {
      map.close();
      throw e;
    }
    return new KconfigMap(map, offsets);
  }

  close(): void {
    this.map.close();
  }
}

/** What resolving externs needs from the session. */
export interface ExternContext {
  kernelBtf: () => Btf;
  /** The session's `.kconfig` map, created on first use. */
  kconfig: () => KconfigMap;
}

/** Patch every extern reference of `spec` into `insns` (a copy of its instructions). */
export function resolveExterns(spec: ProgramSpec, insns: Uint8Array, ctx: ExternContext): void {
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  for (const e of spec.externReferences) {
    const o = e.insn * 8;
    const where = `load program ${spec.name}: insn ${e.insn}: extern ${e.kind} ${e.name}`;
    if (o < 0 || o + 8 > insns.length) throw new ArgumentError(`${where} is outside the program`);
    const code = view.getUint8(o);
    const regs = view.getUint8(o + 1);
    if (e.kind === 'func') {
      if (code !== CALL) throw new ArgumentError(`${where} is not on a call instruction`);
      const ids = ctx.kernelBtf().findByName(e.name, BtfKind.Func);
      if (!ids.length) throw new NotSupportedError(`kfunc ${e.name}`, `${where}: no kernel function ${e.name} in kernel BTF`, { hint: 'the kfunc does not exist in this kernel' });
      view.setUint8(o + 1, (regs & 0x0f) | (PSEUDO_KFUNC_CALL << 4));
      view.setInt16(o + 2, 0, true);
      view.setInt32(o + 4, ids[0]!, true);
      continue;
    }
    if (code !== LD_IMM64 || o + 16 > insns.length) throw new ArgumentError(`${where} is not on an ld_imm64 instruction`);
    if (e.kind === 'kconfig') {
      const k = ctx.kconfig();
      const off = k.offsets.get(e.name);
      if (off === undefined) throw new ArgumentError(`${where}: not in the object's .kconfig DATASEC`);
      view.setUint8(o + 1, (regs & 0x0f) | (PSEUDO_MAP_VALUE << 4));
      view.setInt32(o + 4, k.map.fd, true);
      view.setInt32(o + 12, off, true);
      continue;
    }
    // ksym variable
    const vars = ctx.kernelBtf().findByName(e.name, BtfKind.Var);
    if (vars.length) {
      view.setUint8(o + 1, (regs & 0x0f) | (PSEUDO_BTF_ID << 4));
      view.setInt32(o + 4, vars[0]!, true);
      view.setInt32(o + 12, 0, true);
      continue;
    }
    const addr = kallsymsAddress(e.name);
    if (addr === undefined) {
      throw new NotSupportedError(`ksym ${e.name}`, `${where}: the kernel has no symbol ${e.name} (not in kernel BTF or /proc/kallsyms)`, {
        hint: 'check the name; reading kallsyms addresses needs root and kernel.kptr_restrict=0',
      });
    }
    view.setUint8(o + 1, regs & 0x0f);
    view.setUint32(o + 4, Number(addr & 0xffffffffn), true);
    view.setUint32(o + 12, Number(addr >> 32n), true);
  }
}
