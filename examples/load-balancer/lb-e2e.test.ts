/**
 * End to end on the real kernel: namespaces for a client, the balancer, a gateway router and
 * three backends on one bridge. The balancer runs from `bpfkit lb apply` inside its namespace
 * (XDP, generic mode); backends decapsulate with decap.bpf.o and own the VIP on loopback. Real
 * TCP connections from the client to the VIP must land on the backend Maglev predicts
 * (LoadBalancer.backendFor), and established connections must stay on their backend when a
 * backend is added.
 *
 * Every helper runs as one process: `ip netns exec` execs Node directly with tsx's loader (the
 * tsx CLI would fork a second Node that outlives a kill of the first). The long-running ones
 * (backend servers, the holding client) get their own process group, which the test ends
 * (SIGTERM, then SIGKILL) on every path; they also exit when their stdin pipe from the test
 * closes, so they cannot outlive a test process that dies without cleaning up.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadBalancer, openPinnedDataPlane } from './control.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Command line running the helper script `file` (relative to this file) as a single Node process. */
const script = (file: string, ...args: string[]) => [process.execPath, '--import', TSX_LOADER, here(file), ...args];

const tag = `lbe${process.pid % 100000}`;
const NS = { sw: `${tag}-sw`, c: `${tag}-c`, lb: `${tag}-lb`, gw: `${tag}-gw`, b1: `${tag}-b1`, b2: `${tag}-b2`, b3: `${tag}-b3` };
const IP = { c: '10.200.0.1', lb: '10.200.0.2', gw: '10.200.0.254', b1: '10.200.0.11', b2: '10.200.0.12', b3: '10.200.0.13' };
const VIP = '10.200.100.1';
const HOSTS = ['c', 'lb', 'gw', 'b1', 'b2', 'b3'] as const;

function sh(cmd: string, args: string[], opts: { input?: string; timeout?: number } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: opts.timeout ?? 60_000, killSignal: 'SIGKILL', input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
}
const ip = (...a: string[]) => sh('ip', a);
const inNs = (ns: string, ...a: string[]) => sh('ip', ['netns', 'exec', ns, ...a]);

describe.skipIf(!isRootLinux)('load balancer end to end on the kernel (root, Linux)', () => {
  let work = '';
  let bpffs = '';
  const children: ChildProcess[] = [];

  /** Start a long-running helper in namespace `ns`, in its own process group, stdin piped from here. */
  function start(ns: string, file: string, ...args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...script(file, ...args)], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    children.push(child);
    return child;
  }

  /**
   * End a helper started by start(): close its stdin, signal its process group with SIGTERM,
   * then SIGKILL after a grace period; resolves once it has exited. The group is only signalled
   * while its leader (the helper, which forks nothing) has not been reaped, so the id is ours.
   */
  async function stop(child: ChildProcess, graceMs = 2000): Promise<void> {
    const alive = () => child.exitCode === null && child.signalCode === null;
    const exited = new Promise<void>((resolve) => { if (!alive()) resolve(); else child.once('exit', () => resolve()); });
    const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
    const signal = (sig: NodeJS.Signals) => { if (child.pid !== undefined && alive()) { try { process.kill(-child.pid, sig); } catch { /* already gone */ } } };
    child.stdin?.destroy();
    signal('SIGTERM');
    if (await within(graceMs)) return;
    signal('SIGKILL');
    if (!(await within(5000))) throw new Error(`helper pid ${child.pid} did not exit after SIGKILL`);
  }

  async function cleanup(): Promise<void> {
    const stopped = await Promise.allSettled(children.map((c) => stop(c)));
    for (const ns of Object.values(NS)) { try { ip('netns', 'del', ns); } catch { /* not created */ } }
    if (bpffs) { try { sh('umount', [bpffs]); } catch { /* not mounted */ } }
    if (work) rmSync(work, { recursive: true, force: true });
    for (const r of stopped) if (r.status === 'rejected') throw r.reason;
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), `bpfkit-${tag}-`));
    bpffs = join(work, 'bpffs');
    mkdirSync(bpffs);
    sh('mount', ['-t', 'bpf', 'bpf', bpffs]);
    for (const ns of Object.values(NS)) ip('netns', 'add', ns);
    ip('-n', NS.sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', NS.sw, 'link', 'set', 'br0', 'up');
    for (const h of HOSTS) {
      ip('-n', NS.sw, 'link', 'add', `p_${h}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS[h]);
      ip('-n', NS.sw, 'link', 'set', `p_${h}`, 'master', 'br0', 'up');
      ip('-n', NS[h], 'link', 'set', 'lo', 'up');
      ip('-n', NS[h], 'link', 'set', 'eth0', 'up');
      ip('-n', NS[h], 'addr', 'add', `${IP[h]}/24`, 'dev', 'eth0');
      inNs(NS[h], 'sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0', 'net.ipv4.conf.eth0.rp_filter=0');
    }
    ip('-n', NS.c, 'route', 'add', `${VIP}/32`, 'via', IP.lb);
    inNs(NS.gw, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0');
    for (const b of ['b1', 'b2', 'b3'] as const) {
      ip('-n', NS[b], 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
      inNs(NS[b], 'sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2');
      inNs(NS[b], ...script('./e2e/attach-decap.ts', 'eth0', join(bpffs, `${b}-decap`)));
      const srv = start(NS[b], './e2e/server.ts', b, VIP, '80');
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`server ${b} did not start`)), 20_000);
        srv.stdout!.once('data', () => { clearTimeout(t); resolve(); });
        srv.once('exit', (code) => { clearTimeout(t); reject(new Error(`server ${b} exited ${code}`)); });
      });
    }
  }, 180_000);

  afterAll(async () => {
    try { inNs(NS.lb, ...script('./e2e/cli.ts', 'lb', 'destroy', '--pin-dir', join(bpffs, 'lb'))); } catch { /* not started */ }
    await cleanup();
  }, 60_000);

  function config(backends: string[]): string {
    const mac = JSON.parse(ip('-n', NS.gw, '-j', 'link', 'show', 'eth0'))[0].address as string;
    const file = join(work, `lb-${backends.length}.yaml`);
    writeFileSync(file, [
      `gatewayMac: "${mac}"`,
      'ringSize: 65537',
      'vips:',
      `  - address: ${VIP}`,
      '    port: 80',
      '    protocol: tcp',
      '    backends:',
      ...backends.map((b) => `      - ${b}`),
    ].join('\n') + '\n');
    return file;
  }

  function lbCli(...args: string[]): string {
    return inNs(NS.lb, ...script('./e2e/cli.ts', 'lb', ...args));
  }

  async function running(): Promise<{ lb: LoadBalancer; close(): void }> {
    const p = await openPinnedDataPlane(join(bpffs, 'lb'));
    return { lb: LoadBalancer.fromMaps(p.plane, p.ringSize), close: p.close };
  }


  function nameOf(addr: string | undefined): string {
    return Object.entries(IP).find(([, a]) => a === addr)?.[0] ?? `none(${addr})`;
  }

  it('spreads real TCP connections over the backends as Maglev predicts, and keeps them when a backend is added', async () => {
    const started = lbCli('apply', config([IP.b1, IP.b2]), '--dev', 'eth0', '--mode', 'skb', '--pin-dir', join(bpffs, 'lb'), '--json');
    const startChanges = JSON.parse(started).changes as string[];
    expect(startChanges[0]).toMatch(/^set gateway [0-9a-f:]{17}, outer sources 172\.16\.0\.0 \/ fc00:bbbb::, max packet 1514$/);
    expect(startChanges.slice(1)).toEqual(['add VIP tcp/10.200.100.1:80', 'add backend 10.200.0.11 weight 1 (VIP tcp/10.200.100.1:80)', 'add backend 10.200.0.12 weight 1 (VIP tcp/10.200.100.1:80)']);

    // 1. Short connections from 24 source ports: each lands where backendFor says.
    const ports = Array.from({ length: 24 }, (_, i) => 20000 + i * 7);
    const out = inNs(NS.c, ...script('./e2e/client.ts', VIP, '80', ports.join(',')));
    const got = JSON.parse(out) as { sport: number; greeting: string }[];
    const r1 = await running();
    try {
      const want = got.map((g) => nameOf(r1.lb.backendFor({ src: IP.c, dst: VIP, sport: g.sport, dport: 80, protocol: 'tcp' }, { newConnection: true })));
      expect(got.map((g) => g.greeting)).toEqual(want);
      expect(new Set(want).size).toBe(2);
    } finally {
      r1.close();
    }

    // 2. Long-lived connections survive adding a backend (connection table), new ones use the new ring.
    const holdPorts = Array.from({ length: 12 }, (_, i) => 30000 + i * 11);
    const client = start(NS.c, './e2e/client.ts', VIP, '80', holdPorts.join(','), '--hold');
    const lines: string[] = [];
    let buf = '';
    client.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1); }
    });
    const waitLines = async (n: number) => {
      const t0 = Date.now();
      while (lines.length < n) {
        if (Date.now() - t0 > 30_000) throw new Error(`client printed ${lines.length} of ${n} lines`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await waitLines(1);
      const greetings = JSON.parse(lines[0]!) as { sport: number; greeting: string }[];
      expect(greetings.every((g) => /^b[12]$/.test(g.greeting))).toBe(true);

      const changed = lbCli('apply', config([IP.b1, IP.b2, IP.b3]), '--pin-dir', join(bpffs, 'lb'), '--json');
      const ch = JSON.parse(changed) as { changes: string[]; ringSlots: number };
      expect(ch.changes).toEqual(['add backend 10.200.0.13 weight 1 (VIP tcp/10.200.100.1:80)']);
      expect(ch.ringSlots).toBeGreaterThan(65537 / 3 - 2000);
      expect(ch.ringSlots).toBeLessThan(65537 / 3 + 2000);

      client.stdin!.write('go\n');
      await waitLines(2);
      const replies = JSON.parse(lines[1]!) as { sport: number; reply: string }[];
      expect(replies.map((r) => r.reply)).toEqual(greetings.map((g) => `${g.greeting}:ping`));
    } finally {
      await stop(client);
    }

    const after = JSON.parse(inNs(NS.c, ...script('./e2e/client.ts', VIP, '80', ports.join(',')))) as { sport: number; greeting: string }[];
    const r2 = await running();
    try {
      const want = after.map((g) => nameOf(r2.lb.backendFor({ src: IP.c, dst: VIP, sport: g.sport, dport: 80, protocol: 'tcp' }, { newConnection: true })));
      expect(after.map((g) => g.greeting)).toEqual(want);
      expect(new Set(want)).toEqual(new Set(['b1', 'b2', 'b3']));
    } finally {
      r2.close();
    }

    const stats = JSON.parse(lbCli('stats', '--pin-dir', join(bpffs, 'lb'), '--interval', '0.2', '--json')) as { vips: { packets: string }[]; backends: { address: string; packets: string }[] };
    expect(Number(stats.vips[0]!.packets)).toBeGreaterThan(24 * 3);
    expect(stats.backends.map((b) => b.address).sort()).toEqual([IP.b1, IP.b2, IP.b3]);
  }, 240_000);
});
