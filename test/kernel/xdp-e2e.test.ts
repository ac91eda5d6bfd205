/**
 * XDP end to end on the real kernel: a veth pair joins the root network namespace (where this
 * process and its UDP/TCP listeners live) and a namespace created here (where `nc` sends real
 * packets from). The port-filter program (test/kernel/progs/kfilter.bpf.c) is attached to the
 * root-side veth through a BPF link; packets are dropped or passed as its `ports` map says and
 * its `counters` map counts them. `ip link show` is the independent oracle for what is attached.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import dgram from 'node:dgram';
import { join } from 'node:path';
import net from 'node:net';
import { mkdirSync, existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BackendLink } from '../../lib/backend.js';
import { ArgumentError, SyscallError } from '../../lib/errors.js';
import { attachProgram, openPinnedLink } from '../../lib/kernel/links.js';
import { loadBinding } from '../../lib/kernel/binding.js';
import { listLinks } from '../../lib/kernel/listing.js';
import { compileC } from '../helpers/progs.js';
import { counter, execFileP, ip, ipQuiet, isRootLinux, KPROGS, loadKernelObject, runCmd, SKIP_REASON, u16, u32, type LoadedKernelObject } from './kload.js';

const tag = `${process.pid % 100000}`;
const NS = `bpfkit-xdp-${tag}`;
const VA = `bkx${tag}a`; // root side, XDP attached here
const VB = `bkx${tag}b`; // inside NS
const NET = `10.201.${process.pid % 250}`;
const HOST = `${NET}.1`;
const PEER = `${NET}.2`;
const UDP_PORT = 9101;
const TCP_PORT = 9102;
const PIN_DIR = `/sys/fs/bpf/bpfkit-xdp-${tag}`;

const received: string[] = [];
let udp: dgram.Socket | undefined;
let tcp: net.Server | undefined;
let obj: LoadedKernelObject | undefined;
let ifindex = 0;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Send one UDP datagram from inside the namespace to HOST:UDP_PORT with nc. */
async function sendUdp(msg: string): Promise<void> {
  const r = await runCmd('ip', ['netns', 'exec', NS, 'nc', '-u', '-w1', '-q1', HOST, String(UDP_PORT)], { input: msg, timeoutMs: 5000 });
  expect(r.code, r.stderr).toBe(0);
}

/** Wait up to `ms` for `msg` to arrive; true when it did. */
async function arrived(msg: string, ms = 1500): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (received.includes(msg)) return true;
    await sleep(25);
  }
  return received.includes(msg);
}

/** Does a TCP connect from the namespace to HOST:TCP_PORT succeed (2 s bound)? */
async function tcpConnects(): Promise<boolean> {
  const r = await runCmd('ip', ['netns', 'exec', NS, 'nc', '-z', '-w2', HOST, String(TCP_PORT)], { timeoutMs: 6000 });
  return r.code === 0;
}

async function xdpShown(): Promise<string> {
  return ip('-d', 'link', 'show', 'dev', VA);
}

describe.skipIf(!isRootLinux)(`XDP end to end over veth (${isRootLinux ? 'root' : SKIP_REASON})`, () => {
  beforeAll(async () => {
    await ipQuiet('link', 'del', VA);
    await ipQuiet('netns', 'del', NS);
    await ip('netns', 'add', NS);
    await ip('link', 'add', VA, 'type', 'veth', 'peer', 'name', VB);
    await ip('link', 'set', VB, 'netns', NS);
    await ip('addr', 'add', `${HOST}/24`, 'dev', VA);
    await ip('link', 'set', VA, 'up');
    await ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${PEER}/24`, 'dev', VB);
    await ip('netns', 'exec', NS, 'ip', 'link', 'set', VB, 'up');
    await ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
    ifindex = loadBinding().ifNameToIndex(VA);
    expect(ifindex).toBeGreaterThan(0);
    udp = dgram.createSocket('udp4');
    udp.on('message', (m) => received.push(m.toString()));
    await new Promise<void>((r) => udp!.bind(UDP_PORT, HOST, () => r()));
    tcp = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => tcp!.listen(TCP_PORT, HOST, () => r()));
    obj = await loadKernelObject('kfilter');
    if (!existsSync('/sys/fs/bpf/')) mkdirSync('/sys/fs/bpf', { recursive: true });
    mkdirSync(PIN_DIR, { recursive: true });
  });

  afterAll(async () => {
    udp?.close();
    tcp?.close();
    obj?.close();
    rmSync(PIN_DIR, { recursive: true, force: true });
    await ipQuiet('link', 'del', VA);
    await ipQuiet('netns', 'del', NS);
  });

  test('traffic passes and is counted; a drop entry drops UDP and counts it; TCP to another port still connects', async () => {
    const o = obj!;
    const link = o.prog('xdp_filter').attach({ kind: 'xdp', ifindex, ifname: VA });
    try {
      expect(link.info.kind).toBe('xdp');
      expect(link.info.id).toBeGreaterThan(0);
      expect(await xdpShown()).toMatch(/prog\/xdp id \d+/);
      const pass0 = counter(o.map('counters'), 0);
      await sendUdp('pass-1');
      expect(await arrived('pass-1')).toBe(true);
      expect(counter(o.map('counters'), 0)).toBeGreaterThan(pass0);

      o.map('ports').update(u16(UDP_PORT), u32(1), 0);
      const drop0 = counter(o.map('counters'), 1);
      await sendUdp('drop-1');
      await sendUdp('drop-2');
      expect(await arrived('drop-1', 800)).toBe(false);
      expect(received).not.toContain('drop-2');
      expect(counter(o.map('counters'), 1)).toBe(drop0 + 2);
      expect(await tcpConnects()).toBe(true);

      o.map('ports').update(u16(TCP_PORT), u32(1), 0);
      expect(await tcpConnects()).toBe(false);
      expect(counter(o.map('counters'), 1)).toBeGreaterThan(drop0 + 2);
    } finally {
      link.detach();
      o.map('ports').delete(u16(UDP_PORT));
      o.map('ports').delete(u16(TCP_PORT));
    }
    expect(await xdpShown()).not.toMatch(/prog\/xdp/);
  });

  test('detaching restores traffic', async () => {
    const o = obj!;
    o.map('ports').update(u16(UDP_PORT), u32(1), 0);
    try {
      const link = o.prog('xdp_filter').attach({ kind: 'xdp', ifindex, ifname: VA, mode: 'native' });
      await sendUdp('blocked-a');
      expect(await arrived('blocked-a', 800)).toBe(false);
      link.detach();
      expect(link.fd).toBeUndefined();
      await sendUdp('restored-a');
      expect(await arrived('restored-a')).toBe(true);
    } finally {
      o.map('ports').delete(u16(UDP_PORT));
    }
  });

  test('closing an unpinned link detaches it', async () => {
    const o = obj!;
    o.map('ports').update(u16(UDP_PORT), u32(1), 0);
    try {
      const link = o.prog('xdp_filter').attach({ kind: 'xdp', ifindex, ifname: VA });
      expect(await xdpShown()).toMatch(/prog\/xdp/);
      link.close();
      expect(await xdpShown()).not.toMatch(/prog\/xdp/);
      await sendUdp('after-close');
      expect(await arrived('after-close')).toBe(true);
    } finally {
      o.map('ports').delete(u16(UDP_PORT));
    }
  });

  test('skb mode attaches generic XDP (ip link shows xdpgeneric) and filters the same', async () => {
    const o = obj!;
    const link = o.prog('xdp_filter').attach({ kind: 'xdp', ifindex, ifname: VA, mode: 'skb' });
    try {
      expect(await xdpShown()).toMatch(/xdpgeneric/);
      o.map('ports').update(u16(UDP_PORT), u32(1), 0);
      await sendUdp('generic-drop');
      expect(await arrived('generic-drop', 800)).toBe(false);
      o.map('ports').update(u16(UDP_PORT), u32(0), 0);
      await sendUdp('generic-pass');
      expect(await arrived('generic-pass')).toBe(true);
    } finally {
      link.detach();
      o.map('ports').delete(u16(UDP_PORT));
    }
  });

  test('link update replaces the program atomically (BPF_LINK_UPDATE)', async () => {
    const o = obj!;
    o.map('ports').update(u16(UDP_PORT), u32(1), 0);
    const link = o.prog('xdp_filter').attach({ kind: 'xdp', ifindex, ifname: VA });
    try {
      await sendUdp('upd-blocked');
      expect(await arrived('upd-blocked', 800)).toBe(false);
      const seen0 = counter(o.map('counters'), 2);
      link.update(o.prog('xdp_count'));
      const entry = listLinks().find((l) => l.id === link.info.id);
      expect(entry?.progId).toBe(o.prog('xdp_count').id);
      await sendUdp('upd-passes');
      expect(await arrived('upd-passes')).toBe(true);
      expect(counter(o.map('counters'), 2)).toBeGreaterThan(seen0);
    } finally {
      link.detach();
      o.map('ports').delete(u16(UDP_PORT));
    }
  });

  test('a pinned link survives close; openPinnedLink finds it; detach unpins and restores traffic', async () => {
    const o = obj!;
    const pin = `${PIN_DIR}/link`;
    o.map('ports').update(u16(UDP_PORT), u32(1), 0);
    let reopened: BackendLink | undefined;
    try {
      const link = o.prog('xdp_filter').attach({ kind: 'xdp', ifindex, ifname: VA });
      link.pin(pin);
      const id = link.info.id;
      link.close();
      expect(existsSync(pin)).toBe(true);
      expect(await xdpShown()).toMatch(/prog\/xdp/);
      await sendUdp('pinned-blocked');
      expect(await arrived('pinned-blocked', 800)).toBe(false);
      reopened = openPinnedLink(pin);
      expect(reopened.info).toEqual({ kind: 'xdp', id, target: VA });
      reopened.detach();
      expect(existsSync(pin)).toBe(false);
      expect(await xdpShown()).not.toMatch(/prog\/xdp/);
      await sendUdp('pinned-restored');
      expect(await arrived('pinned-restored')).toBe(true);
    } finally {
      reopened?.close();
      rmSync(pin, { force: true });
      o.map('ports').delete(u16(UDP_PORT));
    }
  });

  test('errors: second attach is EBUSY/EEXIST with a hint, unknown ifindex names the interface, wrong program type is rejected', () => {
    const o = obj!;
    const link = o.prog('xdp_filter').attach({ kind: 'xdp', ifindex, ifname: VA });
    try {
      let err: unknown;
      try {
        o.prog('xdp_count').attach({ kind: 'xdp', ifindex, ifname: VA });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SyscallError);
      expect(['EBUSY', 'EEXIST']).toContain((err as SyscallError).code);
      expect((err as Error).message).toMatch(new RegExp(`attach xdp_count to xdp on ${VA}: .*already attached to ${VA}`));
    } finally {
      link.detach();
    }
    let err2: unknown;
    try {
      attachProgram(o.prog('xdp_filter'), { kind: 'xdp', ifindex: 0x7ffffff0, ifname: 'nosuchif0' });
    } catch (e) {
      err2 = e;
    }
    expect(err2).toBeInstanceOf(SyscallError);
    // The kernel says EINVAL (xdp) or ENODEV for a missing device; the hint names it either way.
    expect(['EINVAL', 'ENODEV']).toContain((err2 as SyscallError).code);
    expect((err2 as Error).message).toContain('no such interface nosuchif0');
    expect(() => attachProgram({ name: 'p', type: 'socket_filter', fd: o.prog('xdp_filter').fd }, { kind: 'xdp', ifindex, ifname: VA })).toThrow(ArgumentError);
    expect(() => attachProgram(o.prog('xdp_filter'), { kind: 'xdp', ifindex, ifname: VA, mode: 'turbo' as never })).toThrow(/mode must be/);
  });
});

/**
 * The same port filter between two namespaces created here, driven by the CLI run inside the
 * receiving namespace (`ip netns exec NS_A bpfkit attach|detach xdp ...`): pins are on bpffs,
 * so the root namespace edits the pinned `ports` map and reads the pinned `counters` map.
 */
describe.skipIf(!isRootLinux)(`XDP between two namespaces through the CLI (${isRootLinux ? 'root' : SKIP_REASON})`, () => {
  const NSA = `bpfkit-xdp-${tag}-a`;
  const NSB = `bpfkit-xdp-${tag}-b`;
  const A = `bkn${tag}a`;
  const B = `bkn${tag}b`;
  const NET2 = `10.203.${process.pid % 250}`;
  const PORT = 9301;
  // `ip netns exec` remounts /sys in a new mount namespace, hiding /sys/fs/bpf: pins go to a
  // bpffs instance mounted here for this test, visible from both sides.
  const PINS = `/tmp/bpfkit-xdp2-bpffs-${tag}`;
  const CLI = [process.execPath, '--import', 'tsx', join(KPROGS, '..', 'run-cli.ts')];
  let listener: ChildProcessWithoutNullStreams | undefined;
  let heard = '';

  const bpfkitIn = (ns: string | undefined, ...args: string[]) =>
    ns ? runCmd('ip', ['netns', 'exec', ns, ...CLI, ...args], { timeoutMs: 60_000 }) : runCmd(CLI[0]!, [...CLI.slice(1), ...args], { timeoutMs: 60_000 });
  const send = async (msg: string): Promise<void> => {
    const r = await runCmd('ip', ['netns', 'exec', NSB, 'nc', '-u', '-w1', '-q1', `${NET2}.1`, String(PORT)], { input: msg, timeoutMs: 5000 });
    expect(r.code, r.stderr).toBe(0);
  };
  const heardIt = async (msg: string, ms: number): Promise<boolean> => {
    const end = Date.now() + ms;
    while (!heard.includes(msg) && Date.now() < end) await sleep(25);
    return heard.includes(msg);
  };

  beforeAll(async () => {
    for (const ns of [NSA, NSB]) await ipQuiet('netns', 'del', ns);
    await ip('netns', 'add', NSA);
    await ip('netns', 'add', NSB);
    await ip('link', 'add', A, 'netns', NSA, 'type', 'veth', 'peer', 'name', B, 'netns', NSB);
    await ip('-n', NSA, 'addr', 'add', `${NET2}.1/24`, 'dev', A);
    await ip('-n', NSB, 'addr', 'add', `${NET2}.2/24`, 'dev', B);
    await ip('-n', NSA, 'link', 'set', A, 'up');
    await ip('-n', NSB, 'link', 'set', B, 'up');
    mkdirSync(PINS, { recursive: true });
    await execFileP('mount', ['-t', 'bpf', 'bpf', PINS], { timeout: 10_000 });
    listener = spawn('ip', ['netns', 'exec', NSA, existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', '-u', '-c',
      `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('${NET2}.1',${PORT}))\nprint('ready',flush=True)\nwhile True: print(s.recv(100).decode(),flush=True)\n`]);
    listener.stdout.on('data', (d: Buffer) => (heard += d.toString()));
    expect(await heardIt('ready', 10_000)).toBe(true);
  });

  afterAll(async () => {
    if (listener?.pid !== undefined && listener.exitCode === null) process.kill(listener.pid, 'SIGKILL');
    rmSync(`${PINS}/link`, { force: true });
    rmSync(`${PINS}/maps`, { recursive: true, force: true });
    try {
      await execFileP('umount', [PINS], { timeout: 10_000 });
    } catch {
      /* not mounted */
    }
    rmSync(PINS, { recursive: true, force: true });
    for (const ns of [NSA, NSB]) await ipQuiet('netns', 'del', ns);
  });

  test('attach in NS_A, drop by map from the root namespace, count, detach in NS_A restores traffic', async () => {
    const obj = await compileC(join(KPROGS, 'kfilter.bpf.c'));
    const at = await bpfkitIn(NSA, 'attach', 'xdp', obj, '--program', 'xdp_filter', '--dev', A, '--pin', `${PINS}/link`, '--pin-maps', `${PINS}/maps`, '--json');
    expect(at.code, at.stderr + at.stdout).toBe(0);
    const info = JSON.parse(at.stdout);
    expect(info.maps.ports).toBe(`${PINS}/maps/ports`);
    expect(await ip('-n', NSA, '-d', 'link', 'show', 'dev', A)).toMatch(new RegExp(`prog/xdp id ${info.programId}`));

    await send('ns-pass');
    expect(await heardIt('ns-pass', 2000)).toBe(true);
    const key = Buffer.alloc(2);
    key.writeUInt16LE(PORT);
    const up = await bpfkitIn(undefined, 'map', 'update', `${PINS}/maps/ports`, key.toString('hex'), '01000000');
    expect(up.code, up.stderr).toBe(0);
    await send('ns-drop');
    expect(await heardIt('ns-drop', 800)).toBe(false);
    const dump = await bpfkitIn(undefined, 'map', 'dump', `${PINS}/maps/counters`, '--json');
    const counters = JSON.parse(dump.stdout) as { key: string; value: string }[];
    const n = (i: number): number => Number(Buffer.from(counters[i]!.value, 'hex').readBigUInt64LE(0));
    expect(n(0)).toBeGreaterThanOrEqual(1);
    expect(n(1)).toBe(1);

    // The link lives in NS_A: detaching by device works there, not from the root namespace.
    const wrongNs = await bpfkitIn(undefined, 'detach', 'xdp', '--dev', A);
    expect(wrongNs.code).toBe(1);
    const det = await bpfkitIn(NSA, 'detach', 'xdp', '--dev', A);
    expect(det.code, det.stderr).toBe(0);
    expect(det.stdout).toContain(`detached link ${info.linkId}`);
    expect(await ip('-n', NSA, '-d', 'link', 'show', 'dev', A)).not.toMatch(/prog\/xdp/);
    await send('ns-restored');
    expect(await heardIt('ns-restored', 2000)).toBe(true);
    rmSync(`${PINS}/link`, { force: true });
  });
});

