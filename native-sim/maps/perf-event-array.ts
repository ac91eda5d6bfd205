/**
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY: per-CPU event channels. On the kernel each slot holds a perf
 * event fd; on the emulator a slot is live while a reader is open (openReader) or after user
 * space stored a value in it. bpf_perf_event_output with BPF_F_CURRENT_CPU (index 0xffffffff)
 * uses the running CPU's slot; an index ≥ max_entries → E2BIG; an empty slot → ENOENT. Readers
 * receive the raw sample as the kernel's perf ring stores it: the data followed by zero padding
 * up to roundUp(size + 4, 8) - 4 bytes (PERF_SAMPLE_RAW keeps the u32 size + data 8-aligned).
 */
import type { BackendEventReader } from '../../lib/backend.js';
import type { MapSpec } from '../../lib/spec/index.js';
import { Errno, readU32, type SimMapOptions } from './base.js';
import { SlotArrayMap } from './slot-array.js';

interface Reader {
  queue: { cpu: number; data: Uint8Array }[];
  waiters: (() => void)[];
  closed: boolean;
}

export const BPF_F_CURRENT_CPU = 0xffffffff;
/** Records kept per reader before new ones are counted as lost. */
const READER_LIMIT = 1 << 16;

export class PerfEventArrayMap extends SlotArrayMap<number> {
  private readonly readers = new Set<Reader>();
  lost = 0;

  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts);
  }
  protected resolve(value: Uint8Array): number {
    return readU32(value, 0);
  }
  override progLookup(): Uint8Array | null {
    return null;
  }

  /** bpf_perf_event_output. `index` from flags (BPF_F_INDEX_MASK) or the current CPU. */
  output(flags: bigint, cpu: number, src: Uint8Array, off: number, size: number): number {
    const idxField = Number(flags & 0xffffffffn);
    if (flags >> 32n !== 0n) return -Errno.EINVAL;
    const index = idxField === BPF_F_CURRENT_CPU ? cpu : idxField;
    if (index >= this.info.maxEntries) return -Errno.E2BIG;
    if (this.readers.size === 0 && this.target(index) === undefined) return -Errno.ENOENT;
    const data = new Uint8Array(((size + 4 + 7) & ~7) - 4);
    data.set(src.subarray(off, off + size));
    for (const r of this.readers) {
      if (r.queue.length >= READER_LIMIT) {
        this.lost++;
        continue;
      }
      r.queue.push({ cpu: index, data });
      const w = r.waiters;
      r.waiters = [];
      for (const f of w) f();
    }
    return 0;
  }

  override openReader(): BackendEventReader {
    const r: Reader = { queue: [], waiters: [], closed: false };
    this.readers.add(r);
    return {
      poll: (onRecord) => {
        let n = 0;
        while (r.queue.length > 0) {
          onRecord(r.queue.shift()!.data);
          n++;
        }
        return n;
      },
      readable: () =>
        new Promise<void>((resolve) => {
          if (r.closed || r.queue.length > 0) resolve();
          else r.waiters.push(resolve);
        }),
      close: () => {
        r.closed = true;
        this.readers.delete(r);
        for (const f of r.waiters) f();
        r.waiters = [];
      },
    };
  }
}
