/**
 * `openObject` (pure parse) and `load` (create maps, load programs on a backend) → `BpfObject`.
 *
 * Load order, as libbpf does it: create every map (inner-map templates travel on the spec;
 * by-name pinning is the backend session's job), fill global data with its initial contents
 * (after `globals` overrides) and freeze `.rodata`, load every program, then fill prog_array and
 * map-in-map slots from the object's `values`. Any failure closes everything created so far.
 */
import { readFileSync } from 'node:fs';
import type { Backend, BackendMap, LoadSession } from '../backend.js';
import { parseObject } from '../elf/index.js';
import { ArgumentError, BpfError, ElfError } from '../errors.js';
import { MapFlag, type MapSpec, type ObjectSpec } from '../spec/index.js';
import { datasecVariable, describeValue, encode } from './codec.js';
import { Link } from './link.js';
import { BpfMap, type Owner } from './map.js';
import { Program } from './program.js';
import { resolveBackend, type BackendOption } from './registry.js';

/** Parse an object file (path or bytes) into an ObjectSpec. Pure; loads nothing. */
export function openObject(pathOrBytes: string | Uint8Array, source?: string): ObjectSpec {
  if (pathOrBytes instanceof Uint8Array) return parseObject(pathOrBytes, source ?? '<memory>');
  if (typeof pathOrBytes !== 'string' || !pathOrBytes) throw new ArgumentError('open object: expected a file path or a Uint8Array');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(pathOrBytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new ElfError(`open object: ${why}`, { file: pathOrBytes }, { cause: e });
  }
  return parseObject(bytes, source ?? pathOrBytes);
}

export interface LoadOptions {
  /** 'auto' (default; or BPFKIT_BACKEND), 'kernel', 'emulator', or a Backend instance. */
  backend?: BackendOption;
  /** Root directory for `pinning: by_name` maps (default `/sys/fs/bpf` on the kernel). */
  pinRoot?: string;
  /** Verifier log level: 0 = log only on failure (default); 1/2 = keep a verbose log. */
  logLevel?: number;
  /** Initial verifier log buffer size in bytes (grown automatically). */
  logSize?: number;
  /** Load only these programs (default: all). Maps are always all created. */
  programs?: readonly string[];
  /**
   * Values for global variables before load, by name (`const volatile` in `.rodata`, or
   * `.data`/`.bss`), encoded through BTF: `{ globals: { target_tgid: process.pid } }`.
   */
  globals?: Record<string, unknown>;
}

/** A loaded object: maps and programs by name. Closing it closes everything it owns. */
export class BpfObject implements Owner {
  /** Maps by name (global data under their section names: `.data`, `.rodata`, `.bss`). */
  readonly maps: Record<string, BpfMap<any, any>> = Object.create(null) as Record<string, BpfMap<any, any>>;
  /** Programs by function name. */
  readonly programs: Record<string, Program> = Object.create(null) as Record<string, Program>;
  private readonly links = new Set<Link>();
  private readonly owned = new Set<{ close(): void }>();
  private closed = false;

  /** @internal */
  constructor(
    readonly spec: ObjectSpec,
    readonly backend: Backend,
  ) {}

  get license(): string {
    return this.spec.license;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The map called `name`; ArgumentError listing the maps when there is none. */
  map<K = any, V = any>(name: string): BpfMap<K, V> {
    const m = typeof name === 'string' ? this.maps[name] : undefined;
    if (!m) throw new ArgumentError(`object ${this.spec.source}: no map named ${typeof name === 'string' ? `'${name}'` : describeValue(name)} (maps: ${Object.keys(this.maps).join(', ') || 'none'})`);
    return m as BpfMap<K, V>;
  }

  /** The program called `name`; ArgumentError listing the programs when there is none. */
  program(name: string): Program {
    const p = typeof name === 'string' ? this.programs[name] : undefined;
    if (!p) throw new ArgumentError(`object ${this.spec.source}: no program named ${typeof name === 'string' ? `'${name}'` : describeValue(name)} (programs: ${Object.keys(this.programs).join(', ') || 'none'})`);
    return p;
  }

  /** Links attached through this object's programs and not yet closed. */
  get activeLinks(): Link[] {
    return [...this.links];
  }

  /** @internal */
  adopt(link: Link): void {
    this.links.add(link);
  }

  /** @internal */
  track(child: { close(): void }): void {
    this.owned.add(child);
  }

  /** @internal */
  release(child: { close(): void }): void {
    this.links.delete(child as Link);
    this.owned.delete(child);
  }

  /**
   * Close links (pinned ones stay attached), programs and maps. Idempotent. Errors from
   * individual closes are collected; the first is rethrown after everything was attempted.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    let first: unknown;
    const attempt = (c: { close(): void }) => {
      try {
        c.close();
      } catch (e) {
        first ??= e;
      }
    };
    for (const l of [...this.links]) attempt(l);
    for (const p of Object.values(this.programs)) attempt(p);
    for (const m of Object.values(this.maps)) attempt(m);
    for (const o of [...this.owned]) attempt(o);
    this.links.clear();
    this.owned.clear();
    if (first !== undefined) throw first;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function toSpec(input: ObjectSpec | string | Uint8Array): ObjectSpec {
  if (typeof input === 'string' || input instanceof Uint8Array) return openObject(input);
  if (typeof input === 'object' && input !== null && Array.isArray((input as ObjectSpec).programs) && Array.isArray((input as ObjectSpec).maps)) return input;
  throw new ArgumentError('load: expected an ObjectSpec, a file path or the bytes of an object');
}

/** Apply `globals` overrides to copies of the global-data map specs. */
function applyGlobals(spec: ObjectSpec, globals: Record<string, unknown> | undefined): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  if (!globals) return out;
  if (typeof globals !== 'object') throw new ArgumentError('load: globals must be an object of variable name → value');
  for (const [name, value] of Object.entries(globals)) {
    let done = false;
    for (const m of spec.maps) {
      if (!m.globalData || !spec.btf || !m.valueTypeId) continue;
      const v = datasecVariable(spec.btf, m.valueTypeId, name);
      if (!v) continue;
      let data = out.get(m.name);
      if (!data) {
        data = new Uint8Array(m.valueSize);
        if (m.initialData) data.set(m.initialData.subarray(0, m.valueSize));
        out.set(m.name, data);
      }
      data.set(encode(v.codec, value, `load ${spec.source}: global ${name}`), v.off);
      done = true;
      break;
    }
    if (!done) {
      const vars = spec.maps.filter((m) => m.globalData).map((m) => m.name).join(', ');
      throw new ArgumentError(`load ${spec.source}: no global variable named '${name}' (global data sections: ${vars || 'none'}; needs BTF)`);
    }
  }
  return out;
}

function checkOptions(opts: LoadOptions): void {
  if (typeof opts !== 'object' || opts === null) throw new ArgumentError('load: options must be an object');
  if (opts.pinRoot !== undefined && (typeof opts.pinRoot !== 'string' || !opts.pinRoot)) throw new ArgumentError('load: pinRoot must be a non-empty string');
  if (opts.logLevel !== undefined && (!Number.isInteger(opts.logLevel) || opts.logLevel < 0 || opts.logLevel > 31)) throw new ArgumentError(`load: logLevel must be an integer 0..31, got ${describeValue(opts.logLevel)}`);
  if (opts.logSize !== undefined && (!Number.isInteger(opts.logSize) || opts.logSize < 0)) throw new ArgumentError(`load: logSize must be a non-negative integer, got ${describeValue(opts.logSize)}`);
  if (opts.programs !== undefined && !Array.isArray(opts.programs)) throw new ArgumentError('load: programs must be an array of program names');
}

/** Load an object (spec, path or bytes) on a backend. */
export async function load(input: ObjectSpec | string | Uint8Array, opts: LoadOptions = {}): Promise<BpfObject> {
  checkOptions(opts);
  const spec = toSpec(input);
  const backend = await resolveBackend(opts.backend);
  return loadOn(backend, spec, opts);
}

/** `load` for an already resolved backend (synchronous). */
export function loadOn(backend: Backend, spec: ObjectSpec, opts: LoadOptions = {}): BpfObject {
  checkOptions(opts);
  const wanted = opts.programs ? new Set(opts.programs) : undefined;
  if (wanted) {
    for (const n of wanted) {
      if (!spec.programs.some((p) => p.name === n)) {
        throw new ArgumentError(`load ${spec.source}: no program named ${typeof n === 'string' ? `'${n}'` : describeValue(n)} (programs: ${spec.programs.map((p) => p.name).join(', ') || 'none'})`);
      }
    }
  }
  const overrides = applyGlobals(spec, opts.globals);
  const obj = new BpfObject(spec, backend);
  let session: LoadSession | undefined;
  try {
    session = backend.openSession(spec, opts.pinRoot !== undefined ? { pinRoot: opts.pinRoot } : {});
    const handles = new Map<string, BackendMap>();
    for (const ms of spec.maps) {
      const data = overrides.get(ms.name);
      const effective: MapSpec = data ? { ...ms, initialData: data } : ms;
      const h = session.createMap(effective);
      handles.set(ms.name, h);
      const map = new BpfMap(h, backend, { btf: spec.btf, keyTypeId: ms.keyTypeId, valueTypeId: ms.valueTypeId, owner: obj, spec: ms });
      obj.maps[ms.name] = map;
      fillGlobalData(h, effective);
    }
    for (const ps of spec.programs) {
      if (wanted && !wanted.has(ps.name)) continue;
      const lo: { maps: ReadonlyMap<string, BackendMap>; logLevel?: number; logSize?: number } = { maps: handles };
      if (opts.logLevel !== undefined) lo.logLevel = opts.logLevel;
      if (opts.logSize !== undefined) lo.logSize = opts.logSize;
      const h = session.loadProgram(ps, lo);
      obj.programs[ps.name] = new Program(h, backend, ps, obj);
    }
    for (const ms of spec.maps) fillContents(obj, ms, handles.get(ms.name)!);
  } catch (e) {
    try {
      obj.close();
    } catch {
      // the load error is the one to report
    }
    throw e;
  } finally {
    session?.close();
  }
  return obj;
}

function fillGlobalData(h: BackendMap, ms: MapSpec): void {
  if (!ms.globalData) return;
  if (ms.initialData && ms.initialData.length && !(ms.flags & MapFlag.Rdonly)) {
    const value = new Uint8Array(ms.valueSize);
    value.set(ms.initialData.subarray(0, ms.valueSize));
    h.update(new Uint8Array(ms.keySize), value, 0);
  }
  if (ms.freeze) h.freeze();
}

function fillContents(obj: BpfObject, ms: MapSpec, h: BackendMap): void {
  if (!ms.contents.length) return;
  const isProgArray = ms.type === 'prog_array';
  for (const c of ms.contents) {
    let slot: number;
    if (isProgArray) {
      const p = obj.programs[c.value];
      if (!p) {
        if (obj.spec.programs.some((x) => x.name === c.value)) continue; // not loaded (programs option)
        throw new BpfError('INVALID_OBJECT', `load ${obj.spec.source}: map ${ms.name} slot ${c.key} names program '${c.value}', which the object does not have`);
      }
      slot = BpfMap.slotValue(p.handle);
    } else {
      const m = obj.maps[c.value];
      if (!m) throw new BpfError('INVALID_OBJECT', `load ${obj.spec.source}: map ${ms.name} slot ${c.key} names map '${c.value}', which the object does not have`);
      slot = BpfMap.slotValue(m.handle);
    }
    const key = new Uint8Array(ms.keySize);
    new DataView(key.buffer).setUint32(0, c.key, true);
    const value = new Uint8Array(ms.valueSize);
    new DataView(value.buffer).setUint32(0, slot >>> 0, true);
    h.update(key, value, 0);
  }
}
