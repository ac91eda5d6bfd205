/**
 * BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS: values are inner maps. User space
 * stores an inner map id (the kernel takes an fd) and reads back the id, like the kernel. Inner
 * maps must match the template (type, key size, value size, flags, and max_entries unless the
 * template has BPF_F_INNER_MAP), else EINVAL. Programs' lookups return the inner map itself.
 */
import type { MapSpec } from '../../lib/spec/index.js';
import { MapFlag } from '../../lib/spec/index.js';
import { Errno, SimMap, keyIdentity, readU32, type SimMapOptions } from './base.js';
import { HashMap } from './hash.js';
import { mapById } from './registry.js';
import { SlotArrayMap } from './slot-array.js';

function compatible(tpl: MapSpec | undefined, m: SimMap): boolean {
  if (!tpl) return true;
  const i = m.info;
  if (i.type !== tpl.type || i.keySize !== tpl.keySize || i.valueSize !== tpl.valueSize) return false;
  if ((i.flags & ~MapFlag.InnerMap) !== (tpl.flags & ~MapFlag.InnerMap)) return false;
  return (tpl.flags & MapFlag.InnerMap) !== 0 || i.maxEntries === tpl.maxEntries;
}

function resolveInner(tpl: MapSpec | undefined, value: Uint8Array): SimMap | number {
  const m = mapById<SimMap>(readU32(value, 0));
  if (!m) return -Errno.EINVAL;
  if (m.info.type === 'array_of_maps' || m.info.type === 'hash_of_maps') return -Errno.EINVAL;
  return compatible(tpl, m) ? m : -Errno.EINVAL;
}

export class ArrayOfMapsMap extends SlotArrayMap<SimMap> {
  override readonly isMapInMap = true;
  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts);
  }
  protected resolve(value: Uint8Array): SimMap | number {
    return resolveInner(this.spec.innerMap, value);
  }
  protected override userValue(index: number): Uint8Array {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, this.slots[index]!.info.id, true);
    return v;
  }
  /** Program lookup: the inner map or null. */
  progLookupMap(kb: Uint8Array, koff: number): SimMap | null {
    return this.target(readU32(kb, koff)) ?? null;
  }
  override progLookup(): Uint8Array | null {
    return null;
  }
  override progUpdate(): number {
    return -Errno.EINVAL;
  }
  override progDelete(): number {
    return -Errno.EINVAL;
  }
}

export class HashOfMapsMap extends HashMap {
  override readonly isMapInMap = true;
  private readonly inner = new Map<number | string, SimMap>();
  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts);
  }
  override update(key: Uint8Array | null, value: Uint8Array, flags: number): void {
    if (!key) this.fail('update', Errno.EINVAL, 'needs a key');
    const m = resolveInner(this.spec.innerMap, value);
    if (typeof m === 'number') this.fail('update', -m, 'the value must be the id of a live emulator map matching the inner map template');
    super.update(key, value, flags);
    this.inner.set(keyIdentity(key, 0, this.info.keySize), m);
  }
  override delete(key: Uint8Array): void {
    super.delete(key);
    this.inner.delete(keyIdentity(key, 0, this.info.keySize));
  }
  override lookupAndDelete(key: Uint8Array | null): Uint8Array | undefined {
    const v = super.lookupAndDelete(key);
    if (key) this.inner.delete(keyIdentity(key, 0, this.info.keySize));
    return v;
  }
  progLookupMap(kb: Uint8Array, koff: number): SimMap | null {
    return this.inner.get(keyIdentity(kb, koff, this.info.keySize)) ?? null;
  }
  override progLookup(): Uint8Array | null {
    return null;
  }
  override progUpdate(): number {
    return -Errno.EINVAL;
  }
  override progDelete(): number {
    return -Errno.EINVAL;
  }
}
