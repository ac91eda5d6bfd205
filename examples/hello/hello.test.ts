// The hello example on both backends: same verdicts, same counters; the load-time constant works.
import { describe, expect, it } from 'vitest';
import { hello } from './hello.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;

const expected = {
  verdicts: [2, 2, 1, 1],
  counters: {
    '0x0800': { frames: 2n, bytes: 1564n },
    '0x86dd': { frames: 1n, bytes: 40n },
    '0x0806': { frames: 1n, bytes: 42n },
  },
};

describe('examples/hello', () => {
  it.skipIf(!isRootLinux)('kernel: verdicts and counters (BPF_PROG_TEST_RUN)', async () => {
    const r = await hello({ backend: 'kernel' });
    expect(r.backend).toBe('kernel');
    expect(r.verdicts).toEqual(expected.verdicts);
    expect(r.counters).toEqual(expected.counters);
  });

  it('emulator: the same verdicts and counters', async () => {
    const r = await hello({ backend: 'emulator' });
    expect(r.backend).toBe('emulator');
    expect(r.verdicts).toEqual(expected.verdicts);
    expect(r.counters).toEqual(expected.counters);
  });

  it.skipIf(!isRootLinux)('the min_len global is applied at load (kernel)', async () => {
    const r = await hello({ backend: 'kernel', minLen: 41 });
    expect(r.verdicts).toEqual([2, 2, 1, 2]);
  });
});
