/**
 * Kernel maps against the real kernel: every map type is created and exercised, and every map
 * operation is checked by reading the pinned map back with bpftool (independent oracle).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BackendMap } from '../../lib/backend.js';
import { ArgumentError, MapError } from '../../lib/errors.js';
import { KernelMap } from '../../lib/kernel/maps.js';
import { KernelXskSocket } from '../../lib/kernel/xsk.js';
import { loadProgram } from '../../lib/kernel/programs.js';
import { possibleCpus, sys } from '../../lib/kernel/sys.js';
import { MapFlag, type MapSpec } from '../../lib/spec/index.js';
import { compileProg } from '../helpers/progs.js';
import {
  bpftool, bpftoolDump, kernelSkipReason, loadObjectFile, mapSpec, pinDir, progSpec, readU32, readU64,
  removePinDir, retImm, u32, u64,
} from './load-helpers.js';

const ANY = 0;
const NOEXIST = 1;
const EXIST = 2;

const title = kernelSkipReason ? `kernel maps (skipped: ${kernelSkipReason})` : 'kernel maps';

describe.skipIf(kernelSkipReason !== undefined)(title, () => {
  let dir = '';
  const opened: { close(): void }[] = [];
  const mk = (s: Parameters<typeof mapSpec>[0]): KernelMap => {
    const m = KernelMap.create(mapSpec(s));
    opened.push(m);
    return m;
  };
  const pinned = (m: BackendMap, name: string): string => {
    const p = `${dir}/${name}`;
    m.pin(p);
    return p;
  };
  const sortByKey = <T extends { key: number[] }>(a: T[]): T[] =>
    a.slice().sort((x, y) => Buffer.compare(Buffer.from(x.key), Buffer.from(y.key)));
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return undefined;
  };

  beforeAll(() => {
    dir = pinDir('maps');
  });
  afterAll(() => {
    for (const o of opened) o.close();
    removePinDir(dir);
  });

  test('hash: update/lookup/delete/nextKey/lookupAndDelete, checked through bpftool', () => {
    const m = mk({ name: 'km_hash', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8 });
    const path = pinned(m, 'hash');
    m.update(u32(1), u64(100), ANY);
    m.update(u32(2), u64(200), NOEXIST);
    expect(m.lookup(u32(1))).toEqual(u64(100));
    expect(m.lookup(u32(3))).toBeUndefined();
    expect(sortByKey(bpftoolDump(path))).toEqual([
      { key: [...u32(1)], value: [...u64(100)] },
      { key: [...u32(2)], value: [...u64(200)] },
    ]);

    // flags: noexist on a present key, exist on a missing key
    expect(code(() => m.update(u32(1), u64(5), NOEXIST))).toBe('KEY_EXISTS');
    expect(() => m.update(u32(1), u64(5), NOEXIST)).toThrow(MapError);
    expect(code(() => m.update(u32(9), u64(5), EXIST))).toBe('KEY_NOT_FOUND');
    m.update(u32(1), u64(111), EXIST);
    expect(bpftoolDump(path).find((e) => e.key[0] === 1)?.value).toEqual([...u64(111)]);

    // iteration sees exactly what bpftool sees
    const keys: number[] = [];
    for (let k = m.nextKey(undefined); k; k = m.nextKey(k)) keys.push(readU32(k));
    expect(keys.sort()).toEqual(bpftoolDump(path).map((e) => e.key[0]).sort());

    m.delete(u32(2));
    expect(bpftoolDump(path).map((e) => e.key[0])).toEqual([1]);
    expect(code(() => m.delete(u32(2)))).toBe('KEY_NOT_FOUND');

    expect(m.lookupAndDelete(u32(1))).toEqual(u64(111));
    expect(m.lookupAndDelete(u32(1))).toBeUndefined();
    expect(bpftoolDump(path)).toEqual([]);
    expect(m.nextKey(undefined)).toBeUndefined();

    for (let i = 0; i < 8; i++) m.update(u32(i), u64(i), ANY);
    expect(code(() => m.update(u32(100), u64(1), ANY))).toBe('MAP_FULL');
    expect(bpftoolDump(path)).toHaveLength(8);
  });

  test('hash: batch update/lookup/delete of 10k entries, checked through bpftool', () => {
    const N = 10_000;
    const m = mk({ name: 'km_batch', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16_384 });
    const path = pinned(m, 'batch');
    const keys = new Uint8Array(N * 4);
    const values = new Uint8Array(N * 8);
    const kv = new DataView(keys.buffer);
    const vv = new DataView(values.buffer);
    for (let i = 0; i < N; i++) {
      kv.setUint32(i * 4, i * 7 + 1, true);
      vv.setBigUint64(i * 8, BigInt(i) * 1000n + 3n, true);
    }
    expect(m.updateBatch(keys, values, N, ANY)).toBe(N);
    const dump = bpftoolDump(path);
    expect(dump).toHaveLength(N);
    const fromDump = new Map(dump.map((e) => [readU32(Uint8Array.from(e.key)), readU64(Uint8Array.from(e.value!))]));
    for (const i of [0, 1, 4999, N - 1]) expect(fromDump.get(i * 7 + 1)).toBe(BigInt(i) * 1000n + 3n);

    // lookup batch in chunks until the cursor runs out
    const seen = new Map<number, bigint>();
    let cursor: Uint8Array | undefined;
    let rounds = 0;
    do {
      const r = m.lookupBatch(cursor, 1024);
      for (let i = 0; i < r.count; i++) seen.set(readU32(r.keys, i * 4), readU64(r.values, i * 8));
      cursor = r.cursor;
      rounds++;
    } while (cursor && rounds < 100);
    expect(seen.size).toBe(N);
    expect(seen).toEqual(fromDump);

    // delete the first half in one batch
    expect(m.deleteBatch(keys, N / 2)).toBe(N / 2);
    expect(bpftoolDump(path)).toHaveLength(N / 2);
    expect(code(() => m.deleteBatch(keys, 1))).toBe('KEY_NOT_FOUND');

    // lookup-and-delete batch drains the rest
    let drained = 0;
    cursor = undefined;
    rounds = 0;
    do {
      const r = m.lookupBatch(cursor, 4096, true);
      drained += r.count;
      cursor = r.cursor;
      rounds++;
    } while (cursor && rounds < 100);
    expect(drained).toBe(N / 2);
    expect(bpftoolDump(path)).toEqual([]);
  });

  test('array: update/lookup, delete is invalid, freeze blocks user-space writes (bpftool)', () => {
    const m = mk({ name: 'km_array', type: 'array', keySize: 4, valueSize: 4, maxEntries: 4 });
    const path = pinned(m, 'array');
    m.update(u32(2), u32(0xdeadbeef), ANY);
    expect(m.lookup(u32(2))).toEqual(u32(0xdeadbeef));
    expect(m.lookup(u32(0))).toEqual(u32(0));
    expect(m.lookup(u32(4))).toBeUndefined();
    expect(bpftoolDump(path).map((e) => readU32(Uint8Array.from(e.value!)))).toEqual([0, 0, 0xdeadbeef, 0]);
    expect(code(() => m.delete(u32(2)))).toBe('INVALID_ARGUMENT');
    expect(code(() => m.update(u32(0), u32(1), NOEXIST))).toBe('KEY_EXISTS');
    // batch lookup over an array (the cursor is a key-sized index)
    const all = m.lookupBatch(undefined, 2);
    expect(all.count).toBe(2);
    const rest = m.lookupBatch(all.cursor, 8);
    expect(rest.count).toBe(2);
    expect(rest.cursor).toBeUndefined();
    expect(readU32(rest.values, 0)).toBe(0xdeadbeef);
    m.freeze();
    // EPERM after freeze: the same class and code as the emulator (MapError INVALID_ARGUMENT)
    expect(() => m.update(u32(1), u32(1), ANY)).toThrow(MapError);
    expect(() => m.update(u32(1), u32(1), ANY)).toThrow(/frozen/);
    expect((() => { try { m.update(u32(1), u32(1), ANY); } catch (e) { return (e as MapError).errno; } return 0; })()).toBe(1);
    expect((bpftool('map', 'show', 'pinned', path) as { frozen?: number }).frozen).toBe(1);
    expect(m.lookup(u32(2))).toEqual(u32(0xdeadbeef));
  });

  test('percpu_hash and percpu_array: values per possible CPU (bpftool)', () => {
    const cpus = possibleCpus();
    for (const type of ['percpu_hash', 'percpu_array'] as const) {
      const m = mk({ name: `km_${type}`, type, keySize: 4, valueSize: 4, maxEntries: 4 });
      expect(m.valueBytes).toBe(8 * cpus);
      const path = pinned(m, type);
      const v = new Uint8Array(8 * cpus);
      for (let c = 0; c < cpus; c++) new DataView(v.buffer).setUint32(c * 8, 100 + c, true);
      m.update(u32(1), v, ANY);
      expect(m.lookup(u32(1))).toEqual(v);
      const e = bpftoolDump(path).find((x) => x.key[0] === 1)!;
      expect(e.values!.map((x) => readU32(Uint8Array.from(x.value)))).toEqual(Array.from({ length: cpus }, (_, c) => 100 + c));
      expect(() => m.update(u32(1), new Uint8Array(4), ANY)).toThrow(ArgumentError);
      // batch ops move all CPUs' values per entry
      if (type === 'percpu_hash') {
        const vals = new Uint8Array(2 * 8 * cpus);
        for (let c = 0; c < 2 * cpus; c++) new DataView(vals.buffer).setUint32(c * 8, 500 + c, true);
        expect(m.updateBatch(Uint8Array.from([...u32(2), ...u32(3)]), vals, 2, ANY)).toBe(2);
        const got = m.lookupBatch(undefined, 8);
        expect(got.count).toBe(3);
        expect(got.values.length).toBe(3 * 8 * cpus);
        const e3 = bpftoolDump(path).find((x) => x.key[0] === 3)!;
        expect(e3.values!.map((x) => readU32(Uint8Array.from(x.value)))).toEqual(Array.from({ length: cpus }, (_, c) => 500 + cpus + c));
      }
    }
  });

  test('lru_hash and lru_percpu_hash evict instead of failing (bpftool)', () => {
    for (const type of ['lru_hash', 'lru_percpu_hash'] as const) {
      const m = mk({ name: `km_${type}`, type, keySize: 4, valueSize: 8, maxEntries: 64 });
      const path = pinned(m, type);
      for (let i = 0; i < 1000; i++) m.update(u32(i), new Uint8Array(m.valueBytes).fill(1), ANY);
      const n = bpftoolDump(path).length;
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThanOrEqual(64);
      expect(m.lookup(u32(999))).toBeDefined();
    }
  });

  test('lpm_trie: longest-prefix match, created with BPF_F_NO_PREALLOC (bpftool)', () => {
    const m = mk({ name: 'km_lpm', type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 16 });
    expect(m.info.flags & MapFlag.NoPrealloc).toBe(MapFlag.NoPrealloc);
    const path = pinned(m, 'lpm');
    const key = (prefix: number, a: number, b: number, c: number, d: number) => Uint8Array.from([...u32(prefix), a, b, c, d]);
    m.update(key(8, 10, 0, 0, 0), u32(1), ANY);
    m.update(key(16, 10, 1, 0, 0), u32(2), ANY);
    expect(m.lookup(key(32, 10, 1, 2, 3))).toEqual(u32(2));
    expect(m.lookup(key(32, 10, 2, 0, 0))).toEqual(u32(1));
    expect(m.lookup(key(32, 11, 0, 0, 0))).toBeUndefined();
    expect(sortByKey(bpftoolDump(path)).map((e) => e.key)).toEqual([[...key(8, 10, 0, 0, 0)], [...key(16, 10, 1, 0, 0)]]);
    m.delete(key(16, 10, 1, 0, 0));
    expect(m.lookup(key(32, 10, 1, 2, 3))).toEqual(u32(1));
  });

  test('prog_array holds a program; lookup returns its id (bpftool)', () => {
    const prog = loadProgram(progSpec('km_ret7', 'socket_filter', retImm(7)), { maps: new Map() }, { btfFd: 0 });
    opened.push(prog);
    const m = mk({ name: 'km_progs', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 4 });
    const path = pinned(m, 'progs');
    m.update(u32(1), u32(prog.fd), ANY);
    expect(readU32(m.lookup(u32(1))!)).toBe(prog.id);
    const dump = bpftoolDump(path);
    expect(dump).toHaveLength(1);
    expect(readU32(Uint8Array.from(dump[0]!.value!))).toBe(prog.id);
    m.delete(u32(1));
    expect(bpftoolDump(path)).toEqual([]);
  });

  test('array_of_maps and hash_of_maps hold inner maps; lookup returns the inner id (bpftool)', () => {
    const inner: MapSpec = mapSpec({ name: 'km_inner', type: 'array', keySize: 4, valueSize: 4, maxEntries: 2 });
    const a = mk({ name: 'km_inner_a', type: 'array', keySize: 4, valueSize: 4, maxEntries: 2 });
    for (const type of ['array_of_maps', 'hash_of_maps'] as const) {
      const outer = mk({ name: `km_${type}`, type, keySize: 4, valueSize: 4, maxEntries: 4, innerMap: inner });
      const path = pinned(outer, type);
      outer.update(u32(3), u32(a.fd), ANY);
      expect(readU32(outer.lookup(u32(3))!)).toBe(a.info.id);
      const dump = bpftoolDump(path).filter((e) => e.value && readU32(Uint8Array.from(e.value)) !== 0);
      expect(dump.map((e) => readU32(Uint8Array.from(e.value!)))).toEqual([a.info.id]);
    }
    // an inner map of a different shape is rejected
    const wrong = mk({ name: 'km_inner_w', type: 'hash', keySize: 8, valueSize: 8, maxEntries: 2 });
    const outer = mk({ name: 'km_aom2', type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 1, innerMap: inner });
    expect(code(() => outer.update(u32(0), u32(wrong.fd), ANY))).toBe('INVALID_ARGUMENT');
  });

  test('ringbuf and perf_event_array (max_entries 0 → possible CPUs) as bpftool shows them', () => {
    const rb = mk({ name: 'km_rb', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 16_384 });
    const rbInfo = bpftool('map', 'show', 'pinned', pinned(rb, 'rb')) as { type: string; max_entries: number };
    expect(rbInfo.type).toBe('ringbuf');
    expect(rbInfo.max_entries).toBe(16_384);
    const pe = mk({ name: 'km_perf', type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 0 });
    expect(pe.info.maxEntries).toBe(possibleCpus());
    const peInfo = bpftool('map', 'show', 'pinned', pinned(pe, 'perf')) as { type: string; max_entries: number };
    expect(peInfo.type).toBe('perf_event_array');
    expect(peInfo.max_entries).toBe(possibleCpus());
    // slots take perf event fds (a PERF_COUNT_SW_BPF_OUTPUT event on CPU 0)
    const attr = new Uint8Array(136);
    const av = new DataView(attr.buffer);
    av.setUint32(0, 1, true); // PERF_TYPE_SOFTWARE
    av.setUint32(4, 136, true);
    av.setBigUint64(8, 10n, true); // PERF_COUNT_SW_BPF_OUTPUT
    av.setBigUint64(24, 1n << 10n, true); // sample_type PERF_SAMPLE_RAW
    const pfd = sys().perfEventOpen(attr, -1, 0, -1, 8);
    expect(pfd).toBeGreaterThan(2);
    try {
      pe.update(u32(0), u32(pfd), ANY);
      expect(code(() => pe.update(u32(possibleCpus()), u32(pfd), ANY))).toBe('MAP_FULL'); // index past max_entries: E2BIG
      pe.delete(u32(0));
      expect(code(() => pe.delete(u32(0)))).toBe('KEY_NOT_FOUND');
    } finally {
      sys().close(pfd);
    }
    expect(() => mk({ name: 'km_rb_bad', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 5000 })).toThrow(ArgumentError);
  });

  test('devmap, devmap_hash, cpumap, xskmap (bpftool)', () => {
    const lo = 1;
    const dm = mk({ name: 'km_devmap', type: 'devmap', keySize: 4, valueSize: 4, maxEntries: 4 });
    const dmPath = pinned(dm, 'devmap');
    dm.update(u32(2), u32(lo), ANY);
    expect(dm.lookup(u32(2))).toEqual(u32(lo));
    expect(bpftoolDump(dmPath).filter((e) => e.value).map((e) => [e.key[0], readU32(Uint8Array.from(e.value!))])).toEqual([[2, lo]]);

    const dh = mk({ name: 'km_devhash', type: 'devmap_hash', keySize: 4, valueSize: 4, maxEntries: 4 });
    const dhPath = pinned(dh, 'devhash');
    dh.update(u32(77), u32(lo), ANY);
    expect(bpftoolDump(dhPath).map((e) => [readU32(Uint8Array.from(e.key)), readU32(Uint8Array.from(e.value!))])).toEqual([[77, lo]]);
    dh.delete(u32(77));
    expect(bpftoolDump(dhPath)).toEqual([]);

    const cm = mk({ name: 'km_cpumap', type: 'cpumap', keySize: 4, valueSize: 4, maxEntries: possibleCpus() });
    const cmPath = pinned(cm, 'cpumap');
    cm.update(u32(0), u32(192), ANY);
    expect(cm.lookup(u32(0))).toEqual(u32(192));
    expect(bpftoolDump(cmPath).filter((e) => e.value).map((e) => [e.key[0], readU32(Uint8Array.from(e.value!))])).toEqual([[0, 192]]);
    cm.delete(u32(0));

    const xm = mk({ name: 'km_xskmap', type: 'xskmap', keySize: 4, valueSize: 4, maxEntries: 4 });
    const xmInfo = bpftool('map', 'show', 'pinned', pinned(xm, 'xskmap')) as { type: string; max_entries: number };
    expect(xmInfo.type).toBe('xskmap');
    expect(xm.info.type).toBe('xskmap');
    // a non-socket fd is refused; a bound AF_XDP socket (copy mode on lo) is accepted
    expect(() => xm.update(u32(0), u32(dm.fd), ANY)).toThrow();
    const xsk = new KernelXskSocket({ ifindex: lo, queue: 0, frames: 16 });
    opened.push(xsk);
    xm.update(u32(1), u32(xsk.fd), ANY);
    expect(code(() => xm.lookup(u32(1)))).toBe('NOT_SUPPORTED'); // user space cannot read sockets back
    xm.delete(u32(1));
  });

  test('queue (FIFO) and stack (LIFO): push, peek, pop; peek checked with bpftool', () => {
    const q = mk({ name: 'km_queue', type: 'queue', keySize: 0, valueSize: 4, maxEntries: 3 });
    const qPath = pinned(q, 'queue');
    for (const v of [1, 2, 3]) q.update(null, u32(v), ANY);
    expect(code(() => q.update(null, u32(4), ANY))).toBe('MAP_FULL');
    expect(q.lookup(null)).toEqual(u32(1));
    expect((bpftool('map', 'peek', 'pinned', qPath) as { value: string[] }).value.map(Number)).toEqual([...u32(1)]);
    expect([q.lookupAndDelete(null), q.lookupAndDelete(null), q.lookupAndDelete(null)].map((b) => readU32(b!))).toEqual([1, 2, 3]);
    expect(q.lookupAndDelete(null)).toBeUndefined();
    expect(q.lookup(null)).toBeUndefined();

    const s = mk({ name: 'km_stack', type: 'stack', keySize: 0, valueSize: 4, maxEntries: 3 });
    const sPath = pinned(s, 'stack');
    for (const v of [1, 2, 3]) s.update(null, u32(v), ANY);
    expect((bpftool('map', 'peek', 'pinned', sPath) as { value: string[] }).value.map(Number)).toEqual([...u32(3)]);
    expect([s.lookupAndDelete(null), s.lookupAndDelete(null), s.lookupAndDelete(null)].map((b) => readU32(b!))).toEqual([3, 2, 1]);
    expect(s.lookupAndDelete(null)).toBeUndefined();
  });

  test('mmap of a BPF_F_MMAPABLE array shares memory with the map (bpftool)', () => {
    const m = mk({ name: 'km_mmap', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, flags: MapFlag.Mmapable });
    const path = pinned(m, 'mmap');
    const ab = m.mmap();
    const view = new BigUint64Array(ab, 0, 4);
    view[2] = 42n;
    expect(m.lookup(u32(2))).toEqual(u64(42));
    m.update(u32(1), u64(7), ANY);
    expect(view[1]).toBe(7n);
    expect(bpftoolDump(path).map((e) => readU64(Uint8Array.from(e.value!)))).toEqual([0n, 7n, 42n, 0n]);
    const plain = mk({ name: 'km_nommap', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(() => plain.mmap()).toThrow(/BPF_F_MMAPABLE/);
  });

  test('openPinned (BPF_OBJ_GET + info) sees the same map', () => {
    const m = mk({ name: 'km_shared', type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4 });
    const path = pinned(m, 'shared');
    const o = KernelMap.openPinned(path);
    opened.push(o);
    expect(o.info).toMatchObject({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, id: m.info.id, name: 'km_shared' });
    o.update(u32(5), u32(55), ANY);
    expect(m.lookup(u32(5))).toEqual(u32(55));
    expect(() => KernelMap.openPinned(`${dir}/does-not-exist`)).toThrow(/nothing is pinned/);
  });

  test('BTF-typed maps: bpftool shows typed (formatted) keys and values', async () => {
    const obj = loadObjectFile(await compileProg('maps_btf'));
    opened.push(obj);
    const flows = obj.maps.get('flows')!;
    expect(flows.info.keyTypeId).toBeGreaterThan(0);
    expect(flows.info.valueTypeId).toBeGreaterThan(0);
    const path = pinned(flows, 'flows');
    const key = new Uint8Array(flows.info.keySize);
    new DataView(key.buffer).setUint32(0, 0x0100007f, true);
    const value = new Uint8Array(flows.info.valueSize);
    new DataView(value.buffer).setBigUint64(0, 12n, true);
    flows.update(key, value, ANY);
    const dump = bpftoolDump(path);
    expect(dump).toHaveLength(1);
    const f = dump[0]!.formatted as { key: Record<string, unknown>; value: Record<string, unknown> };
    expect(f.key.saddr).toBe(0x0100007f);
    expect(f.value.packets).toBe(12);
    expect(Object.keys(f.value)).toContain('lens');
  });

  test('map_extra (bloom filter hash count) and numa_node reach the kernel (bpftool)', () => {
    const bf = mk({ name: 'km_bloom', type: 'bloom_filter', keySize: 0, valueSize: 4, maxEntries: 64, mapExtra: 3n });
    const show = bpftool('map', 'show', 'pinned', pinned(bf, 'bloom')) as { type: string; max_entries: number };
    expect(show.type).toBe('bloom_filter');
    // bpftool's JSON has no map_extra; the kernel's fdinfo does
    expect(readFileSync(`/proc/self/fdinfo/${bf.fd}`, 'utf8')).toMatch(/^map_extra:\s+0x0*3$/m);
    bf.update(null, u32(1234), ANY);
    const numa = mk({ name: 'km_numa', type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, numaNode: 0 });
    expect(numa.info.flags & MapFlag.NumaNode).toBe(MapFlag.NumaNode);
  });

  test('bad input and closed maps give typed errors', () => {
    const m = mk({ name: 'km_errs', type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(() => m.lookup(new Uint8Array(3))).toThrow(ArgumentError);
    expect(() => m.update(u32(1), new Uint8Array(5), ANY)).toThrow(ArgumentError);
    expect(() => m.lookupBatch(undefined, 0)).toThrow(ArgumentError);
    m.close();
    const e = (() => {
      try {
        m.lookup(u32(1));
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(MapError);
    expect((e as MapError).code).toBe('INVALID_ARGUMENT');
    expect((e as MapError).errno).toBe(9);
    expect((e as Error).message).toMatch(/map is closed/);
    expect(() => KernelMap.create(mapSpec({ name: 'km_bad', type: 'hash', keySize: 0, valueSize: 4, maxEntries: 4 }))).toThrow(/create map km_bad/);
  });
});
