/**
 * BPF_MAP_TYPE_CPUMAP: XDP redirect to another CPU. Key = CPU index (must be a possible CPU,
 * else ENODEV; ≥ max_entries → E2BIG); value = u32 queue size or `struct bpf_cpumap_val { u32
 * qsize; u32 prog_id }`. qsize 0 clears the slot; qsize > 16384 → EOVERFLOW.
 */
import type { MapSpec } from '../../lib/spec/index.js';
import { Errno, readU32, type SimMapOptions } from './base.js';
import { SlotArrayMap } from './slot-array.js';

export interface CpuTarget {
  cpu: number;
  qsize: number;
  progId: number;
}

export class CpuMap extends SlotArrayMap<CpuTarget> {
  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts);
  }
  protected override checkFlags(flags: number): number {
    if (flags > 2) return -Errno.EINVAL;
    if (flags === 1) return -Errno.EEXIST;
    return 0;
  }
  protected resolve(value: Uint8Array, index: number): CpuTarget | number {
    if (index >= this.nCpus) return -Errno.ENODEV;
    const qsize = readU32(value, 0);
    if (qsize === 0) return 0;
    if (qsize > 16384) return -Errno.EOVERFLOW;
    return { cpu: index, qsize, progId: this.info.valueSize >= 8 ? readU32(value, 4) : 0 };
  }
  override progLookup(): Uint8Array | null {
    return null;
  }
}
