import { describe, expect, it } from 'vitest';
import { MapError } from '../../lib/errors.js';
import type { MapSpec, MapType } from '../../lib/spec/index.js';
import {
  ArrayMap, HashMap, LpmTrieMap, LruHashMap, PercpuArrayMap, PercpuHashMap, PerfEventArrayMap, QueueMap, RingBufMap,
  StackMap, createSimMap, getPinned, u32Bytes, unpin,
} from '../../native-sim/maps/index.js';

export function mapSpec(type: MapType, keySize: number, valueSize: number, maxEntries: number, extra: Partial<MapSpec> = {}): MapSpec {
  return {
    name: `m_${type}`, type, keySize, valueSize, maxEntries, flags: 0, pinning: 'none', section: '.maps',
    keyTypeId: 0, valueTypeId: 0, contents: [], freeze: false, globalData: false, ...extra,
  };
}
const opts = { nCpus: 4 };
const u32 = u32Bytes;
const u64 = (v: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v), true); return b; };
const code = (f: () => unknown) => { try { f(); } catch (e) { return (e as MapError).code + ':' + (e as MapError).errno; } return 'ok'; };

describe('hash map', () => {
  it('insert, lookup, replace, delete with kernel flag semantics', () => {
    const m = createSimMap(mapSpec('hash', 4, 8, 2), opts) as HashMap;
    expect(m.lookup(u32(1))).toBeUndefined();
    m.update(u32(1), u64(10), 0);
    expect(m.lookup(u32(1))).toEqual(u64(10));
    expect(code(() => m.update(u32(1), u64(11), 1))).toBe('KEY_EXISTS:17');
    expect(code(() => m.update(u32(2), u64(11), 2))).toBe('KEY_NOT_FOUND:2');
    m.update(u32(1), u64(12), 2);
    expect(m.lookup(u32(1))).toEqual(u64(12));
    m.update(u32(2), u64(20), 0);
    expect(code(() => m.update(u32(3), u64(30), 0))).toBe('MAP_FULL:7');
    m.update(u32(2), u64(21), 0); // replacing in a full map works
    expect(code(() => m.update(u32(2), u64(1), 8))).toBe('INVALID_ARGUMENT:22');
    m.delete(u32(1));
    expect(code(() => m.delete(u32(1)))).toBe('KEY_NOT_FOUND:2');
    expect(m.lookupAndDelete(u32(2))).toEqual(u64(21));
    expect(m.size).toBe(0);
  });

  it('iterates in a stable order; unknown key restarts at the first', () => {
    const m = createSimMap(mapSpec('hash', 4, 4, 10), opts);
    for (const k of [5, 3, 9, 1]) m.update(u32(k), u32(k * 10), 0);
    const walk = () => { const out: number[] = []; let k = m.nextKey(undefined); while (k) { out.push(new DataView(k.buffer).getUint32(0, true)); k = m.nextKey(k); } return out; };
    expect(walk()).toEqual([5, 3, 9, 1]);
    m.delete(u32(3));
    m.update(u32(9), u32(0), 0);
    expect(walk()).toEqual([5, 9, 1]);
    expect(m.nextKey(u32(77))).toEqual(u32(5));
  });

  it('program lookups return live views into the value storage', () => {
    const m = createSimMap(mapSpec('hash', 2, 4, 4), opts);
    m.update(new Uint8Array([1, 2]), u32(7), 0);
    const v = m.progLookup(new Uint8Array([9, 1, 2]), 1, 0)!;
    expect(v.length).toBe(4);
    v[0] = 99;
    expect(m.lookup(new Uint8Array([1, 2]))![0]).toBe(99);
    expect(m.progUpdate(new Uint8Array([3, 3]), 0, u32(1), 0, 1, 0)).toBe(0);
    expect(m.progUpdate(new Uint8Array([3, 3]), 0, u32(1), 0, 1, 0)).toBe(-17);
    expect(m.progDelete(new Uint8Array([4, 4]), 0)).toBe(-2);
  });

  it('long keys, batch ops with cursor, batch delete', () => {
    const m = createSimMap(mapSpec('hash', 16, 4, 100), opts);
    const key = (i: number) => { const k = new Uint8Array(16); k[15] = i; k[0] = 0xaa; return k; };
    const keys = new Uint8Array(16 * 10);
    const values = new Uint8Array(4 * 10);
    for (let i = 0; i < 10; i++) { keys.set(key(i), i * 16); values.set(u32(i * 3), i * 4); }
    expect(m.updateBatch(keys, values, 10, 0)).toBe(10);
    const a = m.lookupBatch(undefined, 4);
    expect(a.count).toBe(4);
    const b = m.lookupBatch(a.cursor, 100);
    expect(b.count).toBe(6);
    expect(b.cursor).toBeUndefined();
    expect(b.keys.subarray(0, 16)).toEqual(key(4));
    expect(m.deleteBatch(keys.subarray(0, 32), 2)).toBe(2);
    const d = m.lookupBatch(undefined, 3, true);
    expect(d.count).toBe(3);
    expect((m as HashMap).size).toBe(5);
  });

  it('freeze blocks user-space writes but not programs', () => {
    const m = createSimMap(mapSpec('hash', 4, 4, 4), opts);
    m.freeze();
    expect(code(() => m.update(u32(1), u32(1), 0))).toBe('INVALID_ARGUMENT:1');
    expect(m.progUpdate(u32(1), 0, u32(5), 0, 0, 0)).toBe(0);
    expect(m.lookup(u32(1))).toEqual(u32(5));
  });
});

describe('array maps', () => {
  it('zero-filled, bounds, NOEXIST, delete EINVAL, iteration', () => {
    const m = createSimMap(mapSpec('array', 4, 6, 3), opts) as ArrayMap;
    expect(m.lookup(u32(2))).toEqual(new Uint8Array(6));
    expect(m.lookup(u32(3))).toBeUndefined();
    expect(code(() => m.update(u32(3), new Uint8Array(6), 0))).toBe('MAP_FULL:7');
    expect(code(() => m.update(u32(0), new Uint8Array(6), 1))).toBe('KEY_EXISTS:17');
    expect(code(() => m.delete(u32(0)))).toBe('INVALID_ARGUMENT:22');
    expect(code(() => m.lookupAndDelete(u32(0)))).toBe('NOT_SUPPORTED:524');
    expect(m.nextKey(undefined)).toEqual(u32(0));
    expect(m.nextKey(u32(1))).toEqual(u32(2));
    expect(m.nextKey(u32(2))).toBeUndefined();
    expect(m.nextKey(u32(100))).toEqual(u32(0));
    m.update(u32(1), new Uint8Array([1, 2, 3, 4, 5, 6]), 2);
    expect(m.progLookup(u32(1), 0, 0)).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6]));
  });

  it('BPF_F_MMAPABLE arrays share storage with programs', () => {
    const m = createSimMap(mapSpec('array', 4, 4, 4, { flags: 1 << 10 }), opts);
    const mem = new Uint32Array(m.mmap());
    expect(mem.length).toBe(1024); // one page, stride 8
    m.progLookup(u32(1), 0, 0)!.set(u32(0xdeadbeef));
    expect(mem[2]).toBe(0xdeadbeef);
    expect(() => createSimMap(mapSpec('array', 4, 4, 4), opts).mmap()).toThrow(/BPF_F_MMAPABLE/);
  });

  it('per-CPU arrays exchange nCpus × roundUp(size, 8) bytes', () => {
    const m = createSimMap(mapSpec('percpu_array', 4, 4, 2), opts) as PercpuArrayMap;
    expect(m.userValueSize()).toBe(32);
    m.progLookup(u32(0), 0, 2)!.set(u32(7));
    const v = m.lookup(u32(0))!;
    expect(v.length).toBe(32);
    expect(v[16]).toBe(7);
    const w = new Uint8Array(32);
    w[0] = 1; w[8] = 2; w[24] = 4;
    m.update(u32(1), w, 0);
    expect(m.progLookup(u32(1), 0, 3)![0]).toBe(4);
  });
});

describe('per-CPU hash', () => {
  it('programs write their CPU, new elements zero the others', () => {
    const m = createSimMap(mapSpec('percpu_hash', 4, 4, 8), opts) as PercpuHashMap;
    const full = new Uint8Array(32).fill(9);
    m.update(u32(1), full, 0);
    expect(m.progUpdate(u32(1), 0, u32(5), 0, 0, 1)).toBe(0);
    const v = m.lookup(u32(1))!;
    expect([v[0], v[8], v[16]]).toEqual([9, 5, 9]);
    expect(v[4]).toBe(9); // padding bytes kept as user space wrote them, like the kernel
    expect(m.progUpdate(u32(2), 0, u32(6), 0, 0, 3)).toBe(0);
    expect([...m.lookup(u32(2))!].filter((x) => x).length).toBe(1);
    expect(m.progLookup(u32(2), 0, 3)![0]).toBe(6);
  });
});

describe('LRU hash', () => {
  it('evicts the least recently used; program lookups refresh, user lookups do not', () => {
    const m = createSimMap(mapSpec('lru_hash', 4, 4, 3), opts) as LruHashMap;
    for (const k of [1, 2, 3]) m.update(u32(k), u32(k), 0);
    m.progLookup(u32(1), 0, 0);
    m.lookup(u32(2));
    m.update(u32(4), u32(4), 0); // evicts 2
    expect(m.lookup(u32(2))).toBeUndefined();
    expect(m.size).toBe(3);
    m.update(u32(3), u32(33), 0); // refresh 3
    m.update(u32(5), u32(5), 0); // evicts 1
    expect(m.lookup(u32(1))).toBeUndefined();
    expect(m.recencyOrder().map((k) => k[0])).toEqual([4, 3, 5]);
  });
});

describe('LPM trie', () => {
  const key = (plen: number, a: number, b: number, c: number, d: number) => {
    const k = new Uint8Array(8); new DataView(k.buffer).setUint32(0, plen, true); k.set([a, b, c, d], 4); return k;
  };
  it('requires BPF_F_NO_PREALLOC', () => {
    expect(code(() => createSimMap(mapSpec('lpm_trie', 8, 4, 10), opts))).toBe('INVALID_ARGUMENT:22');
  });
  it('longest prefix match, exact delete, post-order iteration, ENOSPC', () => {
    const m = createSimMap(mapSpec('lpm_trie', 8, 4, 4, { flags: 1 }), opts) as LpmTrieMap;
    m.update(key(8, 10, 0, 0, 0), u32(8), 0);
    m.update(key(16, 10, 1, 0, 0), u32(16), 0);
    m.update(key(24, 10, 1, 2, 0), u32(24), 0);
    m.update(key(0, 0, 0, 0, 0), u32(0), 0);
    expect(m.lookup(key(32, 10, 1, 2, 3))).toEqual(u32(24));
    expect(m.lookup(key(32, 10, 1, 3, 3))).toEqual(u32(16));
    expect(m.lookup(key(32, 10, 9, 9, 9))).toEqual(u32(8));
    expect(m.lookup(key(32, 11, 0, 0, 0))).toEqual(u32(0));
    expect(m.lookup(key(12, 10, 1, 2, 3))).toEqual(u32(8)); // lookup prefixlen bounds the match
    expect(code(() => m.update(key(33, 0, 0, 0, 0), u32(1), 0))).toBe('INVALID_ARGUMENT:22');
    expect(code(() => m.update(key(30, 1, 0, 0, 0), u32(1), 0))).toBe('MAP_FULL:28');
    const order: number[] = [];
    for (let k = m.nextKey(undefined); k; k = m.nextKey(k)) order.push(k[0]!);
    expect(order).toEqual([24, 16, 8, 0]);
    m.delete(key(16, 10, 1, 7, 7));
    expect(m.lookup(key(32, 10, 1, 3, 3))).toEqual(u32(8));
    expect(code(() => m.delete(key(16, 10, 1, 0, 0)))).toBe('KEY_NOT_FOUND:2');
  });
});

describe('queue and stack', () => {
  it('FIFO/LIFO, full → E2BIG unless BPF_EXIST overwrites the oldest', () => {
    const q = createSimMap(mapSpec('queue', 0, 4, 2), opts) as QueueMap;
    const s = createSimMap(mapSpec('stack', 0, 4, 2), opts) as StackMap;
    for (const m of [q, s]) {
      m.update(null, u32(1), 0);
      m.update(null, u32(2), 0);
      expect(code(() => m.update(null, u32(3), 0))).toBe('MAP_FULL:7');
      m.update(null, u32(3), 2);
    }
    expect(q.lookup(null)).toEqual(u32(2));
    expect(q.lookupAndDelete(null)).toEqual(u32(2));
    expect(q.lookupAndDelete(null)).toEqual(u32(3));
    expect(q.lookupAndDelete(null)).toBeUndefined();
    expect(s.lookupAndDelete(null)).toEqual(u32(3));
    expect(s.lookupAndDelete(null)).toEqual(u32(2));
    const dst = new Uint8Array(4);
    expect(s.progPop(dst, 0)).toBe(-2);
    expect(code(() => s.delete(u32(0)))).toBe('INVALID_ARGUMENT:22');
  });
});

describe('ring buffer', () => {
  it('validates size', () => {
    expect(code(() => createSimMap(mapSpec('ringbuf', 0, 0, 5000), opts))).toBe('INVALID_ARGUMENT:22');
    expect(code(() => createSimMap(mapSpec('ringbuf', 0, 0, 4096 * 3), opts))).toBe('INVALID_ARGUMENT:22');
  });
  it('reserve/submit/discard in order; overflow returns NULL; query', async () => {
    const rb = createSimMap(mapSpec('ringbuf', 0, 0, 4096), opts) as RingBufMap;
    const reader = rb.openReader();
    const a = rb.reserve(5, 0)!;
    a.set([1, 2, 3, 4, 5]);
    const b = rb.reserve(8, 0)!;
    b.set(u64(77));
    expect(rb.query(3)).toBe(16n + 16n);
    rb.commit(b, false, 0);
    const got: Uint8Array[] = [];
    expect(reader.poll((r) => got.push(r))).toBe(0); // a still busy
    rb.commit(a, false, 0);
    await reader.readable();
    expect(reader.poll((r) => got.push(r))).toBe(2);
    expect(got).toEqual([new Uint8Array([1, 2, 3, 4, 5]), u64(77)]);
    const d = rb.reserve(100, 0)!;
    rb.commit(d, true, 0);
    expect(reader.poll(() => undefined)).toBe(0);
    expect(rb.query(0)).toBe(0n);
    // capacity: size - 8 bytes of records
    expect(rb.reserve(4096 - 16, 0)).not.toBeNull();
    expect(rb.reserve(1, 0)).toBeNull();
    expect(rb.reserve(4096, 0)).toBeNull();
    expect(rb.reserve(1, 1)).toBeNull();
    expect(rb.output(new Uint8Array(4), 0, 4, 0)).toBe(-11);
  });
});

describe('perf event array', () => {
  it('delivers to open readers, ENOENT without one, E2BIG beyond max_entries', () => {
    const m = createSimMap(mapSpec('perf_event_array', 4, 4, 4), opts) as PerfEventArrayMap;
    expect(m.output(0xffffffffn, 1, new Uint8Array([1]), 0, 1)).toBe(-2);
    const r = m.openReader();
    expect(m.output(0xffffffffn, 1, new Uint8Array([1, 2]), 0, 2)).toBe(0);
    expect(m.output(7n, 1, new Uint8Array([1]), 0, 1)).toBe(-7);
    const got: Uint8Array[] = [];
    expect(r.poll((x) => got.push(x))).toBe(1);
    expect(got[0]).toEqual(new Uint8Array([1, 2, 0, 0])); // padded like PERF_SAMPLE_RAW
    r.close();
  });
});

describe('pinning', () => {
  it('process-wide namespace, EEXIST on reuse', () => {
    const m = createSimMap(mapSpec('hash', 4, 4, 4), opts);
    m.pin('/sys/fs/bpf/test_maps_pin');
    expect(getPinned('/sys/fs/bpf/test_maps_pin', 'map')).toBe(m);
    expect(() => createSimMap(mapSpec('hash', 4, 4, 4), opts).pin('/sys/fs/bpf/test_maps_pin')).toThrow(/file exists/);
    expect(unpin('/sys/fs/bpf/test_maps_pin')).toBe(true);
    expect(() => getPinned('/sys/fs/bpf/test_maps_pin', 'map')).toThrow(/no such file/);
  });
});

describe('creation checks', () => {
  it('rejects bad sizes and unsupported types with typed errors', () => {
    expect(code(() => createSimMap(mapSpec('array', 8, 4, 4), opts))).toBe('INVALID_ARGUMENT:22');
    expect(code(() => createSimMap(mapSpec('hash', 4, 0, 4), opts))).toBe('INVALID_ARGUMENT:22');
    expect(code(() => createSimMap(mapSpec('hash', 4, 4, 0), opts))).toBe('INVALID_ARGUMENT:22');
    expect(code(() => createSimMap(mapSpec('sockmap', 4, 4, 4), opts))).toBe('NOT_SUPPORTED:undefined');
    expect(code(() => createSimMap(mapSpec('array_of_maps', 4, 4, 4), opts))).toBe('INVALID_ARGUMENT:22');
  });
  it('map-in-map checks the inner template', () => {
    const inner = mapSpec('array', 4, 4, 4);
    const outer = createSimMap(mapSpec('array_of_maps', 4, 4, 2, { innerMap: inner }), opts);
    const good = createSimMap(inner, opts);
    const bad = createSimMap(mapSpec('array', 4, 8, 4), opts);
    outer.update(u32(0), u32(good.info.id), 0);
    expect(outer.lookup(u32(0))).toEqual(u32(good.info.id));
    expect(code(() => outer.update(u32(1), u32(bad.info.id), 0))).toBe('INVALID_ARGUMENT:22');
    expect((outer as unknown as { progLookupMap(k: Uint8Array, o: number): unknown }).progLookupMap(u32(0), 0)).toBe(good);
  });
});
