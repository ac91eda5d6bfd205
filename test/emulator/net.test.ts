// Simulated interfaces (XDP/TC pipeline, wiring, redirects to interfaces/CPUs/AF_XDP sockets),
// pcap files (tcpdump as the oracle) and `bpfkit replay`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { load, type BpfObject } from '../../lib/index.js';
import { EmulatorBackend, readPcap, writePcap } from '../../native-sim/index.js';
import { compileProg } from '../helpers/progs.js';
import { craftedPackets, ipv4 } from './packets.js';

const dir = mkdtempSync(join(tmpdir(), 'bpfkit-emu-net-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

async function loadOn(b: EmulatorBackend, prog: string): Promise<BpfObject> {
  return load(await compileProg(prog), { backend: b });
}

describe('pcap', () => {
  it('round-trips and tcpdump reads what we write', () => {
    const pkts = craftedPackets().slice(0, 6);
    const file = join(dir, 'a.pcap');
    writeFileSync(file, writePcap(pkts.map((data, i) => ({ data, timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 1_500_000n }))));
    const back = readPcap(new Uint8Array(readFileSync(file)));
    expect(back.linkType).toBe(1);
    expect(back.packets.map((p) => p.data)).toEqual(pkts);
    expect(back.packets[1]!.timestampNs).toBe(1_700_000_000_001_500_000n);
    const text = execFileSync('tcpdump', ['-nn', '-tt', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^1700000000\.000000 IP 10\.0\.0\.1\.1234 > 10\.0\.0\.2\.22: Flags \[S\]/);
    expect(lines[1]).toMatch(/^1700000000\.001500 IP 10\.0\.0\.1\.1234 > 10\.0\.0\.2\.22: UDP, length 40/);
  });

  it('reads files tcpdump writes, and big-endian / nanosecond headers', () => {
    const src = join(dir, 'b.pcap');
    const copy = join(dir, 'c.pcap');
    const pkts = craftedPackets().slice(10, 14);
    writeFileSync(src, writePcap(pkts));
    execFileSync('tcpdump', ['-r', src, '-w', copy], { stdio: 'ignore' });
    expect(readPcap(new Uint8Array(readFileSync(copy))).packets.map((p) => p.data)).toEqual(pkts);
    const be = new Uint8Array(24 + 16 + 2);
    const dv = new DataView(be.buffer);
    dv.setUint32(0, 0xa1b23c4d, false);
    dv.setUint16(4, 2, false);
    dv.setUint16(6, 4, false);
    dv.setUint32(16, 65535, false);
    dv.setUint32(20, 1, false);
    dv.setUint32(24, 5, false);
    dv.setUint32(28, 7, false);
    dv.setUint32(32, 2, false);
    dv.setUint32(36, 60, false);
    be.set([0xab, 0xcd], 40);
    const f = readPcap(be);
    expect(f.nanosecond).toBe(true);
    expect(f.packets[0]).toEqual({ data: new Uint8Array([0xab, 0xcd]), timestampNs: 5_000_000_007n, origLen: 60 });
  });

  it('rejects bad input with typed errors', () => {
    expect(() => readPcap(new Uint8Array(10), 'x.pcap')).toThrow(/x\.pcap: file is 10 bytes/);
    expect(() => readPcap(new Uint8Array(24), 'x.pcap')).toThrow(/bad magic/);
    const ng = new Uint8Array(28);
    new DataView(ng.buffer).setUint32(0, 0x0a0d0d0a, true);
    expect(() => readPcap(ng)).toThrow(/pcapng/);
    const trunc = writePcap([new Uint8Array(20)]).subarray(0, 50);
    expect(() => readPcap(trunc)).toThrow(/truncated/);
  });
});

describe('simulated interfaces', () => {
  it('create on first use with configurable MAC and ifindex', () => {
    const b = new EmulatorBackend();
    const e = b.interface('eth0', { mac: '02:aa:bb:cc:dd:ee', ifindex: 42 });
    expect(e.ifindex).toBe(42);
    expect(b.ifindex('eth0')).toBe(42);
    expect([...e.mac]).toEqual([2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]);
    expect(b.interface('eth0')).toBe(e);
    expect(b.interface('lo').ifindex).toBe(1);
    expect(() => b.interface('eth1', { ifindex: 42 })).toThrow(/taken by eth0/);
    expect(() => b.interface('eth2', { mac: 'zz' })).toThrow(/bad MAC/);
  });

  it('XDP verdicts: DROP, PASS to the stack, TX back to the wire (peer receives it)', async () => {
    const b = new EmulatorBackend();
    const obj = await loadOn(b, 'xdp_basic');
    const eth0 = b.interface('eth0');
    const peer = b.interface('peer0');
    eth0.connect(peer);
    const link = obj.programs.xdp_first_byte!.attachXdp('eth0');
    const frame = (first: number) => {
      const f = new Uint8Array(60);
      f[0] = first;
      f[1] = 5;
      return f;
    };
    expect(eth0.receive(frame(1))).toMatchObject({ verdict: 'XDP_DROP', dropped: true, passed: [] });
    const pass = eth0.receive(frame(2));
    expect(pass.verdict).toBe('XDP_PASS');
    expect(pass.passed).toEqual([frame(2)]);
    expect(eth0.stack).toHaveLength(1);
    const tx = eth0.receive(frame(3));
    expect(tx.verdict).toBe('XDP_TX');
    expect(tx.tx).toEqual([frame(3)]);
    expect(peer.stack).toEqual([frame(3)]); // arrived on the wired peer (no program there: passed)
    expect(() => obj.programs.xdp_pass_all!.attachXdp('eth0')).toThrow(/already has XDP program/);
    link.close();
    expect(eth0.receive(frame(1)).verdict).toBe('PASS');
    obj.close();
  });

  it('redirect through a devmap arrives at the target interface peer; xskmap delivers to AF_XDP sockets; cpumap passes', async () => {
    const b = new EmulatorBackend({ possibleCpus: 4 });
    const obj = await loadOn(b, 'redirect_maps');
    const eth0 = b.interface('eth0');
    const eth1 = b.interface('eth1');
    const far = b.interface('far1');
    eth1.connect(far);
    obj.maps.tx_ports!.raw.update(u32(3), u32(eth1.ifindex));
    expect(() => obj.maps.tx_ports!.raw.update(u32(4), u32(999))).toThrow(/no such device/);
    let link = obj.programs.redirect_dev!.attachXdp('eth0');
    const f = new Uint8Array(40);
    f[0] = 3;
    const r = eth0.receive(f);
    expect(r.verdict).toBe('XDP_REDIRECT');
    expect(r.redirected).toEqual([{ kind: 'iface', ifindex: eth1.ifindex, ifname: 'eth1', frame: f }]);
    expect(eth1.wire).toEqual([f]);
    expect(far.stack).toEqual([f]);
    f[0] = 0x84; // empty slot 4, fallback XDP_DROP
    expect(eth0.receive(f).verdict).toBe('XDP_DROP');
    link.close();

    const sock = b.xskSocket('eth0', 0);
    obj.maps.xsks!.raw.update(u32(0), u32(sock.id));
    link = obj.programs.redirect_xsk!.attachXdp('eth0');
    const x = eth0.receive(new Uint8Array(30).fill(9));
    expect(x.redirected[0]).toMatchObject({ kind: 'xsk', queue: 0 });
    expect(sock.receive()).toEqual([new Uint8Array(30).fill(9)]);
    expect(() => obj.maps.xsks!.raw.lookup(u32(0))).toThrow(/cannot be read from user space/);
    link.close();

    const cpuVal = new Uint8Array(8);
    cpuVal.set(u32(128));
    obj.maps.cpus!.raw.update(u32(2), cpuVal);
    link = obj.programs.redirect_cpu!.attachXdp('eth0');
    f[0] = 2;
    const c = eth0.receive(f);
    expect(c.redirected).toEqual([{ kind: 'cpu', cpu: 2, frame: f }]);
    expect(c.passed).toEqual([f]);
    f[0] = 1;
    expect(eth0.receive(f).verdict).toBe('XDP_DROP');
    link.close();
    obj.close();
  });

  it('TC ingress and egress: verdicts, packet rewrites, transmit to the wire', async () => {
    const b = new EmulatorBackend();
    const obj = await loadOn(b, 'tc_rewrite');
    const eth0 = b.interface('eth0');
    const peer = b.interface('peer0');
    eth0.connect(peer);
    const link = obj.programs.tc_dec_ttl!.attachTc('eth0', 'egress');
    const pkt = ipv4({ proto: 6, ttl: 9, dport: 80 });
    const r = eth0.transmit(pkt);
    expect(r.verdict).toBe('TC_ACT_OK');
    expect(peer.stack).toHaveLength(1);
    const got = peer.stack[0]!;
    expect(got[22]).toBe(8); // TTL decremented on the way out
    const kernelStyleSum = (bytes: Uint8Array) => {
      let s = 0;
      for (let i = 14; i < 34; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      return s;
    };
    expect(kernelStyleSum(got)).toBe(0xffff); // checksum fixed up
    link.close();
    obj.close();
  });

  it('TC redirect (bpf_redirect) sends the frame out of the target interface', async () => {
    const b = new EmulatorBackend();
    const obj = await loadOn(b, 'tc_rewrite');
    const eth0 = b.interface('tcr0');
    const lo = b.interface('lo');
    const link = obj.programs.tc_redirect!.attachTc('tcr0', 'ingress');
    const big = ipv4({ proto: 17, dport: 53, payload: 120 });
    const r = eth0.receive(big);
    expect(r.verdict).toBe('TC_ACT_REDIRECT');
    expect(r.redirected).toEqual([{ kind: 'iface', ifindex: 1, ifname: 'lo', frame: big }]);
    expect(lo.wire.at(-1)).toEqual(big);
    const small = ipv4({ proto: 17, dport: 53, payload: 4 });
    expect(eth0.receive(small)).toMatchObject({ verdict: 'TC_ACT_OK', passed: [small] });
    link.close();
    obj.close();
  });

  it('jumbo frames arrive as multi-buffer XDP and leave intact', async () => {
    const b = new EmulatorBackend();
    const obj = await loadOn(b, 'xdp_basic');
    const link = obj.programs.xdp_pass_all!.attachXdp('jumbo0');
    const big = new Uint8Array(9000).map((_, i) => i & 0xff);
    const r = b.interface('jumbo0').receive(big);
    expect(r.verdict).toBe('XDP_PASS');
    expect(r.passed[0]).toEqual(big);
    expect(b.interface('jumbo0').receive(new Uint8Array(10))).toMatchObject({ verdict: 'XDP_DROP', dropped: true }); // runt
    link.close();
    obj.close();
  });

  it('wiring loops are bounded', async () => {
    const b = new EmulatorBackend();
    const obj = await loadOn(b, 'xdp_basic');
    const a = b.interface('la');
    const c = b.interface('lc');
    a.connect(c);
    const l1 = obj.programs.xdp_first_byte!.attachXdp('la');
    const l2 = obj.programs.xdp_first_byte!.attachXdp('lc');
    const f = new Uint8Array(60);
    f[0] = 3; // XDP_TX on both sides: ping-pong until the hop limit
    const r = a.receive(f);
    expect(r.verdict).toBe('XDP_TX');
    expect(a.wire.length + c.wire.length).toBe(16); // MAX_HOPS deliveries, then DROP_LOOP
    l1.close();
    l2.close();
    obj.close();
  });
});

describe('bpfkit replay', () => {
  it('prints a verdict summary and writes the surviving frames to a pcap tcpdump reads', async () => {
    const obj = await compileProg('xdp_port_filter');
    const inp = join(dir, 'in.pcap');
    const outp = join(dir, 'out.pcap');
    const init = join(dir, 'init.json');
    writeFileSync(inp, writePcap(craftedPackets()));
    writeFileSync(init, JSON.stringify({ port_policy: [{ key: '1600', value: '0100000000000000' }] }));
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
    const code = await main(['replay', obj, '--program', 'port_filter', '--pcap', inp, '--out', outp, '--map-init', init, '--json'], io);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const n = craftedPackets().length;
    const s = JSON.parse(stdout) as { packets: number; verdicts: Record<string, number>; written: number };
    expect(s.packets).toBe(n);
    expect(s.verdicts).toEqual({ XDP_PASS: n - 4, XDP_DROP: 4 }); // TCP+UDP port 22 over IPv4 and IPv6
    expect(s.written).toBe(n - 4);
    const text = execFileSync('tcpdump', ['-nn', '-tt', '-r', outp], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const lines = text.split('\n').filter((l) => /^\d+\.\d{6} /.test(l)); // one per packet (continuations are indented)
    expect(lines).toHaveLength(n - 4);
    expect(lines.some((l) => /\.22: /.test(l))).toBe(false);
    stdout = '';
    expect(await main(['replay', obj, '--program', 'port_filter', '--pcap', join(dir, 'missing.pcap')], io)).toBe(2);
    expect(stderr).toMatch(/replay: cannot read --pcap .*missing\.pcap: no such file/);
    stderr = '';
    expect(await main(['replay', obj, '--pcap', inp], io)).toBe(2);
    expect(stderr).toMatch(/--program NAME is required/);
  });
});
