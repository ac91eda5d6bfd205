/**
 * BPF_MAP_TYPE_DEVMAP and BPF_MAP_TYPE_DEVMAP_HASH: XDP redirect targets. Values are a u32
 * ifindex (value size 4) or `struct bpf_devmap_val { u32 ifindex; u32 prog_id }` (value size 8;
 * the kernel takes a prog fd and reports its id, the emulator takes and reports the id). An
 * ifindex naming no simulated interface → ENODEV. Devmap: u32 index keys below max_entries,
 * BPF_NOEXIST → EEXIST (slots always exist), ifindex 0 clears the slot. Devmap_hash: any u32
 * key, at most max_entries entries (E2BIG).
 */
import type { MapSpec } from '../../lib/spec/index.js';
import { Errno, readU32, type SimMapOptions } from './base.js';
import { HashMap } from './hash.js';
import { SlotArrayMap } from './slot-array.js';

export interface DevTarget {
  ifindex: number;
  progId: number;
}

function checkDev(value: Uint8Array, valueSize: number, opts: SimMapOptions): DevTarget | number {
  const ifindex = readU32(value, 0);
  if (ifindex === 0) return 0;
  if (opts.ifindexExists && !opts.ifindexExists(ifindex)) return -Errno.ENODEV;
  return { ifindex, progId: valueSize >= 8 ? readU32(value, 4) : 0 };
}

export class DevMap extends SlotArrayMap<DevTarget> {
  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts);
  }
  protected override checkFlags(flags: number): number {
    if (flags > 2) return -Errno.EINVAL;
    if (flags === 1) return -Errno.EEXIST;
    return 0;
  }
  protected resolve(value: Uint8Array): DevTarget | number {
    return checkDev(value, this.info.valueSize, this.opts);
  }
  protected override updateHint(errno: number): string | undefined {
    if (errno === Errno.ENODEV) return 'no simulated interface has that ifindex: create it with emulator.interface(name)';
    return super.updateHint(errno);
  }
}

export class DevMapHash extends HashMap {
  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts);
  }
  override update(key: Uint8Array | null, value: Uint8Array, flags: number): void {
    const t = checkDev(value, this.info.valueSize, this.opts);
    if (typeof t === 'number' && t < 0) this.fail('update', -t, 'no simulated interface has that ifindex');
    super.update(key, value, flags);
  }
  override progUpdate(): number {
    return -Errno.EINVAL;
  }
  override progDelete(): number {
    return -Errno.EINVAL;
  }
  /** Redirect target for key `k`. */
  target(k: number): DevTarget | undefined {
    const kb = new Uint8Array(4);
    new DataView(kb.buffer).setUint32(0, k, true);
    const e = this.entry(kb, 0);
    if (!e) return undefined;
    const v = e.views[0]!;
    const ifindex = readU32(v, 0);
    return ifindex ? { ifindex, progId: this.info.valueSize >= 8 ? readU32(v, 4) : 0 } : undefined;
  }
}
