/**
 * LoadBalancer control-plane behaviour on the emulator: diffing apply, state read back from the
 * maps, ordered ring updates, stats and the CLI's config errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError } from '../../lib/errors.js';
import { main } from '../../lib/cli/main.js';
import { frame } from '../common/packets.js';
import { validateConfig, type LbConfig } from './config.js';
import { LoadBalancer } from './control.js';
import { EMPTY_SLOT, u32 } from './layout.js';

const RING = 1009;
const base: LbConfig = validateConfig({
  ringSize: RING,
  gatewayMac: '02:00:00:00:00:fe',
  vips: [
    { address: '10.0.0.10', port: 80, protocol: 'tcp', backends: ['10.1.0.1', '10.1.0.2', { address: '10.1.0.3', weight: 2 }] },
    { address: 'fc00::10', port: 443, protocol: 'tcp', flags: ['hash-no-src-port'], backends: ['fc00:1::1'] },
  ],
});

function ringOf(lb: LoadBalancer, vipNum: number): number[] {
  const m = lb.plane.map('rings');
  return Array.from({ length: RING }, (_, i) => new DataView(m.lookup(u32(vipNum * RING + i))!.buffer).getUint32(0, true));
}

describe('LoadBalancer on the emulator', () => {
  let lb: LoadBalancer;
  beforeAll(async () => {
    lb = await LoadBalancer.load({ backend: 'emulator', ringSize: RING });
  }, 120_000);
  afterAll(() => lb?.close());

  it('applies a config from scratch and then finds nothing to change', () => {
    const r = lb.apply(base);
    expect(r.changes).toEqual([
      'set gateway 02:00:00:00:00:fe, outer sources 172.16.0.0 / fc00:bbbb::, max packet 1514',
      'add VIP tcp/10.0.0.10:80',
      'add backend 10.1.0.1 weight 1 (VIP tcp/10.0.0.10:80)',
      'add backend 10.1.0.2 weight 1 (VIP tcp/10.0.0.10:80)',
      'add backend 10.1.0.3 weight 2 (VIP tcp/10.0.0.10:80)',
      'add VIP tcp/fc00::10:443 [hash-no-src-port]',
      'add backend fc00:1::1 weight 1 (VIP tcp/fc00::10:443)',
    ]);
    expect(lb.apply(base)).toEqual({ changes: [], ringSlots: 0 });
  });

  it('writes the ring the state computed, with no empty slots', () => {
    const v = lb.state.vips.get('tcp/10.0.0.10:80')!;
    const ring = ringOf(lb, v.vipNum);
    expect(ring).toEqual(Array.from(v.ring));
    expect(ring.includes(EMPTY_SLOT)).toBe(false);
    const counts = new Map<number, number>();
    for (const x of ring) counts.set(x, (counts.get(x) ?? 0) + 1);
    expect(Math.abs(counts.get(2)! / RING - 0.5)).toBeLessThan(0.02);
  });

  it('reads the same state back from the maps', () => {
    const again = LoadBalancer.fromMaps(lb.plane, RING);
    expect(again.apply(base)).toEqual({ changes: [], ringSlots: 0 });
    for (const [k, v] of lb.state.vips) {
      const w = again.state.vips.get(k)!;
      expect(w.vipNum).toBe(v.vipNum);
      expect(w.flags).toEqual(v.flags);
      expect(w.backends).toEqual(v.backends);
      expect(Array.from(w.ring)).toEqual(Array.from(v.ring));
    }
  });

  it('applies only the difference: a removed VIP, a new weight, a removed and an added backend, new flags', () => {
    const next = validateConfig({
      ringSize: RING,
      gatewayMac: '02:00:00:00:00:fe',
      vips: [
        { address: '10.0.0.10', port: 80, protocol: 'tcp', flags: ['hash-dport-only'], backends: ['10.1.0.1', { address: '10.1.0.3', weight: 1 }, '10.1.0.4'] },
      ],
    });
    const before = ringOf(lb, 0);
    const r = lb.apply(next);
    expect(r.changes).toEqual([
      'remove VIP tcp/fc00::10:443',
      'set flags of VIP tcp/10.0.0.10:80 to [hash-dport-only]',
      'remove backend 10.1.0.2 (VIP tcp/10.0.0.10:80)',
      'set weight of 10.1.0.3 from 2 to 1 (VIP tcp/10.0.0.10:80)',
      'add backend 10.1.0.4 weight 1 (VIP tcp/10.0.0.10:80)',
    ]);
    const after = ringOf(lb, 0);
    const changedSlots = after.filter((x, i) => x !== before[i]).length;
    // the removed VIP's ring is cleared (RING slots) plus only the changed slots of this one
    expect(r.ringSlots).toBe(RING + changedSlots);
    expect(changedSlots).toBeLessThan(RING);
    // the ring points exactly at the VIP's live backends, whose entries all exist
    const live = lb.state.vips.get('tcp/10.0.0.10:80')!.backends;
    expect(new Set(after)).toEqual(new Set(live.map((b) => b.id)));
    for (const b of live) expect(lb.plane.map('backends').lookup(u32(b.id))![16]).toBe(4);
    expect(ringOf(lb, 1).every((x) => x === EMPTY_SLOT)).toBe(true);
  });

  it('counts traffic in stats and predicts the backend of a new flow', () => {
    const flow = { src: '192.168.1.1', dst: '10.0.0.10', sport: 1234, dport: 80, protocol: 'tcp' as const };
    const want = lb.backendFor(flow, { newConnection: true });
    const r = lb.simulate(frame({ ...flow, proto: 'tcp', flags: 'S' }));
    expect(r.action).toBe('tx');
    expect(`${r.frame[30]}.${r.frame[31]}.${r.frame[32]}.${r.frame[33]}`).toBe(want);
    const s = lb.stats();
    expect(s.vips).toEqual([{ vip: 'tcp/10.0.0.10:80', packets: 1n, bytes: 54n }]);
    expect(s.verdicts.tx).toBe(1n);
    expect(s.lru).toEqual({ hits: 0n, misses: 1n });
    expect(s.backends.find((b) => b.address === want)!.packets).toBe(1n);
  });

  it('refuses a config with another ring size, and bad arguments, with typed errors', () => {
    expect(() => lb.apply({ ...base, ringSize: 65537 })).toThrow(/running data plane has ring size 1009/);
    expect(() => lb.addBackend({ address: '10.0.0.10', port: 80, protocol: 'tcp' }, '10.1.0.1')).toThrow(ArgumentError);
    expect(() => lb.removeVip({ address: '10.9.9.9', port: 1, protocol: 'udp' })).toThrow(/no VIP udp\/10\.9\.9\.9:1/);
    expect(() => lb.setWeight({ address: '10.0.0.10', port: 80, protocol: 'tcp' }, '10.1.0.1', 70000)).toThrow(/weight 70000 out of range/);
  });
});

describe('bpfkit lb (emulator and usage errors)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-lb-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } }, out, err };
  };

  it('applies a config to a fresh emulator and lists the changes as JSON', async () => {
    const file = join(dir, 'lb.json');
    writeFileSync(file, JSON.stringify({ ringSize: 251, gatewayMac: '02:00:00:00:00:01', vips: [{ address: '10.0.0.1', port: 53, protocol: 'udp', backends: ['10.0.1.1'] }] }));
    const c = capture();
    expect(await main(['lb', 'apply', file, '--json'], c.io)).toBe(0);
    const r = JSON.parse(c.out.join(''));
    expect(r.changes.slice(1)).toEqual(['add VIP udp/10.0.0.1:53', 'add backend 10.0.1.1 weight 1 (VIP udp/10.0.0.1:53)']);
    expect(r.ringSlots).toBe(251 * 2);
  }, 120_000);

  it('names the bad field of a config and exits 2', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'gatewayMac: "02:00:00:00:00:01"\nvips:\n  - address: 10.0.0.1\n    port: 99999\n');
    const c = capture();
    expect(await main(['lb', 'apply', file], c.io)).toBe(2);
    expect(c.err.join('')).toMatch(/bad\.yaml: vips\[0\]\.port: expected an integer in 0\.\.65535, got 99999/);
  });

  it('rejects an unknown subcommand and a missing file', async () => {
    const c = capture();
    expect(await main(['lb', 'frobnicate'], c.io)).toBe(2);
    expect(c.err.join('')).toMatch(/unknown subcommand "frobnicate"/);
    const d = capture();
    expect(await main(['lb', 'apply', join(dir, 'missing.yaml')], d.io)).toBe(2);
    expect(d.err.join('')).toMatch(/missing\.yaml: cannot read \(ENOENT\)/);
  });
});
