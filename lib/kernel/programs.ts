/**
 * Kernel programs: BPF_PROG_LOAD (map fds patched into ld_imm64, CO-RE applied, BTF func/line
 * info passed), verifier failures turned into VerifierError naming the C source line,
 * BPF_PROG_TEST_RUN, pinning.
 */
import type { AttachRequest, BackendLink, BackendMap, BackendProgram, LoadProgramOptions, RunOptions, RunResult } from '../backend.js';
import { ArgumentError, NotSupportedError, VerifierError, type SourceLocation } from '../errors.js';
import type { Btf } from '../btf/index.js';
import { attachTypeId, progTypeId, progTypeName, type ProgType, type ProgramSpec } from '../spec/index.js';
import { Attr, BpfCmd, objName, ProgInfoOff, ProgLoadFlag, ProgLoadOff, readCString, TestRunOff } from './attr.js';
import { Errno } from './binding.js';
import { attachBtfId, decodeLog, logTail, vmlinuxBtf } from './btf.js';
import { applyCoreRelocs, type CoreResult } from './core.js';
import { resolveExterns, type ExternContext } from './externs.js';
import { attachProgram } from './links.js';
import { bpfError, closeFd, errnoHint, objGet, objInfo, objPin, sys } from './sys.js';

const PSEUDO_MAP_FD = 1;
const PSEUDO_MAP_VALUE = 2;
const LD_IMM64 = 0x18;

const LOG_START = 256 * 1024;
const LOG_MAX = 1 << 30;

export interface ProgLoadContext {
  /** Object BTF fd (0 = none) and the parsed object BTF (for CO-RE). */
  btfFd: number;
  btf?: Btf;
  /** Kernel BTF provider (parsed lazily, only when a program needs it). */
  kernelBtf?: () => Btf;
  /** Resolves kfuncs, ksyms and kconfig externs (set by the load session). */
  externs?: ExternContext;
}

/** Patch map fds / value offsets into a copy of the program's instructions. */
export function patchMapReferences(spec: ProgramSpec, insns: Uint8Array, maps: ReadonlyMap<string, BackendMap>): void {
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  for (const ref of spec.mapReferences) {
    const o = ref.insn * 8;
    const where = `load program ${spec.name}: insn ${ref.insn}`;
    if (o < 0 || o + 16 > insns.length) throw new ArgumentError(`${where}: map reference to ${ref.map} is outside the program`);
    if (view.getUint8(o) !== LD_IMM64) throw new ArgumentError(`${where}: map reference to ${ref.map} is not on an ld_imm64 instruction`);
    const map = maps.get(ref.map);
    if (!map) throw new ArgumentError(`${where}: references map ${ref.map}, which the object did not create`);
    const fd = map.fd;
    if (fd === undefined || fd < 0) throw new ArgumentError(`${where}: map ${ref.map} is closed`);
    const src = view.getUint8(o + 1) >> 4;
    view.setInt32(o + 4, fd, true);
    if (src === PSEUDO_MAP_VALUE) view.setInt32(o + 12, ref.offset, true);
    else if (src !== PSEUDO_MAP_FD) {
      // The ELF reader marks map loads; accept an unmarked one as a plain map fd load.
      view.setUint8(o + 1, (view.getUint8(o + 1) & 0x0f) | ((ref.offset ? PSEUDO_MAP_VALUE : PSEUDO_MAP_FD) << 4));
      if (ref.offset) view.setInt32(o + 12, ref.offset, true);
    }
  }
}

/** func_info records (rec size 8): insn_off, type_id. */
export function encodeFuncInfo(spec: ProgramSpec): Uint8Array {
  const out = new Uint8Array(spec.funcInfo.length * 8);
  const v = new DataView(out.buffer);
  spec.funcInfo.forEach((f, i) => {
    v.setUint32(i * 8, f.insn, true);
    v.setUint32(i * 8 + 4, f.typeId, true);
  });
  return out;
}

/** line_info records (rec size 16): insn_off, file_name_off, line_off, line << 10 | col. */
export function encodeLineInfo(spec: ProgramSpec): Uint8Array {
  const out = new Uint8Array(spec.lineInfo.length * 16);
  const v = new DataView(out.buffer);
  spec.lineInfo.forEach((l, i) => {
    v.setUint32(i * 16, l.insn, true);
    v.setUint32(i * 16 + 4, l.fileNameOff, true);
    v.setUint32(i * 16 + 8, l.lineOff, true);
    v.setUint32(i * 16 + 12, ((l.line << 10) | (l.column & 0x3ff)) >>> 0, true);
  });
  return out;
}

/** The source line of instruction `insn` (the last line_info at or before it). */
export function sourceOf(spec: ProgramSpec, insn: number): SourceLocation | undefined {
  let best: ProgramSpec['lineInfo'][number] | undefined;
  for (const l of spec.lineInfo) {
    if (l.insn <= insn && (!best || l.insn >= best.insn)) best = l;
  }
  return best ? { file: best.file, line: best.line, column: best.column, text: best.text } : undefined;
}

const INSN_LINE = /^(\d+): \([0-9a-f]{2}\)/;

/** Summarise a verifier log: the failing instruction and the error line(s). */
export function summariseVerifierLog(log: string): { insn?: number; error: string } {
  const lines = log.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  let end = lines.length;
  while (end > 0 && /^(processed \d+ insns|verification time|stack depth|-- END PROG LOAD LOG --)/.test(lines[end - 1]!)) end--;
  let insn: number | undefined;
  let lastInsnLine = -1;
  for (let i = end - 1; i >= 0; i--) {
    const m = INSN_LINE.exec(lines[i]!);
    if (m) {
      insn = Number(m[1]);
      lastInsnLine = i;
      break;
    }
  }
  const errLines = lines.slice(lastInsnLine + 1, end).filter((l) => !l.startsWith(';') && !/^\d+: R\d/.test(l) && !/^\d+: \(/.test(l));
  let error = errLines.join('; ');
  if (!error) error = lines[end - 1] ?? '';
  if (insn === undefined) {
    // Some rejections name the instruction in the message: "... at insn 12" / "insn 12 ...".
    const m = /\binsn (\d+)\b/.exec(error);
    if (m) insn = Number(m[1]);
  }
  return { insn, error };
}

/** attach_btf_id for programs that need one, from the spec's type / attach type / target. */
function resolveAttachBtfId(spec: ProgramSpec): number {
  const at = spec.attachType;
  const target = spec.attachTo;
  if (!target) return 0;
  switch (spec.type) {
    case 'tracing':
      if (at === 'trace_raw_tp') return attachBtfId('tp_btf', target, spec.name);
      if (at === 'trace_iter') return attachBtfId('iter', target, spec.name);
      return attachBtfId('func', target, spec.name);
    case 'lsm':
      return attachBtfId('lsm', target, spec.name);
    default:
      return 0;
  }
}

/** A loaded kernel program. */
export class KernelProgram implements BackendProgram {
  readonly name: string;
  readonly type: ProgType;
  readonly id: number;
  readonly insnsProcessed?: number;
  readonly log?: string;
  private fdValue: number;

  constructor(fd: number, name: string, type: ProgType, id: number, extra: { insnsProcessed?: number; log?: string } = {}) {
    this.fdValue = fd;
    this.name = name;
    this.type = type;
    this.id = id;
    if (extra.insnsProcessed !== undefined) this.insnsProcessed = extra.insnsProcessed;
    if (extra.log !== undefined) this.log = extra.log;
  }

  get fd(): number {
    return this.fdValue;
  }

  /** Wrap a program fd we own (closes it on failure). */
  static fromFd(fd: number, op: string, name?: string): KernelProgram {
    try {
      const info = objInfo(op, fd, ProgInfoOff.Size);
      const dv = new DataView(info.buffer, info.byteOffset, info.byteLength);
      const typeId = dv.getUint32(ProgInfoOff.Type, true);
      const type = progTypeName(typeId);
      if (!type) throw new NotSupportedError(`program type ${typeId}`, `${op}: unknown kernel program type ${typeId}`);
      return new KernelProgram(fd, name ?? readCString(info, ProgInfoOff.Name, 16), type, dv.getUint32(ProgInfoOff.Id, true), {
        insnsProcessed: dv.getUint32(ProgInfoOff.VerifiedInsns, true),
      });
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  static openPinned(path: string): KernelProgram {
    const fd = objGet('open pinned program', path);
    return KernelProgram.fromFd(fd, `open pinned program ${path}`);
  }

  run(opts: RunOptions): RunResult {
    const s = sys();
    const op = `run program ${this.name}`;
    if (this.fdValue < 0) throw new ArgumentError(`${op}: program is closed`);
    const data = opts.data ?? new Uint8Array(0);
    const outSize = opts.dataSizeOut ?? (data.length ? data.length + 256 : 0);
    const dataOut = new Uint8Array(Math.max(outSize, 1));
    const attr = new Attr(s, TestRunOff.Size).setU32(TestRunOff.ProgFd, this.fdValue);
    if (data.length) attr.ptr(TestRunOff.DataIn, data).setU32(TestRunOff.DataSizeIn, data.length);
    if (outSize) attr.ptr(TestRunOff.DataOut, dataOut).setU32(TestRunOff.DataSizeOut, outSize);
    let ctxOut: Uint8Array | undefined;
    if (opts.ctx && opts.ctx.length) attr.ptr(TestRunOff.CtxIn, opts.ctx).setU32(TestRunOff.CtxSizeIn, opts.ctx.length);
    const ctxOutSize = opts.ctxSizeOut ?? (opts.ctx ? opts.ctx.length : 0);
    if (ctxOutSize > 0) {
      ctxOut = new Uint8Array(ctxOutSize);
      attr.ptr(TestRunOff.CtxOut, ctxOut).setU32(TestRunOff.CtxSizeOut, ctxOutSize);
    }
    if (opts.repeat !== undefined) {
      if (!Number.isInteger(opts.repeat) || opts.repeat < 0) throw new ArgumentError(`${op}: repeat must be a non-negative integer`);
      attr.setU32(TestRunOff.Repeat, opts.repeat);
    }
    if (opts.flags) attr.setU32(TestRunOff.Flags, opts.flags);
    if (opts.cpu !== undefined) attr.setU32(TestRunOff.Cpu, opts.cpu);
    // signals blocked during the run: the kernel stops a test run with EINTR when one is pending
    // (a profiler's SIGPROF, a child's SIGCHLD), and a run is bounded by its repeat count
    const r = attr.callNoSignals(BpfCmd.ProgTestRun);
    if (r < 0) {
      const errno = -r;
      if (errno === Errno.ENOTSUPP || errno === Errno.EOPNOTSUPP) {
        throw new NotSupportedError('test run', `${op}: the kernel cannot test-run ${this.type} programs (${s.errnoString(errno)})`);
      }
      const hint =
        errno === Errno.ENOSPC ? `the output did not fit ${outSize} bytes; pass a larger dataSizeOut`
        : errno === Errno.EINVAL ? `check the input: ${this.type} programs need suitable data/ctx (e.g. at least a 14-byte Ethernet header for xdp/tc)`
        : undefined;
      throw bpfError(op, BpfCmd.ProgTestRun, errno, hint);
    }
    const gotOut = attr.getU32(TestRunOff.DataSizeOut);
    const result: RunResult = {
      retval: attr.getU32(TestRunOff.Retval),
      data: outSize ? dataOut.slice(0, Math.min(gotOut, outSize)) : new Uint8Array(0),
      durationNs: attr.getU32(TestRunOff.Duration),
    };
    if (ctxOut) result.ctx = ctxOut.slice(0, Math.min(attr.getU32(TestRunOff.CtxSizeOut), ctxOut.length));
    return result;
  }

  attach(req: AttachRequest): BackendLink {
    return attachProgram(this, req);
  }

  pin(path: string): void {
    objPin(`pin program ${this.name}`, this.fdValue, path);
  }

  close(): void {
    const fd = this.fdValue;
    if (fd < 0) return;
    this.fdValue = -1;
    sys().close(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** BPF_PROG_LOAD of one program spec. */
export function loadProgram(spec: ProgramSpec, opts: LoadProgramOptions, ctx: ProgLoadContext): KernelProgram {
  const s = sys();
  const op = `load program ${spec.name}`;
  const typeId = progTypeId(spec.type);
  if (typeId <= 0) throw new NotSupportedError(`program type ${spec.type}`, `${op}: section ${spec.section} has no kernel program type`, { hint: 'run it on the emulator, or use a libbpf SEC() name' });
  if (spec.instructions.length === 0 || spec.instructions.length % 8 !== 0) {
    throw new ArgumentError(`${op}: instructions must be a non-empty multiple of 8 bytes (got ${spec.instructions.length})`);
  }
  const insns = new Uint8Array(spec.instructions); // a copy (Buffer.slice would alias)
  patchMapReferences(spec, insns, opts.maps);
  if (spec.externReferences.length) {
    if (!ctx.externs) {
      const e = spec.externReferences[0]!;
      throw new NotSupportedError(`extern ${e.kind}`, `${op}: insn ${e.insn} references extern ${e.kind} ${e.name}; load it through a session to resolve externs`);
    }
    resolveExterns(spec, insns, ctx.externs);
  }
  const core = spec.coreRelocs.length ? applyCoreRelocs(spec, insns, ctx.btf, ctx.kernelBtf ?? vmlinuxBtf) : [];
  const poisoned = core.filter((c) => c.poisoned);

  const license = new TextEncoder().encode((spec.license ?? '') + '\0'); // no license section: not GPL (as libbpf)
  const attr = new Attr(s, ProgLoadOff.Size)
    .setU32(ProgLoadOff.ProgType, typeId)
    .setU32(ProgLoadOff.InsnCnt, insns.length / 8)
    .ptr(ProgLoadOff.Insns, insns)
    .ptr(ProgLoadOff.License, license)
    .setU32(ProgLoadOff.KernVersion, spec.kernelVersion >>> 0)
    .setU32(ProgLoadOff.ProgFlags, (spec.flags | (spec.sleepable ? ProgLoadFlag.Sleepable : 0)) >>> 0)
    .name(ProgLoadOff.ProgName, objName(spec.name));
  if (spec.attachType !== undefined) attr.setU32(ProgLoadOff.ExpectedAttachType, attachTypeId(spec.attachType));
  const btfId = resolveAttachBtfId(spec);
  if (btfId) attr.setU32(ProgLoadOff.AttachBtfId, btfId);
  if (ctx.btfFd > 0) {
    attr.setU32(ProgLoadOff.ProgBtfFd, ctx.btfFd);
    if (spec.funcInfo.length) {
      attr.setU32(ProgLoadOff.FuncInfoRecSize, 8).ptr(ProgLoadOff.FuncInfo, encodeFuncInfo(spec)).setU32(ProgLoadOff.FuncInfoCnt, spec.funcInfo.length);
    }
    if (spec.lineInfo.length) {
      attr.setU32(ProgLoadOff.LineInfoRecSize, 16).ptr(ProgLoadOff.LineInfo, encodeLineInfo(spec)).setU32(ProgLoadOff.LineInfoCnt, spec.lineInfo.length);
    }
  }

  const logLevel = opts.logLevel ?? 0;
  let logSize = Math.max(opts.logSize ?? LOG_START, 1024);
  let logBuf: Uint8Array | undefined;
  const setLog = (level: number) => {
    logBuf = new Uint8Array(logSize);
    attr.setU32(ProgLoadOff.LogLevel, level).setU32(ProgLoadOff.LogSize, logSize).ptr(ProgLoadOff.LogBuf, logBuf).setU32(ProgLoadOff.LogTrueSize, 0);
  };
  if (logLevel > 0) setLog(logLevel);

  // signals blocked during verification (else a pending signal aborts it with EAGAIN); EAGAIN
  // retried a few times as libbpf does, for the other transient causes
  const call = (): number => {
    let res = attr.callNoSignals(BpfCmd.ProgLoad);
    for (let tries = 1; res === -Errno.EAGAIN && tries < 5; tries++) res = attr.callNoSignals(BpfCmd.ProgLoad);
    return res;
  };
  let r = call();
  let errno = r < 0 ? -r : 0;
  // Failure without a log: retry with one. ENOSPC: grow to what the kernel says it needs.
  if (r < 0 && logLevel === 0 && errno !== Errno.EPERM && errno !== Errno.E2BIG) {
    setLog(1);
    r = call();
    errno = r < 0 ? -r : 0;
  }
  while (r < 0 && errno === Errno.ENOSPC && logBuf && logSize < LOG_MAX) {
    const need = attr.getU32(ProgLoadOff.LogTrueSize);
    logSize = Math.min(LOG_MAX, Math.max(logSize * 4, need + 1));
    setLog(Math.max(logLevel, 1));
    r = call();
    errno = r < 0 ? -r : 0;
  }
  const log = logBuf ? decodeLog(logBuf) : '';
  if (r < 0) throw loadError(spec, errno, log, poisoned);

  const prog = KernelProgram.fromFd(r, op, spec.name);
  if (logLevel > 0) (prog as { log?: string }).log = log;
  return prog;
}

function loadError(spec: ProgramSpec, errno: number, log: string, poisoned: CoreResult[]): Error {
  const op = `load program ${spec.name}`;
  const s = sys();
  if (errno === Errno.EPERM && !log) return bpfError(op, BpfCmd.ProgLoad, errno);
  if (!log.trim()) {
    const hint = errnoHint(errno) ?? (errno === Errno.EINVAL ? `the kernel refused the ${spec.type} program before verification (check the section name, license and attach type)` : undefined);
    return bpfError(op, BpfCmd.ProgLoad, errno, hint);
  }
  const summary = summariseVerifierLog(log);
  const { insn } = summary;
  let error = summary.error;
  // A reachable poisoned CO-RE relocation: say which relocation failed, as libbpf does.
  const bad = insn !== undefined ? poisoned.find((p) => p.reloc.insn === insn) : undefined;
  if (bad) error = `CO-RE relocation (${bad.reloc.kind}) failed: ${bad.reason ?? 'no match in kernel BTF'} (verifier: ${error})`;
  const source = insn !== undefined ? sourceOf(spec, insn) : undefined;
  let where = '';
  if (insn !== undefined) {
    where = ` at insn ${insn}`;
    if (source) where += ` (${source.file}:${source.line}${source.text ? `: ${source.text.trim()}` : ''})`;
  }
  const tail = logTail(log, 8);
  const message = `${op}: verifier rejected the program${where}: ${error || s.errnoString(errno)}\n${tail}`;
  const opts: ConstructorParameters<typeof VerifierError>[2] = { log, errno };
  if (insn !== undefined) opts.insn = insn;
  if (source) opts.source = source;
  if (errno === Errno.EPERM || errno === Errno.EACCES) {
    const h = errnoHint(errno);
    if (h && /permission|capab|CAP_/i.test(error)) opts.hint = h;
  }
  const missing = /(?:cannot use helper|unknown func) (\S+)#/.exec(error)?.[1];
  if (missing) {
    opts.hint = `this kernel does not offer ${missing} to ${spec.type} programs; probeHelper('${spec.type}', '${missing}') tells before a load, so the program can avoid it`;
  }
  return new VerifierError(spec.name, message, opts);
}

