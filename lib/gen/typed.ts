/**
 * `TypedMap<K, V, KIn, VIn>`: a `BpfMap` whose reads return `K`/`V` and whose writes accept
 * `KIn`/`VIn` (the codecs accept more than they return: enum names, strings for char arrays,
 * optional struct fields). The code `bpfkit gen types` generates uses it; at run time it is the
 * very same BpfMap object.
 */
import type { BpfMap, UpdateFlags } from '../object/map.js';

type Writes = 'lookup' | 'get' | 'has' | 'update' | 'set' | 'delete' | 'lookupAndDelete' | 'push' | 'updateBatch' | 'deleteBatch';

export type TypedMap<K, V, KIn = K, VIn = V> = Omit<BpfMap<K, V>, Writes> & {
  lookup(key: KIn): V | undefined;
  get(key: KIn): V | undefined;
  has(key: KIn): boolean;
  update(key: KIn, value: VIn, flags?: UpdateFlags): void;
  set(key: KIn, value: VIn): TypedMap<K, V, KIn, VIn>;
  delete(key: KIn): boolean;
  lookupAndDelete(key: KIn): V | undefined;
  push(value: VIn, flags?: UpdateFlags): void;
  updateBatch(keys: readonly KIn[], values: readonly VIn[], flags?: UpdateFlags): number;
  deleteBatch(keys: readonly KIn[]): number;
};
