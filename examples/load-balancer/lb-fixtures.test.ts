/**
 * The load balancer's fixture suite (fixtures/lb.json), run unchanged on the emulator and on the
 * kernel through BPF_PROG_TEST_RUN: verdict, output frame and every counter delta must equal the
 * reference model's. The suite runs three times per backend: as is, again after a hot ring update
 * in every scenario, and again after reloading the program.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame, hex, unhex } from '../common/packets.js';
import { LoadBalancer } from './control.js';
import { generateFixtures, FIXTURE_PATH } from './fixtures/generate.js';
import type { FixtureFile, FixtureOp } from './fixtures/ops.js';
import { MAX_BACKENDS, MAX_VIPS, u32, VERDICTS } from './layout.js';

const fixtures = JSON.parse(readFileSync(FIXTURE_PATH, 'utf8')) as FixtureFile;

function applyOp(lb: LoadBalancer, op: FixtureOp): void {
  switch (op.op) {
    case 'addVip': return lb.addVip(op.vip, op.flags ?? []);
    case 'removeVip': return lb.removeVip(op.vip);
    case 'addBackend': return lb.addBackend(op.vip, op.address, op.weight ?? 1);
    case 'removeBackend': return lb.removeBackend(op.vip, op.address);
    case 'setWeight': return lb.setWeight(op.vip, op.address, op.weight);
    case 'setCtl':
      lb.apply({
        ringSize: lb.state.ringSize,
        gatewayMac: op.gatewayMac,
        sourcePrefix4: op.sourcePrefix4 ?? '172.16.0.0',
        sourcePrefix6: op.sourcePrefix6 ?? 'fc00:bbbb::',
        maxPacketSize: op.maxPacketSize ?? 1514,
        vips: [...lb.state.vips.values()].map((v) => ({ ...v.id, flags: v.flags, backends: v.backends.map((b) => ({ address: b.address, weight: b.weight })) })),
      });
  }
}

/** Every counter of the data plane, summed over CPUs, as plain numbers. */
function snapshot(lb: LoadBalancer): { verdicts: number[]; vips: [number, number][]; backends: [number, number][]; lru: [number, number] } {
  const sum = (m: string, k: number, off: number) => {
    const v = lb.plane.map(m as 'verdicts').lookup(u32(k)) as unknown as Uint8Array[];
    let s = 0n;
    for (const c of v) s += new DataView(c.buffer, c.byteOffset, c.byteLength).getBigUint64(off, true);
    return Number(s);
  };
  const backendIds = Math.min(MAX_BACKENDS, 16);
  return {
    verdicts: VERDICTS.map((_, i) => sum('verdicts', i, 0)),
    vips: Array.from({ length: MAX_VIPS }, (_, i) => [sum('vip_stats', i, 0), sum('vip_stats', i, 8)]),
    backends: Array.from({ length: backendIds }, (_, i) => [sum('backend_stats', i, 0), sum('backend_stats', i, 8)]),
    lru: [sum('lru_stats', 0, 0), sum('lru_stats', 1, 0)],
  };
}

function reset(lb: LoadBalancer): void {
  for (const v of [...lb.state.vips.values()]) lb.removeVip(v.id);
  lb.clearConnections();
}

interface Mismatch { scenario: string; name: string; what: string }

function runSuite(lb: LoadBalancer, opts: { hotUpdate: boolean }): { cases: number; mismatches: Mismatch[] } {
  const mismatches: Mismatch[] = [];
  let cases = 0;
  for (const sc of fixtures.scenarios) {
    reset(lb);
    for (const op of sc.setup) applyOp(lb, op);
    if (opts.hotUpdate) {
      // A hot ring update that ends where it started: a temporary backend joins every VIP's ring
      // and leaves again (two batched rewrites of the changed slots while the program is live).
      for (const v of [...lb.state.vips.values()]) {
        const temp = v.id.address.includes(':') ? 'fc00:ffff::99' : '10.255.255.99';
        lb.addBackend(v.id, temp, 3);
        lb.removeBackend(v.id, temp);
      }
    }
    for (const c of sc.cases) {
      cases++;
      for (const op of c.before ?? []) applyOp(lb, op);
      const before = snapshot(lb);
      const r = lb.simulate(unhex(c.input));
      const after = snapshot(lb);
      const bad = (what: string) => mismatches.push({ scenario: sc.name, name: c.name, what });
      if (r.action !== c.expect.action) bad(`action ${r.action}, expected ${c.expect.action}`);
      if (hex(r.frame) !== c.expect.output) bad(`output ${hex(r.frame)}, expected ${c.expect.output}`);
      const verdicts: Record<string, number> = {};
      VERDICTS.forEach((v, i) => { const d = after.verdicts[i]! - before.verdicts[i]!; if (d) verdicts[v] = d; });
      if (JSON.stringify(verdicts) !== JSON.stringify(c.expect.counters.verdicts)) bad(`verdict counters ${JSON.stringify(verdicts)}, expected ${JSON.stringify(c.expect.counters.verdicts)}`);
      const deltas = (a: [number, number][], b: [number, number][]) => {
        const out: Record<string, [number, number]> = {};
        a.forEach((x, i) => { const p = x[0] - b[i]![0]; const y = x[1] - b[i]![1]; if (p || y) out[String(i)] = [p, y]; });
        return out;
      };
      const vips = deltas(after.vips, before.vips);
      if (JSON.stringify(vips) !== JSON.stringify(c.expect.counters.vips)) bad(`vip counters ${JSON.stringify(vips)}, expected ${JSON.stringify(c.expect.counters.vips)}`);
      const backends = deltas(after.backends, before.backends);
      if (JSON.stringify(backends) !== JSON.stringify(c.expect.counters.backends)) bad(`backend counters ${JSON.stringify(backends)}, expected ${JSON.stringify(c.expect.counters.backends)}`);
      const lru = { hit: after.lru[0] - before.lru[0], miss: after.lru[1] - before.lru[1] };
      if (JSON.stringify(lru) !== JSON.stringify(c.expect.counters.lru)) bad(`lru ${JSON.stringify(lru)}, expected ${JSON.stringify(c.expect.counters.lru)}`);
    }
  }
  return { cases, mismatches };
}

describe('lb fixtures file', () => {
  it('has at least 40 cases and equals a fresh generation from the reference model', () => {
    const n = fixtures.scenarios.reduce((s, sc) => s + sc.cases.length, 0);
    expect(n).toBeGreaterThanOrEqual(40);
    expect(JSON.parse(JSON.stringify(generateFixtures()))).toEqual(fixtures);
  });

  it('covers every verdict of the data plane', () => {
    const seen = new Set(fixtures.scenarios.flatMap((s) => s.cases.map((c) => c.expect.verdict)));
    for (const v of VERDICTS) if (v !== 'drop_encap') expect(seen, v).toContain(v);
  });
});

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
const backends: ('emulator' | 'kernel')[] = isRootLinux ? ['emulator', 'kernel'] : ['emulator'];
if (!isRootLinux) {
  describe('lb fixtures on the kernel', () => {
    it.skip('needs root on Linux (BPF_PROG_TEST_RUN of an XDP program needs CAP_BPF + CAP_NET_ADMIN)', () => {});
  });
}

for (const backend of backends) {
  describe(`lb fixtures on the ${backend}`, () => {
    let lb: LoadBalancer;
    beforeAll(async () => {
      lb = await LoadBalancer.load({ backend, ringSize: fixtures.ringSize });
    });
    afterAll(() => lb?.close());

    it('matches the model on every case', () => {
      const r = runSuite(lb, { hotUpdate: false });
      expect(r.mismatches).toEqual([]);
      expect(r.cases).toBeGreaterThanOrEqual(40);
    });

    it('matches again after hot ring updates in every scenario', () => {
      expect(runSuite(lb, { hotUpdate: true }).mismatches).toEqual([]);
    });

    it('matches again after reloading the program', async () => {
      lb.close();
      lb = await LoadBalancer.load({ backend, ringSize: fixtures.ringSize });
      expect(runSuite(lb, { hotUpdate: false }).mismatches).toEqual([]);
    });

    it('backendFor agrees with the data plane on 10k random flows', () => {
      reset(lb);
      const vip = { address: '10.9.0.1', port: 443, protocol: 'tcp' as const };
      lb.addVip(vip);
      for (let i = 0; i < 100; i++) lb.addBackend(vip, `10.8.${i >> 8}.${i & 255}`, 1 + (i % 3));
      let seed = 12345;
      const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
      for (let i = 0; i < 10_000; i++) {
        const src = `100.${rnd() & 255}.${rnd() & 255}.${rnd() & 255}`;
        const sport = 1024 + (rnd() % 60000);
        const want = lb.backendFor({ src, dst: vip.address, sport, dport: 443, protocol: 'tcp' }, { newConnection: true });
        const r = lb.simulate(synFrame(src, vip.address, sport, 443));
        expect(r.action).toBe('tx');
        const outerDst = `${r.frame[30]}.${r.frame[31]}.${r.frame[32]}.${r.frame[33]}`;
        if (outerDst !== want) expect(`${src}:${sport} → ${outerDst}`).toBe(`${src}:${sport} → ${want}`);
      }
    });
  });
}

function synFrame(src: string, dst: string, sport: number, dport: number): Uint8Array {
  return frame({ src, dst, proto: 'tcp', sport, dport, flags: 'S' });
}
