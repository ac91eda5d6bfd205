/**
 * The bpf_sys shim itself: each call does its syscall and returns the result or -errno; mmap
 * gives external ArrayBuffers; readiness polling runs on the event loop without busy polling.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { describe, expect, test } from 'vitest';
import { loadBinding, Mmap, PollEvent } from '../../lib/kernel/binding.js';
import { kernelSkipReason } from './load-helpers.js';

const title = kernelSkipReason ? `bpf_sys shim (skipped: ${kernelSkipReason})` : 'bpf_sys shim';

describe.skipIf(kernelSkipReason !== undefined)(title, () => {
  test('bpf(), bpfSlot(), addressOf(), close() and errno reporting', () => {
    const s = loadBinding();
    const attr = new Uint32Array(18);
    attr.set([2, 4, 8, 4]); // BPF_MAP_TYPE_ARRAY, key 4, value 8, 4 entries
    const fd = s.bpf(0, attr);
    expect(fd).toBeGreaterThan(2);
    expect(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')).toMatch(/^map_type:\s+2$/m);
    // lookup through a registered slot: key 1 → value 0
    const key = new Uint8Array(4);
    key[0] = 1;
    const value = new Uint8Array(8).fill(0xff);
    const elem = new BigUint64Array(4);
    elem[0] = BigInt(fd);
    elem[1] = s.addressOf(key);
    elem[2] = s.addressOf(value);
    const id = s.bpfRegister(elem);
    expect(id).toBeGreaterThan(0);
    expect(s.bpfSlot(1, id)).toBe(0);
    expect([...value]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    key[0] = 9; // out of range
    expect(s.bpfSlot(1, id)).toBe(-2);
    // the same lookups through bpfSlotRun and this thread's control block
    const ctl = s.bpfSlotControl();
    expect(ctl).toBeInstanceOf(Int32Array);
    expect(s.bpfSlotControl()).toBe(ctl); // one block per environment, not a new one per call
    key[0] = 2;
    value.fill(0xff);
    ctl[0] = 1 | (id << 8);
    ctl[1] = 12345;
    s.bpfSlotRun();
    expect(ctl[1]).toBe(0);
    expect([...value]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    key[0] = 4; // out of range
    s.bpfSlotRun();
    expect(ctl[1]).toBe(-2);
    ctl[0] = 1 | ((id + 1000) << 8);
    expect(() => s.bpfSlotRun()).toThrow(/bpfSlotRun: unknown slot/);
    expect(s.bpfUnregister(id)).toBe(0);
    expect(s.bpfUnregister(id)).toBe(-2);
    expect(() => s.bpfSlot(1, id)).toThrow(/unknown slot/);
    ctl[0] = 1 | (id << 8);
    expect(() => s.bpfSlotRun()).toThrow(/unknown slot/); // released slots are refused too
    const buf = new Uint8Array(64);
    expect(s.addressOf(buf.subarray(16)) - s.addressOf(buf)).toBe(16n);
    expect(s.addressOf(null)).toBe(0n);
    expect(s.close(fd)).toBe(0);
    expect(s.close(fd)).toBe(-9); // EBADF
    expect(s.bpf(0, new Uint32Array(18))).toBe(-22); // EINVAL: map type 0
    expect(s.errnoString(-2)).toBe('No such file or directory');
    expect(() => s.bpf(0, 'nope' as unknown as Uint8Array)).toThrow(TypeError);
  });

  test('mmap() returns an external ArrayBuffer over the map; munmap() detaches it', () => {
    const s = loadBinding();
    const attr = new Uint32Array(18);
    attr.set([2, 4, 8, 512, 1 << 10]); // BPF_F_MMAPABLE array
    const fd = s.bpf(0, attr);
    expect(fd).toBeGreaterThan(2);
    const ab = s.mmap(fd, s.pageSize(), Mmap.ProtRead | Mmap.ProtWrite, Mmap.Shared, 0);
    expect(ab).toBeInstanceOf(ArrayBuffer);
    const buf = ab as ArrayBuffer;
    expect(buf.byteLength).toBe(s.pageSize());
    new BigUint64Array(buf)[3] = 77n;
    // read element 3 back through bpf(BPF_MAP_LOOKUP_ELEM)
    const key = new Uint32Array([3]);
    const out = new BigUint64Array(1);
    const elem = new BigUint64Array(4);
    elem[0] = BigInt(fd);
    elem[1] = s.addressOf(key);
    elem[2] = s.addressOf(out);
    expect(s.bpf(1, elem)).toBe(0);
    expect(out[0]).toBe(77n);
    s.atomicStore64(buf, 8, 1234);
    expect(s.atomicLoad64(buf, 8)).toBe(1234);
    expect(() => s.atomicLoad64(buf, 3)).toThrow(/unaligned/);
    expect(s.munmap(buf)).toBe(0);
    expect(buf.byteLength).toBe(0);
    expect(s.munmap(buf)).toBe(-22);
    expect(s.mmap(fd, 0, Mmap.ProtRead, Mmap.Shared, 0)).toBe(-22);
    expect(s.mmap(-1, 4096, Mmap.ProtRead, Mmap.Shared, 0)).toBeLessThan(0);
    s.close(fd);
  });

  test('sockets: socket/bind/setsockopt/getsockopt/sendto/recv on a loopback UDP socket', () => {
    const s = loadBinding();
    const fd = s.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | constants.O_NONBLOCK, 0);
    expect(fd).toBeGreaterThan(2);
    const sa = new Uint8Array(16);
    const dv = new DataView(sa.buffer);
    dv.setUint16(0, 2, true); // sin_family
    sa.set([127, 0, 0, 1], 4);
    let port = 0;
    for (let i = 0; i < 20 && port === 0; i++) {
      const p = 20000 + ((process.pid * 7 + i * 131) % 30000);
      dv.setUint16(2, p, false);
      if (s.bind(fd, sa) === 0) port = p;
    }
    expect(port).toBeGreaterThan(0);
    expect(s.setsockopt(fd, 1 /* SOL_SOCKET */, 8 /* SO_RCVBUF */, 65536)).toBe(0);
    const opt = new Int32Array(1);
    expect(s.getsockopt(fd, 1, 8, opt)).toBe(4);
    expect(opt[0]).toBeGreaterThanOrEqual(65536);
    const msg = new TextEncoder().encode('bpfkit');
    expect(s.sendto(fd, msg, 0, sa)).toBe(msg.length);
    const got = new Uint8Array(64);
    expect(s.recv(fd, got, 0)).toBe(msg.length);
    expect(new TextDecoder().decode(got.subarray(0, msg.length))).toBe('bpfkit');
    expect(s.recv(fd, got, 0)).toBe(-11); // EAGAIN: non-blocking, nothing left
    s.close(fd);
  });

  test('ifNameToIndex, getpid/gettid, perfEventOpen + ioctl', () => {
    const s = loadBinding();
    expect(s.ifNameToIndex('lo')).toBe(Number(readFileSync('/sys/class/net/lo/ifindex', 'utf8')));
    expect(s.ifNameToIndex('bpfkit-none0')).toBe(-19);
    expect(s.getpid()).toBe(process.pid);
    if (isMainThread) expect(s.gettid()).toBe(process.pid);
    else expect(s.gettid()).toBeGreaterThan(0);
    const attr = new Uint8Array(136);
    const dv = new DataView(attr.buffer);
    dv.setUint32(0, 1, true); // PERF_TYPE_SOFTWARE
    dv.setUint32(4, 136, true); // size
    dv.setBigUint64(8, 9n, true); // PERF_COUNT_SW_DUMMY
    dv.setBigUint64(40, 1n, true); // disabled
    const fd = s.perfEventOpen(attr, 0, -1, -1, 8 /* PERF_FLAG_FD_CLOEXEC */);
    expect(fd).toBeGreaterThan(2);
    expect(s.ioctl(fd, 0x2400 /* PERF_EVENT_IOC_ENABLE */, 0)).toBe(0);
    expect(s.ioctl(fd, 0x2401 /* PERF_EVENT_IOC_DISABLE */, 0)).toBe(0);
    expect(s.ioctl(fd, 0x7fff, 0)).toBeLessThan(0);
    s.close(fd);
  });

  test('pollStart: the callback runs on the event loop when the fd becomes readable, without busy polling', async () => {
    const s = loadBinding();
    const fifo = join(tmpdir(), `bpfkit-poll-${process.pid}`);
    rmSync(fifo, { force: true });
    execFileSync('mkfifo', [fifo]);
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      const events: number[] = [];
      let wake: () => void = () => {};
      const fired = new Promise<void>((r) => (wake = r));
      const id = s.pollStart(fd, PollEvent.Readable, (status, ev) => {
        expect(status).toBe(0);
        events.push(ev);
        wake();
      });
      expect(id).toBeGreaterThan(0);
      const cpu0 = process.cpuUsage();
      await new Promise((r) => setTimeout(r, 300));
      const cpu = process.cpuUsage(cpu0);
      expect(events).toEqual([]);
      // idle wait: far below what a busy loop would burn in 300 ms
      expect(cpu.user + cpu.system).toBeLessThan(150_000);
      writeSync(fd, 'x');
      await fired;
      expect(events[0]! & PollEvent.Readable).toBe(PollEvent.Readable);
      expect(s.pollRef(id, false)).toBe(0);
      expect(s.pollStop(id)).toBe(0);
      expect(s.pollStop(id)).toBe(-2);
      expect(s.pollStart(-1, PollEvent.Readable, () => {})).toBeLessThan(0);
    } finally {
      closeSync(fd);
      rmSync(fifo, { force: true });
    }
  });
});
