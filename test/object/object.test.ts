// The object model over a fake in-memory backend: load order, global data, `.rodata` freezing,
// prog_array/map-in-map contents, ownership (no handle leaks), failure cleanup, programs, links.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, BpfError, ElfError } from '../../lib/errors.js';
import { BpfObject, Link, load, loadOn, openObject } from '../../lib/object/index.js';
import type { ObjectSpec } from '../../lib/spec/index.js';
import { compileProg } from '../helpers/progs.js';
import { FakeBackend, FakeLink, FakeMap, FakeProgram } from './fake-backend.js';

const specs: Record<string, ObjectSpec> = {};
const paths: Record<string, string> = {};

beforeAll(async () => {
  for (const n of ['globals', 'tailcall', 'map_in_map', 'xdp_basic', 'tc_classifier', 'tracepoint_getpid', 'cgroup_skb', 'uprobe', 'socket_filter', 'raw_tp', 'events']) {
    paths[n] = await compileProg(n);
    specs[n] = openObject(paths[n]);
  }
});

function fakeMap(b: FakeBackend, name: string): FakeMap {
  const m = b.maps.find((x) => x.info.name === name);
  if (!m) throw new Error(`no fake map ${name}`);
  return m;
}

describe('openObject', () => {
  it('parses a path and bytes to the same spec', () => {
    const a = openObject(paths.xdp_basic!);
    const b = openObject(readFileSync(paths.xdp_basic!), paths.xdp_basic);
    expect(b.programs.map((p) => p.name)).toEqual(a.programs.map((p) => p.name));
    expect(a.programs.map((p) => p.name).sort()).toEqual(['xdp_first_byte', 'xdp_len_verdict', 'xdp_pass_all']);
  });

  it('gives ElfError for a missing file and ArgumentError for a bad argument', () => {
    expect(() => openObject('/nonexistent/x.o')).toThrow(ElfError);
    expect(() => openObject('/nonexistent/x.o')).toThrow(/no such file/);
    expect(() => openObject(42 as unknown as string)).toThrow(ArgumentError);
  });
});

describe('load', () => {
  it('creates maps and programs by name and records the backend', async () => {
    const b = new FakeBackend('because test');
    const obj = await load(specs.xdp_basic!, { backend: b });
    expect(obj).toBeInstanceOf(BpfObject);
    expect(obj.backend.kind).toBe('emulator');
    expect(obj.backend.reason).toBe('because test');
    expect(Object.keys(obj.maps)).toEqual(['counters']);
    expect(Object.keys(obj.programs).sort()).toEqual(['xdp_first_byte', 'xdp_len_verdict', 'xdp_pass_all']);
    expect(obj.programs.xdp_pass_all!.type).toBe('xdp');
    expect(obj.programs.xdp_pass_all!.section).toBe('xdp');
    // programs received the object's maps
    expect([...b.programs[0]!.maps.keys()]).toEqual(['counters']);
    obj.close();
    expect(b.stats.open.size).toBe(0);
  });

  it('accepts a path and bytes, and validates options', async () => {
    const b = new FakeBackend();
    const o1 = await load(paths.xdp_basic!, { backend: b });
    const o2 = await load(readFileSync(paths.xdp_basic!), { backend: b });
    expect(Object.keys(o2.programs).sort()).toEqual(Object.keys(o1.programs).sort());
    o1.close();
    o2.close();
    await expect(load(specs.xdp_basic!, { backend: 'nope' as 'kernel' })).rejects.toThrow(ArgumentError);
    await expect(load(specs.xdp_basic!, { backend: b, logLevel: -1 })).rejects.toThrow(/logLevel/);
    await expect(load(specs.xdp_basic!, { backend: b, pinRoot: '' })).rejects.toThrow(/pinRoot/);
    await expect(load(specs.xdp_basic!, { backend: b, programs: ['nope'] })).rejects.toThrow(/no program named 'nope'/);
    await expect(load({} as ObjectSpec, { backend: b })).rejects.toThrow(ArgumentError);
    expect(b.stats.open.size).toBe(0);
  });

  it('passes pinRoot and logLevel to the backend', async () => {
    const b = new FakeBackend();
    const obj = await load(specs.xdp_basic!, { backend: b, pinRoot: '/sys/fs/bpf/x', logLevel: 2 });
    expect(b.stats.log).toContain(`session ${specs.xdp_basic!.source} pinRoot=/sys/fs/bpf/x`);
    expect(obj.programs.xdp_pass_all!.log).toBe('log level 2');
    obj.close();
  });

  it('loads only the requested programs', async () => {
    const b = new FakeBackend();
    const obj = await load(specs.xdp_basic!, { backend: b, programs: ['xdp_len_verdict'] });
    expect(Object.keys(obj.programs)).toEqual(['xdp_len_verdict']);
    expect(() => obj.program('xdp_pass_all')).toThrow(/no program named 'xdp_pass_all' \(programs: xdp_len_verdict\)/);
    expect(() => obj.map('nope')).toThrow(/no map named 'nope' \(maps: counters\)/);
    obj.close();
  });

  it('fills global data with its initial contents, freezes .rodata, before programs load', async () => {
    const b = new FakeBackend();
    const obj = await load(specs.globals!, { backend: b });
    const rodata = fakeMap(b, '.rodata');
    expect(rodata.frozen).toBe(true);
    expect(fakeMap(b, '.data').frozen).toBe(false);
    const freezeAt = b.stats.log.indexOf('freeze .rodata');
    const firstLoad = b.stats.log.findIndex((l) => l.startsWith('load '));
    expect(freezeAt).toBeGreaterThan(-1);
    expect(freezeAt).toBeLessThan(firstLoad);
    // typed through the DATASEC codec
    expect(obj.maps['.rodata']!.lookup(0)).toEqual({ multiplier: 3, magic: 0x1122334455667788n, greeting: new TextEncoder().encode('bpfkit!\0') });
    const data = obj.maps['.data']!.lookup(0) as Record<string, unknown>;
    expect(data.seed).toBe(42);
    expect(data.offset).toBe(-7n);
    expect(data.config).toEqual({ port: 8080, enabled: 1, pad: 0, limit: 100 });
    expect(obj.maps['.bss']!.lookup(0)).toEqual({ run_count: 0, last_len: 0n, hist: [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n] });
    expect(obj.maps['.data.extra']!.lookup(0)).toEqual({ extra_counter: 5 });
    obj.close();
  });

  it('applies globals overrides through BTF', async () => {
    const b = new FakeBackend();
    const obj = await load(specs.globals!, { backend: b, globals: { multiplier: 9, seed: 7, config: { port: 53, enabled: 0 } } });
    expect((obj.maps['.rodata']!.lookup(0) as { multiplier: number }).multiplier).toBe(9);
    expect((obj.maps['.rodata']!.lookup(0) as { magic: bigint }).magic).toBe(0x1122334455667788n);
    const data = obj.maps['.data']!.lookup(0) as Record<string, unknown>;
    expect(data.seed).toBe(7);
    expect(data.config).toEqual({ port: 53, enabled: 0, pad: 0, limit: 0 });
    obj.close();
    await expect(load(specs.globals!, { backend: b, globals: { nope: 1 } })).rejects.toThrow(/no global variable named 'nope'/);
    await expect(load(specs.globals!, { backend: b, globals: { multiplier: 1n << 40n } })).rejects.toThrow(/global multiplier: .*does not fit in/);
    expect(b.stats.open.size).toBe(0);
  });

  it('fills prog_array slots with program handles after loading', async () => {
    const b = new FakeBackend();
    const obj = await load(specs.tailcall!, { backend: b });
    const jt = fakeMap(b, 'jmp_table');
    const slot = (i: number) => {
      const k = new Uint8Array(4);
      new DataView(k.buffer).setUint32(0, i, true);
      const v = jt.lookup(k);
      return v && new DataView(v.buffer).getUint32(0, true);
    };
    expect(slot(0)).toBe(obj.programs.tail_a!.fd);
    expect(slot(2)).toBe(obj.programs.tail_loop!.fd);
    expect(slot(1)).toBeUndefined();
    const lastLoad = b.stats.log.map((l, i) => (l.startsWith('load ') ? i : -1)).reduce((a, c) => Math.max(a, c));
    const fill = b.stats.log.findIndex((l) => l.startsWith('update jmp_table'));
    expect(fill).toBeGreaterThan(lastLoad);
    obj.close();
  });

  it('fills map-in-map slots with inner map handles', async () => {
    const b = new FakeBackend();
    const obj = await load(specs.map_in_map!, { backend: b });
    const outer = obj.maps.outer_array!.raw;
    const v0 = outer.lookup(new Uint8Array([0, 0, 0, 0]))!;
    expect(new DataView(v0.buffer).getUint32(0, true)).toBe(obj.maps.inner_a!.fd);
    const v3 = outer.lookup(new Uint8Array([3, 0, 0, 0]))!;
    expect(new DataView(v3.buffer).getUint32(0, true)).toBe(obj.maps.inner_b!.fd);
    expect(obj.maps.outer_array!.spec!.innerMap!.type).toBe('array');
    obj.close();
    expect(b.stats.open.size).toBe(0);
  });

  it('closes everything created so far when a program fails to load', async () => {
    const b = new FakeBackend();
    b.failProgram = 'xdp_len_verdict';
    await expect(load(specs.xdp_basic!, { backend: b })).rejects.toThrow(/rejected by the fake verifier/);
    expect(b.maps.length).toBe(1);
    expect(b.maps.every((m) => m.closed)).toBe(true);
    expect(b.programs.every((p) => p.closed)).toBe(true);
    expect(b.stats.open.size).toBe(0);
  });

  it('leaks no handle over many load/close cycles', async () => {
    const b = new FakeBackend();
    for (let i = 0; i < 200; i++) {
      using obj = loadOn(b, specs.tc_classifier!);
      obj.programs.tc_count!.attachTc('eth0', 'ingress');
    }
    expect(b.stats.open.size).toBe(0);
    expect(b.maps.length).toBe(200);
  });
});

describe('ownership', () => {
  it('close() closes links, programs and maps exactly once and is idempotent', async () => {
    const b = new FakeBackend();
    const obj = await load(specs.xdp_basic!, { backend: b });
    const link = obj.programs.xdp_pass_all!.attachXdp('eth0');
    expect(obj.activeLinks).toEqual([link]);
    obj.close();
    obj.close();
    expect(obj.isClosed).toBe(true);
    expect(link.isClosed).toBe(true);
    expect((link.handle as FakeLink).detached).toBe(true);
    expect(b.programs.every((p) => p.closed)).toBe(true);
    expect(b.maps.every((m) => m.closed)).toBe(true);
    expect(() => obj.maps.counters!.lookup(0)).toThrow(/lookup counters: the map is closed/);
    expect(() => obj.programs.xdp_pass_all!.run({})).toThrow(/run xdp_pass_all: the program is closed/);
  });

  it('a pinned link stays attached when the object closes; detach() detaches', async () => {
    const b = new FakeBackend();
    const obj = await load(specs.xdp_basic!, { backend: b });
    const pinnedLink = obj.programs.xdp_pass_all!.attachXdp(2, { mode: 'skb' });
    pinnedLink.pin('/sys/fs/bpf/fake-link');
    const other = obj.programs.xdp_len_verdict!.attachXdp('lo');
    other.detach();
    expect((other.handle as FakeLink).detached).toBe(true);
    expect(obj.activeLinks).toEqual([pinnedLink]);
    obj.close();
    expect((pinnedLink.handle as FakeLink).detached).toBe(false);
    const reopened = await Link.openPinned('/sys/fs/bpf/fake-link', { backend: b });
    expect(reopened.kind).toBe('xdp');
    expect(reopened.pinned).toBe(true);
    reopened.detach();
    expect(b.stats.open.size).toBe(0);
  });

  it('closing a map alone releases it from the object', async () => {
    const b = new FakeBackend();
    const obj = await load(specs.xdp_basic!, { backend: b });
    obj.maps.counters!.close();
    obj.maps.counters!.close();
    obj.close();
    expect(b.stats.open.size).toBe(0);
  });

  it('Symbol.dispose closes', async () => {
    const b = new FakeBackend();
    {
      using obj = await load(specs.xdp_basic!, { backend: b });
      expect(obj.isClosed).toBe(false);
    }
    expect(b.stats.open.size).toBe(0);
  });
});

describe('Program', () => {
  it('run() validates options and passes them through', async () => {
    const b = new FakeBackend();
    using obj = await load(specs.xdp_basic!, { backend: b });
    const p = obj.programs.xdp_first_byte!;
    const r = p.run({ data: new Uint8Array([3, 1, 2]), repeat: 5 });
    expect(r.retval).toBe(3);
    expect(r.data).toEqual(new Uint8Array([3, 1, 2]));
    expect((p.handle as FakeProgram).runs[0]).toEqual({ data: new Uint8Array([3, 1, 2]), repeat: 5 });
    expect(() => p.run({ data: [1, 2] as unknown as Uint8Array })).toThrow(/run xdp_first_byte: data must be a Uint8Array/);
    expect(() => p.run({ repeat: -1 })).toThrow(/repeat must be an integer/);
    expect(() => p.run({ repeat: 1.5 })).toThrow(ArgumentError);
  });

  it('attach helpers build the right requests, with defaults from the section', async () => {
    const b = new FakeBackend();
    using tc = await load(specs.tc_classifier!, { backend: b });
    using tp = await load(specs.tracepoint_getpid!, { backend: b });
    using cg = await load(specs.cgroup_skb!, { backend: b });
    using up = await load(specs.uprobe!, { backend: b });
    using sf = await load(specs.socket_filter!, { backend: b });
    using rt = await load(specs.raw_tp!, { backend: b });
    const req = (l: Link) => (l.handle as FakeLink).req;
    expect(req(tc.programs.tcx_ingress!.attachTc('eth0'))).toEqual({ kind: 'tc', ifindex: 2, ifname: 'eth0', direction: 'ingress' });
    expect(req(tc.programs.tcx_egress!.attachTc(7))).toEqual({ kind: 'tc', ifindex: 7, ifname: '', direction: 'egress' });
    expect(() => tc.programs.tc_count!.attachTc('eth0')).toThrow(/direction must be 'ingress' or 'egress'/);
    expect(() => tc.programs.tc_count!.attachXdp('eth0')).toThrow(/a sched_cls program cannot attach to XDP/);
    expect(() => tc.programs.tc_count!.attachTc('nope0', 'ingress')).toThrow(/no interface nope0/);
    expect(req(tp.programs.on_getpid!.attachTracepoint())).toEqual({ kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_getpid' });
    expect(req(tp.programs.on_getpid!.attachTracepoint('syscalls', 'sys_enter_write'))).toMatchObject({ name: 'sys_enter_write' });
    expect(req(cg.programs.count_egress!.attachCgroup('/sys/fs/cgroup/x'))).toEqual({ kind: 'cgroup', path: '/sys/fs/cgroup/x', attachType: 'cgroup_inet_egress' });
    expect(() => cg.programs.count_egress!.attachCgroup('/x', 'bogus' as 'xdp')).toThrow(/unknown attach type 'bogus'/);
    expect(req(up.programs.on_entry!.attachUprobe('/bin/true', 'main', { pid: 5 }))).toEqual({ kind: 'uprobe', binaryPath: '/bin/true', symbol: 'main', pid: 5 });
    expect(req(up.programs.on_return!.attachUprobe('/bin/true', 0x1000))).toEqual({ kind: 'uprobe', binaryPath: '/bin/true', offset: 0x1000, ret: true });
    expect(() => up.programs.on_entry!.attachUprobe('/bin/true', -1)).toThrow(/symbol name or a non-negative offset/);
    expect(req(sf.programs.sock_keep_all!.attachSocketFilter(9))).toEqual({ kind: 'socket_filter', socketFd: 9 });
    expect(req(sf.programs.sock_keep_all!.attachSocketFilter({ _handle: { fd: 12 } }))).toEqual({ kind: 'socket_filter', socketFd: 12 });
    expect(() => sf.programs.sock_keep_all!.attachSocketFilter({})).toThrow(/expected a socket fd/);
    expect(req(rt.programs.raw_sys_enter!.attachRawTracepoint())).toEqual({ kind: 'raw_tracepoint', name: 'sys_enter' });
  });

  it('Link.update swaps the program', async () => {
    const b = new FakeBackend();
    using obj = await load(specs.xdp_basic!, { backend: b });
    const l = obj.programs.xdp_pass_all!.attachXdp('eth0');
    l.update(obj.programs.xdp_len_verdict!);
    expect(l.attachedProgram).toBe(obj.programs.xdp_len_verdict);
    expect((l.handle as FakeLink).program.name).toBe('xdp_len_verdict');
  });
});

describe('errors', () => {
  it('backend errors surface unchanged as BpfError subclasses', async () => {
    const b = new FakeBackend();
    b.failProgram = 'xdp_pass_all';
    const e = await load(specs.xdp_basic!, { backend: b }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BpfError);
    expect((e as BpfError).code).toBe('VERIFIER_REJECTED');
  });
});
