/**
 * Resources have owners: 1000 load/close cycles of a whole object (BTF, maps, programs, a test
 * run, a pin/open of a map, an mmap) leave the process's fd count exactly where it was.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KernelMap } from '../../lib/kernel/maps.js';
import { MapFlag } from '../../lib/spec/index.js';
import { VerifierError } from '../../lib/errors.js';
import { compileC, compileProg } from '../helpers/progs.js';
import { kernelSkipReason, loadObjectFile, mapSpec, pinDir, removePinDir, u32 } from './load-helpers.js';

const title = kernelSkipReason ? `kernel fd leaks (skipped: ${kernelSkipReason})` : 'kernel fd leaks';
const fdCount = (): number => readdirSync('/proc/self/fd').length;

describe.skipIf(kernelSkipReason !== undefined)(title, () => {
  let dir = '';
  beforeAll(() => {
    dir = pinDir('fdleak');
  });
  afterAll(() => removePinDir(dir));

  test('1000 load/run/close cycles of an object leave /proc/self/fd unchanged', async () => {
    const path = await compileProg('xdp_basic');
    // warm-up: lazy one-time state (addon, possible CPUs) must not count as a leak
    loadObjectFile(path).close();
    const before = fdCount();
    for (let i = 0; i < 1000; i++) {
      const obj = loadObjectFile(path);
      if (i % 100 === 0) {
        expect(obj.progs.get('xdp_pass_all')!.run({ data: new Uint8Array(64) }).retval).toBe(2);
      }
      obj.close();
    }
    expect(fdCount()).toBe(before);
  });

  test('objects with CO-RE and kconfig/ksym/kfunc externs: 200 load/run/close cycles leak nothing', async () => {
    const core = await compileC('test/kernel/progs/core_task.bpf.c');
    const externs = await compileC('test/kernel/progs/externs_k.bpf.c');
    loadObjectFile(core).close();
    loadObjectFile(externs).close();
    const before = fdCount();
    for (let i = 0; i < 200; i++) {
      const a = loadObjectFile(core, { programs: ['core_raw_tp'] });
      const b = loadObjectFile(externs);
      if (i % 50 === 0) expect(b.progs.get('read_externs')!.run({}).retval).toBe(0);
      a.close();
      b.close();
    }
    expect(fdCount()).toBe(before);
  });

  test('failed loads, pinned opens and mmaps release their fds too (200 cycles)', async () => {
    const rejected = await compileC('test/kernel/progs/verifier_reject.bpf.c');
    const before = fdCount();
    for (let i = 0; i < 200; i++) {
      const m = KernelMap.create(mapSpec({ name: 'fd_mm', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, flags: MapFlag.Mmapable }));
      m.mmap();
      m.pin(`${dir}/m`);
      const o = KernelMap.openPinned(`${dir}/m`);
      o.update(u32(1), new Uint8Array(8), 0);
      o.close();
      m.close();
      removePinDir(`${dir}/m`);
      expect(() => KernelMap.openPinned(`${dir}/m`)).toThrow();
      // BTF loaded, then the verifier refuses the program: the session must release everything
      expect(() => loadObjectFile(rejected)).toThrow(VerifierError);
    }
    expect(fdCount()).toBe(before);
  });
});
