/**
 * BPF_MAP_TYPE_PERCPU_ARRAY: an array with one zero-filled value per possible CPU. User space
 * exchanges nCpus × roundUp(valueSize, 8) bytes (CPU 0 first); programs see their CPU's slot.
 */
import type { MapSpec } from '../../lib/spec/index.js';
import { ArrayMap } from './array.js';
import type { SimMapOptions } from './base.js';

export class PercpuArrayMap extends ArrayMap {
  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts, true);
  }
}
