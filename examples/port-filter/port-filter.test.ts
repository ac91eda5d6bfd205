// The port filter example on both backends. The same scenario (traffic.pcap, config.json) runs on
// the emulator and on the kernel (a veth pair between two fresh namespaces, frames sent from the
// peer namespace): identical per-frame verdicts, identical frames on the AF_XDP socket (byte-equal
// to what was sent), identical stats. The expected verdicts come from an independent model: the
// frame's destination port parsed in TypeScript (describe.ts) looked up in config.json. On the
// kernel, real TCP: a passed port reaches a listener, a dropped port's connect fails, a to_socket
// SYN reaches the Node AF_XDP socket. `bpfkit demo` runs on both; nothing is left behind.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { ArgumentError } from '../../lib/index.js';
import { readPcap } from '../../native-sim/net/pcap.js';
import { describeFrame } from './describe.js';
import { parseConfig, readConfig, type Verdict } from './filter.js';
import { createVethPair, runKernelScenario, type VethPair } from './netns/kernel.js';
import { scriptCommand } from './netns/spawn.js';
import { fromJson, runEmulatorScenario, type ScenarioResult } from './scenario.js';
import { buildTraffic, buildTrafficPcap, readTraffic, TRAFFIC_PCAP } from './traffic.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
const WORK = mkdtempSync(join(tmpdir(), 'bpfkit-pf-test-'));
const config = readConfig();
const frames = readTraffic(readFileSync(TRAFFIC_PCAP), TRAFFIC_PCAP);

/** The independent model: the destination port parsed in TypeScript, looked up in the config. */
function expectedVerdict(f: Uint8Array): Verdict {
  const { port } = describeFrame(f);
  if (port === null) return 'unparsed';
  return config.policies[String(port)] ?? 'pass';
}
const expected = frames.map(expectedVerdict);
const count = (v: Verdict) => expected.filter((x) => x === v).length;

const hex = (f: Uint8Array) => Buffer.from(f).toString('hex');
const pairs: VethPair[] = [];
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const p of pairs) p.destroy();
  rmSync(WORK, { recursive: true, force: true });
});

function pfNamespaces(): string[] {
  if (!isRootLinux) return [];
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!).filter((n) => /^pf\d+x\d+-[ab]$/.test(n));
}

let emulatorResult: ScenarioResult | undefined;
async function onEmulator(): Promise<ScenarioResult> {
  return (emulatorResult ??= await runEmulatorScenario(frames, { ...config, interface: `pft${process.pid % 10000}` }));
}

describe('examples/port-filter: fixtures', () => {
  it('traffic.pcap equals a fresh build from packets.ts', () => {
    expect(Buffer.from(readFileSync(TRAFFIC_PCAP)).equals(Buffer.from(buildTrafficPcap()))).toBe(true);
    expect(frames.map(hex)).toEqual(buildTraffic().map(hex));
    // the mix covers every verdict
    expect([count('pass'), count('drop'), count('to_socket'), count('unparsed')]).toEqual([12, 4, 10, 6]);
  });

  it('config.json parses; bad configs are typed errors', () => {
    expect(config).toEqual({ interface: 'pf0', queue: 0, policies: { 22: 'pass', 23: 'drop', 53: 'to_socket', 443: 'to_socket', 3306: 'drop', 8080: 'pass' } });
    expect(() => parseConfig({ interface: 'x', policies: { 80: 'reject' } })).toThrow(ArgumentError);
    expect(() => parseConfig({ interface: 'x', policies: { 70000: 'drop' } })).toThrow(/is not a port/);
    expect(() => parseConfig({ policies: {} })).toThrow(/interface must be/);
    expect(() => parseConfig(null)).toThrow(ArgumentError);
  });
});

describe('examples/port-filter on the emulator', () => {
  it('per-frame verdicts match the model; AF_XDP frames are byte-equal to the to_socket frames; stats agree', async () => {
    const r = await onEmulator();
    expect(r.backend).toBe('emulator');
    expect(r.outcomes.map((o) => o.verdict)).toEqual(expected);
    expect(r.verdicts).toEqual({ pass: count('pass'), drop: count('drop'), to_socket: count('to_socket'), unparsed: count('unparsed') });
    expect(r.stats).toEqual({ pass: BigInt(count('pass')), drop: BigInt(count('drop')), to_socket: BigInt(count('to_socket')), unparsed: BigInt(count('unparsed')) });
    expect(r.xsk.map(hex)).toEqual(frames.filter((_, i) => expected[i] === 'to_socket').map(hex));
  });

  it('bpfkit demo: table, AF_XDP frames, stats, out.pcap; no progress bar when stdout is not a TTY', async () => {
    let out = '';
    let err = '';
    const file = join(WORK, 'demo-emu.pcap');
    const code = await main(['demo', '--out', file], { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('backend: emulator');
    expect(out).not.toContain('\r');
    expect(out).toMatch(/^ {2}443 {4}tcp {4}\. {10}\. {10}8 {10}\.$/m);
    expect(out).toMatch(/^ {2}23 {5}tcp {4}\. {10}3 {10}\. {10}\.$/m);
    expect(out).toMatch(/^ {2}total {9}12 {9}4 {10}10 {9}6$/m);
    expect(out).toContain('frames that reached the AF_XDP socket (10):');
    expect(out).toContain('    1. IPv4 TCP 10.77.0.2:40002 → 10.77.0.1:443 (54 bytes)');
    expect(out).toContain('stats map (per-CPU, summed): pass 12, drop 4, to_socket 10, unparsed 6');
    const written = readPcap(readFileSync(file)).packets.map((p) => hex(p.data));
    expect(written).toEqual(frames.filter((_, i) => expected[i] === 'to_socket').map(hex));
  });

  it('bpfkit demo: a progress bar on a TTY, --json, and usage errors', async () => {
    let out = '';
    const tty = { isTTY: true, columns: 80, write: (s: string) => (out += s) };
    expect(await main(['demo', '--out', join(WORK, 'tty.pcap')], { stdout: tty, stderr: tty })).toBe(0);
    expect(out).toContain(`\r  [${'#'.repeat(40)}] 32/32 frames`);
    let json = '';
    expect(await main(['demo', '--json', '--out', join(WORK, 'j.pcap')], { stdout: { write: (s: string) => (json += s) }, stderr: { write: () => 0 } })).toBe(0);
    const r = fromJson(JSON.parse(json));
    expect(r.verdicts).toEqual({ pass: 12, drop: 4, to_socket: 10, unparsed: 6 });
    const io = { stdout: { write: () => 0 }, stderr: { write: () => 0 } };
    let help = '';
    expect(await main(['demo', '--help'], { stdout: { write: (s: string) => (help += s) }, stderr: { write: () => 0 } })).toBe(0);
    expect(help).toContain('usage: bpfkit demo [--backend emulator|kernel] [--out FILE] [--pcap FILE] [--json]');
    expect(await main(['demo', '--backend', 'vm'], io)).toBe(2);
    expect(await main(['demo', 'extra'], io)).toBe(2);
    expect(await main(['demo', '--pcap', join(WORK, 'none.pcap')], io)).toBe(2);
  });

  it('`bpfkit demo` as a process (the README command): exit 0, writes ./out.pcap in the working directory', () => {
    const cwd = mkdtempSync(join(WORK, 'cwd-'));
    const [cmd, args] = scriptCommand('../e2e/cli', ['demo']);
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, BPFKIT_BACKEND: 'kernel' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('backend: emulator'); // the demo's default does not follow BPFKIT_BACKEND
    expect(r.stdout).toContain(`wrote ${join(cwd, 'out.pcap')} (10 frames from the AF_XDP socket`);
    expect(readPcap(readFileSync(join(cwd, 'out.pcap'))).packets.length).toBe(10);
  });

  it('filter.ts (the user script) on the emulator prints the AF_XDP frames and the stats', () => {
    const [cmd, args] = scriptCommand('../filter', ['--backend', 'emulator']);
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('port filter on pf0 queue 0 — emulator backend');
    expect(r.stdout).toContain('AF_XDP #10: IPv4 TCP 10.77.0.2:45002 → 10.77.0.1:443 (60 bytes)');
    expect(r.stdout).toContain('stats: pass 12, drop 4, to_socket 10, unparsed 6');
  });
});

describe.skipIf(!isRootLinux)('examples/port-filter on the kernel (root, Linux)', () => {
  it('the same scenario on a real veth pair: identical verdicts, AF_XDP frames (byte-equal to what was sent) and stats', async () => {
    const before = pfNamespaces();
    const k = await runKernelScenario(TRAFFIC_PCAP, config);
    const e = await onEmulator();
    expect(k.backend).toBe('kernel');
    expect(k.outcomes).toEqual(e.outcomes);
    expect(k.verdicts).toEqual(e.verdicts);
    expect(k.stats).toEqual(e.stats);
    expect(k.xsk.map(hex)).toEqual(e.xsk.map(hex));
    expect(k.xsk.map(hex)).toEqual(frames.filter((_, i) => expected[i] === 'to_socket').map(hex));
    expect(pfNamespaces()).toEqual(before);
  });

  it('generic XDP (skb mode) gives the same verdicts, AF_XDP frames and stats', async () => {
    const k = await runKernelScenario(TRAFFIC_PCAP, config, undefined, { mode: 'skb' });
    const e = await onEmulator();
    expect(k.outcomes).toEqual(e.outcomes);
    expect(k.stats).toEqual(e.stats);
    expect(k.xsk.map(hex)).toEqual(e.xsk.map(hex));
  });

  it('real TCP from the peer namespace: passed port reaches a listener, dropped port fails, to_socket SYN reaches the Node AF_XDP socket', async () => {
    const pair = createVethPair('pf');
    pairs.push(pair);
    execFileSync('ip', ['-n', pair.nsA, 'addr', 'add', '10.77.0.1/24', 'dev', pair.ifA]);
    execFileSync('ip', ['-n', pair.nsB, 'addr', 'add', '10.77.0.2/24', 'dev', pair.ifB]);
    for (const port of ['8080', '23']) {
      const l = spawn('ip', ['netns', 'exec', pair.nsA, 'nc', '-lk', port], { stdio: 'ignore' });
      children.push(l);
      pair.children.push(l);
    }
    const connect = (port: number) => spawnSync('ip', ['netns', 'exec', pair.nsB, 'nc', '-z', '-w', '2', '10.77.0.1', String(port)], { timeout: 10_000 }).status;
    for (let i = 0; i < 100 && !/:23\b[\s\S]*:8080\b|:8080\b[\s\S]*:23\b/.test(pair.exec(pair.nsA, 'ss', ['-ltnH'])); i++) await new Promise((r) => setTimeout(r, 50));
    // without the filter both listeners answer
    expect(connect(23)).toBe(0);
    expect(connect(8080)).toBe(0);

    const cfgFile = join(WORK, 'tcp-config.json');
    writeFileSync(cfgFile, JSON.stringify({ interface: pair.ifA, queue: 0, policies: { 23: 'drop', 443: 'to_socket', 8080: 'pass' } }));
    const [cmd, args] = scriptCommand('../filter', ['--config', cfgFile, '--backend', 'kernel']);
    const filter = spawn('ip', ['netns', 'exec', pair.nsA, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(filter);
    pair.children.push(filter);
    const lines: string[] = [];
    let stderr = '';
    filter.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const rl = createInterface({ input: filter.stdout! });
    rl.on('line', (l) => lines.push(l));
    for (let i = 0; i < 400 && !lines.includes('ready (Ctrl-C to stop)'); i++) {
      if (filter.exitCode !== null) throw new Error(`filter.ts exited: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(lines).toContain('ready (Ctrl-C to stop)');
    expect(lines[0]).toMatch(/^port filter on pf\d+x\d+a queue 0 — kernel backend/);

    expect(connect(8080)).toBe(0);
    expect(connect(23)).not.toBe(0);
    expect(connect(443)).not.toBe(0);
    for (let i = 0; i < 100 && !lines.some((l) => l.startsWith('AF_XDP #1:')); i++) await new Promise((r) => setTimeout(r, 20));
    expect(lines.find((l) => l.startsWith('AF_XDP #1:'))).toMatch(/^AF_XDP #1: IPv4 TCP 10\.77\.0\.2:\d+ → 10\.77\.0\.1:443 \(\d+ bytes\)$/);

    filter.stdin!.end();
    await new Promise((r) => filter.once('exit', r));
    expect(filter.exitCode).toBe(0);
    const stats = /^stats: pass (\d+), drop (\d+), to_socket (\d+), unparsed (\d+)$/.exec(lines.at(-1)!);
    expect(stats).not.toBeNull();
    expect(Number(stats![2])).toBeGreaterThanOrEqual(1); // the SYN (and its retries) to port 23
    expect(Number(stats![3])).toBeGreaterThanOrEqual(1); // the SYN to 443
    expect(Number(stats![1])).toBeGreaterThanOrEqual(3); // the 8080 handshake
    pair.destroy();
    expect(pfNamespaces()).not.toContain(pair.nsA);
  });

  it('bpfkit demo --backend kernel runs, matches the emulator and removes its namespaces', async () => {
    const before = pfNamespaces();
    const file = join(WORK, 'demo-kernel.pcap');
    const [cmd, args] = scriptCommand('../e2e/cli', ['demo', '--backend', 'kernel', '--json', '--out', file]);
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const k = fromJson(JSON.parse(r.stdout));
    const e = await onEmulator();
    expect(k.outcomes).toEqual(e.outcomes);
    expect(k.stats).toEqual(e.stats);
    expect(readPcap(readFileSync(file)).packets.map((p) => hex(p.data))).toEqual(e.xsk.map(hex));
    expect(pfNamespaces()).toEqual(before);
  });

  it('as an unprivileged user: the emulator demo works, the kernel demo refuses with a clear message (exit 1)', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bpfkit-pf-nobody-'));
    execFileSync('chmod', ['777', cwd]);
    try {
      const [cmd, args] = scriptCommand('../e2e/cli', ['demo']);
      const asNobody = (extra: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', cmd, ...args, ...extra], { cwd, encoding: 'utf8', timeout: 60_000 });
      const emu = asNobody([]);
      expect(emu.status).toBe(0);
      expect(emu.stdout).toContain('stats map (per-CPU, summed): pass 12, drop 4, to_socket 10, unparsed 6');
      const k = asNobody(['--backend', 'kernel']);
      expect(k.status).toBe(1);
      expect(k.stdout).toBe('');
      expect(k.stderr).toBe('bpfkit demo: demo: the kernel backend needs root on Linux (it creates network namespaces and a veth pair, loads XDP and opens AF_XDP sockets) (run it with sudo, or run `bpfkit demo` on the emulator)\n');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('bpfkit demo --backend kernel removes its namespaces when interrupted (SIGINT)', async () => {
    const before = pfNamespaces();
    const [cmd, args] = scriptCommand('../e2e/cli', ['demo', '--backend', 'kernel', '--out', join(WORK, 'int.pcap')]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    let mine: string[] = [];
    for (let i = 0; i < 400 && mine.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 25));
      mine = pfNamespaces().filter((n) => !before.includes(n));
    }
    expect(mine.length).toBe(2);
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    expect(child.signalCode ?? child.exitCode).not.toBe(0);
    expect(out).toContain('backend: kernel');
    expect(pfNamespaces()).toEqual(before);
  });
});
