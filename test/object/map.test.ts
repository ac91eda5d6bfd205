// BpfMap over the fake backend: typed keys/values from real object BTF, update flags, iteration,
// queue/stack, batch ops, per-CPU values, freeze/pin/openPinned, mmap checks, event readers.
import { beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, BpfError, MapError } from '../../lib/errors.js';
import { BpfMap, load, openObject, type BpfObject } from '../../lib/object/index.js';
import type { ObjectSpec } from '../../lib/spec/index.js';
import { compileProg } from '../helpers/progs.js';
import { FakeBackend, FakeMap } from './fake-backend.js';

const specs: Record<string, ObjectSpec> = {};
beforeAll(async () => {
  for (const n of ['maps_btf', 'xdp_port_filter', 'queue_stack', 'events', 'mmap_array', 'lpm_trie', 'legacy_maps', 'tracepoint_getpid']) {
    specs[n] = openObject(await compileProg(n));
  }
});

async function loaded(name: string, b = new FakeBackend()): Promise<{ obj: BpfObject; b: FakeBackend }> {
  return { obj: await load(specs[name]!, { backend: b }), b };
}

const flowKey = { saddr: 0x0a000001, daddr: 0x0a000002, sport: 1234, dport: 80, proto: 6, pad: new Uint8Array(3) };

describe('typed keys and values', () => {
  it('round-trips structs with nested structs, arrays, enums and char arrays', async () => {
    const { obj, b } = await loaded('maps_btf');
    const flows = obj.maps.flows!;
    const value = {
      packets: 3n, bytes: 1500n, state: 7, tag: new TextEncoder().encode('abc\0'),
      lens: { first_len: 60, last_len: 1400 }, hist: [1, 2, 3, 4], delta: -5, _pad: 0,
    };
    flows.update(flowKey, value);
    expect(flows.lookup(flowKey)).toEqual(value);
    expect(flows.lookup({ ...flowKey, dport: 81 })).toBeUndefined();
    // partial objects: missing fields are zero; enum by name
    flows.update({ ...flowKey, dport: 443 }, { packets: 1n, state: 'FLOW_SEEN', tag: 'x' });
    const got = flows.lookup({ ...flowKey, dport: 443 }) as typeof value;
    expect(got.state).toBe(1);
    expect(got.bytes).toBe(0n);
    expect(got.tag).toEqual(new Uint8Array([0x78, 0, 0, 0]));
    // the bytes the backend stored are the C layout
    const raw = [...fakeMap(b, 'flows').entries.values()][0]!;
    expect(raw.key.length).toBe(16);
    expect(new DataView(raw.key.buffer).getUint32(0, true)).toBe(0x0a000001);
    expect(new DataView(raw.key.buffer).getUint16(10, true)).toBe(80);
    expect(raw.value.length).toBe(56);
    expect(new DataView(raw.value.buffer).getInt32(44, true)).toBe(-5);
    obj.close();
  });

  it('u16 key and struct value of the port filter, raw view, and Uint8Array inputs', async () => {
    const { obj } = await loaded('xdp_port_filter');
    const pol = obj.maps.port_policy!;
    pol.update(443, { action: 1, flags: 0 });
    pol.update(new Uint8Array([0x50, 0]), new Uint8Array([2, 0, 0, 0, 9, 0, 0, 0]));
    expect(pol.lookup(80)).toEqual({ action: 2, flags: 9 });
    expect(pol.raw.lookup(new Uint8Array([0xbb, 0x01]))).toEqual(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
    expect([...pol.keys()].sort((x, y) => (x as number) - (y as number))).toEqual([80, 443]);
    obj.close();
  });

  it('size and type errors are ArgumentErrors naming the map and the problem', async () => {
    const { obj } = await loaded('xdp_port_filter');
    const pol = obj.maps.port_policy!;
    expect(() => pol.update(70000, { action: 1 })).toThrow(ArgumentError);
    expect(() => pol.update(70000, { action: 1 })).toThrow(/update port_policy: key: 70000 does not fit in __u16/);
    expect(() => pol.update(1, { action: 1, nope: 2 })).toThrow(/update port_policy: value: struct policy has no field 'nope' \(fields: action, flags\)/);
    expect(() => pol.update(1, { action: 'x' })).toThrow(/value\.action: expected a number or bigint for __u32/);
    expect(() => pol.update(new Uint8Array(3), { action: 1 })).toThrow(/update port_policy: key: expected 2 bytes \(__u16\), got 3/);
    expect(() => pol.lookup(1.5)).toThrow(/lookup port_policy: key: expected an integer/);
    expect(() => pol.update(1, 5)).toThrow(/expected an object for struct policy, got 5/);
    expect(() => pol.update(1, { action: 1 }, 'sometimes' as 'any')).toThrow(/flags must be 'any', 'noexist', 'exist', 'lock' or a u32/);
    expect(() => obj.maps.xsks!.push(1)).toThrow(/only queue and stack maps support push/);
    obj.close();
  });

  it('maps without BTF types take bytes, and numbers for 1/2/4/8-byte sizes', async () => {
    const { obj } = await loaded('legacy_maps');
    const h = obj.maps.legacy_hash!;
    h.update(5, 7n);
    expect(h.lookup(5)).toEqual(new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0]));
    const a = obj.maps.legacy_array!;
    expect(() => a.update(0, 1)).toThrow(/update legacy_array: value: expected a 16-byte Uint8Array for bytes\[16\], got 1/);
    a.update(1, new Uint8Array(16).fill(9));
    expect(a.lookup(1)).toEqual(new Uint8Array(16).fill(9));
    obj.close();
  });
});

function fakeMap(b: FakeBackend, name: string): FakeMap {
  return b.maps.find((m) => m.info.name === name)!;
}

describe('operations', () => {
  it('update flags, delete, has, lookupAndDelete', async () => {
    const { obj } = await loaded('maps_btf');
    const m = obj.maps.lru!;
    m.update(1n, 10, 'noexist');
    expect(() => m.update(1n, 11, 'noexist')).toThrow(MapError);
    expect(() => m.update(2n, 11, 'exist')).toThrow(expect.objectContaining({ code: 'KEY_NOT_FOUND' }));
    m.update(1n, 12, 'exist');
    m.update(3n, 30, 0);
    expect(m.lookup(1n)).toBe(12);
    expect(m.get(3n)).toBe(30);
    expect(m.has(3n)).toBe(true);
    expect(m.delete(3n)).toBe(true);
    expect(m.delete(3n)).toBe(false);
    expect(m.has(3n)).toBe(false);
    expect(m.lookupAndDelete(1n)).toBe(12);
    expect(m.lookupAndDelete(1n)).toBeUndefined();
    obj.close();
  });

  it('iterates keys, values and entries; arrays include every index', async () => {
    const { obj } = await loaded('maps_btf');
    const m = obj.maps.lru!;
    for (const k of [5n, 6n, 7n]) m.set(k, Number(k) * 10);
    expect([...m.keys()]).toEqual([5n, 6n, 7n]);
    expect([...m.values()]).toEqual([50, 60, 70]);
    expect([...m.entries()]).toEqual([[5n, 50], [6n, 60], [7n, 70]]);
    expect(new Map(m)).toEqual(new Map([[5n, 50], [6n, 60], [7n, 70]]));
    const arr = obj.maps.small_values!;
    arr.update(3, 33);
    const all = [...arr];
    expect(all.length).toBe(16);
    expect(all[3]).toEqual([3, 33]);
    obj.close();
  });

  it('queue and stack: push/pop/peek', async () => {
    const { obj } = await loaded('queue_stack');
    const q = obj.maps.fifo!;
    const s = obj.maps.lifo!;
    for (const v of [1, 2, 3]) q.push(v);
    for (const v of [1n, 2n, 3n]) s.push(v);
    expect(q.peek()).toBe(1);
    expect(q.pop()).toBe(1);
    expect(s.peek()).toBe(3n);
    expect(s.pop()).toBe(3n);
    expect([q.pop(), q.pop(), q.pop()]).toEqual([2, 3, undefined]);
    expect(() => q.lookup(0)).toThrow(/a queue map has no keys/);
    expect([...q.keys()]).toEqual([]);
    obj.close();
  });

  it('batch update, lookup (all batches), lookup-and-delete and delete', async () => {
    const { obj } = await loaded('maps_btf');
    const m = obj.maps.lru!;
    const keys = Array.from({ length: 20 }, (_, i) => BigInt(i + 100));
    expect(m.updateBatch(keys, keys.map((k) => Number(k) + 1))).toBe(20);
    const got = m.lookupBatch({ batchSize: 7 });
    expect(got.length).toBe(20);
    expect(got[19]).toEqual([119n, 120]);
    expect(m.deleteBatch([100n, 101n, 999n])).toBe(2);
    const drained = m.lookupAndDeleteBatch({ batchSize: 5 });
    expect(drained.length).toBe(18);
    expect([...m.keys()]).toEqual([]);
    expect(() => m.updateBatch([1n], [])).toThrow(/1 keys but 0 values/);
    expect(() => m.updateBatch([1n, 'x' as unknown as bigint], [1, 2])).toThrow(/updateBatch lru: key 1: expected a number or bigint/);
    expect(() => m.lookupBatch({ batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    obj.close();
  });

  it('per-CPU values are arrays of one value per possible CPU', async () => {
    const b = new FakeBackend('fake', 3);
    const { obj } = await loaded('maps_btf', b);
    const m = obj.maps.percpu_len!;
    expect(m.perCpu).toBe(true);
    m.update(1, [1n, 2n, 3n]);
    expect(m.lookup(1)).toEqual([1n, 2n, 3n]);
    expect(() => m.update(2, 5n)).toThrow(/a per-CPU value is an array of 3 values \(one per possible CPU\), got 5n/);
    expect(() => m.update(2, [1n, 2n])).toThrow(/array of 3 values/);
    // struct values per CPU, padded to 8 bytes each
    const st = obj.maps.percpu_stats!;
    st.update(0, [{ packets: 1n }, { packets: 2n }, { packets: 3n }]);
    expect((st.lookup(0) as { packets: bigint }[]).map((v) => v.packets)).toEqual([1n, 2n, 3n]);
    expect(fakeMap(b, 'percpu_stats').valueBytes).toBe(3 * 56);
    // a 4-byte per-CPU value is padded to 8 per CPU in the raw layout
    expect(m.raw.lookup(new Uint8Array([1, 0, 0, 0]))).toEqual([
      new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]), new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0]), new Uint8Array([3, 0, 0, 0, 0, 0, 0, 0]),
    ]);
    obj.close();
  });

  it('freeze, pin, openPinned', async () => {
    const { obj, b } = await loaded('maps_btf');
    const m = obj.maps.lru!;
    m.update(9n, 90);
    m.pin('/sys/fs/bpf/fake-lru');
    m.freeze();
    expect(() => m.update(9n, 91)).toThrow(/frozen/);
    const p = await BpfMap.openPinned('/sys/fs/bpf/fake-lru', { backend: b });
    expect(p.name).toBe('lru');
    // no BTF on a pinned map: raw bytes, numbers accepted for 8-byte keys
    expect(p.lookup(9n)).toEqual(new Uint8Array([90, 0, 0, 0]));
    p.close();
    obj.close();
    await expect(BpfMap.openPinned('', { backend: b })).rejects.toThrow(ArgumentError);
    expect(b.stats.open.size).toBe(0);
  });

  it('mmap needs BPF_F_MMAPABLE; ringbuf/perfBuffer need the right map type', async () => {
    const { obj } = await loaded('mmap_array');
    expect(obj.maps.shared!.mmap().byteLength).toBe(64 * 8);
    obj.close();
    const { obj: o2 } = await loaded('maps_btf');
    expect(() => o2.maps.lru!.mmap()).toThrow(/mmap lru: the map was not created with BPF_F_MMAPABLE/);
    expect(() => o2.maps.lru!.ringbuf()).toThrow(/ringbuf lru: the map is a lru_hash, not a ringbuf/);
    expect(() => o2.maps.lru!.perfBuffer()).toThrow(/not a perf_event_array/);
    o2.close();
  });
});

describe('event readers', () => {
  it('poll() drains; for await waits for records and ends on close', async () => {
    const { obj, b } = await loaded('events');
    const rb = fakeMap(b, 'rb');
    const reader = obj.maps.rb!.ringbuf();
    expect(reader.poll()).toEqual([]);
    rb.emit(new Uint8Array([1]));
    rb.emit(new Uint8Array([2]));
    expect(reader.poll()).toEqual([new Uint8Array([1]), new Uint8Array([2])]);
    const got: number[] = [];
    const done = (async () => {
      for await (const r of reader) {
        got.push(r[0]!);
        if (got.length === 3) break;
      }
    })();
    setTimeout(() => rb.emit(new Uint8Array([3])), 5);
    setTimeout(() => {
      rb.emit(new Uint8Array([4]));
      rb.emit(new Uint8Array([5]));
    }, 15);
    await done;
    expect(got).toEqual([3, 4, 5]);
    reader.close();
    obj.close();
    expect(b.stats.open.size).toBe(0);
  });

  it('a pending iteration ends when the reader (or its map) is closed', async () => {
    const { obj, b } = await loaded('events');
    const reader = obj.maps.rb!.ringbuf();
    const it = reader[Symbol.asyncIterator]();
    const pending = it.next();
    setTimeout(() => obj.close(), 5);
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(reader.isClosed).toBe(true);
    expect(() => reader.poll()).toThrow(/the reader is closed/);
    expect(b.stats.open.size).toBe(0);
  });

  it('decodes records through a BTF type of the object', async () => {
    const { obj, b } = await loaded('tracepoint_getpid');
    const rb = fakeMap(b, 'events');
    const reader = obj.maps.events!.ringbuf<{ pid: number; cookie: number; ts_ns: bigint; comm: Uint8Array }>({ decode: 'struct event' });
    const rec = new Uint8Array(40);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, 77, true);
    dv.setUint32(12, 0xb0f0c0de, true);
    dv.setBigUint64(16, 123n, true);
    rec.set(new TextEncoder().encode('node'), 24);
    rb.emit(rec);
    const [ev] = reader.poll();
    expect(ev!.pid).toBe(77);
    expect(ev!.cookie).toBe(0xb0f0c0de);
    expect(ev!.ts_ns).toBe(123n);
    expect(new TextDecoder().decode(ev!.comm).replace(/\0+$/, '')).toBe('node');
    expect(() => obj.maps.events!.ringbuf({ decode: 'struct nope' })).toThrow(/no BTF type named 'struct nope'/);
    rb.emit(new Uint8Array(3));
    expect(() => reader.poll()).toThrow(/record of 3 bytes is shorter than struct event \(40 bytes\)/);
    obj.close();
  });
});

describe('lpm trie keys', () => {
  it('encode as structs with prefixlen and a byte array', async () => {
    const { obj, b } = await loaded('lpm_trie');
    obj.maps.routes_v4!.update({ prefixlen: 24, addr: new Uint8Array([10, 0, 0, 0]) }, { action: 1, hits: 0 });
    const raw = [...fakeMap(b, 'routes_v4').entries.values()][0]!;
    expect(raw.key).toEqual(new Uint8Array([24, 0, 0, 0, 10, 0, 0, 0]));
    expect(() => obj.maps.routes_v4!.update({ prefixlen: 24, addr: new Uint8Array(5) }, { action: 1 })).toThrow(/key\.addr: expected at most 4 bytes/);
    obj.close();
  });
});

describe('standalone maps and handle values', () => {
  it('BpfMap.create validates the definition and is owned by the caller', async () => {
    const b = new FakeBackend();
    const m = await BpfMap.create<number, Uint8Array>({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 8 }, { backend: b });
    expect(m.name).toBe('map');
    m.update(1, new Uint8Array([1, 2, 3, 4]));
    expect(m.lookup(1)).toEqual(new Uint8Array([1, 2, 3, 4]));
    m.close();
    await expect(BpfMap.create({ type: 'nope' as 'hash', keySize: 4, valueSize: 4, maxEntries: 1 }, { backend: b })).rejects.toThrow(/unknown map type "nope"/);
    await expect(BpfMap.create({ type: 'hash', keySize: -1, valueSize: 4, maxEntries: 1 }, { backend: b })).rejects.toThrow(/keySize must be a u32/);
    expect(b.stats.open.size).toBe(0);
  });

  it('maps without BTF: array indexes and slot values are u32 numbers; Programs/BpfMaps stand for their handles', async () => {
    const b = new FakeBackend();
    const tail = await load(openObject(await compileProg('tailcall')), { backend: b });
    const jt = tail.maps.jmp_table!;
    expect(jt.keyCodec.typeName).toBe('u32');
    jt.update(3, tail.programs.tail_a!);
    expect(jt.lookup(3)).toBe(tail.programs.tail_a!.fd);
    expect(jt.raw.lookup(new Uint8Array([3, 0, 0, 0]))).toEqual(new Uint8Array(new Uint32Array([tail.programs.tail_a!.fd!]).buffer));
    const closed = tail.programs.tail_loop!;
    closed.close();
    expect(() => jt.update(1, closed)).toThrow(/program tail_loop is closed/);
    tail.close();
    expect(b.stats.open.size).toBe(0);
  });
});

describe('junk arguments', () => {
  it('every map and program method answers junk with a BpfError, never a TypeError', async () => {
    const b = new FakeBackend();
    using obj = await load(specs.maps_btf!, { backend: b });
    const junk: unknown[] = [undefined, null, NaN, Infinity, -1, 1.5, 2 ** 70, -(2n ** 80n), 'x', Symbol('s'), {}, [], [1, 2, 3], { saddr: 'x' }, new Uint8Array(1), new Uint16Array(2), () => 1, new Map(), true];
    const maps = Object.values(obj.maps);
    const p = obj.programs.track_flows!;
    let thrown = 0;
    for (const j of junk) {
      const calls: (() => unknown)[] = [];
      for (const m of maps) {
        calls.push(() => m.lookup(j), () => m.update(j, j), () => m.update(0, j), () => m.update(j, 0, j as 'any'), () => m.delete(j), () => m.has(j));
        calls.push(() => m.updateBatch([j], [j]), () => m.deleteBatch([j]), () => m.updateBatch(j as unknown[], []), () => m.lookupBatch(j as { batchSize: number }));
        calls.push(() => m.pin(j as string), () => m.push(j));
      }
      calls.push(() => p.run(j as object), () => p.run({ data: j as Uint8Array }), () => p.attachXdp(j as string), () => p.attachTc(j as string, j as 'ingress'));
      calls.push(() => p.attachCgroup(j as string), () => p.attachUprobe(j as string, j as string), () => p.attachSocketFilter(j as number), () => p.pin(j as string));
      calls.push(() => obj.map(j as string), () => obj.program(j as string));
      for (const c of calls) {
        try {
          c();
        } catch (e) {
          thrown++;
          if (!(e instanceof BpfError)) throw new Error(`junk ${String(typeof j === 'symbol' ? 'symbol' : j)}: ${String(e)}`);
        }
      }
    }
    expect(thrown).toBeGreaterThan(500);
  });

  it('load/openObject/openPinned/create answer junk with a BpfError', async () => {
    const b = new FakeBackend();
    const junk: unknown[] = [undefined, null, 0, -1, 'x', '', Symbol('s'), {}, [], [Symbol('p')], new Uint8Array(3), true, 10n];
    let n = 0;
    for (const j of junk) {
      const attempts: (() => Promise<unknown>)[] = [
        () => load(j as string, { backend: b }),
        () => load(specs.maps_btf!, j as object),
        () => load(specs.maps_btf!, { backend: b, programs: j as string[] }),
        () => load(specs.maps_btf!, { backend: b, globals: j as Record<string, unknown> }),
        () => load(specs.maps_btf!, { backend: b, logLevel: j as number }),
        () => load(specs.maps_btf!, { backend: j as 'auto' }),
        async () => openObject(j as string),
        () => BpfMap.openPinned(j as string, { backend: b }),
        () => BpfMap.openPinned('/x', j as object),
        () => BpfMap.create(j as never, { backend: b }),
      ];
      for (const a of attempts) {
        try {
          const r = await a();
          if (r && typeof (r as { close?: () => void }).close === 'function') (r as { close(): void }).close();
        } catch (e) {
          n++;
          if (!(e instanceof BpfError)) throw new Error(`junk #${junk.indexOf(j)} attempt #${attempts.indexOf(a)}: ${String(e)}`);
        }
      }
    }
    expect(n).toBeGreaterThan(60);
    expect(b.stats.open.size).toBe(0);
  });
});
