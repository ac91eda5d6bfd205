// Program loads and test runs while the process is being signalled. The kernel verifier aborts
// with EAGAIN, and a test run with EINTR, when a signal is pending for the calling thread; a Node
// process is signalled all the time (SIGCHLD of children, SIGPROF of --cpu-prof). bpfkit blocks
// signals in the calling thread for those two calls, so both succeed and the signals still arrive.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { load } from '../../lib/index.js';
import { compileProg } from '../helpers/progs.js';
import { kernelSkipReason } from './load-helpers.js';

const title = kernelSkipReason ? `bpf calls under a signal storm (skipped: ${kernelSkipReason})` : 'bpf calls under a signal storm';

describe.skipIf(kernelSkipReason !== undefined)(title, () => {
  it('a large program loads and test-runs while SIGUSR2 arrives continuously; the signals are delivered', async () => {
    const path = await compileProg('long_jump.v4', { cpu: 'v4' }); // the largest test program: ~41k insns, ms of verification
    let received = 0;
    const onSignal = (): void => void received++;
    process.on('SIGUSR2', onSignal);
    // a shell that signals this process in a tight loop until killed (by its PID, below)
    const storm = spawn('bash', ['-c', `while kill -USR2 ${process.pid} 2>/dev/null; do :; done`], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 3; i++) {
        const obj = await load(path, { backend: 'kernel' });
        try {
          const prog = Object.values(obj.programs)[0]!;
          const r = prog.run({ data: new Uint8Array(64), repeat: 200_000 });
          expect(r.retval).toBeGreaterThanOrEqual(0);
        } finally {
          obj.close();
        }
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(received).toBeGreaterThan(0);
    } finally {
      storm.kill('SIGKILL');
      await new Promise((r) => storm.once('exit', r));
      process.off('SIGUSR2', onSignal);
    }
  }, 60_000);
});
