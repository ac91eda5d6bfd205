// Helper probes (probeHelper) against the kernel itself: a probe's answer must match what happens
// when the real clang-built test programs that call the helper are loaded one by one.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseObject } from '../../lib/elf/index.js';
import { ArgumentError, VerifierError } from '../../lib/errors.js';
import { load, probeHelper } from '../../lib/index.js';
import { unsupportedHelpers } from '../../lib/kernel/features.js';
import { isRootLinux } from '../helpers/kernel-features.js';
import { allProgs } from '../helpers/progs.js';

const PIN_ROOT = `/sys/fs/bpf/bpfkit_features_${process.pid}`;

describe.skipIf(!isRootLinux)('probeHelper (needs root on Linux)', () => {
  afterAll(() => rmSync(PIN_ROOT, { recursive: true, force: true }));

  it('answers what every program type offers for facts that hold on any kernel', async () => {
    expect((await probeHelper('xdp', 'bpf_map_lookup_elem')).supported).toBe(true);
    expect((await probeHelper('xdp', 'xdp_adjust_head')).supported).toBe(true);
    expect((await probeHelper('sched_cls', 'bpf_skb_store_bytes')).supported).toBe(true);
    const no = await probeHelper('socket_filter', 'bpf_xdp_adjust_head');
    expect(no.supported).toBe(false);
    expect(no.reason).toMatch(/xdp_adjust_head/);
    const no2 = await probeHelper('xdp', 'bpf_skb_store_bytes');
    expect(no2).toMatchObject({ supported: false, helper: 'bpf_skb_store_bytes', id: 9, progType: 'xdp' });
  });

  it('rejects what it cannot probe with ArgumentError', async () => {
    await expect(probeHelper('xdp', 'bpf_no_such_helper')).rejects.toThrow(ArgumentError);
    await expect(probeHelper('xdp', 100000)).rejects.toThrow(/unknown helper id 100000/);
    await expect(probeHelper('nope' as never, 1)).rejects.toThrow(/unknown program type "nope"/);
    await expect(probeHelper('tracing', 1)).rejects.toThrow(/attach target/);
  });

  it('agrees with the kernel loading each test program alone: loads iff every helper it calls is offered', async () => {
    let checked = 0;
    let refused = 0;
    for (const p of await allProgs()) {
      const spec = parseObject(readFileSync(p.path), p.path);
      for (const prog of spec.programs) {
        if (!['xdp', 'sched_cls', 'socket_filter', 'cgroup_skb', 'tracepoint', 'raw_tracepoint'].includes(prog.type)) continue;
        const missing = unsupportedHelpers(prog);
        let err: unknown;
        try {
          (await load(spec, { backend: 'kernel', pinRoot: PIN_ROOT, programs: [prog.name] })).close();
        } catch (e) {
          err = e;
        }
        const where = `${p.name}/${prog.name}`;
        if (missing.length === 0) {
          expect(err, where).toBeUndefined();
        } else {
          refused++;
          expect(err, where).toBeInstanceOf(VerifierError);
          expect((err as Error).message, where).toContain(`cannot use helper ${missing[0]!.helper}#${missing[0]!.id}`);
          expect((err as Error).message, where).toContain(`probeHelper('${prog.type}', '${missing[0]!.helper}')`);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
    // not a count of this kernel's gaps (that depends on the kernel), just a record of them
    console.log(`probeHelper vs kernel load: ${checked} programs, ${refused} refused for a missing helper`);
  }, 120_000);
});
