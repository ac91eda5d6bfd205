/**
 * BPF_MAP_TYPE_PERCPU_HASH: one value slot per possible CPU. User space exchanges
 * nCpus × roundUp(valueSize, 8) bytes (CPU 0 first); a program sees and updates only the slot of
 * the CPU it runs on. A program inserting a new key writes its CPU's slot and zeroes the others
 * (kernel `pcpu_init_value`).
 */
import type { MapSpec } from '../../lib/spec/index.js';
import type { SimMapOptions } from './base.js';
import { HashMap } from './hash.js';

export class PercpuHashMap extends HashMap {
  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts, { percpu: true, lru: false });
  }
}
