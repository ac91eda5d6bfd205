/**
 * Ring buffer and perf buffer readers against the real kernel. Events come from
 * test/kernel/progs/kevents.bpf.c run through BPF_PROG_TEST_RUN, so every record's content,
 * order and count is known: submitted vs discarded ring buffer records, odd sizes, wrap-around of
 * the ring, a full ring, async iteration, readable() waiting on the event loop, perf samples per
 * CPU, PERF_RECORD_LOST accounting, and no fd leaks.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ArgumentError } from '../../lib/errors.js';
import { openEventReader, PerfReader, RingbufReader } from '../../lib/kernel/events.js';
import { execFileP, isRootLinux, loadKernelObject, SKIP_REASON, type LoadedKernelObject } from './kload.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Test packet: seq (u32 LE), mode byte, payload bytes 8..23 = seq + i. */
function pkt(seq: number, mode: number): Uint8Array {
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, seq, true);
  b[4] = mode;
  for (let i = 0; i < 16; i++) b[8 + i] = (seq + i) & 0xff;
  return b;
}

function seqOf(r: Uint8Array): number {
  return new DataView(r.buffer, r.byteOffset, r.byteLength).getUint32(0, true);
}

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

describe.skipIf(!isRootLinux)(`event readers (${isRootLinux ? 'root' : SKIP_REASON})`, () => {
  let o: LoadedKernelObject;
  const emit = (seq: number, mode = 0, repeat = 1): void => {
    const r = o.prog('emit').run({ data: pkt(seq, mode), repeat });
    expect(r.retval).toBe(2); // XDP_PASS
  };

  beforeAll(async () => {
    o = await loadKernelObject('kevents');
  });
  afterAll(() => o?.close());

  describe('ring buffer', () => {
    test('poll delivers submitted records in order as copies, skips discarded ones, keeps odd sizes', () => {
      const rb = openEventReader(o.map('rb')) as RingbufReader;
      try {
        expect(rb.poll(() => undefined)).toBe(0);
        emit(1);
        emit(2, 1); // discarded
        emit(3);
        emit(4, 2); // 13-byte ring buffer output
        const got: Uint8Array[] = [];
        expect(rb.poll((r) => got.push(r))).toBe(3);
        expect(got.map((r) => r.length)).toEqual([24, 24, 13]);
        expect(seqOf(got[0]!)).toBe(1);
        expect(new DataView(got[0]!.buffer).getUint32(4, true)).toBe(0);
        expect([...got[0]!.subarray(8)]).toEqual([...pkt(1, 0).subarray(8, 24)]);
        expect(seqOf(got[1]!)).toBe(3);
        expect([...got[2]!]).toEqual([...pkt(4, 2).subarray(0, 13)]);
        // Copies: the buffers are independent of the ring.
        expect(got[0]!.buffer).not.toBe(got[1]!.buffer);
        expect(rb.pending()).toBe(0);
        expect(rb.poll(() => undefined)).toBe(0);
      } finally {
        rb.close();
      }
    });

    test('a throwing callback: records delivered so far are consumed, the rest stay for the next poll', () => {
      const rb = openEventReader(o.map('rb')) as RingbufReader;
      try {
        emit(11);
        emit(12);
        emit(13);
        const seen: number[] = [];
        expect(() =>
          rb.poll((r) => {
            seen.push(seqOf(r));
            if (seqOf(r) === 12) throw new Error('stop');
          }),
        ).toThrow('stop');
        expect(seen).toEqual([11, 12]);
        rb.poll((r) => seen.push(seqOf(r)));
        expect(seen).toEqual([11, 12, 13]);
        expect(rb.pending()).toBe(0);
      } finally {
        rb.close();
      }
    });

    test('pollRaw() hands out zero-copy views of the ring, contiguous across the wrap', () => {
      const rb = openEventReader(o.map('rb')) as RingbufReader;
      try {
        const seqs: number[] = [];
        const lens: number[] = [];
        let next = 3000;
        for (let round = 0; round < 6; round++) {
          for (let i = 0; i < 50; i++) emit(next++, i % 7 === 3 ? 2 : 0);
          rb.pollRaw((ring, off, len) => {
            lens.push(len);
            if (len === 24) {
              seqs.push(new DataView(ring.buffer, ring.byteOffset + off, len).getUint32(0, true));
              expect(ring[off + 8]).toBe(seqs.at(-1)! & 0xff);
            }
          });
        }
        const expected = Array.from({ length: 300 }, (_, i) => 3000 + i).filter((_, i) => (i % 50) % 7 !== 3);
        expect(seqs).toEqual(expected);
        expect(lens.filter((l) => l === 13).length).toBe(300 - expected.length);
        expect(rb.pending()).toBe(0);
      } finally {
        rb.close();
      }
    });

    test('records keep their order across many wrap-arounds of the ring', () => {
      const rb = openEventReader(o.map('rb')) as RingbufReader;
      try {
        const seqs: number[] = [];
        let next = 1000;
        for (let round = 0; round < 12; round++) {
          for (let i = 0; i < 50; i++) emit(next++);
          rb.poll((r) => seqs.push(seqOf(r)));
        }
        // 600 records of 32 bytes through a 4096-byte ring: wrapped ~4.7 times.
        expect(seqs).toEqual(Array.from({ length: 600 }, (_, i) => 1000 + i));
      } finally {
        rb.close();
      }
    });

    test('a full ring keeps the first 127 records (at most size - 1 = 4095 bytes of 32-byte records); later ones are dropped by the kernel', () => {
      const rb = openEventReader(o.map('rb')) as RingbufReader;
      try {
        for (let i = 0; i < 200; i++) emit(5000 + i);
        const seqs: number[] = [];
        rb.poll((r) => seqs.push(seqOf(r)));
        expect(seqs).toEqual(Array.from({ length: 127 }, (_, i) => 5000 + i));
        emit(6000);
        expect(rb.poll((r) => seqs.push(seqOf(r)))).toBe(1);
        expect(seqs.at(-1)).toBe(6000);
      } finally {
        rb.close();
      }
    });

    test('for await yields records as they are produced; readable() waits on the event loop', async () => {
      const rb = openEventReader(o.map('rb')) as RingbufReader;
      try {
        // Nothing there: readable() stays pending while timers keep firing (no blocked thread).
        let ticks = 0;
        const t = setInterval(() => ticks++, 10);
        const r1 = await Promise.race([rb.readable().then(() => 'readable'), sleep(150).then(() => 'timeout')]);
        clearInterval(t);
        expect(r1).toBe('timeout');
        expect(ticks).toBeGreaterThan(3);
        const wait = rb.readable();
        setTimeout(() => emit(7000), 30);
        await wait;
        expect(rb.poll(() => undefined)).toBe(1);

        const got: number[] = [];
        let produced = 0;
        const producer = setInterval(() => {
          if (produced < 20) emit(8000 + produced++);
        }, 5);
        const guard = setTimeout(() => rb.close(), 10_000);
        for await (const r of rb) {
          got.push(seqOf(r));
          if (got.length === 20) break;
        }
        clearInterval(producer);
        clearTimeout(guard);
        expect(got).toEqual(Array.from({ length: 20 }, (_, i) => 8000 + i));
        expect(rb.isClosed).toBe(false);
      } finally {
        rb.close();
      }
    });

    test('close() wakes a pending readable() and ends iteration', async () => {
      const rb = openEventReader(o.map('rb')) as RingbufReader;
      const pending = rb.readable();
      setTimeout(() => rb.close(), 20);
      await pending;
      const seen: Uint8Array[] = [];
      for await (const r of rb) seen.push(r);
      expect(seen).toEqual([]);
      expect(rb.poll(() => undefined)).toBe(0);
    });
  });

  describe('perf event array', () => {
    test('samples from test runs arrive through poll() and for await, with the raw payload', async () => {
      const pb = openEventReader(o.map('pb'), { perCpuPages: 2 }) as PerfReader;
      try {
        expect(pb.cpus.length).toBeGreaterThan(0);
        for (let i = 0; i < 5; i++) emit(100 + i);
        const got: Uint8Array[] = [];
        expect(pb.poll((r) => got.push(r))).toBe(5);
        // sizeof(struct perf_rec) = 20; 20 + 4 is 8-aligned, so no padding.
        expect(got.map((r) => r.length)).toEqual([20, 20, 20, 20, 20]);
        expect(got.map(seqOf).sort((a, b) => a - b)).toEqual([100, 101, 102, 103, 104]);
        const r0 = got.find((r) => seqOf(r) === 100)!;
        expect([...r0.subarray(4)]).toEqual([...pkt(100, 0).subarray(8, 24)]);

        const seqs: number[] = [];
        const producer = setInterval(() => emit(200 + seqs.length), 5);
        const guard = setTimeout(() => pb.close(), 10_000);
        for await (const r of pb) {
          seqs.push(seqOf(r));
          if (seqs.length === 10) break;
        }
        clearInterval(producer);
        clearTimeout(guard);
        expect(seqs.length).toBe(10);
        expect(seqs.every((s) => s >= 200 && s < 260)).toBe(true);
        expect(pb.lost).toBe(0);
      } finally {
        pb.close();
      }
    });

    test('an overflowing CPU ring reports its losses through PERF_RECORD_LOST', async () => {
      // Keep this thread on CPU 0 so that every test run writes into the same ring.
      const before = (await execFileP('taskset', ['-p', String(process.pid)])).stdout.trim().split(' ').at(-1)!;
      await execFileP('taskset', ['-p', '1', String(process.pid)]);
      const pb = openEventReader(o.map('pb'), { perCpuPages: 1 }) as PerfReader;
      try {
        emit(1, 0, 300); // one syscall, 300 runs on one CPU, 32-byte records into a 4096-byte ring
        let delivered = pb.poll(() => undefined);
        expect(delivered).toBeGreaterThan(100);
        expect(delivered).toBeLessThan(300);
        emit(2); // space again: the kernel writes the LOST record, then this sample
        delivered += pb.poll(() => undefined);
        expect(pb.lost + delivered).toBe(301);
        expect(pb.lost).toBeGreaterThan(0);
      } finally {
        pb.close();
        await execFileP('taskset', ['-p', before, String(process.pid)]);
      }
    });

    test('close() removes the CPU entries from the map: later output fails in the program (ENOENT)', () => {
      const errs = (): number => Number(new DataView(o.map('perf_err').lookup(new Uint8Array(4))!.buffer).getBigUint64(0, true));
      const pb = openEventReader(o.map('pb')) as PerfReader;
      const e0 = errs();
      emit(3); // delivered: the entry of this CPU is set
      expect(errs()).toBe(e0);
      expect(pb.poll(() => undefined)).toBe(1);
      pb.close();
      emit(4); // bpf_perf_event_output finds no perf event for the CPU
      expect(errs()).toBe(e0 + 1);
      const pb2 = openEventReader(o.map('pb')) as PerfReader;
      try {
        expect(pb2.poll(() => undefined)).toBe(0);
      } finally {
        pb2.close();
      }
    });
  });

  test('opening and closing readers leaks no fds or mappings', () => {
    const warm = openEventReader(o.map('pb'));
    warm.close();
    const fds = fdCount();
    for (let i = 0; i < 50; i++) {
      const a = openEventReader(o.map('rb'));
      const b = openEventReader(o.map('pb'));
      a.close();
      b.close();
      a.close(); // idempotent
    }
    expect(fdCount()).toBe(fds);
  });

  test('one reader per map at a time', () => {
    const a = openEventReader(o.map('rb'));
    expect(() => openEventReader(o.map('rb'))).toThrow(/already has an open reader/);
    a.close();
    openEventReader(o.map('rb')).close();
    const p = openEventReader(o.map('pb'));
    expect(() => openEventReader(o.map('pb'))).toThrow(/already has an open reader/);
    p.close();
    openEventReader(o.map('pb')).close();
  });

  test('non-event maps are rejected', async () => {
    const f = await loadKernelObject('kfilter');
    try {
      expect(() => openEventReader(f.map('ports'))).toThrow(ArgumentError);
      expect(() => new RingbufReader(f.map('counters'))).toThrow(/not ringbuf/);
      expect(() => new PerfReader(o.map('rb'))).toThrow(/not perf_event_array/);
      expect(() => new PerfReader(o.map('pb'), { perCpuPages: 3 })).toThrow(/power of two/);
    } finally {
      f.close();
    }
  });
});
