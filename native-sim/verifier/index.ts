/**
 * Public entry of the emulator's verifier.
 *
 * `verifyProgram(spec, { maps })` proves a program safe the way the Linux verifier does for a
 * privileged loader, or throws a `VerifierError` whose message names the program, the instruction,
 * the C source line (from BTF line info) and what to change; `.log` holds a kernel-style log.
 */
import { VerifierError, type SourceLocation } from '../../lib/errors.js';
import type { AttachType, LineInfo, MapType, ProgType, ProgramSpec } from '../../lib/spec/index.js';
import { Fail, Verifier, type VerifierMap } from './verifier.js';
import { formatState, insnText } from './log.js';
import type { Btf } from '../../lib/btf/index.js';

export type { VerifierMap } from './verifier.js';

/** What the verifier needs to know about a map (a MapSpec or a live map's MapInfo both fit). */
export interface MapSpecLike {
  name?: string;
  type: MapType;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** Initial contents of global-data maps (constant reads of frozen `.rodata`). */
  initialData?: Uint8Array;
  section?: string;
  freeze?: boolean;
}

export interface VerifyContext {
  /** Maps by the names used in `spec.mapReferences`. */
  maps: ReadonlyMap<string, MapSpecLike>;
  /** Defaults to `spec.type`. */
  programType?: ProgType;
  /** Defaults to `spec.attachType`. */
  attachType?: AttachType;
  /** 0: log only on rejection; 1: every path's branch states; 2: every instruction. */
  logLevel?: number;
  /**
   * The object's BTF (ObjectSpec.btf). With it, global (non-static) functions are verified on their
   * own from their BTF-typed arguments, as the kernel does; without it they are verified per call
   * site like static functions.
   */
  btf?: Btf;
}

export interface VerifyResult {
  /** Instructions processed over all explored paths (the kernel's "processed N insns"). */
  insnsProcessed: number;
  log: string;
  /** Explored states stored for pruning. */
  totalStates: number;
  peakStates: number;
}

/** Prove `spec` safe or throw VerifierError. */
export function verifyProgram(spec: ProgramSpec, ctx: VerifyContext): VerifyResult {
  const type = ctx.programType ?? spec.type;
  const attach = ctx.attachType ?? spec.attachType;
  const logLevel = ctx.logLevel ?? 0;
  let v: Verifier | undefined;
  try {
    v = new Verifier(spec, ctx.maps as ReadonlyMap<string, VerifierMap>, { programType: type, attachType: attach, logLevel, ...(ctx.btf ? { btf: ctx.btf } : {}) });
    const out = v.run();
    const summary = statsLine(out.insnsProcessed, out.totalStates, out.peakStates);
    return {
      insnsProcessed: out.insnsProcessed,
      log: out.log ? `${out.log}\n${summary}` : summary,
      totalStates: out.totalStates,
      peakStates: out.peakStates,
    };
  } catch (e) {
    if (e instanceof Fail) throw rejection(spec, v, e, ctx);
    if (e instanceof VerifierError) throw e;
    // an internal error must still surface as a verifier rejection naming the program
    throw new VerifierError(spec.name, `verify ${spec.name}: internal verifier error: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

function statsLine(processed: number, total: number, peak: number): string {
  return `processed ${processed} insns (limit 1000000) max_states_per_insn 0 total_states ${total} peak_states ${peak} mark_read 0`;
}

/** The source line of instruction `insn` (the last line-info record at or before it). */
export function sourceOf(lineInfo: readonly LineInfo[], insn: number): SourceLocation | undefined {
  let best: LineInfo | undefined;
  for (const li of lineInfo) {
    if (li.insn <= insn && (!best || li.insn >= best.insn)) best = li;
  }
  if (!best) return undefined;
  return { file: best.file, line: best.line, column: best.column, text: best.text.trim() };
}

function rejection(spec: ProgramSpec, v: Verifier | undefined, f: Fail, ctx: VerifyContext): VerifierError {
  const src = sourceOf(spec.lineInfo, f.insn);
  const where = src ? ` at ${src.file}:${src.line}:${src.column}${src.text ? ` \`${src.text}\`` : ''}` : '';
  const message = `verify ${spec.name}: insn ${f.insn}${where}: ${f.msg}`;
  const lines: string[] = [];
  if (v) {
    if (ctx.logLevel && v.logParts.length) lines.push(...v.logParts);
    else {
      // the last instructions of the failing path (from the trail ring buffer)
      const trail: number[] = [];
      for (let k = 1; k <= 64 && k <= v.trailPos; k++) {
        const x = v.trail[(v.trailPos - k) & 63]!;
        if (x <= -2) break;
        trail.push(x);
      }
      trail.reverse();
      let prevLine = -1;
      for (const i of trail) {
        const s = sourceOf(spec.lineInfo, i);
        if (s && s.line !== prevLine) { lines.push(`; ${s.text} @ ${s.file}:${s.line}`); prevLine = s.line; }
        lines.push(`${i}: ${insnText(v, i)}`);
      }
    }
    const st = v.failState;
    if (st) lines.push(`${f.insn}: ${formatState(v, st)}`);
    lines.push(f.msg);
    lines.push(`processed ${v.processed} insns (limit 1000000) max_states_per_insn 0 total_states ${v.totalStates} peak_states ${v.peakStates} mark_read 0`);
  } else {
    lines.push(f.msg);
  }
  return new VerifierError(spec.name, message, {
    log: lines.join('\n'),
    insn: f.insn,
    ...(src ? { source: src } : {}),
    ...(f.hint ? { hint: f.hint } : {}),
  });
}
