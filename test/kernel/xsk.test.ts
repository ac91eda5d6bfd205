// AF_XDP sockets (lib/kernel/xsk.ts through openXskSocket): on the kernel over a veth pair created
// for this file (root namespace, unique names, IPv6 off, no addresses, removed in afterAll), frames
// are sent through an AF_PACKET socket on the peer and must arrive byte-equal; more frames than the
// fill ring holds prove chunks are recycled; send() puts frames on the wire (seen on the peer);
// an idle wait costs no CPU (libuv poll, no spinning); errors are typed; fds do not leak. The
// emulator implements the same interface.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, BpfError, load, openXskSocket, SyscallError, type BpfObject } from '../../lib/index.js';
import type { XskSocket } from '../../lib/xsk.js';
import { loadBinding } from '../../lib/kernel/binding.js';
import { KernelXskSocket } from '../../lib/kernel/xsk.js';
import { frame } from '../../examples/common/packets.js';
import { OBJECT } from '../../examples/port-filter/filter.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
const tag = `xsk${process.pid % 1000000}`;
const IF_A = `${tag}a`;
const IF_B = `${tag}b`;

function synTo(dport: number, i = 0, payload = 0): Uint8Array {
  return frame({ srcMac: '02:00:00:00:0b:01', dstMac: '02:00:00:00:0a:01', src: '10.99.0.2', dst: '10.99.0.1', proto: 'tcp', sport: 30000 + (i % 30000), dport, flags: 'S', ipId: i & 0xffff, payload: new Uint8Array(payload).fill(i & 0xff) });
}

/** AF_PACKET socket on an interface of the current namespace: send raw frames, receive them. */
function packetSocket(ifname: string) {
  const sys = loadBinding();
  const ifindex = sys.ifNameToIndex(ifname);
  const fd = sys.socket(17, 3, 0x0300);
  if (fd < 0) throw new Error(`AF_PACKET socket: ${sys.errnoString(-fd)}`);
  const sa = new Uint8Array(20);
  const sv = new DataView(sa.buffer);
  sv.setUint16(0, 17, true);
  sv.setUint16(2, 0x0300, true);
  sv.setInt32(4, ifindex, true);
  sa[11] = 6;
  if (sys.bind(fd, sa) < 0) throw new Error('bind AF_PACKET');
  return {
    send(f: Uint8Array): void {
      const n = sys.sendto(fd, f, 0, sa);
      if (n !== f.length) throw new Error(`sendto: ${n}`);
    },
    /** Frames received so far (non-blocking). */
    drain(): Uint8Array[] {
      const out: Uint8Array[] = [];
      const buf = new Uint8Array(4096);
      for (;;) {
        const n = sys.recv(fd, buf, 0x40 /* MSG_DONTWAIT */);
        if (n < 0) break;
        out.push(buf.slice(0, n));
      }
      return out;
    },
    close: () => sys.close(fd),
  };
}

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The error of an open that must fail. An open that succeeds instead fails the test after closing
 * the socket, so it cannot keep the queue bound and fail the next tests with EBUSY.
 */
async function openError(p: Promise<XskSocket>): Promise<Error> {
  const r = await p.then(
    (s) => s,
    (e: unknown) => e,
  );
  if (r instanceof Error) return r;
  const s = r as XskSocket;
  s.close();
  return expect.fail(`the open succeeded (a ${s.backend} socket on ${s.ifname} queue ${s.queue}); it must fail`);
}

describe.skipIf(!isRootLinux)('AF_XDP on the kernel (root, Linux)', () => {
  let obj: BpfObject;

  beforeAll(async () => {
    execFileSync('ip', ['link', 'add', IF_A, 'address', '02:00:00:00:0a:01', 'numtxqueues', '1', 'numrxqueues', '1', 'type', 'veth', 'peer', 'name', IF_B, 'address', '02:00:00:00:0b:01', 'numtxqueues', '1', 'numrxqueues', '1']);
    for (const d of [IF_A, IF_B]) {
      execFileSync('sysctl', ['-qw', `net.ipv6.conf.${d}.disable_ipv6=1`]);
      execFileSync('ip', ['link', 'set', d, 'up']);
    }
    obj = await load(OBJECT, { backend: 'kernel' });
    obj.map('port_policy').update(443, { action: 'to_socket', flags: 0 });
    obj.map('port_policy').update(23, { action: 'drop', flags: 0 });
    obj.program('port_filter').attachXdp(IF_A);
  });

  afterAll(() => {
    obj?.close();
    try {
      execFileSync('ip', ['link', 'del', IF_A]);
    } catch {
      // not created
    }
  });

  it('frames redirected by the program arrive byte-equal, in order, as views into UMEM', async () => {
    const peer = packetSocket(IF_B);
    using sock = await openXskSocket(obj, { ifname: IF_A, queue: 0 });
    expect(sock.backend).toBe('kernel');
    expect(sock.ifindex).toBe(loadBinding().ifNameToIndex(IF_A));
    const sent = [synTo(443, 1), synTo(23, 2), synTo(443, 3, 100), synTo(80, 4), synTo(443, 5, 1000)];
    for (const f of sent) peer.send(f);
    const got: Uint8Array[] = [];
    let sawView = false;
    for await (const f of sock) {
      sawView ||= f.buffer.byteLength > f.length; // a window into the UMEM area, not a copy
      got.push(f.slice());
      if (got.length === 3) break;
    }
    expect(sawView).toBe(true);
    expect(got.map((g) => Buffer.from(g).toString('hex'))).toEqual([sent[0], sent[2], sent[4]].map((g) => Buffer.from(g!).toString('hex')));
    expect(sock.rxFrames).toBe(3);
    peer.close();
  });

  it('more frames than the fill ring holds all arrive: chunks are recycled after each loop body', async () => {
    const peer = packetSocket(IF_B);
    using sock = await openXskSocket(obj, { ifname: IF_A, queue: 0, frames: 64 }); // 32 receive chunks
    const total = 300;
    let received = 0;
    let mismatches = 0;
    const done = (async () => {
      for await (const f of sock) {
        if (f[f.length - 1] !== (received & 0xff)) mismatches++;
        if (++received === total) break;
      }
    })();
    for (let i = 0; i < total; i++) {
      peer.send(synTo(443, i, 1));
      // keep at most 16 frames in flight so the 32-chunk ring never overflows
      while (i + 1 - received > 16) await sleep(1);
    }
    await done;
    expect(received).toBe(total);
    expect(mismatches).toBe(0);
    expect(sock.rxFrames).toBe(total);
    peer.close();
  });

  it('a frame stays intact during its loop body even while the kernel keeps receiving (recycled only after)', async () => {
    const peer = packetSocket(IF_B);
    using sock = await openXskSocket(obj, { ifname: IF_A, queue: 0, frames: 16 }); // 8 receive chunks
    const first = synTo(443, 1, 64);
    peer.send(first);
    let checked = false;
    let after = 0;
    for await (const f of sock) {
      if (!checked) {
        // 20 more frames: an early-recycled chunk would be handed out again and overwritten
        for (let i = 0; i < 20; i++) peer.send(synTo(443, 100 + i, 64));
        await sleep(50);
        expect(Buffer.from(f).toString('hex')).toBe(Buffer.from(first).toString('hex'));
        checked = true;
        continue;
      }
      after++;
      if (sock.pending === 0) break;
    }
    expect(checked).toBe(true);
    // the 7 other chunks were filled; the rest was dropped by the kernel for lack of fill entries
    expect(after).toBe(7);
    peer.close();
  });

  it('send() puts frames on the wire of the bound interface (seen on the peer) and reaps completions', async () => {
    const peer = packetSocket(IF_B);
    peer.drain();
    using sock = await openXskSocket(obj, { ifname: IF_A, queue: 0, frames: 32 }); // 16 transmit chunks
    const out = Array.from({ length: 40 }, (_, i) => synTo(9, i, 20));
    for (const f of out) {
      let ok = sock.send(f);
      for (let tries = 0; !ok && tries < 100; tries++) {
        await sleep(1);
        ok = sock.send(f);
      }
      expect(ok).toBe(true);
    }
    expect(sock.txFrames).toBe(40);
    let seen: Uint8Array[] = [];
    for (let i = 0; i < 100 && seen.length < 40; i++) {
      seen = seen.concat(peer.drain().filter((f) => f[12] === 0x08 && f[36] === 0 && f[37] === 9));
      if (seen.length < 40) await sleep(5);
    }
    expect(seen.map((f) => Buffer.from(f).toString('hex'))).toEqual(out.map((f) => Buffer.from(f).toString('hex')));
    peer.close();
  });

  it('an idle wait uses the libuv poll (no spinning), and close() ends the iteration', async () => {
    const sock = await openXskSocket(obj, { ifname: IF_A, queue: 0 });
    let ended = false;
    const it = (async () => {
      for await (const _ of sock) {
        // nothing arrives
      }
      ended = true;
    })();
    await sleep(20);
    // one reader per socket: a second concurrent consumer is refused
    await expect(sock[Symbol.asyncIterator]().next()).rejects.toThrow(/another consumer is already waiting/);
    const cpu0 = process.cpuUsage();
    await sleep(500);
    const cpu = process.cpuUsage(cpu0);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(100);
    expect(ended).toBe(false);
    sock.close();
    await it;
    expect(ended).toBe(true);
    expect(sock.isClosed).toBe(true);
    expect(() => sock.send(new Uint8Array(60))).toThrow(BpfError);
  });

  it('typed errors: bad options, missing interface, missing queue, busy queue, no xskmap', async () => {
    expect(await openError(openXskSocket(obj, { queue: 0 }))).toBeInstanceOf(ArgumentError);
    expect((await openError(openXskSocket(obj, { ifname: IF_A, queue: -1 }))).message).toMatch(/queue must be an integer/);
    expect((await openError(openXskSocket(obj, { ifname: IF_A, queue: 0, key: 64 }))).message).toMatch(/key must be an integer 0\.\.63/);
    expect((await openError(openXskSocket(obj, { ifname: IF_A, frames: 100 }))).message).toMatch(/frames must be a power of two/);
    expect((await openError(openXskSocket(obj, { ifname: IF_A, mode: 'fast' as never }))).message).toMatch(/mode must be 'copy' or 'zerocopy'/);
    expect(() => new KernelXskSocket({ ifindex: loadBinding().ifNameToIndex(IF_A), queue: 0, mode: 'fast' as never })).toThrow(/mode must be 'copy' or 'zerocopy'/);
    // veth has no zero-copy AF_XDP support: the kernel refuses the bind
    const zc = await openError(openXskSocket(obj, { ifname: IF_A, mode: 'zerocopy' }));
    expect(zc).toBeInstanceOf(SyscallError);
    expect((zc as SyscallError).code).toBe('EOPNOTSUPP');
    expect((await openError(openXskSocket(obj, { ifname: IF_A, frameSize: 1000 }))).message).toMatch(/frameSize must be 2048 or 4096/);
    expect((await openError(openXskSocket(obj.map('port_policy'), { ifname: IF_A }))).message).toMatch(/is a hash, not an xskmap/);
    expect((await openError(openXskSocket(obj, { ifindex: 0x7ffffff0, queue: 0 }))).message).toMatch(/no interface with ifindex 2147483632/);
    const e1 = await openError(openXskSocket(obj, { ifname: IF_A, queue: 3 }));
    expect(e1).toBeInstanceOf(SyscallError);
    expect((e1 as SyscallError).code).toBe('EINVAL');
    expect(e1.message).toMatch(/bind to ifindex \d+ queue 3: .*\(queue 3 does not exist/);
    expect(() => new KernelXskSocket({ ifindex: 0x7ffffff0, queue: 0 })).toThrow(/ENODEV|No such device/);
    using a = await openXskSocket(obj, { ifname: IF_A, queue: 0 });
    // our own open socket holds the queue: EBUSY at once (no waiting for a release that cannot come)
    const t0 = Date.now();
    const e2 = await openError(openXskSocket(obj, { ifname: IF_A, queue: 0 }));
    expect(e2).toBeInstanceOf(SyscallError);
    expect((e2 as SyscallError).code).toBe('EBUSY');
    expect(Date.now() - t0).toBeLessThan(5000); // a wait for a release would last 10 s (sockets on this queue were closed just before)
    expect(a.isClosed).toBe(false);
    using hello = await load(new URL('../../examples/hello/hello.bpf.o', import.meta.url).pathname, { backend: 'kernel' });
    expect((await openError(openXskSocket(hello, { ifname: IF_A }))).message).toMatch(/the object has no xskmap/);
  });

  it('receive() takes every waiting frame as a copy without blocking', async () => {
    const peer = packetSocket(IF_B);
    using sock = await openXskSocket(obj, { ifname: IF_A, queue: 0 });
    expect(sock.receive()).toEqual([]);
    const sent = [synTo(443, 11), synTo(443, 12, 7), synTo(443, 13, 300)];
    for (const f of sent) peer.send(f);
    for (let i = 0; i < 200 && sock.pending < 3; i++) await sleep(5);
    expect(sock.pending).toBe(3);
    const got = sock.receive();
    expect(got.map((g) => Buffer.from(g).toString('hex'))).toEqual(sent.map((g) => Buffer.from(g).toString('hex')));
    expect(got.every((g) => g.buffer.byteLength === g.length)).toBe(true); // copies, not UMEM views
    expect(sock.pending).toBe(0);
    peer.close();
  });

  it('200 open/close cycles leak no file descriptors and no mappings (UMEM and rings are unmapped)', async () => {
    const maps = () => readFileSync('/proc/self/maps', 'utf8').split('\n').length;
    const before = fdCount();
    const mapsBefore = maps();
    for (let i = 0; i < 200; i++) {
      const s = await openXskSocket(obj, { ifname: IF_A, queue: 0, frames: 16 });
      s.close();
    }
    expect(fdCount()).toBe(before);
    // each socket maps 5 areas (UMEM + 4 rings): a leak would add ~1000 lines
    expect(maps() - mapsBefore).toBeLessThan(50);
  });
});

describe('AF_XDP on the emulator: the same interface', () => {
  it('redirected frames arrive, send() reaches the wired peer, close() ends iteration and clears the slot', async () => {
    const { emulator } = await import('../../native-sim/index.js');
    using obj = await load(OBJECT, { backend: 'emulator' });
    obj.map('port_policy').update(443, { action: 'to_socket', flags: 0 });
    const name = `xe${process.pid % 100000}`;
    const iface = emulator.interface(name);
    const peer = emulator.interface(`${name}p`);
    peer.connect(iface);
    using link = obj.program('port_filter').attachXdp(name);
    const sock = await openXskSocket(obj, { ifname: name, queue: 0 });
    expect(sock.backend).toBe('emulator');
    expect(sock.ifindex).toBe(iface.ifindex);
    const sent = [synTo(443, 1), synTo(80, 2), synTo(443, 3, 10)];
    for (const f of sent) peer.transmit(f);
    const got: Uint8Array[] = [];
    for await (const f of sock) {
      got.push(f.slice());
      if (got.length === 2) break;
    }
    expect(got).toEqual([sent[0], sent[2]]);
    const before = peer.stack.length;
    expect(sock.send(synTo(7, 9))).toBe(true);
    expect(peer.stack.length).toBe(before + 1);
    expect(peer.stack.at(-1)).toEqual(synTo(7, 9));
    expect(iface.wire.at(-1)).toEqual(synTo(7, 9));
    expect(sock.txFrames).toBe(1);
    let ended = false;
    const it = (async () => {
      for await (const _ of sock) {
        // nothing
      }
      ended = true;
    })();
    sock.close();
    await it;
    expect(ended).toBe(true);
    // the slot is empty again: redirects fall back to XDP_PASS (the program's flags argument)
    peer.transmit(synTo(443, 4));
    expect(iface.stack.at(-1)).toEqual(synTo(443, 4));
    void link;
  });
});
