/**
 * Shared machinery of the array maps whose slots name other objects (prog_array, array_of_maps,
 * devmap, cpumap, xskmap, perf_event_array): u32 index keys below max_entries, empty slots,
 * user space writes object handles (ids on the emulator, where the kernel takes fds) and reads
 * back ids, like the kernel's fd arrays. Iteration follows array order over every index.
 */
import type { MapSpec } from '../../lib/spec/index.js';
import { Errno, SimMap, readU32, u32Bytes, type SimMapOptions } from './base.js';

export abstract class SlotArrayMap<T> extends SimMap {
  protected readonly slots: (T | undefined)[];
  /** The value bytes user space wrote per slot (what user-space lookup returns). */
  protected readonly raw: (Uint8Array | undefined)[];

  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts);
    this.slots = new Array<T | undefined>(spec.maxEntries).fill(undefined);
    this.raw = new Array<Uint8Array | undefined>(spec.maxEntries).fill(undefined);
  }

  /** Resolve user-space value bytes to the slot target; -errno on failure. */
  protected abstract resolve(value: Uint8Array, index: number): T | number;
  /** Value bytes user-space lookup returns for a filled slot. */
  protected userValue(index: number): Uint8Array {
    return this.raw[index]!.slice();
  }
  /** Whether user-space lookup is allowed (EOPNOTSUPP otherwise, e.g. xskmap). */
  protected readonly userLookup: boolean = true;
  /** Allowed update flags: fd arrays accept only BPF_ANY; devmap/cpumap accept ANY and EXIST. */
  protected checkFlags(flags: number): number {
    return flags === 0 ? 0 : -Errno.EINVAL;
  }

  /** The target at `index` (programs: tail call / redirect / inner map). */
  target(index: number): T | undefined {
    return index < this.slots.length ? this.slots[index] : undefined;
  }

  protected setSlot(index: number, value: Uint8Array, flags: number): number {
    const fe = this.checkFlags(flags);
    if (fe < 0) return fe;
    if (index >= this.info.maxEntries) return -Errno.E2BIG;
    const t = this.resolve(value, index);
    if (typeof t === 'number') {
      if (t === 0) {
        this.slots[index] = undefined;
        this.raw[index] = undefined;
        return 0;
      }
      return t;
    }
    this.slots[index] = t;
    this.raw[index] = value.slice(0, this.info.valueSize);
    return 0;
  }

  protected clearSlot(index: number): number {
    if (index >= this.info.maxEntries) return -Errno.E2BIG;
    if (this.slots[index] === undefined) return -Errno.ENOENT;
    this.slots[index] = undefined;
    this.raw[index] = undefined;
    return 0;
  }

  progLookup(kb: Uint8Array, koff: number): Uint8Array | null {
    const i = readU32(kb, koff);
    return i < this.info.maxEntries && this.slots[i] !== undefined ? this.raw[i]! : null;
  }
  progUpdate(kb: Uint8Array, koff: number, vb: Uint8Array, voff: number, flags: number): number {
    return this.setSlot(readU32(kb, koff), vb.subarray(voff, voff + this.info.valueSize), flags);
  }
  progDelete(kb: Uint8Array, koff: number): number {
    return this.clearSlot(readU32(kb, koff));
  }

  lookup(key: Uint8Array | null): Uint8Array | undefined {
    if (!key) this.fail('lookup', Errno.EINVAL, 'needs a u32 index key');
    if (!this.userLookup) this.fail('lookup', Errno.EOPNOTSUPP, `${this.info.type} slots cannot be read from user space`);
    const i = readU32(key, 0);
    if (i >= this.info.maxEntries || this.slots[i] === undefined) return undefined;
    return this.userValue(i);
  }
  update(key: Uint8Array | null, value: Uint8Array, flags: number): void {
    if (!key) this.fail('update', Errno.EINVAL, 'needs a u32 index key');
    this.checkWritable('update');
    const r = this.setSlot(readU32(key, 0), value, flags);
    if (r < 0) this.fail('update', -r, this.updateHint(-r));
  }
  protected updateHint(errno: number): string | undefined {
    if (errno === Errno.E2BIG) return `index out of range: max_entries ${this.info.maxEntries}`;
    return undefined;
  }
  delete(key: Uint8Array): void {
    this.checkWritable('delete');
    const r = this.clearSlot(readU32(key, 0));
    if (r < 0) this.fail('delete', -r);
  }
  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    if (key === undefined) return this.info.maxEntries > 0 ? u32Bytes(0) : undefined;
    const i = readU32(key, 0);
    if (i >= this.info.maxEntries) return u32Bytes(0);
    if (i === this.info.maxEntries - 1) return undefined;
    return u32Bytes(i + 1);
  }
}
