// A small in-memory Backend for testing lib/object without the kernel or the emulator. It keeps
// map contents in JS, follows the Backend conventions (errors, per-CPU layout, queue/stack,
// ring buffer records) and counts open handles so tests can assert that nothing leaks.
import type {
  AttachRequest, Backend, BackendEventReader, BackendLink, BackendMap, BackendProgram, BatchResult,
  LinkInfo, LoadProgramOptions, LoadSession, LoadSessionOptions, MapInfo, RunOptions, RunResult,
} from '../../lib/backend.js';
import { BpfError, MapError } from '../../lib/errors.js';
import type { MapSpec, ObjectSpec, ProgramSpec } from '../../lib/spec/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const PERCPU = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash']);
const ARRAYS = new Set(['array', 'percpu_array', 'prog_array', 'array_of_maps', 'perf_event_array', 'devmap', 'cpumap', 'xskmap']);

export interface FakeStats {
  open: Set<string>;
  log: string[];
}

let nextId = 1;

export class FakeMap implements BackendMap {
  readonly info: MapInfo;
  readonly fd: number;
  readonly entries = new Map<string, { key: Uint8Array; value: Uint8Array }>();
  readonly fifo: Uint8Array[] = [];
  readonly records: Uint8Array[] = [];
  frozen = false;
  closed = false;
  pins: string[] = [];
  readonly valueBytes: number;
  private readonly waiters: (() => void)[] = [];

  constructor(
    spec: Pick<MapSpec, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries' | 'flags'> & Partial<Pick<MapSpec, 'keyTypeId' | 'valueTypeId'>>,
    private readonly stats: FakeStats,
    readonly cpus: number,
  ) {
    this.info = {
      name: spec.name, type: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries,
      flags: spec.flags, id: nextId++, keyTypeId: spec.keyTypeId ?? 0, valueTypeId: spec.valueTypeId ?? 0,
    };
    this.fd = 1000 + this.info.id;
    this.valueBytes = PERCPU.has(spec.type) ? ((spec.valueSize + 7) & ~7) * cpus : spec.valueSize;
    if (ARRAYS.has(spec.type) && spec.type !== 'prog_array' && spec.type !== 'array_of_maps') {
      for (let i = 0; i < spec.maxEntries; i++) {
        const k = new Uint8Array(4);
        new DataView(k.buffer).setUint32(0, i, true);
        this.entries.set(hex(k), { key: k, value: new Uint8Array(this.valueBytes) });
      }
    }
    stats.open.add(`map:${this.info.id}`);
    stats.log.push(`create ${spec.name}`);
  }

  private check(): void {
    if (this.closed) throw new BpfError('EBADF', `fake map ${this.info.name} used after close`);
  }

  private checkKey(key: Uint8Array): void {
    if (key.length !== this.info.keySize) throw new Error(`fake: key of ${key.length} bytes for ${this.info.name}`);
  }

  lookup(key: Uint8Array | null): Uint8Array | undefined {
    this.check();
    if (key === null) {
      const q = this.fifo;
      return q.length ? (this.info.type === 'stack' ? q[q.length - 1] : q[0])!.slice() : undefined;
    }
    this.checkKey(key);
    return this.entries.get(hex(key))?.value.slice();
  }

  update(key: Uint8Array | null, value: Uint8Array, flags: number): void {
    this.check();
    if (this.frozen) throw new BpfError('EPERM', `fake: ${this.info.name} is frozen`);
    if (value.length !== this.valueBytes) throw new Error(`fake: value of ${value.length} bytes for ${this.info.name} (want ${this.valueBytes})`);
    if (key === null) {
      if (this.fifo.length >= this.info.maxEntries) {
        if (flags !== 2) throw new MapError(this.info.name, 'MAP_FULL', `update ${this.info.name}: full`);
        this.fifo.shift();
      }
      this.fifo.push(value.slice());
      return;
    }
    this.checkKey(key);
    const k = hex(key);
    const has = this.entries.has(k);
    if (flags === 1 && has) throw new MapError(this.info.name, 'KEY_EXISTS', `update ${this.info.name}: key exists`);
    if (flags === 2 && !has) throw new MapError(this.info.name, 'KEY_NOT_FOUND', `update ${this.info.name}: no such key`);
    if (ARRAYS.has(this.info.type) && new DataView(key.buffer, key.byteOffset).getUint32(0, true) >= this.info.maxEntries) {
      throw new MapError(this.info.name, 'INVALID_ARGUMENT', `update ${this.info.name}: index out of range`);
    }
    if (!has && this.entries.size >= this.info.maxEntries) throw new MapError(this.info.name, 'MAP_FULL', `update ${this.info.name}: full`);
    this.entries.set(k, { key: key.slice(), value: value.slice() });
    this.stats.log.push(`update ${this.info.name} ${k}=${hex(value)}`);
  }

  delete(key: Uint8Array): void {
    this.check();
    this.checkKey(key);
    if (!this.entries.delete(hex(key))) throw new MapError(this.info.name, 'KEY_NOT_FOUND', `delete ${this.info.name}: no such key`);
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    this.check();
    const keys = [...this.entries.values()].map((e) => e.key);
    if (key === undefined) return keys[0]?.slice();
    const i = keys.findIndex((k) => hex(k) === hex(key));
    return i < 0 ? keys[0]?.slice() : keys[i + 1]?.slice();
  }

  lookupAndDelete(key: Uint8Array | null): Uint8Array | undefined {
    this.check();
    if (key === null) return this.info.type === 'stack' ? this.fifo.pop() : this.fifo.shift();
    const v = this.lookup(key);
    if (v) this.entries.delete(hex(key));
    return v;
  }

  lookupBatch(cursor: Uint8Array | undefined, count: number, andDelete?: boolean): BatchResult {
    this.check();
    const all = [...this.entries.values()];
    const start = cursor ? new DataView(cursor.buffer, cursor.byteOffset).getUint32(0, true) : 0;
    const chunk = andDelete ? all.slice(0, count) : all.slice(start, start + count);
    const keys = new Uint8Array(chunk.length * this.info.keySize);
    const values = new Uint8Array(chunk.length * this.valueBytes);
    chunk.forEach((e, i) => {
      keys.set(e.key, i * this.info.keySize);
      values.set(e.value, i * this.valueBytes);
    });
    if (andDelete) for (const e of chunk) this.entries.delete(hex(e.key));
    const next = start + chunk.length;
    const done = andDelete ? this.entries.size === 0 : next >= all.length;
    const r: BatchResult = { keys, values, count: chunk.length };
    if (!done) {
      const c = new Uint8Array(4);
      new DataView(c.buffer).setUint32(0, andDelete ? 0 : next, true);
      r.cursor = c;
    }
    return r;
  }

  updateBatch(keys: Uint8Array, values: Uint8Array, count: number, flags: number): number {
    for (let i = 0; i < count; i++) {
      this.update(keys.subarray(i * this.info.keySize, (i + 1) * this.info.keySize), values.subarray(i * this.valueBytes, (i + 1) * this.valueBytes), flags);
    }
    return count;
  }

  deleteBatch(keys: Uint8Array, count: number): number {
    let n = 0;
    for (let i = 0; i < count; i++) {
      if (this.entries.delete(hex(keys.subarray(i * this.info.keySize, (i + 1) * this.info.keySize)))) n++;
    }
    return n;
  }

  freeze(): void {
    this.check();
    this.frozen = true;
    this.stats.log.push(`freeze ${this.info.name}`);
  }

  pin(path: string): void {
    this.check();
    this.pins.push(path);
    pinned.set(path, this);
  }

  mmap(): ArrayBuffer {
    return new ArrayBuffer(this.info.maxEntries * this.info.valueSize);
  }

  /** Test hook: a program "writes" a ring buffer record. */
  emit(rec: Uint8Array): void {
    this.records.push(rec.slice());
    for (const w of this.waiters.splice(0)) w();
  }

  openReader(): BackendEventReader {
    const id = `reader:${this.info.id}:${nextId++}`;
    this.stats.open.add(id);
    let closed = false;
    return {
      poll: (cb) => {
        let n = 0;
        while (this.records.length) {
          cb(this.records.shift()!);
          n++;
        }
        return n;
      },
      readable: () =>
        new Promise<void>((resolve) => {
          if (this.records.length || closed) resolve();
          else this.waiters.push(resolve);
        }),
      close: () => {
        closed = true;
        this.stats.open.delete(id);
        for (const w of this.waiters.splice(0)) w();
      },
    };
  }

  close(): void {
    if (this.closed) throw new Error(`fake: double close of map ${this.info.name}`);
    this.closed = true;
    this.stats.open.delete(`map:${this.info.id}`);
    this.stats.log.push(`close map ${this.info.name}`);
  }
}

const pinned = new Map<string, FakeMap | FakeLink | FakeProgram>();

export class FakeLink implements BackendLink {
  readonly info: LinkInfo;
  readonly fd: number;
  closed = false;
  detached = false;
  pinnedAt: string | undefined;

  constructor(readonly req: AttachRequest, public program: FakeProgram, private readonly stats: FakeStats) {
    this.info = { kind: req.kind, id: nextId++, target: JSON.stringify(req) };
    this.fd = 1000 + this.info.id;
    stats.open.add(`link:${this.info.id}`);
    stats.log.push(`attach ${program.name} ${req.kind}`);
  }

  update(program: BackendProgram): void {
    this.program = program as FakeProgram;
  }

  pin(path: string): void {
    this.pinnedAt = path;
    pinned.set(path, this);
  }

  detach(): void {
    this.detached = true;
    this.close();
  }

  close(): void {
    if (this.closed) throw new Error('fake: double close of link');
    this.closed = true;
    if (!this.pinnedAt) this.detached = true;
    this.stats.open.delete(`link:${this.info.id}`);
  }
}

export class FakeProgram implements BackendProgram {
  readonly name: string;
  readonly type: ProgramSpec['type'];
  readonly fd: number;
  readonly id: number;
  closed = false;
  runs: RunOptions[] = [];
  links: FakeLink[] = [];

  constructor(readonly spec: ProgramSpec, readonly maps: ReadonlyMap<string, BackendMap>, private readonly stats: FakeStats, readonly log?: string) {
    this.name = spec.name;
    this.type = spec.type;
    this.id = nextId++;
    this.fd = 1000 + this.id;
    stats.open.add(`prog:${this.id}`);
    stats.log.push(`load ${spec.name}`);
  }

  run(opts: RunOptions): RunResult {
    this.runs.push(opts);
    const data = opts.data ?? new Uint8Array(0);
    return { retval: data.length ? data[0]! : 0, data: data.slice(), durationNs: 1 };
  }

  attach(req: AttachRequest): BackendLink {
    const l = new FakeLink(req, this, this.stats);
    this.links.push(l);
    return l;
  }

  pin(path: string): void {
    pinned.set(path, this);
  }

  close(): void {
    if (this.closed) throw new Error(`fake: double close of program ${this.name}`);
    this.closed = true;
    this.stats.open.delete(`prog:${this.id}`);
  }
}

export class FakeBackend implements Backend {
  readonly kind = 'emulator' as const;
  readonly stats: FakeStats = { open: new Set(), log: [] };
  readonly maps: FakeMap[] = [];
  readonly programs: FakeProgram[] = [];
  /** Make loadProgram fail for this program name. */
  failProgram: string | undefined;
  sessions = 0;

  constructor(readonly reason = 'fake backend for tests', readonly possibleCpus = 2) {}

  openSession(spec: ObjectSpec, opts?: LoadSessionOptions): LoadSession {
    this.sessions++;
    this.stats.open.add(`session:${this.sessions}`);
    const id = this.sessions;
    this.stats.log.push(`session ${spec.source} pinRoot=${opts?.pinRoot ?? ''}`);
    return {
      createMap: (ms: MapSpec) => {
        const m = new FakeMap(ms, this.stats, this.possibleCpus);
        this.maps.push(m);
        return m;
      },
      loadProgram: (ps: ProgramSpec, o: LoadProgramOptions) => {
        if (ps.name === this.failProgram) throw new BpfError('VERIFIER_REJECTED', `load program ${ps.name}: rejected by the fake verifier`);
        const p = new FakeProgram(ps, o.maps, this.stats, o.logLevel ? `log level ${o.logLevel}` : undefined);
        this.programs.push(p);
        return p;
      },
      close: () => {
        this.stats.open.delete(`session:${id}`);
      },
    };
  }

  /** A standalone map (as if pinned elsewhere). */
  createMap(spec: Pick<MapSpec, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries' | 'flags'>): FakeMap {
    const m = new FakeMap(spec, this.stats, this.possibleCpus);
    this.maps.push(m);
    return m;
  }

  openPinnedMap(path: string): BackendMap {
    const m = pinned.get(path);
    if (!(m instanceof FakeMap)) throw new BpfError('ENOENT', `open pinned map ${path}: nothing pinned`);
    const copy = new FakeMap({ ...m.info }, this.stats, this.possibleCpus);
    for (const [k, v] of m.entries) copy.entries.set(k, v);
    return copy;
  }

  openPinnedProgram(path: string): BackendProgram {
    const p = pinned.get(path);
    if (!(p instanceof FakeProgram)) throw new BpfError('ENOENT', `open pinned program ${path}: nothing pinned`);
    return new FakeProgram(p.spec, p.maps, this.stats);
  }

  openPinnedLink(path: string): BackendLink {
    const l = pinned.get(path);
    if (!(l instanceof FakeLink)) throw new BpfError('ENOENT', `open pinned link ${path}: nothing pinned`);
    return new FakeLink(l.req, l.program, this.stats);
  }

  ifindex(ifname: string): number {
    if (ifname === 'lo') return 1;
    if (ifname === 'eth0') return 2;
    throw new BpfError('ENODEV', `no interface ${ifname}`);
  }
}
