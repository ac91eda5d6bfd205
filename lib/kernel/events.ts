/**
 * Event readers for BPF_MAP_TYPE_RINGBUF and BPF_MAP_TYPE_PERF_EVENT_ARRAY maps.
 *
 * Ring buffer: the map fd is mmapped as the kernel lays it out — one read-write consumer page
 * (consumer_pos), then read-only the producer page (producer_pos) followed by the data pages
 * mapped twice back to back, so a record that wraps around the end is contiguous in memory.
 * Each record has an 8-byte header {u32 len (bit 31 BUSY, bit 30 DISCARD), u32 page offset}
 * and is padded to 8 bytes. A BUSY record (reserved, not yet committed) stops the scan; a
 * DISCARDed record is skipped; the consumer position is published (release store) after each
 * record so the kernel can reuse the space at once.
 *
 * Perf event array: one PERF_COUNT_SW_BPF_OUTPUT software event per online CPU (perf_event_open
 * with PERF_SAMPLE_RAW), each with its own mmapped ring (a metadata page + 2^n data pages), and
 * the event fd stored into the map at the CPU's index. PERF_RECORD_SAMPLE records deliver the raw
 * sample (the kernel pads raw samples so that size+4 is a multiple of 8: up to 7 trailing bytes
 * may follow what the program wrote); PERF_RECORD_LOST records add to `lost`. `poll()` drains
 * the CPUs in order, so records of different CPUs are not ordered by time.
 *
 * Waiting is event-loop driven: `readable()` watches the fds with libuv (uv_poll, epoll) and
 * resolves on readiness — no busy polling and no blocked thread. Records are delivered as
 * fresh Uint8Array copies, safe to keep after the callback; RingbufReader.pollRaw() instead
 * hands out zero-copy views of the ring that are valid only during the callback. Readers also
 * support `for await`. One open reader per map at a time.
 */
import type { BackendEventReader, MapInfo } from '../backend.js';
import { ArgumentError, BpfError } from '../errors.js';
import { Mmap, PollEvent, type BpfSys } from './binding.js';
import { Cmd, bpf, closeFd, newAttr, sys, syscallError } from './sysops.js';
import { readFileSync } from 'node:fs';

const enum Rb {
  BusyBit = 0x80000000,
  DiscardBit = 0x40000000,
  HdrSize = 8,
}

const enum PerfC {
  TypeSoftware = 1,
  CountSwBpfOutput = 10,
  SampleRaw = 1 << 10,
  AttrSize = 136,
  FlagFdCloexec = 8,
  IocEnable = 0x2400,
  IocDisable = 0x2401,
  RecordLost = 2,
  RecordSample = 9,
  DataHead = 1024,
}

/** What a reader needs to know about its map. */
export interface EventMap {
  readonly fd?: number;
  readonly info: Pick<MapInfo, 'name' | 'type' | 'maxEntries'>;
}

export interface EventReaderOptions {
  /** Perf buffers: data pages per CPU (a power of two; default 8). */
  perCpuPages?: number;
}

/**
 * Maps with an open reader. One reader per map at a time: two ring buffer consumers would steal
 * each other's records (and libuv cannot watch one fd twice), two perf readers would overwrite
 * each other's CPU entries.
 */
const busyMaps = new WeakSet<object>();

function claim(map: EventMap, what: string, name: string): void {
  if (busyMaps.has(map)) throw new BpfError('BUSY', `open ${what} reader on map ${name}: the map already has an open reader (close it first)`);
  busyMaps.add(map);
}

/** Shared waiting logic: poll a set of fds on the event loop until one is ready. */
abstract class Waiter {
  protected closed = false;
  private pollIds: number[] = [];
  private waiters: (() => void)[] = [];
  protected abstract readonly pollFds: readonly number[];
  /** True when a record may be consumable right now. */
  protected abstract hasData(): boolean;
  /** True when data is pending but blocked (a BUSY ring buffer record). */
  protected blocked(): boolean {
    return false;
  }

  readable(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.hasData()) {
      // A record still being written by a program on another CPU: check again on the next
      // event-loop turn rather than spinning on microtasks.
      if (this.blocked()) return new Promise((r) => setImmediate(r));
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      if (this.pollIds.length === 0) this.startPolling();
    });
  }

  private startPolling(): void {
    const s = sys();
    for (const fd of this.pollFds) {
      const id = s.pollStart(fd, PollEvent.Readable, () => this.wake());
      if (id < 0) {
        this.stopPolling();
        const waiters = this.waiters;
        this.waiters = [];
        // Wake the waiters: their next poll() returns what is there; the error surfaces there.
        for (const w of waiters) w();
        throw syscallError('wait for events', 'uv_poll_start', -id);
      }
      this.pollIds.push(id);
    }
  }

  private stopPolling(): void {
    const s = sys();
    for (const id of this.pollIds) s.pollStop(id);
    this.pollIds = [];
  }

  protected wake(): void {
    this.stopPolling();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Release polling and wake pending waiters (they see the reader closed). */
  protected shutdown(): void {
    this.closed = true;
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  abstract poll(onRecord: (record: Uint8Array) => void): number;

  /**
   * Async iteration over records as they arrive; ends when the reader is closed. Breaking out of
   * the loop does not close the reader.
   */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    const queue: Uint8Array[] = [];
    const push = (r: Uint8Array): void => {
      queue.push(r);
    };
    for (;;) {
      if (this.closed) return;
      this.poll(push);
      while (queue.length > 0) yield queue.shift()!;
      if (this.closed) return;
      await this.readable();
    }
  }
}

function mmapOrThrow(s: BpfSys, fd: number, len: number, prot: number, off: number, what: string): ArrayBuffer {
  const r = s.mmap(fd, len, prot, Mmap.Shared, off);
  if (typeof r === 'number') throw syscallError(`mmap ${what}`, 'mmap', -r);
  return r;
}

/** Consumer of a BPF ring buffer map. */
export class RingbufReader extends Waiter implements BackendEventReader {
  readonly name: string;
  private readonly map: EventMap;
  private readonly mapFd: number;
  private readonly size: number;
  private consumer: ArrayBuffer;
  private producer: ArrayBuffer;
  private data: Uint8Array;
  private words: Uint32Array;
  private readonly consPos: BigUint64Array;
  private readonly prodPos: BigUint64Array;
  private readonly publishEvery: number;
  private readonly dataOff: number;
  protected readonly pollFds: readonly number[];
  private lastBusy = false;

  constructor(map: EventMap) {
    super();
    const fd = map.fd;
    this.name = map.info.name;
    if (map.info.type !== 'ringbuf') throw new ArgumentError(`open ring buffer reader on map ${this.name}: map type is ${map.info.type}, not ringbuf`);
    if (typeof fd !== 'number' || fd < 0) throw new ArgumentError(`open ring buffer reader on map ${this.name}: map is not open in the kernel`);
    const size = map.info.maxEntries;
    if (size <= 0 || (size & (size - 1)) !== 0) throw new ArgumentError(`open ring buffer reader on map ${this.name}: size ${size} is not a power of two`);
    const s = sys();
    const page = s.pageSize();
    this.mapFd = fd;
    this.size = size;
    this.consumer = mmapOrThrow(s, fd, page, Mmap.ProtRead | Mmap.ProtWrite, 0, `ring buffer ${this.name} consumer page`);
    try {
      this.producer = mmapOrThrow(s, fd, page + 2 * size, Mmap.ProtRead, page, `ring buffer ${this.name} data`);
    } catch (e) {
      s.munmap(this.consumer);
      throw e;
    }
    try {
      claim(map, 'ring buffer', this.name);
    } catch (e) {
      s.munmap(this.producer);
      s.munmap(this.consumer);
      throw e;
    }
    this.map = map;
    this.dataOff = page;
    this.data = new Uint8Array(this.producer, page, 2 * size);
    this.words = new Uint32Array(this.producer, page, (2 * size) >>> 2);
    // Positions: Atomics on the mapped u64s (sequentially consistent, so acquire/release).
    this.consPos = new BigUint64Array(this.consumer, 0, 1);
    this.prodPos = new BigUint64Array(this.producer, 0, 1);
    this.publishEvery = Math.min(size >>> 2, 1 << 16);
    this.pollFds = [fd];
  }

  /** Bytes between the consumer and producer positions (committed or not). */
  pending(): number {
    if (this.closed) return 0;
    return Number(Atomics.load(this.prodPos, 0) - Atomics.load(this.consPos, 0));
  }

  protected hasData(): boolean {
    return this.pending() > 0;
  }

  protected override blocked(): boolean {
    return this.lastBusy;
  }

  poll(onRecord: (record: Uint8Array) => void): number {
    return this.drain(onRecord, undefined);
  }

  /**
   * Zero-copy variant of poll(): `onRecord(ring, offset, length)` gets the ring's data mapping
   * and where the record lies in it (contiguous even across the wrap: the data pages are mapped
   * twice). The bytes are valid only during the callback — the producer may reuse the space
   * right after — and must not be kept; copy what you need. No allocation per record.
   */
  pollRaw(onRecord: (ring: Uint8Array, offset: number, length: number) => void): number {
    return this.drain(undefined, onRecord);
  }

  private drain(copy: ((record: Uint8Array) => void) | undefined, raw: ((ring: Uint8Array, offset: number, length: number) => void) | undefined): number {
    if (this.closed) return 0;
    const consPos = this.consPos;
    const prodPos = this.prodPos;
    const data = this.data;
    const mask = this.size - 1;
    const words = this.words;
    let cons = Number(Atomics.load(consPos, 0));
    let prod = Number(Atomics.load(prodPos, 0));
    let published = cons;
    let n = 0;
    // Offset in the data area kept as a small integer (size is a power of two ≤ 2^31).
    let off = cons % this.size;
    this.lastBusy = false;
    try {
      while (cons < prod) {
        const hdr = Atomics.load(words, off >>> 2) >>> 0;
        if (hdr & Rb.BusyBit) {
          this.lastBusy = true;
          break;
        }
        const len = hdr & ~(Rb.BusyBit | Rb.DiscardBit);
        const total = (len + Rb.HdrSize + 7) & ~7;
        const recPos = cons;
        const start = off + Rb.HdrSize;
        cons += total;
        off = (off + total) & mask;
        if ((hdr & Rb.DiscardBit) === 0) {
          n++;
          if (copy !== undefined) {
            const rec = data.slice(start, start + len);
            // Hand space back to producers every `publishEvery` bytes (and at the end).
            if (cons - published >= this.publishEvery) {
              Atomics.store(consPos, 0, BigInt(cons));
              published = cons;
            }
            copy(rec);
          } else {
            // The record must stay intact during the callback: publish only up to its start.
            if (recPos - published >= this.publishEvery) {
              Atomics.store(consPos, 0, BigInt(recPos));
              published = recPos;
            }
            raw!(data, start, len);
          }
          if (this.closed) return n;
        }
        if (cons >= prod) prod = Number(Atomics.load(prodPos, 0));
      }
    } finally {
      // Also when onRecord throws: what was delivered is consumed.
      if (!this.closed && cons !== published) Atomics.store(consPos, 0, BigInt(cons));
    }
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.shutdown();
    const s = sys();
    s.munmap(this.producer);
    s.munmap(this.consumer);
    busyMaps.delete(this.map);
  }

  /** The map fd the reader consumes (owned by the map). */
  get fd(): number {
    return this.mapFd;
  }

  /** Offset of the data area within the producer mapping (the page size). */
  get dataOffset(): number {
    return this.dataOff;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

interface CpuRing {
  cpu: number;
  fd: number;
  buf: ArrayBuffer;
  bytes: Uint8Array;
  dv: DataView;
  /** data_head (0) and data_tail (1) of perf_event_mmap_page. */
  pos: BigUint64Array;
  dataOff: number;
  dataSize: number;
}

function onlineCpus(): number[] {
  let text = '';
  try {
    text = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  } catch {
    return [0];
  }
  const out: number[] = [];
  for (const part of text.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) continue;
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out.length ? out : [0];
}

/** Consumer of a BPF perf event array: one perf ring per online CPU. */
export class PerfReader extends Waiter implements BackendEventReader {
  readonly name: string;
  private readonly map: EventMap;
  /** Samples the kernel dropped because a CPU's ring was full (from PERF_RECORD_LOST). */
  lost = 0;
  private readonly mapFd: number;
  private rings: CpuRing[] = [];
  protected pollFds: readonly number[] = [];

  constructor(map: EventMap, opts: EventReaderOptions = {}) {
    super();
    const fd = map.fd;
    this.name = map.info.name;
    if (map.info.type !== 'perf_event_array') throw new ArgumentError(`open perf buffer reader on map ${this.name}: map type is ${map.info.type}, not perf_event_array`);
    if (typeof fd !== 'number' || fd < 0) throw new ArgumentError(`open perf buffer reader on map ${this.name}: map is not open in the kernel`);
    const pages = opts.perCpuPages ?? 8;
    if (!Number.isInteger(pages) || pages <= 0 || (pages & (pages - 1)) !== 0) {
      throw new ArgumentError(`open perf buffer reader on map ${this.name}: perCpuPages must be a power of two, got ${String(pages)}`);
    }
    this.mapFd = fd;
    this.map = map;
    claim(map, 'perf buffer', this.name);
    const s = sys();
    const page = s.pageSize();
    try {
      for (const cpu of onlineCpus()) {
        if (cpu >= map.info.maxEntries) continue;
        this.rings.push(this.openCpu(s, cpu, page, pages));
      }
    } catch (e) {
      this.release();
      throw e;
    }
    this.pollFds = this.rings.map((r) => r.fd);
  }

  private openCpu(s: BpfSys, cpu: number, page: number, pages: number): CpuRing {
    const attr = new Uint8Array(PerfC.AttrSize);
    const adv = new DataView(attr.buffer);
    adv.setUint32(0, PerfC.TypeSoftware, true);
    adv.setUint32(4, PerfC.AttrSize, true);
    adv.setBigUint64(8, BigInt(PerfC.CountSwBpfOutput), true);
    adv.setBigUint64(16, 1n, true); // sample_period
    adv.setBigUint64(24, BigInt(PerfC.SampleRaw), true);
    adv.setUint32(48, 1, true); // wakeup_events
    const pfd = s.perfEventOpen(attr, -1, cpu, -1, PerfC.FlagFdCloexec);
    if (pfd < 0) throw syscallError(`open perf buffer of map ${this.name} on cpu ${cpu}`, 'perf_event_open', -pfd);
    let buf: ArrayBuffer;
    try {
      buf = mmapOrThrow(s, pfd, (1 + pages) * page, Mmap.ProtRead | Mmap.ProtWrite, 0, `perf buffer of map ${this.name} on cpu ${cpu}`);
    } catch (e) {
      closeFd(pfd);
      throw e;
    }
    const dv = new DataView(buf);
    const ring: CpuRing = {
      cpu,
      fd: pfd,
      buf,
      bytes: new Uint8Array(buf),
      dv,
      pos: new BigUint64Array(buf, PerfC.DataHead, 2),
      dataOff: Number(dv.getBigUint64(1040, true)) || page,
      dataSize: Number(dv.getBigUint64(1048, true)) || pages * page,
    };
    // Until this CPU is fully set up, a failure releases it here; afterwards release() does.
    const fail = (e: unknown): never => {
      s.munmap(buf);
      closeFd(pfd);
      throw e;
    };
    // The map entry for this CPU points at our event.
    const key = new Uint32Array([cpu]);
    const value = new Uint32Array([pfd]);
    const { buf: a, dv: adv2 } = newAttr();
    adv2.setUint32(0, this.mapFd, true);
    adv2.setBigUint64(8, s.addressOf(key), true);
    adv2.setBigUint64(16, s.addressOf(value), true);
    const r = bpf(Cmd.MapUpdateElem, a);
    if (r < 0) fail(syscallError(`set perf buffer of map ${this.name} for cpu ${cpu}`, 'bpf(BPF_MAP_UPDATE_ELEM)', -r));
    const e = s.ioctl(pfd, PerfC.IocEnable, 0);
    if (e < 0) {
      const { buf: d, dv: ddv } = newAttr();
      ddv.setUint32(0, this.mapFd, true);
      ddv.setBigUint64(8, s.addressOf(key), true);
      bpf(Cmd.MapDeleteElem, d);
      fail(syscallError(`enable perf buffer of map ${this.name} on cpu ${cpu}`, 'ioctl(PERF_EVENT_IOC_ENABLE)', -e));
    }
    return ring;
  }

  protected hasData(): boolean {
    if (this.closed) return false;
    for (const r of this.rings) if (Atomics.load(r.pos, 0) !== r.pos[1]) return true;
    return false;
  }

  /** CPUs with a ring, in order. */
  get cpus(): number[] {
    return this.rings.map((r) => r.cpu);
  }

  poll(onRecord: (record: Uint8Array) => void): number {
    if (this.closed) return 0;
    let n = 0;
    for (const r of this.rings) {
      const pos = r.pos;
      const head = Number(Atomics.load(pos, 0));
      let tail = Number(pos[1]!);
      let published = tail;
      const size = r.dataSize;
      const publishEvery = size >>> 2;
      try {
        while (tail < head) {
          const off = tail % size;
          const base = r.dataOff + off;
          // Headers are 8-aligned and the ring size is a multiple of 8: a header never wraps.
          const type = r.dv.getUint32(base, true);
          const recSize = r.dv.getUint16(base + 6, true);
          if (recSize < 8) {
            throw new BpfError('PERF_BUFFER_CORRUPT', `read perf buffer of map ${this.name} on cpu ${r.cpu}: record of size ${recSize} at ${tail}`);
          }
          const rec = this.copyOut(r, off, recSize);
          tail += recSize;
          if (tail - published >= publishEvery) {
            Atomics.store(pos, 1, BigInt(tail));
            published = tail;
          }
          if (type === PerfC.RecordSample) {
            const rawSize = Math.min(new DataView(rec.buffer).getUint32(8, true), recSize - 12);
            n++;
            onRecord(rec.subarray(12, 12 + rawSize));
            if (this.closed) return n;
          } else if (type === PerfC.RecordLost && recSize >= 24) {
            this.lost += Number(new DataView(rec.buffer).getBigUint64(16, true));
          }
        }
      } finally {
        // Also when onRecord throws: what was delivered is consumed.
        if (!this.closed && tail !== published) Atomics.store(pos, 1, BigInt(tail));
      }
    }
    return n;
  }

  /** Copy `len` bytes of a CPU ring starting at data offset `off`, across the wrap. */
  private copyOut(r: CpuRing, off: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const first = Math.min(len, r.dataSize - off);
    out.set(r.bytes.subarray(r.dataOff + off, r.dataOff + off + first), 0);
    if (first < len) out.set(r.bytes.subarray(r.dataOff, r.dataOff + len - first), first);
    return out;
  }

  private release(): void {
    const s = sys();
    for (const r of this.rings) {
      s.ioctl(r.fd, PerfC.IocDisable, 0);
      const key = new Uint32Array([r.cpu]);
      const { buf, dv } = newAttr();
      dv.setUint32(0, this.mapFd, true);
      dv.setBigUint64(8, s.addressOf(key), true);
      bpf(Cmd.MapDeleteElem, buf);
      s.munmap(r.buf);
      closeFd(r.fd);
    }
    this.rings = [];
    busyMaps.delete(this.map);
  }

  close(): void {
    if (this.closed) return;
    this.shutdown();
    this.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A reader for a ringbuf or perf_event_array map. */
export function openEventReader(map: EventMap, opts: EventReaderOptions = {}): RingbufReader | PerfReader {
  if (map.info.type === 'ringbuf') return new RingbufReader(map);
  if (map.info.type === 'perf_event_array') return new PerfReader(map, opts);
  throw new ArgumentError(`open event reader on map ${map.info.name}: map type ${map.info.type} has no events (ringbuf or perf_event_array only)`);
}
