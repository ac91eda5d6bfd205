/**
 * BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c). max_entries is the data size in bytes: a power of
 * two and a multiple of the page size (4096), else EINVAL at creation. Each record takes an
 * 8-byte header (u32 length with BUSY/DISCARD bits, u32 page offset) plus the data, rounded up to
 * 8 bytes. A reservation fails (NULL) when the producer would get `size` or more bytes ahead of
 * the consumer, or ahead of the oldest record not yet committed — as the kernel does, so at most
 * size - 8 bytes of records fit. The consumer sees records in reservation order and stops at the
 * first one still reserved (BUSY); discarded records are skipped.
 */
import type { BackendEventReader } from '../../lib/backend.js';
import type { MapSpec } from '../../lib/spec/index.js';
import { Errno, SimMap, type SimMapOptions } from './base.js';

export const RINGBUF_HDR_SZ = 8;
const enum RecState {
  Busy = 0,
  Committed = 1,
  Discarded = 2,
}

interface RbRecord {
  pos: number;
  len: number;
  /** Header + data storage; `data` is the program-visible view after the header. */
  buf: Uint8Array;
  data: Uint8Array;
  state: RecState;
}

/** BPF_RB_* flags. */
export const enum RbFlag {
  NoWakeup = 1,
  ForceWakeup = 2,
}

export class RingBufMap extends SimMap {
  readonly size: number;
  private producerPos = 0;
  private consumerPos = 0;
  private readonly records: RbRecord[] = [];
  private readonly byView = new Map<Uint8Array, RbRecord>();
  private waiters: (() => void)[] = [];

  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts);
    this.size = spec.maxEntries;
  }

  /** Creation check (kernel ringbuf_map_alloc). */
  static validate(spec: MapSpec): string | undefined {
    const n = spec.maxEntries;
    if (spec.keySize !== 0 || spec.valueSize !== 0) return 'ringbuf maps need key_size 0 and value_size 0';
    if (n < 4096 || (n & (n - 1)) !== 0 || n % 4096 !== 0) return `max_entries ${n} must be a power of 2 and a multiple of the page size (4096)`;
    return undefined;
  }

  // ---- program side -----------------------------------------------------------------------------

  /** bpf_ringbuf_reserve: a live view of `size` bytes, or null. */
  reserve(size: number, flags: number): Uint8Array | null {
    if (flags !== 0) return null;
    if (size < 0 || size > 0x0fffffff) return null;
    const len = (size + RINGBUF_HDR_SZ + 7) & ~7;
    if (len > this.size) return null;
    const newProd = this.producerPos + len;
    const pending = this.records.length > 0 ? this.oldestPending() : this.producerPos;
    if (newProd - this.consumerPos > this.size - 1 || newProd - pending > this.size - 1) return null;
    const buf = new Uint8Array(len);
    const data = buf.subarray(RINGBUF_HDR_SZ, RINGBUF_HDR_SZ + size);
    const dv = new DataView(buf.buffer);
    dv.setUint32(0, (size | 0x80000000) >>> 0, true);
    dv.setUint32(4, 0, true);
    const rec: RbRecord = { pos: this.producerPos, len, buf, data, state: RecState.Busy };
    this.records.push(rec);
    this.byView.set(data, rec);
    this.producerPos = newProd;
    return data;
  }

  private oldestPending(): number {
    for (const r of this.records) if (r.state === RecState.Busy) return r.pos;
    return this.producerPos;
  }

  /** Whether `view` is a live reservation of this ring buffer. */
  owns(view: Uint8Array): boolean {
    return this.byView.has(view);
  }

  /** bpf_ringbuf_submit / bpf_ringbuf_discard. Returns false for a pointer that is no reservation. */
  commit(view: Uint8Array, discard: boolean, flags: number): boolean {
    const rec = this.byView.get(view);
    if (!rec || rec.state !== RecState.Busy) return false;
    this.byView.delete(view);
    rec.state = discard ? RecState.Discarded : RecState.Committed;
    new DataView(rec.buf.buffer).setUint32(0, (rec.data.length | (discard ? 0x40000000 : 0)) >>> 0, true);
    if (!(flags & RbFlag.NoWakeup)) this.wake();
    return true;
  }

  /** bpf_ringbuf_output: 0 or -EAGAIN when there is no room. */
  output(src: Uint8Array, off: number, size: number, flags: number): number {
    if (flags & ~3) return -Errno.EINVAL;
    const v = this.reserve(size, 0);
    if (!v) return -Errno.EAGAIN;
    v.set(src.subarray(off, off + size));
    this.commit(v, false, flags);
    return 0;
  }

  /** bpf_ringbuf_query. */
  query(flags: number): bigint {
    switch (flags) {
      case 0:
        return BigInt(this.producerPos - this.consumerPos);
      case 1:
        return BigInt(this.size);
      case 2:
        return BigInt(this.consumerPos);
      case 3:
        return BigInt(this.producerPos);
      default:
        return 0n;
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Consume committed records in order; stops at the first busy one. */
  consume(onRecord: (r: Uint8Array) => void): number {
    let n = 0;
    while (this.records.length > 0) {
      const r = this.records[0]!;
      if (r.state === RecState.Busy) break;
      this.records.shift();
      this.consumerPos = r.pos + r.len;
      if (r.state === RecState.Committed) {
        n++;
        onRecord(r.data.slice());
      }
    }
    return n;
  }

  // ---- user space ---------------------------------------------------------------------------

  progLookup(): Uint8Array | null {
    return null;
  }
  progUpdate(): number {
    return -Errno.EINVAL;
  }
  progDelete(): number {
    return -Errno.EINVAL;
  }
  lookup(): Uint8Array | undefined {
    this.fail('lookup', Errno.EINVAL, 'read ring buffers with openReader()');
  }
  update(): void {
    this.fail('update', Errno.EINVAL, 'ring buffers are written by programs');
  }
  delete(_key?: Uint8Array): void {
    this.fail('delete', Errno.EINVAL);
  }
  nextKey(): Uint8Array | undefined {
    this.fail('next key', Errno.EINVAL, 'ring buffers cannot be iterated');
  }
  override lookupBatch(): never {
    this.fail('lookup batch', Errno.EINVAL);
  }

  override openReader(): BackendEventReader {
    let closed = false;
    return {
      poll: (onRecord) => (closed ? 0 : this.consume(onRecord)),
      readable: () =>
        new Promise<void>((resolve) => {
          if (closed || (this.records.length > 0 && this.records[0]!.state !== RecState.Busy)) resolve();
          else this.waiters.push(resolve);
        }),
      close: () => {
        closed = true;
        this.wake();
      },
    };
  }
}
