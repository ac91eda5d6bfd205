/**
 * The verifier's API and diagnostics: accepted programs report processed instructions, rejected
 * ones throw VerifierError naming the program, instruction, C line and a hint, with a kernel-style
 * log (instructions and register states); hand-built programs exercise CFG and budget rules; the
 * `bpfkit verify` command reports verdicts and exit codes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { VerifierError } from '../../lib/errors.js';
import type { ObjectSpec, ProgramSpec } from '../../lib/spec/index.js';
import { verifyProgram } from '../../native-sim/verifier/index.js';
import { main } from '../../lib/cli/main.js';
import { compileCorpus } from './corpus.js';

/** A ProgramSpec from raw 8-byte instructions [code, regs, off, imm]. */
function raw(insns: [number, number, number, number][], type: ProgramSpec['type'] = 'xdp'): ProgramSpec {
  const bytes = new Uint8Array(insns.length * 8);
  const dv = new DataView(bytes.buffer);
  insns.forEach(([code, regs, off, imm], i) => {
    bytes[i * 8] = code; bytes[i * 8 + 1] = regs; dv.setInt16(i * 8 + 2, off, true); dv.setInt32(i * 8 + 4, imm, true);
  });
  return {
    name: 'raw', section: type, type, flags: 0, sleepable: false, instructions: bytes, subprograms: [],
    functionStarts: [{ name: 'raw', insn: 0 }], mapReferences: [], externReferences: [], license: 'GPL',
    kernelVersion: 0, funcInfo: [], lineInfo: [], coreRelocs: [],
  };
}
const MOV0 = (v: number): [number, number, number, number] => [0xb7, 0, 0, v];
const EXIT: [number, number, number, number] = [0x95, 0, 0, 0];
const noMaps = { maps: new Map() };

function reject(spec: ProgramSpec): VerifierError {
  try {
    verifyProgram(spec, noMaps);
  } catch (e) {
    expect(e).toBeInstanceOf(VerifierError);
    return e as VerifierError;
  }
  throw new Error('expected a rejection');
}

describe('verifyProgram on hand-built programs', () => {
  it('accepts `r0 = 2; exit` and counts processed insns', () => {
    const r = verifyProgram(raw([MOV0(2), EXIT]), noMaps);
    expect(r.insnsProcessed).toBe(2);
    expect(r.log).toMatch(/processed 2 insns/);
  });
  it('rejects an uninitialised return value', () => {
    const e = reject(raw([EXIT]));
    expect(e.message).toBe('verify raw: insn 0: R0 !read_ok (set a return value before `exit`)');
    expect(e.insn).toBe(0);
    expect(e.code).toBe('VERIFIER_REJECTED');
    expect(e.program).toBe('raw');
  });
  it('rejects unreachable code, jumps out of range and a missing exit', () => {
    expect(reject(raw([MOV0(0), EXIT, MOV0(1), EXIT])).message).toContain('unreachable insn 2');
    expect(reject(raw([MOV0(0), [0x15, 0, 5, 0], EXIT])).message).toContain('jump out of range from insn 1 to 7');
    expect(reject(raw([MOV0(0)])).message).toContain('last insn is not an exit or jmp');
    expect(reject(raw([])).message).toContain('empty program');
  });
  it('detects an infinite loop and enforces the 1M processed-insn budget', () => {
    expect(reject(raw([MOV0(0), [0x05, 0, -1, 0]])).message).toContain('infinite loop detected at insn 1');
    // r0 = 0; loop: r0 += 1; if r0 != r2(unknown) goto loop   (r2 = ctx->ingress_ifindex)
    const e = reject(raw([[0x61, 0x12, 12, 0], MOV0(0), [0x07, 0, 0, 1], [0x5d, 0x20, -2, 0], EXIT]));
    expect(e.message).toContain('BPF program is too large. Processed 1000001 insn');
  }, 120_000);
  it('rejects writes to r10, bad register numbers and reserved ALU encodings', () => {
    expect(reject(raw([[0xb7, 10, 0, 0], MOV0(0), EXIT])).message).toContain('frame pointer is read only');
    expect(reject(raw([[0xbf, 0x0b, 0, 0], EXIT])).message).toContain('R11 is invalid');
    expect(reject(raw([MOV0(1), [0x37, 0, 0, 0], EXIT])).message).toContain('div by zero');
  });
  it('rejects a reference to a map that was not provided', () => {
    const spec = raw([[0x18, 0x11, 0, 0], [0, 0, 0, 0], MOV0(0), EXIT]);
    spec.mapReferences.push({ insn: 0, map: 'missing', offset: 0 });
    expect(reject(spec).message).toContain("refers to map 'missing'");
  });
});

describe('diagnostics on compiled C', () => {
  let objs: Map<string, { path: string; spec: ObjectSpec }>;
  beforeAll(async () => {
    objs = await compileCorpus();
  }, 300_000);

  function verifyNamed(group: string, name: string): VerifierError {
    const o = objs.get(group)!;
    const prog = o.spec.programs.find((p) => p.name === name)!;
    try {
      verifyProgram(prog, { maps: new Map(o.spec.maps.map((m) => [m.name, m])) });
    } catch (e) {
      return e as VerifierError;
    }
    throw new Error(`${name} was accepted`);
  }

  it('names the C line, the field access and suggests a data_end check', () => {
    const e = verifyNamed('cpkt', 'c_tcp_dest_nocheck');
    expect(e).toBeInstanceOf(VerifierError);
    expect(e.source?.file).toMatch(/cpkt\.bpf\.c$/);
    expect(e.source?.text).toContain('tcp->dest');
    expect(e.message).toMatch(/^verify c_tcp_dest_nocheck: insn \d+ at .*cpkt\.bpf\.c:\d+:\d+ `.*tcp->dest.*`: invalid access to packet, off=\d+ size=2/);
    expect(e.hint).toContain('data_end');
    expect(e.log).toMatch(/R\d=pkt\(/);
    expect(e.log).toMatch(/processed \d+ insns/);
  });
  it('explains a missing NULL check after a map lookup', () => {
    const e = verifyNamed('maps', 'map_lookup_unchecked');
    expect(e.message).toContain("invalid mem access 'map_value_or_null'");
    expect(e.hint).toContain('NULL');
  });
  it('explains a leaked ring buffer reservation', () => {
    const e = verifyNamed('helpers', 'rb_reserve_leak');
    expect(e.message).toMatch(/Unreleased reference id=\d+ alloc_insn=\d+/);
    expect(e.hint).toContain('bpf_ringbuf_submit');
  });

  it('bpfkit verify: per-program verdicts, --json rows and exit codes', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } };
    const path = objs.get('regs')!.path;
    expect(await main(['verify', path, '--program', 'ret_cgskb_1'], io)).toBe(0);
    expect(out.join('')).toMatch(/^ret_cgskb_1: accepted \(\d+ insns processed\)\n$/);
    out.length = 0;
    expect(await main(['verify', path, '--program', 'ret_cgskb_2', '--json'], io)).toBe(1);
    const rows = JSON.parse(out.join('')) as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ program: 'ret_cgskb_2', accepted: false, insn: 1 });
    expect(Object.keys(rows[0]!).sort()).toEqual(['accepted', 'insn', 'insnsProcessed', 'line', 'message', 'program']);
    expect(String(rows[0]!.message)).toContain('should have been in [0, 1]');
    out.length = 0;
    expect(await main(['verify', path, '--program', 'nope'], io)).toBe(1);
    expect(err.join('')).toContain("no program 'nope'");
    expect(await main(['verify', path, '--backend', 'bogus'], io)).toBe(2);
    expect(await main(['verify'], io)).toBe(2);
  });

  it.skipIf(!(process.platform === 'linux' && process.getuid?.() === 0))('bpfkit verify --backend kernel agrees on a rejection and an acceptance (needs root on Linux)', async () => {
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: () => 0 } };
    const path = objs.get('regs')!.path;
    expect(await main(['verify', path, '--program', 'ret_cgskb_2', '--backend', 'kernel', '--json'], io)).toBe(1);
    const rows = JSON.parse(out.join('')) as Record<string, unknown>[];
    expect(rows[0]).toMatchObject({ program: 'ret_cgskb_2', accepted: false });
    out.length = 0;
    expect(await main(['verify', path, '--program', 'ret_cgskb_1', '--backend', 'kernel', '--json'], io)).toBe(0);
    const ok = JSON.parse(out.join('')) as Record<string, unknown>[];
    expect(ok[0]).toMatchObject({ program: 'ret_cgskb_1', accepted: true });
    expect(ok[0]!.insnsProcessed).toBeGreaterThan(0);
  });
});

