/**
 * Kernel links beyond XDP, each observed running on the real kernel: tracepoint (events read
 * through the ring buffer reader with `for await` and through the perf buffer reader), raw
 * tracepoint, uprobe/uretprobe on a C binary compiled here, socket filter on a UDP socket,
 * cgroup_skb on a child cgroup holding a process spawned here, tcx ingress/egress on a veth.
 * Link pinning / openPinnedLink, and the typed errors with hints.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ArgumentError, SyscallError } from '../../lib/errors.js';
import { PerfReader, RingbufReader } from '../../lib/kernel/events.js';
import { attachProgram, openPinnedLink } from '../../lib/kernel/links.js';
import { loadBinding } from '../../lib/kernel/binding.js';
import { listLinks } from '../../lib/kernel/listing.js';
import { readHostSymbols, resolveSymbolOffset } from '../../lib/kernel/uprobe.js';
import { CACHE_DIR } from '../helpers/progs.js';
import { cgroup2Root, counter, execFileP, ip, ipQuiet, isRootLinux, KPROGS, loadKernelObject, SKIP_REASON, u16, u32, type LoadedKernelObject } from './kload.js';

const tag = `${process.pid % 100000}`;
const PIN_DIR = `/sys/fs/bpf/bpfkit-links-${tag}`;
const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const children: ChildProcessWithoutNullStreams[] = [];

/** Spawn a child that blocks until a line arrives on stdin; collects its output. */
function gated(cmd: string, args: string[]): { child: ChildProcessWithoutNullStreams; go(): void; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const done = new Promise<{ code: number | null; out: string }>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
  return { child, go: () => child.stdin.end('go\n'), done };
}

interface GetpidEvent {
  pid: number;
  tgid: number;
  seq: number;
  comm: string;
}

function decodeEvent(r: Uint8Array): GetpidEvent {
  const dv = new DataView(r.buffer, r.byteOffset, r.byteLength);
  const comm = Buffer.from(r.subarray(16, 32)).toString('latin1').replace(/\0.*$/s, '');
  return { pid: dv.getUint32(0, true), tgid: dv.getUint32(4, true), seq: Number(dv.getBigUint64(8, true)), comm };
}

describe.skipIf(!isRootLinux)(`kernel links (${isRootLinux ? 'root' : SKIP_REASON})`, () => {
  let trace: LoadedKernelObject;
  let sock: LoadedKernelObject;

  beforeAll(async () => {
    trace = await loadKernelObject('ktrace');
    sock = await loadKernelObject('ksock');
    mkdirSync(PIN_DIR, { recursive: true });
  });

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) c.kill('SIGKILL');
    trace?.close();
    sock?.close();
    rmSync(PIN_DIR, { recursive: true, force: true });
  });

  describe('tracepoint syscalls/sys_enter_getpid', () => {
    test('events of a spawned process arrive through the ring buffer (for await) and the perf buffer', async () => {
      const config = trace.map('config');
      const rb = trace.map('tp_events').openReader() as RingbufReader;
      const pb = trace.map('tp_perf').openReader() as PerfReader;
      config.update(u32(0), u32(0xffffffff), 0); // nobody yet (0 would mean every process)
      expect(rb).toBeInstanceOf(RingbufReader);
      expect(pb).toBeInstanceOf(PerfReader);
      const link = trace.prog('tp_getpid').attach({ kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_getpid' });
      try {
        expect(link.info.kind).toBe('tracepoint');
        expect(link.info.target).toBe('syscalls/sys_enter_getpid');
        const kl = listLinks().find((l) => l.id === link.info.id);
        expect(kl).toMatchObject({ type: 'perf_event', perfEventType: 'tracepoint', tracepoint: 'sys_enter_getpid', progId: trace.prog('tp_getpid').id });

        const g = gated(PY, ['-c', 'import os,sys\nsys.stdin.readline()\nfor _ in range(3): os.getpid()\n']);
        const pid = g.child.pid!;
        config.update(u32(0), u32(pid), 0);
        // Only this child's calls from here on (its interpreter start-up may call getpid too).
        rb.poll(() => undefined);
        pb.poll(() => undefined);
        const guard = setTimeout(() => rb.close(), 10_000);
        const got: GetpidEvent[] = [];
        g.go();
        for await (const rec of rb) {
          expect(rec).toBeInstanceOf(Uint8Array);
          expect(rec.length).toBe(32);
          got.push(decodeEvent(rec));
          if (got.length === 3) break;
        }
        clearTimeout(guard);
        expect((await g.done).code).toBe(0);
        expect(got.map((e) => e.tgid)).toEqual([pid, pid, pid]);
        expect(got.map((e) => e.comm)).toEqual(got.map(() => got[0]!.comm));
        expect(got[0]!.comm).toMatch(/^python3/);
        expect(got[1]!.seq).toBe(got[0]!.seq + 1);
        expect(got[2]!.seq).toBe(got[0]!.seq + 2);

        // The same three calls went to the perf event array.
        const perf: GetpidEvent[] = [];
        const end = Date.now() + 5000;
        const has = (q: number): boolean => perf.some((e) => e.seq === q);
        while (!got.every((e) => has(e.seq)) && Date.now() < end) {
          await Promise.race([pb.readable(), sleep(500)]);
          pb.poll((r) => perf.push(decodeEvent(r)));
        }
        expect(got.every((e) => has(e.seq))).toBe(true);
        expect(perf.every((e) => e.tgid === pid)).toBe(true);
        expect(pb.lost).toBe(0);
      } finally {
        link.close();
        rb.close();
        pb.close();
        config.update(u32(0), u32(0xffffffff), 0);
      }
    });

    test('a pinned tracepoint link keeps running after close; openPinnedLink + detach stops it', async () => {
      const s = loadBinding();
      const hits = trace.map('hits');
      trace.map('config').update(u32(0), u32(process.pid), 0);
      const pin = `${PIN_DIR}/tp`;
      try {
        const link = trace.prog('tp_getpid').attach({ kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_getpid' });
        link.pin(pin);
        link.close();
        const h0 = counter(hits, 0);
        s.getpid();
        s.getpid();
        expect(counter(hits, 0)).toBe(h0 + 2);
        const again = openPinnedLink(pin);
        expect(again.info.kind).toBe('tracepoint');
        expect(again.info.target).toBe('syscalls/sys_enter_getpid');
        again.detach();
        expect(existsSync(pin)).toBe(false);
        const h1 = counter(hits, 0);
        s.getpid();
        expect(counter(hits, 0)).toBe(h1);
      } finally {
        rmSync(pin, { force: true });
        trace.map('config').update(u32(0), u32(0xffffffff), 0);
      }
    });

    test('ioctl attachment (perfLink: false, the pre-5.15 path) runs the program; it cannot be pinned; close stops it', () => {
      const s = loadBinding();
      const hits = trace.map('hits');
      trace.map('config').update(u32(0), u32(process.pid), 0);
      const link = attachProgram(trace.prog('tp_getpid'), { kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_getpid' }, { perfLink: false });
      try {
        expect(link.fd).toBeUndefined();
        expect(listLinks().some((l) => l.progId === trace.prog('tp_getpid').id)).toBe(false);
        const h0 = counter(hits, 0);
        s.getpid();
        s.getpid();
        expect(counter(hits, 0)).toBe(h0 + 2);
        expect(() => link.pin(`${PIN_DIR}/ioctl`)).toThrow(/cannot be pinned/);
        expect(() => link.update(trace.prog('tp_getpid'))).toThrow(/cannot replace/);
      } finally {
        link.close();
      }
      const h1 = counter(hits, 0);
      s.getpid();
      expect(counter(hits, 0)).toBe(h1);
      trace.map('config').update(u32(0), u32(0xffffffff), 0);
    });

    test('unknown tracepoints and bad names are ArgumentErrors', () => {
      expect(() => trace.prog('tp_getpid').attach({ kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_nosuchcall' })).toThrow(/no such tracepoint/);
      expect(() => trace.prog('tp_getpid').attach({ kind: 'tracepoint', category: '..', name: 'x' })).toThrow(ArgumentError);
      expect(() => trace.prog('raw_sys_enter').attach({ kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_getpid' })).toThrow(/raw_tracepoint; tracepoint needs tracepoint/);
    });
  });

  test('raw tracepoint sys_enter counts this process\'s syscalls; detach stops it', () => {
    const s = loadBinding();
    const hits = trace.map('hits');
    trace.map('config').update(u32(0), u32(process.pid), 0);
    const link = trace.prog('raw_sys_enter').attach({ kind: 'raw_tracepoint', name: 'sys_enter' });
    try {
      expect(link.info).toMatchObject({ kind: 'raw_tracepoint', target: 'sys_enter' });
      expect(listLinks().find((l) => l.id === link.info.id)).toMatchObject({ type: 'raw_tracepoint', tracepoint: 'sys_enter' });
      const h0 = counter(hits, 1);
      for (let i = 0; i < 5; i++) s.getpid();
      expect(counter(hits, 1)).toBeGreaterThanOrEqual(h0 + 5);
    } finally {
      link.detach();
    }
    const h1 = counter(hits, 1);
    s.getpid();
    expect(counter(hits, 1)).toBe(h1);
    expect(() => trace.prog('raw_sys_enter').attach({ kind: 'raw_tracepoint', name: 'bpfkit_no_such_tp' })).toThrow(SyscallError);
    trace.map('config').update(u32(0), u32(0xffffffff), 0);
  });

  describe('uprobes', () => {
    let bin = '';
    beforeAll(async () => {
      mkdirSync(CACHE_DIR, { recursive: true });
      bin = join(CACHE_DIR, `uprobe_target.${tag}`);
      await execFileP('gcc', ['-O1', '-o', bin, join(KPROGS, '..', 'host', 'uprobe_target.c')], { timeout: 60_000 });
    });
    afterAll(() => {
      if (bin) rmSync(bin, { force: true });
    });

    test('symbol offsets match nm (oracle) for a PIE binary; missing symbols and files are ArgumentErrors', async () => {
      const nm = await execFileP('nm', [bin], { timeout: 10_000 });
      const line = nm.stdout.split('\n').find((l) => l.endsWith(' bpfkit_uprobe_target'));
      expect(line).toBeDefined();
      const addr = parseInt(line!.split(' ')[0]!, 16);
      const sym = readHostSymbols(bin).find((s) => s.name === 'bpfkit_uprobe_target');
      expect(sym?.address).toBe(addr);
      // gcc PIE: the text segment's file offset equals its virtual address.
      expect(resolveSymbolOffset(bin, 'bpfkit_uprobe_target')).toBe(addr);
      expect(() => resolveSymbolOffset(bin, 'no_such_function')).toThrow(/no function symbol no_such_function/);
      expect(() => resolveSymbolOffset('/nonexistent/bin', 'main')).toThrow(/no such file/);
      expect(() => resolveSymbolOffset('/etc/hostname', 'main')).toThrow(/not an ELF file/);
    });

    test('uprobe and uretprobe count the calls of a function in a spawned binary (pid filter)', async () => {
      const hits = trace.map('hits');
      const g = gated(bin, ['7']);
      const pid = g.child.pid!;
      trace.map('config').update(u32(0), u32(0), 0);
      const entry = trace.prog('on_entry').attach({ kind: 'uprobe', binaryPath: bin, symbol: 'bpfkit_uprobe_target', pid });
      const ret = trace.prog('on_return').attach({ kind: 'uprobe', binaryPath: bin, symbol: 'bpfkit_uprobe_target', pid, ret: true });
      try {
        expect(entry.info.kind).toBe('uprobe');
        expect(listLinks().find((l) => l.id === entry.info.id)).toMatchObject({ type: 'perf_event', perfEventType: 'uprobe', file: bin });
        expect(listLinks().find((l) => l.id === ret.info.id)).toMatchObject({ perfEventType: 'uretprobe' });
        const e0 = counter(hits, 2);
        const r0 = counter(hits, 3);
        g.go();
        const res = await g.done;
        expect(res.code).toBe(0);
        expect(res.out.trim()).toBe(String([0, 1, 2, 3, 4, 5, 6].reduce((a, i) => a + 2 * i + 1, 0)));
        expect(counter(hits, 2) - e0).toBe(7);
        expect(counter(hits, 3) - r0).toBe(7);
      } finally {
        entry.close();
        ret.close();
        trace.map('config').update(u32(0), u32(0xffffffff), 0);
      }
      // Another run of the binary (another pid) is not counted after close.
      const e1 = counter(hits, 2);
      const g2 = gated(bin, ['3']);
      g2.go();
      expect((await g2.done).code).toBe(0);
      expect(counter(hits, 2)).toBe(e1);
    });

    test('non-PIE executable: the symbol\'s file offset differs from its address and the uprobe still fires', async () => {
      const nopie = `${bin}.nopie`;
      await execFileP('gcc', ['-O1', '-no-pie', '-o', nopie, join(KPROGS, '..', 'host', 'uprobe_target.c')], { timeout: 60_000 });
      try {
        const sym = readHostSymbols(nopie).find((x) => x.name === 'bpfkit_uprobe_target')!;
        expect(sym.address).toBeGreaterThanOrEqual(0x400000);
        expect(sym.offset).toBe(sym.address - 0x400000);
        const hits = trace.map('hits');
        trace.map('config').update(u32(0), u32(0), 0);
        const g = gated(nopie, ['6']);
        const link = trace.prog('on_entry').attach({ kind: 'uprobe', binaryPath: nopie, symbol: 'bpfkit_uprobe_target', pid: g.child.pid! });
        try {
          const e0 = counter(hits, 2);
          g.go();
          expect((await g.done).code).toBe(0);
          expect(counter(hits, 2) - e0).toBe(6);
        } finally {
          link.close();
          trace.map('config').update(u32(0), u32(0xffffffff), 0);
        }
      } finally {
        rmSync(nopie, { force: true });
      }
    });

    test('uprobe by raw offset equals uprobe by symbol', async () => {
      const hits = trace.map('hits');
      trace.map('config').update(u32(0), u32(0), 0);
      const off = resolveSymbolOffset(bin, 'bpfkit_uprobe_target');
      const g = gated(bin, ['4']);
      const link = trace.prog('on_entry').attach({ kind: 'uprobe', binaryPath: bin, offset: off, pid: g.child.pid! });
      try {
        const e0 = counter(hits, 2);
        g.go();
        expect((await g.done).code).toBe(0);
        expect(counter(hits, 2) - e0).toBe(4);
      } finally {
        link.detach();
        trace.map('config').update(u32(0), u32(0xffffffff), 0);
      }
      expect(() => trace.prog('on_entry').attach({ kind: 'uprobe', binaryPath: bin })).toThrow(/give a symbol or an offset/);
    });
  });

  describe('socket filter', () => {
    const s = () => loadBinding();
    function sockaddr(port: number): Uint8Array {
      const a = new Uint8Array(16);
      const dv = new DataView(a.buffer);
      dv.setUint16(0, 2, true); // AF_INET
      dv.setUint16(2, port, false);
      a.set([127, 0, 0, 1], 4);
      return a;
    }
    function drain(fd: number, ms = 1000, want = Infinity): Promise<string[]> {
      const out: string[] = [];
      const buf = new Uint8Array(256);
      const end = Date.now() + ms;
      return (async () => {
        while (Date.now() < end && out.length < want) {
          const n = s().recv(fd, buf, 0x40 /* MSG_DONTWAIT */);
          if (n >= 0) out.push(Buffer.from(buf.subarray(0, n)).toString());
          else await sleep(20);
        }
        return out;
      })();
    }

    test('the filter drops datagrams starting with X and accepts others; detach restores delivery', async () => {
      const rx = s().socket(2, 2, 0);
      const tx = s().socket(2, 2, 0);
      expect(rx).toBeGreaterThan(0);
      try {
        const port = 20000 + (process.pid % 20000);
        expect(s().bind(rx, sockaddr(port))).toBe(0);
        const seen = sock.map('sock_seen');
        const a0 = counter(seen, 0);
        const d0 = counter(seen, 1);
        const link = sock.prog('udp_filter').attach({ kind: 'socket_filter', socketFd: rx });
        expect(link.info.kind).toBe('socket_filter');
        for (const m of ['hello', 'Xdropped', 'world']) expect(s().sendto(tx, Buffer.from(m), 0, sockaddr(port))).toBe(m.length);
        expect(await drain(rx, 800)).toEqual(['hello', 'world']);
        expect(counter(seen, 0) - a0).toBe(2);
        expect(counter(seen, 1) - d0).toBe(1);
        // update = SO_ATTACH_BPF of another program: accepts everything
        link.update(sock.prog('accept_all'));
        s().sendto(tx, Buffer.from('Xaccepted'), 0, sockaddr(port));
        expect(await drain(rx, 1000, 1)).toEqual(['Xaccepted']);
        link.update(sock.prog('udp_filter'));
        link.detach();
        s().sendto(tx, Buffer.from('Xafter-detach'), 0, sockaddr(port));
        expect(await drain(rx, 1000, 1)).toEqual(['Xafter-detach']);
        expect(() => link.pin(`${PIN_DIR}/sock`)).toThrow(/cannot be pinned/);
      } finally {
        s().close(rx);
        s().close(tx);
      }
      let err: unknown;
      try {
        sock.prog('udp_filter').attach({ kind: 'socket_filter', socketFd: rx });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SyscallError);
      expect((err as Error).message).toMatch(/not an open socket/);
    });
  });

  describe('cgroup_skb', () => {
    let cg: LoadedKernelObject;
    let dir = '';
    beforeAll(async () => {
      cg = await loadKernelObject('kcgroup');
      const root = cgroup2Root();
      expect(root, 'cgroup v2 must be mounted').toBeDefined();
      dir = join(root!, `bpfkit-links-${tag}`);
      mkdirSync(dir, { recursive: true });
    });
    afterAll(async () => {
      cg?.close();
      // Processes left in the cgroup (none when the test passed) would keep rmdir from working.
      for (let i = 0; i < 20 && dir && existsSync(dir); i++) {
        try {
          rmdirSync(dir);
        } catch {
          await sleep(100);
        }
      }
    });

    test('egress/ingress programs on a child cgroup count its process\'s packets and drop a blocked port', async () => {
      const ok = dgram.createSocket('udp4');
      const got: string[] = [];
      ok.on('message', (m) => got.push(m.toString()));
      await new Promise<void>((r) => ok.bind(0, '127.0.0.1', () => r()));
      const okPort = ok.address().port;
      const blocked = dgram.createSocket('udp4');
      await new Promise<void>((r) => blocked.bind(0, '127.0.0.1', () => r()));
      const blockedPort = blocked.address().port;
      const blockedGot: string[] = [];
      blocked.on('message', (m) => blockedGot.push(m.toString()));
      cg.map('cg_block').update(u16(blockedPort), new Uint8Array([1]), 0);
      const eg = cg.prog('cg_egress').attach({ kind: 'cgroup', path: dir, attachType: 'cgroup_inet_egress' });
      const ing = cg.prog('cg_ingress').attach({ kind: 'cgroup', path: dir, attachType: 'cgroup_inet_ingress' });
      try {
        expect(listLinks().find((l) => l.id === eg.info.id)).toMatchObject({ type: 'cgroup', attachType: 'cgroup_inet_egress' });
        const counts = cg.map('cg_counts');
        const before = [0, 1, 2, 3].map((i) => counter(counts, i));
        const script = [
          'import socket,sys',
          'sys.stdin.readline()',
          's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)',
          `s.sendto(b'cg-ok',('127.0.0.1',${okPort}))`,
          'try:',
          `  s.sendto(b'cg-blocked',('127.0.0.1',${blockedPort})); print('sent')`,
          'except PermissionError: print("eperm")',
          'r=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); r.bind(("127.0.0.1",0)); r.settimeout(3)',
          's.sendto(b"self",r.getsockname()); print(r.recv(100).decode())',
        ].join('\n');
        const g = gated(PY, ['-c', script]);
        writeFileSync(join(dir, 'cgroup.procs'), String(g.child.pid));
        expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(g.child.pid));
        g.go();
        const res = await g.done;
        expect(res.code, res.out).toBe(0);
        expect(res.out.split('\n').filter(Boolean)).toEqual(['eperm', 'self']);
        const end = Date.now() + 2000;
        while (!got.includes('cg-ok') && Date.now() < end) await sleep(20);
        expect(got).toEqual(['cg-ok']);
        expect(blockedGot).toEqual([]);
        const after = [0, 1, 2, 3].map((i) => counter(counts, i));
        expect(after[0]! - before[0]!).toBe(3); // cg-ok, cg-blocked, self
        expect(after[1]! - before[1]!).toBe(3 * 28 + 'cg-okcg-blockedself'.length); // IPv4 + UDP headers + payloads
        expect(after[2]! - before[2]!).toBe(1); // self, received inside the cgroup
        expect(after[3]! - before[3]!).toBe(1);
      } finally {
        eg.detach();
        ing.detach();
        ok.close();
        blocked.close();
      }
      expect(() => cg.prog('cg_egress').attach({ kind: 'cgroup', path: join(dir, 'nope'), attachType: 'cgroup_inet_egress' })).toThrow(/no such directory/);
      expect(() => cg.prog('cg_egress').attach({ kind: 'cgroup', path: dir, attachType: 'cgroup_bogus' as never })).toThrow(/unknown attach type/);
    });
  });

  describe('tcx', () => {
    const NS = `bpfkit-tcx-${tag}`;
    const VA = `bkt${tag}a`;
    const VB = `bkt${tag}b`;
    const NET = `10.202.${process.pid % 250}`;
    let tc: LoadedKernelObject;
    let ifindex = 0;
    beforeAll(async () => {
      await ipQuiet('link', 'del', VA);
      await ipQuiet('netns', 'del', NS);
      await ip('netns', 'add', NS);
      await ip('link', 'add', VA, 'type', 'veth', 'peer', 'name', VB);
      await ip('link', 'set', VB, 'netns', NS);
      await ip('addr', 'add', `${NET}.1/24`, 'dev', VA);
      await ip('link', 'set', VA, 'up');
      await ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${NET}.2/24`, 'dev', VB);
      await ip('netns', 'exec', NS, 'ip', 'link', 'set', VB, 'up');
      ifindex = loadBinding().ifNameToIndex(VA);
      tc = await loadKernelObject('ktcx');
    });
    afterAll(async () => {
      tc?.close();
      await ipQuiet('link', 'del', VA);
      await ipQuiet('netns', 'del', NS);
    });

    test('ingress and egress tcx links count packets; the block list drops at ingress; detach stops it', async () => {
      const rx = dgram.createSocket('udp4');
      const got: string[] = [];
      rx.on('message', (m) => got.push(m.toString()));
      await new Promise<void>((r) => rx.bind(9201, `${NET}.1`, () => r()));
      const inLink = tc.prog('tc_in').attach({ kind: 'tc', ifindex, ifname: VA, direction: 'ingress' });
      const outLink = tc.prog('tc_out').attach({ kind: 'tc', ifindex, ifname: VA, direction: 'egress' });
      const send = async (msg: string): Promise<void> => {
        const { runCmd } = await import('./kload.js');
        const r = await runCmd('ip', ['netns', 'exec', NS, 'nc', '-u', '-w1', '-q1', `${NET}.1`, '9201'], { input: msg, timeoutMs: 5000 });
        expect(r.code, r.stderr).toBe(0);
      };
      const waitFor = async (m: string, ms: number): Promise<boolean> => {
        const end = Date.now() + ms;
        while (!got.includes(m) && Date.now() < end) await sleep(25);
        return got.includes(m);
      };
      try {
        expect(inLink.info).toMatchObject({ kind: 'tc', target: `${VA}/ingress` });
        const links = listLinks();
        expect(links.find((l) => l.id === inLink.info.id)).toMatchObject({ type: 'tcx', ifindex, ifname: VA, attachType: 'tcx_ingress' });
        expect(links.find((l) => l.id === outLink.info.id)).toMatchObject({ type: 'tcx', ifindex, attachType: 'tcx_egress' });
        const counts = tc.map('tc_counts');
        const in0 = counter(counts, 0);
        await send('tc-pass');
        expect(await waitFor('tc-pass', 1500)).toBe(true);
        expect(counter(counts, 0)).toBeGreaterThan(in0);

        const out0 = counter(counts, 1);
        const tx = dgram.createSocket('udp4');
        await new Promise<void>((r) => tx.send('egress', 9, `${NET}.2`, () => r()));
        tx.close();
        const end = Date.now() + 2000;
        while (counter(counts, 1) === out0 && Date.now() < end) await sleep(25);
        expect(counter(counts, 1)).toBeGreaterThan(out0);

        tc.map('tc_block').update(u16(9201), new Uint8Array([1]), 0);
        const d0 = counter(counts, 2);
        await send('tc-blocked');
        expect(await waitFor('tc-blocked', 800)).toBe(false);
        expect(counter(counts, 2)).toBe(d0 + 1);
        let err: unknown;
        try {
          tc.prog('tc_in').attach({ kind: 'tc', ifindex: 0x7ffffff0, ifname: 'nosuchif1', direction: 'ingress' });
        } catch (e) {
          err = e;
        }
        expect((err as Error).message).toContain('no such interface nosuchif1');
      } finally {
        inLink.detach();
        outLink.detach();
      }
      await send('tc-after-detach');
      expect(await waitFor('tc-after-detach', 1500)).toBe(true);
      tc.map('tc_block').delete(u16(9201));
      rx.close();
      expect(listLinks().some((l) => l.id === inLink.info.id || l.id === outLink.info.id)).toBe(false);
    });
  });

  test('uprobe on a shared-library symbol (libc getpid, from .dynsym) counts a spawned process\'s calls', async () => {
    const libc = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((l) => l.split(/\s+/)[5] ?? '')
      .find((p) => /\/libc\.so\.6$/.test(p));
    expect(libc, 'libc.so.6 mapped in this process').toBeDefined();
    const hits = trace.map('hits');
    trace.map('config').update(u32(0), u32(0), 0);
    const g = gated(PY, ['-c', 'import os,sys\nsys.stdin.readline()\nfor _ in range(25): os.getpid()\n']);
    const link = trace.prog('on_entry').attach({ kind: 'uprobe', binaryPath: libc!, symbol: 'getpid', pid: g.child.pid! });
    try {
      const e0 = counter(hits, 2);
      g.go();
      expect((await g.done).code).toBe(0);
      const n = counter(hits, 2) - e0;
      expect(n).toBeGreaterThanOrEqual(25);
      expect(n).toBeLessThan(40);
    } finally {
      link.close();
      trace.map('config').update(u32(0), u32(0xffffffff), 0);
    }
  });

  test('public API: load() → attachTracepoint() → map.ringbuf() for await with a decoder', async () => {
    const { load } = await import('../../lib/index.js');
    const obj = await load(trace.path, { backend: 'kernel' });
    try {
      obj.map('config').update(0, 0xffffffff);
      const link = obj.program('tp_getpid').attachTracepoint();
      expect(link.kind).toBe('tracepoint');
      const reader = obj.map('tp_events').ringbuf<GetpidEvent>({ decode: decodeEvent });
      const g = gated(PY, ['-c', 'import os,sys\nsys.stdin.readline()\nos.getpid(); os.getpid()\n']);
      obj.map('config').update(0, g.child.pid!);
      reader.poll();
      const guard = setTimeout(() => reader.close(), 10_000);
      g.go();
      const got: { tgid: number }[] = [];
      for await (const ev of reader) {
        got.push(ev);
        if (got.length === 2) break;
      }
      clearTimeout(guard);
      expect(got.map((e) => e.tgid)).toEqual([g.child.pid, g.child.pid]);
      expect((await g.done).code).toBe(0);
      reader.close();
    } finally {
      obj.close();
    }
  });

  test('attach/close cycles leak no fds (tracepoint, raw tracepoint, uprobe, socket filter)', () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const libc = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((l) => l.split(/\s+/)[5] ?? '')
      .find((p) => /\/libc\.so\.6$/.test(p))!;
    const sleeper = gated('sleep', ['30']);
    const warm = trace.prog('tp_getpid').attach({ kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_getpid' });
    warm.close();
    const before = fds();
    const s = loadBinding();
    for (let i = 0; i < 25; i++) {
      trace.prog('tp_getpid').attach({ kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_getpid' }).close();
      trace.prog('raw_sys_enter').attach({ kind: 'raw_tracepoint', name: 'sys_enter' }).detach();
      trace.prog('on_entry').attach({ kind: 'uprobe', binaryPath: libc, symbol: 'getpid', pid: sleeper.child.pid! }).close();
      const sk = s.socket(2, 2, 0);
      sock.prog('udp_filter').attach({ kind: 'socket_filter', socketFd: sk }).close();
      s.close(sk);
    }
    expect(fds()).toBe(before);
    sleeper.child.kill('SIGKILL');
  });

  test('openPinnedLink: a pinned map is not a link; a missing path is ENOENT with a hint', () => {
    const p = `${PIN_DIR}/a-map`;
    trace.map('hits').pin(p);
    try {
      expect(() => openPinnedLink(p)).toThrow(/not a link/);
    } finally {
      rmSync(p, { force: true });
    }
    let err: unknown;
    try {
      openPinnedLink(`${PIN_DIR}/missing`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as SyscallError).code).toBe('ENOENT');
    expect((err as Error).message).toMatch(/nothing is pinned at/);
    expect(() => attachProgram({ name: 'x', type: 'xdp' }, { kind: 'xdp', ifindex: 1, ifname: 'lo' })).toThrow(/not loaded in the kernel/);
  });
});
