/**
 * Emulated maps: `createSimMap(spec, opts)` validates a MapSpec the way the kernel's map_alloc
 * checks do and returns the map. Every map is a `SimMap` (user-space BackendMap API plus the
 * program-side API helpers use).
 */
import { MapError, NotSupportedError } from '../../lib/errors.js';
import { MapFlag, type MapSpec } from '../../lib/spec/index.js';
import { ArrayMap } from './array.js';
import { Errno, SimMap, type SimMapOptions } from './base.js';
import { CpuMap } from './cpumap.js';
import { DevMap, DevMapHash } from './devmap.js';
import { HashMap } from './hash.js';
import { LpmTrieMap } from './lpm-trie.js';
import { LruHashMap, LruPercpuHashMap } from './lru-hash.js';
import { ArrayOfMapsMap, HashOfMapsMap } from './map-in-map.js';
import { PercpuArrayMap } from './percpu-array.js';
import { PercpuHashMap } from './percpu-hash.js';
import { PerfEventArrayMap } from './perf-event-array.js';
import { ProgArrayMap } from './prog-array.js';
import { QueueMap, StackMap } from './queue-stack.js';
import { RingBufMap } from './ringbuf.js';
import { XskMap } from './xskmap.js';

export { ArrayMap } from './array.js';
export { Errno, SimMap, keyIdentity, readU32, roundUp8, u32Bytes, writeU32 } from './base.js';
export type { SimMapOptions } from './base.js';
export { CpuMap } from './cpumap.js';
export { DevMap, DevMapHash } from './devmap.js';
export { HashMap } from './hash.js';
export { LpmTrieMap } from './lpm-trie.js';
export { LruHashMap, LruPercpuHashMap } from './lru-hash.js';
export { ArrayOfMapsMap, HashOfMapsMap } from './map-in-map.js';
export { PercpuArrayMap } from './percpu-array.js';
export { PercpuHashMap } from './percpu-hash.js';
export { BPF_F_CURRENT_CPU, PerfEventArrayMap } from './perf-event-array.js';
export { ProgArrayMap, type TailCallTarget } from './prog-array.js';
export { QueueMap, QueueStackMap, StackMap } from './queue-stack.js';
export { RingBufMap } from './ringbuf.js';
export { XskMap, registerXsk, unregisterXsk, type XskTarget } from './xskmap.js';
export * from './registry.js';

/** Largest key/value the emulator accepts (the kernel caps keys at the 512-byte stack). */
const MAX_KEY = 512;
const MAX_VALUE = 1 << 20;

function invalid(spec: MapSpec, why: string): never {
  throw new MapError(spec.name, 'INVALID_ARGUMENT', `create ${spec.type} map ${spec.name}: invalid argument`, { errno: Errno.EINVAL, hint: why });
}

function need(spec: MapSpec, cond: boolean, why: string): void {
  if (!cond) invalid(spec, why);
}

function sized(spec: MapSpec, key: number | null, value: number[] | null): void {
  if (key !== null) need(spec, spec.keySize === key, `key_size must be ${key}, got ${spec.keySize}`);
  else need(spec, spec.keySize > 0 && spec.keySize <= MAX_KEY, `key_size must be 1..${MAX_KEY}, got ${spec.keySize}`);
  if (value !== null) need(spec, value.includes(spec.valueSize), `value_size must be ${value.join(' or ')}, got ${spec.valueSize}`);
  else need(spec, spec.valueSize > 0 && spec.valueSize <= MAX_VALUE, `value_size must be 1..${MAX_VALUE}, got ${spec.valueSize}`);
  need(spec, spec.maxEntries > 0, 'max_entries must be positive');
}

export function createSimMap(spec: MapSpec, opts: SimMapOptions): SimMap {
  if (!Number.isInteger(spec.keySize) || !Number.isInteger(spec.valueSize) || !Number.isInteger(spec.maxEntries) || spec.maxEntries < 0) {
    invalid(spec, 'key_size, value_size and max_entries must be non-negative integers');
  }
  switch (spec.type) {
    case 'hash':
      sized(spec, null, null);
      return new HashMap(spec, opts);
    case 'percpu_hash':
      sized(spec, null, null);
      return new PercpuHashMap(spec, opts);
    case 'lru_hash':
      sized(spec, null, null);
      return new LruHashMap(spec, opts);
    case 'lru_percpu_hash':
      sized(spec, null, null);
      return new LruPercpuHashMap(spec, opts);
    case 'array':
      sized(spec, 4, null);
      return new ArrayMap(spec, opts);
    case 'percpu_array':
      sized(spec, 4, null);
      need(spec, !(spec.flags & MapFlag.Mmapable), 'per-CPU arrays cannot be BPF_F_MMAPABLE');
      return new PercpuArrayMap(spec, opts);
    case 'lpm_trie':
      need(spec, spec.keySize >= 5 && spec.keySize <= 4 + 256, `key_size must be 5..260 (u32 prefixlen + data), got ${spec.keySize}`);
      need(spec, spec.valueSize >= 1, 'value_size must be positive');
      need(spec, spec.maxEntries > 0, 'max_entries must be positive');
      need(spec, (spec.flags & MapFlag.NoPrealloc) !== 0, 'lpm_trie maps require BPF_F_NO_PREALLOC (map_flags = 1)');
      return new LpmTrieMap(spec, opts);
    case 'queue':
    case 'stack':
      need(spec, spec.keySize === 0, `key_size must be 0, got ${spec.keySize}`);
      need(spec, spec.valueSize > 0 && spec.valueSize <= MAX_VALUE, 'value_size must be positive');
      need(spec, spec.maxEntries > 0, 'max_entries must be positive');
      return spec.type === 'queue' ? new QueueMap(spec, opts) : new StackMap(spec, opts);
    case 'ringbuf': {
      const why = RingBufMap.validate(spec);
      if (why) invalid(spec, why);
      return new RingBufMap(spec, opts);
    }
    case 'prog_array':
      sized(spec, 4, [4]);
      return new ProgArrayMap(spec, opts);
    case 'perf_event_array':
      need(spec, spec.keySize === 4 && spec.valueSize === 4, 'key_size and value_size must be 4');
      return new PerfEventArrayMap({ ...spec, maxEntries: spec.maxEntries || opts.nCpus }, opts);
    case 'array_of_maps':
      sized(spec, 4, [4]);
      need(spec, spec.innerMap !== undefined, 'map-in-map needs an inner map template');
      return new ArrayOfMapsMap(spec, opts);
    case 'hash_of_maps':
      sized(spec, null, [4]);
      need(spec, spec.innerMap !== undefined, 'map-in-map needs an inner map template');
      return new HashOfMapsMap(spec, opts);
    case 'devmap':
      sized(spec, 4, [4, 8]);
      return new DevMap(spec, opts);
    case 'devmap_hash':
      sized(spec, 4, [4, 8]);
      return new DevMapHash(spec, opts);
    case 'cpumap':
      sized(spec, 4, [4, 8]);
      return new CpuMap(spec, opts);
    case 'xskmap':
      sized(spec, 4, [4]);
      return new XskMap(spec, opts);
    default:
      throw new NotSupportedError(`map type ${spec.type}`, `create ${spec.type} map ${spec.name}: the emulator does not implement ${spec.type} maps`, {
        hint: 'use the kernel backend for this map type',
      });
  }
}
