// The emulator Backend through the public API: backend selection and the `emulator` handle,
// engine choice and the verifier switch, process-wide pins (maps, programs, links, by-name map
// pinning), link update/detach/close, test-run options, and `bpfkit run --engine/--dump-js`.
import { describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { EmulatorFault, load, VerifierError } from '../../lib/index.js';
import { EmulatorBackend, createEmulatorBackend, emulator } from '../../native-sim/index.js';
import type { ProgramSpec } from '../../lib/spec/index.js';
import { compileProg } from '../helpers/progs.js';

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

describe('emulator backend', () => {
  it("load(..., { backend: 'emulator' }) uses the default emulator, whose interfaces `emulator` exposes", async () => {
    const obj = await load(await compileProg('xdp_basic'), { backend: 'emulator' });
    expect(obj.backend.kind).toBe('emulator');
    expect(obj.backend).toBe(emulator);
    expect(createEmulatorBackend('test')).toBe(emulator);
    const link = obj.programs.xdp_pass_all!.attachXdp('emu_be0');
    expect(emulator.interface('emu_be0').receive(new Uint8Array(60)).verdict).toBe('XDP_PASS');
    expect(obj.maps.counters!.raw.lookup(u32(0))![0]).toBe(1);
    link.close();
    obj.close();
    expect(createEmulatorBackend({ engine: 'interpreter' })).not.toBe(emulator);
  });

  it('runs on either engine with the same results; --verify off skips the static verifier', async () => {
    const path = await compileProg('xdp_port_filter');
    const results: number[][] = [];
    for (const engine of ['jit', 'interpreter'] as const) {
      const b = new EmulatorBackend({ engine });
      const obj = await load(path, { backend: b });
      const p = obj.programs.port_filter!.handle as unknown as { compiled(): { engine: string } };
      expect(p.compiled().engine).toBe(engine);
      const pkt = new Uint8Array(60);
      pkt[12] = 8;
      results.push([obj.programs.port_filter!.run({ data: pkt }).retval]);
      obj.close();
    }
    expect(results[0]).toEqual(results[1]);
    // *(u64 *)(r10 + 8) = 0; r0 = 0; exit — writes above the stack: the verifier refuses it;
    // with verify: false it loads, and the run faults on the checked store instead
    const insns = new Uint8Array([0x7a, 0x0a, 0x08, 0, 0, 0, 0, 0, 0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    const spec: ProgramSpec = {
      name: 'uninit_stack', section: 'xdp', type: 'xdp', flags: 0, sleepable: false, instructions: insns, subprograms: [],
      functionStarts: [{ name: 'uninit_stack', insn: 0 }], mapReferences: [], externReferences: [], license: 'GPL',
      kernelVersion: 0, funcInfo: [], lineInfo: [], coreRelocs: [],
    };
    expect(() => new EmulatorBackend().loadProgram(spec, { maps: new Map() })).toThrow(VerifierError);
    const p = new EmulatorBackend({ verify: false }).loadProgram(spec, { maps: new Map() });
    expect(() => p.run({ data: new Uint8Array(20) })).toThrow(EmulatorFault);
  });

  it('repeat runs report a per-run duration; the last run is the result', async () => {
    const obj = await load(await compileProg('xdp_basic'), { backend: new EmulatorBackend() });
    const r = obj.programs.xdp_len_verdict!.run({ data: new Uint8Array(80), repeat: 1000 });
    expect(r.retval).toBe(2);
    expect(r.durationNs).toBeGreaterThan(0);
    const v = obj.maps.counters!.raw.lookup(u32(1))!;
    expect(new DataView(v.buffer).getBigUint64(0, true)).toBe(80_000n);
    expect(() => obj.programs.xdp_len_verdict!.run({ data: new Uint8Array(80), dataSizeOut: 10 })).toThrow(/ENOSPC|data_out needs 80 bytes/);
    obj.close();
  });
});

describe('pins and links', () => {
  it('maps, programs and links pinned on one emulator open on another; by-name pinning reuses maps', async () => {
    const path = await compileProg('pinned');
    const a = new EmulatorBackend();
    const b = new EmulatorBackend();
    const root = '/sys/fs/bpf/emu_pins_test';
    const o1 = await load(path, { backend: a, pinRoot: root });
    const o2 = await load(path, { backend: b, pinRoot: root });
    const byName = Object.values(o1.maps).find((m) => m.spec?.pinning === 'by_name')!;
    expect(byName).toBeDefined();
    expect(o2.maps[byName.name]!.handle).toBe(byName.handle);
    const prog = Object.values(o1.programs)[0]!;
    prog.pin(`${root}/prog`);
    const p2 = b.openPinnedProgram(`${root}/prog`);
    expect(p2).toBe(prog.handle);
    const link = prog.attachXdp('pin_eth0');
    link.pin(`${root}/link`);
    expect(b.openPinnedLink(`${root}/link`)).toBe(link.handle);
    link.close(); // pinned: stays attached
    expect(a.interface('pin_eth0').xdp).not.toBeNull();
    link.handle.detach();
    expect(a.interface('pin_eth0').xdp).toBeNull();
    expect(() => b.openPinnedLink(`${root}/link`)).toThrow(/no such file/);
    expect(() => b.openPinnedMap(`${root}/prog`)).toThrow(/is a program/);
    o1.close();
    o2.close();
  });

  it('link.update swaps the program atomically; type mismatch is refused', async () => {
    const b = new EmulatorBackend();
    const obj = await load(await compileProg('xdp_basic'), { backend: b });
    const iface = b.interface('upd0');
    const link = obj.programs.xdp_pass_all!.attachXdp('upd0');
    const f = new Uint8Array(60);
    f[0] = 1;
    expect(iface.receive(f).verdict).toBe('XDP_PASS');
    link.update(obj.programs.xdp_first_byte!);
    expect(iface.receive(f).verdict).toBe('XDP_DROP');
    const tc = await load(await compileProg('tc_classifier'), { backend: b });
    expect(() => link.update(Object.values(tc.programs)[0]!)).toThrow(/does not match/);
    link.close();
    expect(iface.receive(f).verdict).toBe('PASS');
    tc.close();
    obj.close();
  });
});

describe('cgroup skb hooks', () => {
  it('programs attached to a cgroup run when a test fires traffic through it', async () => {
    const b = new EmulatorBackend();
    const obj = await load(await compileProg('cgroup_skb'), { backend: b, globals: { blocked_udp_port: 53 } });
    const ing = obj.programs.count_ingress!.attachCgroup('/sys/fs/cgroup/emu-test', 'cgroup_inet_ingress');
    const drop = obj.programs.drop_udp_port!.attachCgroup('/sys/fs/cgroup/emu-test', 'cgroup_inet_egress');
    const udp = (dport: number) => {
      const f = new Uint8Array(14 + 20 + 8 + 4);
      f[12] = 8;
      f.set([0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17], 14);
      f[36] = dport >> 8;
      f[37] = dport & 0xff;
      return f;
    };
    expect(b.fireCgroupSkb('/sys/fs/cgroup/emu-test', 'cgroup_inet_ingress', udp(53))).toEqual([1]);
    expect(b.fireCgroupSkb('/sys/fs/cgroup/emu-test', 'cgroup_inet_egress', udp(53))).toEqual([0]);
    expect(b.fireCgroupSkb('/sys/fs/cgroup/emu-test', 'cgroup_inet_egress', udp(80))).toEqual([1]);
    expect(b.fireCgroupSkb('/sys/fs/cgroup/other', 'cgroup_inet_egress', udp(53))).toEqual([]);
    const t = obj.maps.traffic!.raw.lookup(u32(0))!;
    const dv = new DataView(t.buffer);
    expect([dv.getBigUint64(0, true), dv.getBigUint64(8, true)]).toEqual([1n, 32n]); // len from the network header
    ing.close();
    drop.close();
    obj.close();
  });
});

describe('bpfkit run on the emulator', () => {
  it('--engine interpreter and --dump-js', async () => {
    const path = await compileProg('xdp_basic');
    let out = '';
    let err = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } };
    expect(await main(['run', path, '--program', 'xdp_first_byte', '--backend', 'emulator', '--engine', 'interpreter', '--data', '0207' + '00'.repeat(58), '--json'], io)).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ retval: 2 });
    out = '';
    expect(await main(['run', path, '--program', 'xdp_first_byte', '--dump-js', '--data', '0307' + '00'.repeat(58), '--json'], io)).toBe(0);
    const r = JSON.parse(out) as { retval: number; js: string };
    expect(r.retval).toBe(3);
    expect(r.js).toMatch(/^function jitFactory/);
    expect(await main(['run', path, '--program', 'xdp_first_byte', '--backend', 'kernel', '--engine', 'jit'], io)).toBe(2);
    expect(err).toMatch(/--engine and --dump-js apply to the emulator/);
  });
});
