// Helpers whose results depend on the environment (time, randomness, CPU, task identity,
// trace_printk output, simulated memory, the FIB) with injected values; bpf_loop and
// for_each_map_elem; tracepoint/uprobe events; unknown helpers. Packet and checksum helpers are
// compared with the kernel in differential-helpers.test.ts.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmulatorFault } from '../../lib/errors.js';
import { load, type BpfObject } from '../../lib/index.js';
import type { ProgramSpec } from '../../lib/spec/index.js';
import { EmulatorBackend, type EmulatorOptions } from '../../native-sim/backend.js';
import { tracepointRecord } from '../../native-sim/index.js';
import { compileC, compileProg } from '../helpers/progs.js';

const MISC = join(import.meta.dirname, 'progs', 'helpers_misc.bpf.c');
const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;

async function misc(opts: EmulatorOptions = {}): Promise<{ b: EmulatorBackend; obj: BpfObject }> {
  // The emulator's verifier does not follow bpf_loop callbacks yet; these tests are about the helpers.
  const b = new EmulatorBackend({ verify: false, ...opts });
  return { b, obj: await load(await compileC(MISC), { backend: b }) };
}

function u32(v: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, v, true);
  return k;
}

function outs(obj: BpfObject, n: number): bigint[] {
  const m = obj.maps.out!.raw;
  const r: bigint[] = [];
  for (let i = 0; i < n; i++) r.push(new DataView(m.lookup(u32(i))!.buffer).getBigUint64(0, true));
  return r;
}

describe('injectable environment', () => {
  it('time, randomness, CPU, pid/tgid, uid/gid and comm come from the options', async () => {
    let t = 1000n;
    const { obj } = await misc({
      now: () => (t += 10n),
      bootNow: () => 5_000_000_000n,
      seed: 42,
      cpu: 3,
      possibleCpus: 4,
      pid: 1234,
      tgid: 1200,
      uid: 7,
      gid: 8,
      comm: 'a-very-long-command-name',
    });
    obj.programs.task_info!.run({ ctx: new Uint8Array(8), ctxSizeOut: 0 });
    const [ktime, boot, r1, r2, cpu, pidTgid, uidGid] = outs(obj, 7);
    expect(ktime).toBe(1010n);
    expect(boot).toBe(5_000_000_000n);
    expect(cpu).toBe(3n);
    expect(pidTgid).toBe((1200n << 32n) | 1234n);
    expect(uidGid).toBe((8n << 32n) | 7n);
    expect(r1).not.toBe(r2);
    const comm = obj.maps.strs!.raw.lookup(u32(0))!;
    expect(new TextDecoder().decode(comm)).toBe('a-very-long-com\0');
    // same seed → same random sequence
    const again = await misc({ seed: 42 });
    again.obj.programs.task_info!.run({ ctx: new Uint8Array(8), ctxSizeOut: 0 });
    expect(outs(again.obj, 4).slice(2)).toEqual([r1, r2]);
  });

  it('per-run CPU override for raw tracepoints (BPF_F_TEST_RUN_ON_CPU)', async () => {
    const { obj } = await misc({ possibleCpus: 4 });
    obj.programs.task_info!.run({ ctx: new Uint8Array(8), cpu: 2, flags: 1, ctxSizeOut: 0 });
    expect(outs(obj, 5)[4]).toBe(2n);
    expect(() => obj.programs.task_info!.run({ ctx: new Uint8Array(8), cpu: 2, ctxSizeOut: 0 })).toThrow(/BPF_F_TEST_RUN_ON_CPU/);
  });
});

describe('trace_printk', () => {
  it('formats like the kernel and captures to the trace stream', async () => {
    const lines: string[] = [];
    const { b, obj } = await misc({ trace: (m) => lines.push(m) });
    obj.programs.printk!.run({ ctx: new Uint8Array(8), ctxSizeOut: 0 });
    expect(lines).toEqual([
      'n=-5 u=7 x=ff',
      '18446744073709551615 -2 deadbeefcafe',
      '[   42] [7   ] [000ab]',
      's=hello c=Z %',
      'ip=192.168.0.1',
    ]);
    expect(b.traceLog.slice(-5)).toEqual(lines);
    expect(outs(obj, 1)[0]).toBe(BigInt('n=-5 u=7 x=ff'.length));
  });
});

describe('probe_read over simulated memory', () => {
  it('reads simulated kernel/user memory, faults cleanly elsewhere', async () => {
    const kmem = new Uint8Array(16);
    new DataView(kmem.buffer).setBigUint64(8, 0x1122334455667788n, true);
    const umem = new TextEncoder().encode('user-string\0xx');
    const { obj } = await misc({
      kernelMemory: [{ address: 0xffff888000001000n, bytes: kmem }],
      userMemory: [{ address: 0x7f0000000000n, bytes: umem }],
    });
    const ctx = new Uint8Array(24);
    const dv = new DataView(ctx.buffer);
    dv.setBigUint64(0, 0xffff888000001008n, true);
    dv.setBigUint64(8, 0xdead0000n, true);
    dv.setBigUint64(16, 0x7f0000000000n, true);
    obj.programs.probe_mem!.run({ ctx, ctxSizeOut: 0 });
    const [r0, v0, r1, v1, r2] = outs(obj, 5);
    expect([r0, v0]).toEqual([0n, 0x1122334455667788n]);
    expect(r1).toBe(BigInt.asUintN(64, -14n)); // -EFAULT, destination zeroed
    expect(v1).toBe(0n);
    expect(r2).toBe(12n); // "user-string" + NUL
    expect(new TextDecoder().decode(obj.maps.strs!.raw.lookup(u32(1))!.subarray(0, 12))).toBe('user-string\0');
  });
});

describe('callbacks', () => {
  it('bpf_loop stops when the callback returns 1; for_each_map_elem visits every element', async () => {
    for (const engine of ['jit', 'interpreter'] as const) {
      const { obj } = await misc({ engine });
      expect(obj.programs.loops!.run({ data: new Uint8Array(64) }).retval).toBe(2);
      const [iters, , , sum, visited, s2] = outs(obj, 6);
      expect(iters).toBe(15n); // 0+1+...+14 = 105 > 100 at i = 14
      expect(sum).toBe(105n);
      expect(visited).toBe(16n);
      // keys 0..15 × 1000 + values: out[0] = 15, out[1] = 5, out[2] = 9, out[3] = 105, others 0
      expect(s2).toBe(120000n + 15n + 5n + 9n + 105n);
    }
  });

  it.skipIf(!isRootLinux)('callback results match the kernel (needs root on Linux)', async () => {
    const k = await load(await compileC(MISC), { backend: 'kernel' });
    const { obj } = await misc();
    try {
      for (const o of [k, obj]) o.programs.loops!.run({ data: new Uint8Array(64) });
      expect(outs(obj, 6)).toEqual(outs(k, 6));
    } finally {
      k.close();
      obj.close();
    }
  });
});

describe('fib_lookup', () => {
  it('longest prefix match, gateway rewrite, neighbour MACs, NO_NEIGH and NOT_FWDED', async () => {
    const neighbours = new Map<string, Uint8Array>([['0a000001', new Uint8Array([2, 0, 0, 0, 0, 0x99])]]);
    const { b, obj } = await misc({
      fib: {
        routes: [
          { family: 'ipv4', prefix: new Uint8Array([10, 0, 0, 0]), prefixLen: 8, ifindex: 0, gateway: new Uint8Array([10, 0, 0, 1]) },
          { family: 'ipv4', prefix: new Uint8Array([192, 168, 0, 0]), prefixLen: 16, ifindex: 0 },
        ],
        neighbours,
      },
    });
    const eth1 = b.interface('eth1', { mac: '02:00:00:00:00:11' });
    for (const r of b.env.fib.routes) r.ifindex = eth1.ifindex;
    const run = (a: number[]) => {
      const pkt = new Uint8Array(60);
      pkt.set(a);
      obj.programs.fib!.run({ data: pkt });
      return outs(obj, 5);
    };
    const [rc, ifindex, dst, dmac, smac] = run([10, 9, 8, 7]);
    expect(rc).toBe(0n);
    expect(ifindex).toBe(BigInt(eth1.ifindex));
    expect(dst).toBe(0x0100000an); // rewritten to the gateway 10.0.0.1
    expect(dmac).toBe(0x990000000002n);
    expect(smac).toBe(0x110000000002n);
    expect(run([192, 168, 3, 4])[0]).toBe(7n); // BPF_FIB_LKUP_RET_NO_NEIGH
    expect(run([8, 8, 8, 8])[0]).toBe(4n); // BPF_FIB_LKUP_RET_NOT_FWDED
  });
});

describe('simulated events', () => {
  it('tracepoint programs attach and run when a test fires the tracepoint', async () => {
    const b = new EmulatorBackend({ pid: 77, tgid: 70, comm: 'tester', now: () => 123n });
    const obj = await load(await compileProg('tracepoint_getpid'), { backend: b });
    const link = obj.programs.on_getpid!.attachTracepoint();
    const reader = obj.maps.events!.ringbuf();
    const rec = tracepointRecord(
      [{ name: 'common_type', offset: 0, size: 2 }, { name: 'common_pid', offset: 4, size: 4 }, { name: 'syscall_nr', offset: 8, size: 4 }],
      { common_type: 1, common_pid: 77, syscall_nr: 39 },
      16,
    );
    expect(b.fireTracepoint('syscalls', 'sys_enter_getpid', rec)).toEqual([0]);
    expect(b.fireTracepoint('syscalls', 'sys_enter_getppid', rec)).toEqual([]);
    const ev = reader.poll() as Uint8Array[];
    expect(ev).toHaveLength(1);
    const dv = new DataView(ev[0]!.buffer, ev[0]!.byteOffset);
    expect([dv.getUint32(0, true), dv.getUint32(4, true), dv.getInt32(8, true), dv.getUint32(12, true)]).toEqual([77, 70, 39, 0xb0f0c0de]);
    expect(dv.getBigUint64(16, true)).toBe(123n);
    expect(new TextDecoder().decode(ev[0]!.subarray(24, 30))).toBe('tester');
    expect(obj.maps.calls!.raw.lookup(u32(70))).toEqual(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
    link.close();
    expect(b.fireTracepoint('syscalls', 'sys_enter_getpid', rec)).toEqual([]);
    reader.close();
    obj.close();
  });

  it('uprobes and uretprobes fire per binary and symbol', async () => {
    const b = new EmulatorBackend({ tgid: 5 });
    const obj = await load(await compileProg('uprobe'), { backend: b });
    const l1 = obj.programs.on_entry!.attachUprobe('/usr/bin/true', 'main');
    const l2 = obj.programs.on_return!.attachUprobe('/usr/bin/true', 'main', { ret: true });
    const regs = new Uint8Array(168);
    b.fireUprobe('/usr/bin/true', 'main', regs);
    b.fireUprobe('/usr/bin/true', 'main', regs);
    b.fireUprobe('/usr/bin/true', 'main', regs, true);
    b.fireUprobe('/usr/bin/false', 'main', regs);
    const v = obj.maps.calls!.raw.lookup(u32(5))!;
    const dv = new DataView(v.buffer);
    expect([dv.getBigUint64(0, true), dv.getBigUint64(8, true)]).toEqual([2n, 1n]);
    l1.close();
    l2.close();
    obj.close();
  });

  it('tracepoint programs are not test-runnable, like the kernel (ENOTSUPP)', async () => {
    const obj = await load(await compileProg('tracepoint_getpid'), { backend: new EmulatorBackend() });
    expect(() => obj.programs.on_getpid!.run({ ctx: new Uint8Array(16) })).toThrow(/cannot be test-run/);
    obj.close();
  });
});

describe('unknown helpers', () => {
  it('loading a program that calls a helper the emulator lacks names the helper', () => {
    const b = new EmulatorBackend({ verify: false });
    // call bpf_get_stackid (27); r0 = 0; exit
    const insns = new Uint8Array([0x85, 0, 0, 0, 27, 0, 0, 0, 0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    const spec: ProgramSpec = {
      name: 'calls_stackid', section: 'xdp', type: 'xdp', flags: 0, sleepable: false, instructions: insns, subprograms: [],
      functionStarts: [{ name: 'calls_stackid', insn: 0 }], mapReferences: [], externReferences: [], license: 'GPL',
      kernelVersion: 0, funcInfo: [], lineInfo: [], coreRelocs: [],
    };
    let err: unknown;
    try {
      b.loadProgram(spec, { maps: new Map() });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EmulatorFault);
    expect((err as EmulatorFault).code).toBe('UNKNOWN_HELPER');
    expect((err as Error).message).toMatch(/bpf_get_stackid \(id 27\)/);
  });
});
