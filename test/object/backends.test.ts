// The public object API end to end on the real backends: the same script on the kernel
// (BPF_PROG_TEST_RUN, real maps) and on the emulator must give the same results. Kernel-only
// checks use bpftool as an independent oracle (pinned map dump) and /proc/self/fd for leaks.
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BpfError, MapError } from '../../lib/errors.js';
import { BpfMap, Link, decode, load, openObject, type BpfObject } from '../../lib/index.js';
import type { ObjectSpec } from '../../lib/spec/index.js';
import { compileProg } from '../helpers/progs.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
const BACKENDS = (isRootLinux ? ['kernel', 'emulator'] : ['emulator']) as ('kernel' | 'emulator')[];
const PIN_DIR = `/sys/fs/bpf/bpfkit-object-test-${process.pid}`;

const specs: Record<string, ObjectSpec> = {};
beforeAll(async () => {
  for (const n of ['xdp_port_filter', 'maps_btf', 'queue_stack', 'events', 'globals', 'tailcall', 'map_in_map', 'mmap_array']) specs[n] = openObject(await compileProg(n));
});
afterAll(() => {
  rmSync(PIN_DIR, { recursive: true, force: true });
});

function tcpFrame(dport: number, proto = 6): Uint8Array {
  const f = new Uint8Array(14 + 20 + 20);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00], 0);
  f.set([0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  f[36] = dport >> 8;
  f[37] = dport & 0xff;
  return f;
}

interface Outcome {
  verdicts: number[];
  stats: bigint[];
  flows: number;
  queue: (number | undefined)[];
  ring: number[];
  bss: unknown;
  tailRuns: unknown;
  mim: number[];
}

async function script(backend: 'kernel' | 'emulator'): Promise<Outcome> {
  const out = {} as Outcome;
  {
    using obj = await load(specs.xdp_port_filter!, { backend });
    expect(obj.backend.kind).toBe(backend);
    const policy = obj.maps.port_policy!;
    policy.update(80, { action: 1, flags: 0 });
    policy.update(443, { action: 0, flags: 7 }, 'noexist');
    expect(() => policy.update(443, { action: 0, flags: 0 }, 'noexist')).toThrow(MapError);
    expect(policy.lookup(443)).toEqual({ action: 0, flags: 7 });
    expect(policy.lookup(444)).toBeUndefined();
    // lookupInto: the raw value into the caller's buffer, untouched when absent
    const into = new Uint8Array(8).fill(0xee);
    expect(policy.lookupInto(443, into)).toBe(true);
    expect([...into]).toEqual([0, 0, 0, 0, 7, 0, 0, 0]);
    expect(decode(policy.valueCodec, into)).toEqual({ action: 0, flags: 7 });
    into.fill(0xee);
    expect(policy.lookupInto(444, into)).toBe(false);
    expect([...into]).toEqual(new Array(8).fill(0xee));
    expect(() => policy.lookupInto(443, new Uint8Array(7))).toThrow(/output buffer is 7 bytes, expected 8/);
    const statsInto = new Uint8Array(8 * obj.backend.possibleCpus);
    expect(obj.maps.stats!.lookupInto(0, statsInto)).toBe(true);
    const prog = obj.programs.port_filter!;
    out.verdicts = [tcpFrame(80), tcpFrame(22), tcpFrame(443), tcpFrame(80, 17), new Uint8Array(20)].map((data) => prog.run({ data }).retval);
    const perCpu = (i: number) => (obj.maps.stats!.lookup(i) as bigint[]).reduce((a, b) => a + b, 0n);
    out.stats = [perCpu(0), perCpu(1), perCpu(2)];
    expect((obj.maps.stats!.lookup(0) as bigint[]).length).toBe(obj.backend.possibleCpus);
  }
  {
    using obj = await load(specs.maps_btf!, { backend });
    const flows = obj.maps.flows!;
    const keys = Array.from({ length: 10 }, (_, i) => ({ saddr: i, daddr: 1, sport: 2, dport: 3, proto: 6 }));
    expect(flows.updateBatch(keys, keys.map((_, i) => ({ packets: BigInt(i), state: 'FLOW_SEEN' })))).toBe(10);
    const all = flows.lookupBatch({ batchSize: 3 });
    expect(all.length).toBe(10);
    expect(all.map(([k]) => (k as { saddr: number }).saddr).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(flows.deleteBatch(keys.slice(0, 4))).toBe(4);
    expect([...flows.keys()].length).toBe(6);
    expect(flows.delete(keys[0])).toBe(false);
    expect(flows.lookupAndDelete(keys[5])).toMatchObject({ packets: 5n, state: 1 });
    out.flows = [...flows.values()].length;
  }
  {
    using obj = await load(specs.queue_stack!, { backend });
    const push = obj.programs.queue_push!;
    push.run({ data: new Uint8Array(60) });
    push.run({ data: new Uint8Array(70) });
    obj.maps.fifo!.push(5);
    out.queue = [obj.maps.fifo!.peek(), obj.maps.fifo!.pop(), obj.maps.fifo!.pop(), obj.maps.fifo!.pop(), obj.maps.fifo!.pop()];
    expect(obj.maps.lifo!.pop()).toBe(70n);
  }
  {
    using obj = await load(specs.events!, { backend });
    using reader = obj.maps.rb!.ringbuf();
    const frame = new Uint8Array(64).fill(0xab);
    frame[0] = 0x11;
    expect(obj.programs.rb_reserve!.run({ data: frame }).retval).toBe(2);
    frame[0] = 0xdd; // discarded by the program
    expect(obj.programs.rb_reserve!.run({ data: frame }).retval).toBe(1);
    const recs = reader.poll();
    expect(recs.length).toBe(1);
    out.ring = [...recs[0]!.subarray(0, 4), ...recs[0]!.subarray(8, 16)];
    // perf event array: with a reader open, BPF_F_CURRENT_CPU output reaches it
    using perf = obj.maps.perf!.perfBuffer();
    expect(obj.programs.perf_output!.run({ data: new Uint8Array(30) }).retval).toBe(2);
    expect(obj.maps['.bss']!.lookup(0)).toEqual({ last_perf_err: 0n });
    const precs = perf.poll();
    expect(precs.length).toBe(1);
    expect(new DataView(precs[0]!.buffer, precs[0]!.byteOffset).getUint32(0, true)).toBe(30);
  }
  {
    // BPF_F_MMAPABLE: user space and the program share the value area
    using obj = await load(specs.mmap_array!, { backend });
    const area = new BigUint64Array(obj.maps.shared!.mmap());
    const prog = obj.programs.mmap_writer!;
    expect(prog.run({ data: new Uint8Array(20) }).retval).toBe(2);
    expect(area[20]).toBe(20n);
    area[0] = 0xdeadn;
    expect(prog.run({ data: new Uint8Array(20) }).retval).toBe(1);
    expect(obj.maps.shared!.lookup(0)).toBe(0xdeadn);
    expect(area[20]).toBe(40n);
  }
  {
    using obj = await load(specs.globals!, { backend });
    obj.programs.globals_rw!.run({ data: new Uint8Array(33) });
    obj.programs.globals_rw!.run({ data: new Uint8Array(50) });
    out.bss = obj.maps['.bss']!.lookup(0);
    expect(() => obj.maps['.rodata']!.update(0, { multiplier: 1, magic: 0n, greeting: 'x' })).toThrow(BpfError);
    expect(obj.programs.globals_ro!.run({ data: new Uint8Array(20) }).retval).toBe(2);
  }
  {
    using obj = await load(specs.tailcall!, { backend });
    const r = obj.programs.tail_entry!.run({ data: new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) });
    expect(r.retval).toBe(3);
    expect(obj.programs.tail_entry!.run({ data: new Uint8Array(14) }).retval).toBe(1);
    expect(obj.programs.tail_entry!.run({ data: new Uint8Array([1, ...new Array(13).fill(0)]) }).retval).toBe(2);
    out.tailRuns = obj.maps['.bss']!.lookup(0);
    // slots are u32 ids when read back; a Program stands for its handle when written
    const jt = obj.maps.jmp_table!;
    jt.update(1, obj.programs.tail_a!);
    expect([...jt.entries()]).toEqual([[0, obj.programs.tail_a!.id], [1, obj.programs.tail_a!.id], [2, obj.programs.tail_loop!.id]]);
    expect(obj.programs.tail_entry!.run({ data: new Uint8Array([1, ...new Array(13).fill(0)]) }).retval).toBe(1);
    expect(jt.delete(1)).toBe(true);
    expect(() => obj.maps['.bss']!.update(0, obj.programs.tail_a as never)).toThrow(/a program can only be stored in a prog_array or map-in-map/);
  }
  {
    using obj = await load(specs.map_in_map!, { backend });
    const outer = obj.maps.outer_hash!;
    using inner = await BpfMap.create<number, number>({ ...outer.spec!.innerMap!, name: 'fresh_inner' }, { backend });
    const mim = obj.programs.mim_hash!;
    expect(mim.run({ data: new Uint8Array(60) }).retval).toBe(2); // no inner map for key 60: pass
    outer.update(60, inner);
    expect(outer.lookup(60)).toBe(inner.id);
    expect(mim.run({ data: new Uint8Array(60) }).retval).toBe(3); // inner has no key 1: tx
    inner.update(1, 9);
    expect(mim.run({ data: new Uint8Array(60) }).retval).toBe(1); // inner[1] != 0: drop
    const arr = obj.maps.outer_array!;
    expect([...arr.keys()]).toEqual([0, 1, 2, 3]); // array semantics: every index
    expect([...arr.entries()].map(([k]) => k)).toEqual([0, 3]); // only filled slots have values
    expect(arr.lookup(0)).toBe(obj.maps.inner_a!.id);
    const pkt = (b0: number) => new Uint8Array([b0, ...new Array(13).fill(0)]);
    out.mim = [obj.programs.mim_array!.run({ data: pkt(0x40) }).retval, obj.programs.mim_array!.run({ data: pkt(0x41) }).retval];
    expect(obj.maps.inner_a!.lookup(1)).toBe(1n);
  }
  return out;
}

describe.each(BACKENDS)('public API on the %s backend', (backend) => {
  it('logLevel keeps the verifier log; insnsProcessed is reported', async () => {
    using obj = await load(specs.xdp_port_filter!, { backend, logLevel: 2 });
    const p = obj.programs.port_filter!;
    expect(p.log).toMatch(/processed \d+ insns/);
    expect(p.insnsProcessed).toBeGreaterThan(10);
  });

  it('runs the shared script with the expected results', async () => {
    const o = await script(backend);
    expect(o.verdicts).toEqual([1, 2, 2, 1, 2]);
    expect(o.stats).toEqual([3n, 2n, 0n]);
    expect(o.flows).toBe(5);
    expect(o.queue).toEqual([60, 60, 70, 5, undefined]);
    expect(o.ring).toEqual([64, 0, 0, 0, 0x11, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab]);
    expect(o.bss).toEqual({ run_count: 2, last_len: 50n, hist: [0n, 1n, 1n, 0n, 0n, 0n, 0n, 0n] });
    // slot 0 ran tail_a once; tail_loop ran once from the entry plus 32 more self tail calls (limit 33)
    expect(o.tailRuns).toEqual({ tail_a_runs: 1, loop_runs: 33 });
    expect(o.mim).toEqual([2, 1]); // slot 0 → inner_a (pass, counts); slot 1 empty → drop
  });
});

describe.skipIf(BACKENDS.length < 2)('kernel and emulator agree', () => {
  it('the same script gives identical outcomes', async () => {
    const [k, e] = await Promise.all([script('kernel'), script('emulator')]);
    expect(e).toEqual(k);
  });
});

describe.skipIf(!isRootLinux)('kernel-only checks', () => {
  // A veth pair of our own, so XDP attachments never collide with other tests.
  const DEV = `bko${process.pid % 100000}`;
  beforeAll(() => {
    execFileSync('ip', ['link', 'add', DEV, 'type', 'veth', 'peer', 'name', `${DEV}p`]);
    execFileSync('ip', ['link', 'set', DEV, 'up']);
  });
  afterAll(() => {
    try {
      execFileSync('ip', ['link', 'del', DEV], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  });
  const xdpOn = () => /xdp/.test(execFileSync('ip', ['-d', 'link', 'show', DEV], { encoding: 'utf8' }));

  it('links: attach, pin, survive the object, reopen, detach (ip link as the oracle)', async () => {
    try {
      execFileSync('mountpoint', ['-q', '/sys/fs/bpf']);
    } catch {
      execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
    }
    execFileSync('mkdir', ['-p', PIN_DIR]);
    const pin = `${PIN_DIR}/xdp_link`;
    {
      using obj = await load(specs.xdp_port_filter!, { backend: 'kernel' });
      const link = obj.programs.port_filter!.attachXdp(DEV, { mode: 'skb' });
      expect(link.kind).toBe('xdp');
      expect(xdpOn()).toBe(true);
      link.close();
      expect(xdpOn()).toBe(false);
      obj.programs.port_filter!.attachXdp(DEV, { mode: 'skb' }).pin(pin);
    }
    expect(xdpOn()).toBe(true); // pinned: outlives the object
    const again = await Link.openPinned(pin, { backend: 'kernel' });
    expect(again.kind).toBe('xdp');
    again.detach();
    expect(xdpOn()).toBe(false);
    rmSync(pin, { force: true });
  });

  it('a pinned map reads the same through bpftool (independent oracle) and BpfMap.openPinned', async () => {
    try {
      execFileSync('mountpoint', ['-q', '/sys/fs/bpf']);
    } catch {
      execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
    }
    using obj = await load(specs.xdp_port_filter!, { backend: 'kernel' });
    execFileSync('mkdir', ['-p', PIN_DIR]);
    const path = `${PIN_DIR}/port_policy`;
    obj.maps.port_policy!.update(8080, { action: 2, flags: 0x01020304 });
    obj.maps.port_policy!.pin(path);
    const dump = JSON.parse(execFileSync('bpftool', ['map', 'dump', 'pinned', path, '-j'], { encoding: 'utf8' })) as { key: string[] | number; value: unknown; formatted?: { key: number; value: { action: number; flags: number } } }[];
    expect(dump.length).toBe(1);
    const e = dump[0]!;
    if (e.formatted) expect(e.formatted).toEqual({ key: 8080, value: { action: 2, flags: 0x01020304 } });
    else expect(e.key).toEqual(['0x90', '0x1f']);
    const again = await BpfMap.openPinned(path, { backend: 'kernel' });
    expect(again.name).toBe('port_policy');
    expect(again.lookup(new Uint8Array([0x90, 0x1f]))).toEqual(new Uint8Array([2, 0, 0, 0, 4, 3, 2, 1]));
    again.close();
    rmSync(path);
  });

  it('a socket filter attached to a Node UDP socket truncates what it receives; closing the link restores it', async () => {
    const spec = openObject(await compileProg('socket_filter'));
    using obj = await load(spec, { backend: 'kernel' });
    const rx = dgram.createSocket('udp4');
    const tx = dgram.createSocket('udp4');
    try {
      await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
      const got: number[] = [];
      rx.on('message', (m) => got.push(m.length));
      const send = async () => {
        await new Promise<void>((r) => tx.send(Buffer.alloc(150, 7), rx.address().port, '127.0.0.1', () => r()));
        for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
        return got.splice(0);
      };
      // sock_truncate keeps 100 bytes from the UDP header on: 92 bytes of payload
      const link = obj.programs.sock_truncate!.attachSocketFilter(rx as unknown as { _handle: { fd: number } });
      expect(await send()).toEqual([92]);
      link.close();
      expect(await send()).toEqual([150]);
    } finally {
      rx.close();
      tx.close();
    }
  });

  it('tracepoint + ring buffer: events decoded by BTF type name arrive through for await', async () => {
    const { loadBinding } = await import('../../lib/kernel/binding.js');
    const sys = loadBinding();
    using obj = await load(openObject(await compileProg('tracepoint_getpid')), { backend: 'kernel', globals: { target_tgid: process.pid } });
    using link = obj.programs.on_getpid!.attachTracepoint();
    expect(link.kind).toBe('tracepoint');
    using reader = obj.maps.events!.ringbuf<{ pid: number; tgid: number; cookie: number; syscall_nr: number; comm: Uint8Array }>({ decode: 'struct event' });
    for (let i = 0; i < 3; i++) sys.getpid();
    const events: { tgid: number; cookie: number; syscall_nr: number }[] = [];
    const timeout = setTimeout(() => reader.close(), 5000);
    for await (const ev of reader) {
      events.push(ev);
      if (events.length === 3) break;
    }
    clearTimeout(timeout);
    expect(events.length).toBe(3);
    const getpidNr = process.arch === 'x64' ? 39 : process.arch === 'arm64' ? 172 : expect.any(Number);
    for (const ev of events) expect(ev).toMatchObject({ tgid: process.pid, cookie: 0xb0f0c0de, syscall_nr: getpidNr });
    expect(obj.maps.calls!.lookup(process.pid)).toBeGreaterThanOrEqual(3n);
  });

  it('no fd leaks over 200 load/attach/close cycles', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const warm = await load(specs.events!, { backend: 'kernel' });
    warm.close();
    const before = fds();
    for (let i = 0; i < 200; i++) {
      const obj: BpfObject = await load(specs.events!, { backend: 'kernel' });
      const r = obj.maps.rb!.ringbuf();
      obj.programs.rb_reserve!.run({ data: new Uint8Array(20) });
      r.poll();
      obj.programs.rb_reserve!.attachXdp(DEV, { mode: 'skb' });
      obj.close();
    }
    expect(fds()).toBe(before);
    expect(xdpOn()).toBe(false);
  });
});
