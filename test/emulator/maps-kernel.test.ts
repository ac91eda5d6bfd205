// Map semantics, emulator vs kernel: the same sequence of user-space operations on a kernel map
// (lib/kernel through the public API) and on the emulator's map; every result — values, errors
// (error class, code, errno), iteration order where the kernel defines it, batch results — must
// be the same. Seeded random operation sequences plus the documented edge cases.
import { describe, expect, it } from 'vitest';
import { createKernelBackend } from '../../lib/kernel/index.js';
import type { Backend, BackendMap } from '../../lib/backend.js';
import type { MapSpec, MapType } from '../../lib/spec/index.js';
import { EmulatorBackend } from '../../native-sim/backend.js';
import { mulberry32 } from './packets.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;

function spec(type: MapType, keySize: number, valueSize: number, maxEntries: number, flags = 0): MapSpec {
  return {
    name: `emu_${type}`.slice(0, 15), type, keySize, valueSize, maxEntries, flags, pinning: 'none', section: '.maps',
    keyTypeId: 0, valueTypeId: 0, contents: [], freeze: false, globalData: false,
  };
}

function hex(b: Uint8Array | undefined | null): string {
  return b ? Buffer.from(b).toString('hex') : String(b);
}

function outcome(f: () => unknown): string {
  try {
    const r = f();
    if (r instanceof Uint8Array) return `ok ${hex(r)}`;
    if (r && typeof r === 'object' && 'count' in r) {
      const b = r as { keys: Uint8Array; values: Uint8Array; count: number };
      return `batch ${b.count} ${hex(b.keys)} ${hex(b.values)}`;
    }
    return `ok ${String(r)}`;
  } catch (e) {
    const err = e as { name?: string; code?: string; errno?: number };
    return `error ${err.name} ${err.code} ${err.errno ?? ''}`.trim();
  }
}

function bytes(rnd: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 4); // small alphabet → collisions
  return b;
}

type Op = (m: BackendMap) => unknown;

function randomOps(type: MapType, ks: number, vs: number, seed: number, n: number, cpus: number): { name: string; op: Op }[] {
  const rnd = mulberry32(seed);
  const per = type.includes('percpu') ? cpus * ((vs + 7) & ~7) : vs;
  const ops: { name: string; op: Op }[] = [];
  for (let i = 0; i < n; i++) {
    const k = type.includes('array') ? (() => { const b = new Uint8Array(4); b[0] = Math.floor(rnd() * 10); return b; })() : bytes(rnd, ks);
    const v = new Uint8Array(per);
    for (let j = 0; j < per; j++) v[j] = Math.floor(rnd() * 256);
    const r = rnd();
    const flags = Math.floor(rnd() * 4) === 3 ? 8 : Math.floor(rnd() * 3);
    if (r < 0.45) ops.push({ name: `update ${hex(k)} flags ${flags}`, op: (m) => m.update(k, v, flags) });
    else if (r < 0.65) ops.push({ name: `lookup ${hex(k)}`, op: (m) => m.lookup(k) });
    else if (r < 0.8) ops.push({ name: `delete ${hex(k)}`, op: (m) => m.delete(k) });
    else if (r < 0.9) ops.push({ name: `lookupAndDelete ${hex(k)}`, op: (m) => m.lookupAndDelete(k) });
    else ops.push({ name: `nextKey(unknown)`, op: (m) => (type.includes('array') ? m.nextKey(k) : 'skip') });
  }
  return ops;
}

function contents(m: BackendMap, ordered: boolean): string[] {
  const rows: string[] = [];
  let k = m.nextKey(undefined);
  let guard = 0;
  while (k && guard++ < 10000) {
    rows.push(`${hex(k)}=${hex(m.lookup(k))}`);
    k = m.nextKey(k);
  }
  return ordered ? rows : rows.sort();
}

describe.skipIf(!isRootLinux)('maps: emulator vs kernel (needs root on Linux)', () => {
  let kernel: Backend;
  let emu: EmulatorBackend;
  const open: BackendMap[] = [];
  const pair = (s: MapSpec): [BackendMap, BackendMap] => {
    const ks = kernel.openSession({ source: 'maps-kernel', license: 'GPL', kernelVersion: 0, programs: [], maps: [s] });
    const km = ks.createMap(s);
    ks.close();
    const em = emu.createMap(s);
    open.push(km, em);
    return [km, em];
  };
  const same = (km: BackendMap, em: BackendMap, name: string, op: Op, log: string[]): void => {
    const want = outcome(() => op(km));
    const got = outcome(() => op(em));
    if (want !== got) log.push(`${name}: emulator ${got} != kernel ${want}`);
  };

  it('setup', () => {
    kernel = createKernelBackend('maps differential test');
    emu = new EmulatorBackend({ possibleCpus: kernel.possibleCpus });
    expect(emu.possibleCpus).toBe(kernel.possibleCpus);
  });

  const cases: [MapType, number, number, number, number, boolean][] = [
    ['hash', 2, 8, 6, 0, false],
    ['hash', 9, 3, 40, 1, false],
    ['array', 4, 6, 10, 0, true],
    ['percpu_array', 4, 4, 10, 0, true],
    ['percpu_hash', 3, 12, 8, 0, false],
    ['lru_hash', 2, 4, 64, 0, false],
  ];
  for (const [type, ks, vs, max, flags, ordered] of cases) {
    it(`${type} key ${ks} value ${vs} max ${max}: seeded random operations`, () => {
      const [km, em] = pair(spec(type, ks, vs, max, flags));
      const log: string[] = [];
      for (const { name, op } of randomOps(type, ks, vs, ks * 1000 + vs, 400, kernel.possibleCpus)) {
        same(km, em, name, op, log);
        if (log.length > 10) break;
      }
      same(km, em, 'contents', (m) => contents(m, ordered).join(','), log);
      expect(log).toEqual([]);
    });
  }

  it('edge cases: array delete/NOEXIST/out of range, hash full, flags, batch ops', () => {
    const log: string[] = [];
    const [ka, ea] = pair(spec('array', 4, 4, 4));
    const k = (i: number) => new Uint8Array([i, 0, 0, 0]);
    const v = (i: number) => new Uint8Array([i, i, i, i]);
    for (const [name, op] of [
      ['array delete', (m: BackendMap) => m.delete(k(1))],
      ['array NOEXIST', (m: BackendMap) => m.update(k(1), v(1), 1)],
      ['array EXIST', (m: BackendMap) => m.update(k(1), v(2), 2)],
      ['array index 4', (m: BackendMap) => m.update(k(4), v(1), 0)],
      ['array lookup 4', (m: BackendMap) => m.lookup(k(4))],
      ['array bad flags', (m: BackendMap) => m.update(k(0), v(1), 3)],
      ['array lookupAndDelete', (m: BackendMap) => m.lookupAndDelete(k(0))],
      ['array nextKey last', (m: BackendMap) => m.nextKey(k(3))],
      ['array nextKey 99', (m: BackendMap) => m.nextKey(k(99))],
      ['array lookupBatch', (m: BackendMap) => m.lookupBatch(undefined, 3)],
    ] as const) same(ka, ea, name, op, log);
    const [kh, eh] = pair(spec('hash', 4, 4, 3));
    for (const [name, op] of [
      ['fill 1', (m: BackendMap) => m.update(k(1), v(1), 0)],
      ['fill 2', (m: BackendMap) => m.update(k(2), v(2), 0)],
      ['fill 3', (m: BackendMap) => m.update(k(3), v(3), 0)],
      ['full', (m: BackendMap) => m.update(k(4), v(4), 0)],
      ['replace when full', (m: BackendMap) => m.update(k(2), v(9), 0)],
      ['NOEXIST present', (m: BackendMap) => m.update(k(1), v(1), 1)],
      ['EXIST missing', (m: BackendMap) => m.update(k(7), v(1), 2)],
      ['delete missing', (m: BackendMap) => m.delete(k(7))],
      ['lookupAndDelete', (m: BackendMap) => m.lookupAndDelete(k(3))],
      ['lookupAndDelete missing', (m: BackendMap) => m.lookupAndDelete(k(3))],
      ['deleteBatch', (m: BackendMap) => m.deleteBatch(new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]), 2)],
      ['empty nextKey', (m: BackendMap) => m.nextKey(undefined)],
    ] as const) same(kh, eh, name, op, log);
    expect(log).toEqual([]);
  });

  it('queue, stack and LPM trie', () => {
    const log: string[] = [];
    for (const type of ['queue', 'stack'] as const) {
      const [kq, eq] = pair(spec(type, 0, 4, 3));
      const v = (i: number) => new Uint8Array([i, 0, 0, i]);
      for (const [name, op] of [
        ['pop empty', (m: BackendMap) => m.lookupAndDelete(null)],
        ['push 1', (m: BackendMap) => m.update(null, v(1), 0)],
        ['push 2', (m: BackendMap) => m.update(null, v(2), 0)],
        ['push 3', (m: BackendMap) => m.update(null, v(3), 0)],
        ['push full', (m: BackendMap) => m.update(null, v(4), 0)],
        ['push bad flag', (m: BackendMap) => m.update(null, v(4), 1)],
        ['push exist', (m: BackendMap) => m.update(null, v(5), 2)],
        ['peek', (m: BackendMap) => m.lookup(null)],
        ['pop', (m: BackendMap) => m.lookupAndDelete(null)],
        ['pop', (m: BackendMap) => m.lookupAndDelete(null)],
        ['pop', (m: BackendMap) => m.lookupAndDelete(null)],
        ['pop empty', (m: BackendMap) => m.lookupAndDelete(null)],
      ] as const) same(kq, eq, `${type} ${name}`, op, log);
    }
    const [kl, el] = pair(spec('lpm_trie', 8, 4, 5, 1));
    const key = (plen: number, a: number, b: number, c = 0, d = 0) => new Uint8Array([plen, 0, 0, 0, a, b, c, d]);
    const val = (i: number) => new Uint8Array([i, 0, 0, 0]);
    for (const [name, op] of [
      ['add /8', (m: BackendMap) => m.update(key(8, 10, 0), val(8), 0)],
      ['add /16', (m: BackendMap) => m.update(key(16, 10, 1), val(16), 0)],
      ['add /24', (m: BackendMap) => m.update(key(24, 10, 1, 2), val(24), 0)],
      ['add /0', (m: BackendMap) => m.update(key(0, 0, 0), val(0), 0)],
      ['add /32', (m: BackendMap) => m.update(key(32, 10, 1, 2, 3), val(32), 0)],
      ['full', (m: BackendMap) => m.update(key(12, 10, 16), val(12), 0)],
      ['plen 33', (m: BackendMap) => m.update(key(33, 10, 16), val(12), 0)],
      ['lookup /32 hit', (m: BackendMap) => m.lookup(key(32, 10, 1, 2, 3))],
      ['lookup /24', (m: BackendMap) => m.lookup(key(32, 10, 1, 2, 9))],
      ['lookup /16', (m: BackendMap) => m.lookup(key(32, 10, 1, 9, 9))],
      ['lookup short plen', (m: BackendMap) => m.lookup(key(12, 10, 1, 2, 3))],
      ['lookup default', (m: BackendMap) => m.lookup(key(32, 99, 0))],
      ['iteration', (m: BackendMap) => contents(m, true).join(',')],
      ['delete /16 with junk bits', (m: BackendMap) => m.delete(key(16, 10, 1, 7, 7))],
      ['delete missing', (m: BackendMap) => m.delete(key(16, 10, 1))],
      ['lookup after delete', (m: BackendMap) => m.lookup(key(32, 10, 1, 9, 9))],
      ['NOEXIST present', (m: BackendMap) => m.update(key(8, 10, 0), val(1), 1)],
      ['EXIST missing', (m: BackendMap) => m.update(key(9, 10, 0), val(1), 2)],
    ] as const) same(kl, el, `lpm ${name}`, op, log);
    expect(log).toEqual([]);
  });

  it('lpm_trie gets BPF_F_NO_PREALLOC implicitly on both backends', () => {
    const [k, e] = pair(spec('lpm_trie', 8, 4, 5, 0));
    expect(e.info.flags).toBe(k.info.flags);
  });

  it('creation errors', () => {
    const log: string[] = [];
    for (const s of [spec('lpm_trie', 3, 4, 5, 1), spec('array', 8, 4, 4), spec('ringbuf', 0, 0, 5000), spec('hash', 4, 4, 0), spec('queue', 4, 4, 4)]) {
      const want = outcome(() => {
        const ks = kernel.openSession({ source: 'x', license: 'GPL', kernelVersion: 0, programs: [], maps: [s] });
        try {
          return ks.createMap(s).close();
        } finally {
          ks.close();
        }
      });
      const got = outcome(() => emu.createMap(s).close());
      // both refuse; the emulator as MapError INVALID_ARGUMENT (errno 22), the kernel backend as
      // SyscallError EINVAL or (checks done before the syscall) ArgumentError INVALID_ARGUMENT
      if (want.startsWith('error') !== got.startsWith('error') || got !== 'error MapError INVALID_ARGUMENT 22') log.push(`${s.type}: emulator ${got} kernel ${want}`);
    }
    expect(log).toEqual([]);
  });

  it('teardown', () => {
    for (const m of open) m.close();
  });
});
