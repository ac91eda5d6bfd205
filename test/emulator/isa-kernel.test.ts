/**
 * The ISA corpus on the real kernel: every case the kernel can load (no expected error, no raw
 * memory pointer) is loaded as a socket filter and run with BPF_PROG_TEST_RUN. The kernel reports
 * retval as u32, so each case runs twice: as is (low half of r0) and wrapped as a subprogram of
 * `call case; r0 >>= 32; exit` (high half). The full 64-bit r0 must equal both engines' r0 and
 * the corpus expectation. LD_ABS/LD_IND cases get the memory as packet data after
 * a 14-byte Ethernet header (socket filters see skb data from the network header) and an
 * implicit `r6 = r1` prologue (the kernel's legacy loads read the skb from r6).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadSession } from '../../lib/backend.js';
import { VerifierError } from '../../lib/errors.js';
import { createKernelBackend, probeKernel } from '../../lib/kernel/index.js';
import type { ObjectSpec, ProgramSpec } from '../../lib/spec/index.js';
import { ENGINES, runRaw } from '../../native-sim/jit/raw.js';
import { loadCorpus, type IsaCase } from './isa/corpus.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
const cases = loadCorpus().filter((c) => c.kernel);

function specFor(c: IsaCase, insns: Uint8Array): ProgramSpec {
  return {
    name: 'isa_case', section: 'socket', type: 'socket_filter', flags: 0, sleepable: false, instructions: insns,
    subprograms: [], functionStarts: [{ name: 'isa_case', insn: 0 }], mapReferences: [], externReferences: [],
    license: 'GPL', kernelVersion: 0, funcInfo: [], lineInfo: [], coreRelocs: [],
  };
}

describe.skipIf(!isRootLinux)('ISA corpus on the kernel (skipped: needs root on Linux)', () => {
  let session: LoadSession | undefined;
  afterAll(() => session?.close());

  it('the kernel backend works here', () => {
    expect(probeKernel().ok).toBe(true);
    expect(cases.length).toBeGreaterThan(1000);
  });

  it('kernel retval = emulator r0 (both halves) on both engines, for every loadable case', () => {
    const backend = createKernelBackend();
    const obj: ObjectSpec = { source: '<isa corpus>', license: 'GPL', kernelVersion: 0, programs: [], maps: [] };
    session = backend.openSession(obj);
    const failures: string[] = [];
    let ran = 0;
    let highRan = 0;
    for (const c of cases) {
      let insns = c.insns;
      let data = new Uint8Array(64);
      if (c.ldabs) {
        insns = new Uint8Array(c.insns.length + 8);
        insns.set([0xbf, 0x16, 0, 0, 0, 0, 0, 0]); // mov64 r6, r1
        insns.set(c.insns, 8);
        data = new Uint8Array(14 + c.mem!.length);
        data.set(c.mem!, 14);
      }
      const runK = (code: Uint8Array): number | undefined => {
        try {
          const prog = session!.loadProgram(specFor(c, code), { maps: new Map() });
          try {
            return prog.run({ data }).retval;
          } finally {
            prog.close();
          }
        } catch (e) {
          const why = e instanceof VerifierError ? e.log.split('\n').filter(Boolean).slice(-2).join(' | ') : String(e);
          failures.push(`${c.file}:${c.line} ${c.name}: kernel refused: ${why}`);
          return undefined;
        }
      };
      const retval = runK(insns);
      if (retval === undefined) continue;
      // The high half: call the case as a subprogram, then `r0 >>= 32; exit`. (Legacy packet
      // loads cannot be mixed with bpf-to-bpf calls, and their results are 32-bit anyway.)
      let k = BigInt(retval >>> 0);
      if (c.kernelHigh) {
        const wrapped = new Uint8Array(c.insns.length + 24);
        wrapped.set([0x85, 0x10, 0, 0, 2, 0, 0, 0, 0x77, 0, 0, 0, 32, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
        wrapped.set(c.insns, 24);
        const high = runK(wrapped);
        if (high === undefined) continue;
        k |= BigInt(high >>> 0) << 32n;
        highRan++;
      }
      ran++;
      for (const engine of ['interpreter', 'jit'] as const) {
        const mask = c.kernelHigh ? 0xffffffffffffffffn : 0xffffffffn;
        const r0 = runRaw(ENGINES[engine], c.insns, c.mem, { ldabs: c.ldabs }).r0 & mask;
        if (r0 !== k) failures.push(`${c.file}:${c.line} ${c.name}: kernel 0x${k.toString(16)} vs ${engine} 0x${r0.toString(16)}`);
      }
      if (c.result !== undefined && (c.result & (c.kernelHigh ? 0xffffffffffffffffn : 0xffffffffn)) !== k) {
        failures.push(`${c.file}:${c.line} ${c.name}: kernel 0x${k.toString(16)} vs expected 0x${c.result.toString(16)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(ran).toBe(cases.length);
    expect(highRan).toBeGreaterThan(1000);
  }, 120_000);
});
