/**
 * `bpfkit run OBJ --program NAME [--backend auto|kernel|emulator] [--data HEX | --data-file F]
 *   [--ctx HEX] [--repeat N] [--map-init FILE.json] [--dump-maps] [--json]`
 *
 * Loads OBJ on the chosen backend through the public object API (`load`, `BpfMap`,
 * `Program.run`), fills maps from `--map-init`, runs the program once (BPF_PROG_TEST_RUN on the
 * kernel; the emulator's engine otherwise) and prints
 *
 *   { "retval": N, "data": HEX, "durationNs": N, "maps": { NAME: [{ "key": HEX, "value": HEX }] } }
 *
 * - `data` is exactly the data_out of the run (hex, lowercase).
 * - `maps` appears with `--dump-maps`: every map of the object by name — global data under its
 *   section name (`.data`, `.rodata`, `.bss`) — with its entries sorted by key hex. A per-CPU
 *   map's value is all possible CPUs' values concatenated in CPU order (each padded to 8 bytes,
 *   as bpf(2) exchanges them). A ring buffer lists its unconsumed records in order, keyed by
 *   their index as a 4-byte little-endian number; queue/stack maps likewise list their values in
 *   pop order (the dump consumes them). perf_event_array and other fd-holding maps whose slots
 *   user space cannot read list only the readable entries.
 * - `--map-init FILE.json` takes the same shape as `maps` and updates those entries before the run.
 * Without `--json` the same information is printed as text. Exit codes: 0 ok, 1 failure, 2 usage.
 */
import { readFileSync } from 'node:fs';
import type { BackendMap } from '../../backend.js';
import type { BackendOption } from '../../object/registry.js';
import { ArgumentError, BpfError } from '../../errors.js';
import type { CommandIo } from '../main.js';
import { parseCount, parseHex, parseOpts, toHex } from '../parse-opts.js';

const USAGE = `usage: bpfkit run OBJ --program NAME [--backend auto|kernel|emulator]
                  [--data HEX | --data-file FILE] [--ctx HEX] [--repeat N]
                  [--map-init FILE.json] [--dump-maps] [--json]
                  [--engine jit|interpreter] [--dump-js]   (emulator)

Load OBJ, fill maps from --map-init, run program NAME once with the given input and print
{ retval, data (hex), durationNs, maps }. --dump-maps adds every map's entries sorted by key
(per-CPU values: all CPUs concatenated in CPU order; ring buffers: unconsumed records keyed by
their 4-byte little-endian index). --map-init takes the same { MAP: [{ key, value }] } shape.
`;

export interface MapEntryHex {
  key: string;
  value: string;
}

export interface RunOutput {
  retval: number;
  data: string;
  durationNs: number;
  maps?: Record<string, MapEntryHex[]>;
}

/** Map types whose contents are records/values without keys: listed by index. */
const RECORD_TYPES = new Set(['ringbuf', 'queue', 'stack']);
const NO_DUMP_TYPES = new Set(['perf_event_array', 'user_ringbuf', 'bloom_filter']);

function indexKey(i: number): string {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, i, true);
  return toHex(b);
}

/** The entries of one backend map as hex, sorted by key. */
export function dumpMap(handle: BackendMap): MapEntryHex[] {
  const type = handle.info.type;
  const out: MapEntryHex[] = [];
  if (NO_DUMP_TYPES.has(type)) return out;
  if (type === 'ringbuf') {
    const reader = handle.openReader();
    try {
      reader.poll((r) => out.push({ key: indexKey(out.length), value: toHex(r) }));
    } finally {
      reader.close();
    }
    return out;
  }
  if (RECORD_TYPES.has(type)) {
    for (let v = handle.lookupAndDelete(null); v !== undefined; v = handle.lookupAndDelete(null)) {
      out.push({ key: indexKey(out.length), value: toHex(v) });
      if (out.length > handle.info.maxEntries) break;
    }
    return out;
  }
  let prev: Uint8Array | undefined;
  for (let n = 0; ; n++) {
    const next = handle.nextKey(prev);
    if (next === undefined) break;
    prev = next.slice();
    let v: Uint8Array | undefined;
    try {
      v = handle.lookup(prev);
    } catch (e) {
      // fd-holding maps refuse user-space lookups of some slots
      if (e instanceof BpfError && (e.code === 'NOT_SUPPORTED' || e.code === 'EOPNOTSUPP' || e.code === 'ENOTSUPP' || e.code === 'ENOENT' || e.code === 'KEY_NOT_FOUND' || e.code === 'INVALID_ARGUMENT')) v = undefined;
      else throw e;
    }
    if (v !== undefined) out.push({ key: toHex(prev), value: toHex(v) });
    if (n > handle.info.maxEntries) break;
  }
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}

function readMapInit(path: string): Record<string, MapEntryHex[]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ArgumentError(`run: cannot read --map-init ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ArgumentError(`run: --map-init ${path} is not JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ArgumentError(`run: --map-init ${path} must be an object { MAP: [{ "key": HEX, "value": HEX }] }`);
  }
  const out: Record<string, MapEntryHex[]> = {};
  for (const [name, entries] of Object.entries(parsed as Record<string, unknown>)) {
    if (!Array.isArray(entries)) throw new ArgumentError(`run: --map-init ${path}: ${name} must be an array of { key, value }`);
    out[name] = entries.map((e, i) => {
      const ent = e as Partial<MapEntryHex> | null;
      if (!ent || typeof ent.key !== 'string' || typeof ent.value !== 'string') {
        throw new ArgumentError(`run: --map-init ${path}: ${name}[${i}] must be { "key": HEX, "value": HEX }`);
      }
      return { key: ent.key, value: ent.value };
    });
  }
  return out;
}

export async function run(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('run', args, {
    values: ['program', 'backend', 'data', 'data-file', 'ctx', 'repeat', 'map-init', 'engine'],
    flags: ['dump-maps', 'json', 'dump-js'],
  });
  if (o.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (o.positional.length !== 1) throw new ArgumentError(`run: expected one object file, got ${o.positional.length}\n${USAGE}`);
  const objPath = o.positional[0]!;
  const progName = o.values.get('program');
  if (!progName) throw new ArgumentError(`run: --program NAME is required\n${USAGE}`);
  const backendOpt = o.values.get('backend') ?? 'auto';
  if (backendOpt !== 'auto' && backendOpt !== 'kernel' && backendOpt !== 'emulator') {
    throw new ArgumentError(`run: --backend must be auto, kernel or emulator, got ${JSON.stringify(backendOpt)}`);
  }
  if (o.values.has('data') && o.values.has('data-file')) throw new ArgumentError('run: give --data or --data-file, not both');
  let data: Uint8Array | undefined;
  if (o.values.has('data')) data = parseHex('run', '--data', o.values.get('data')!);
  if (o.values.has('data-file')) {
    const f = o.values.get('data-file')!;
    try {
      data = new Uint8Array(readFileSync(f));
    } catch (e) {
      throw new ArgumentError(`run: cannot read --data-file ${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
  }
  const ctx = o.values.has('ctx') ? parseHex('run', '--ctx', o.values.get('ctx')!) : undefined;
  const repeat = o.values.has('repeat') ? parseCount('run', 'repeat', o.values.get('repeat')!, 1) : undefined;
  const init = o.values.has('map-init') ? readMapInit(o.values.get('map-init')!) : undefined;
  const json = o.flags.has('json');
  // Emulator options (--engine jit|interpreter, --dump-js): they select the emulator backend.
  const engine = o.values.get('engine');
  const dumpJs = o.flags.has('dump-js');
  if (engine !== undefined && engine !== 'jit' && engine !== 'interpreter') {
    throw new ArgumentError(`run: --engine must be jit or interpreter, got ${JSON.stringify(engine)}`);
  }
  if ((engine !== undefined || dumpJs) && backendOpt === 'kernel') {
    throw new ArgumentError('run: --engine and --dump-js apply to the emulator (use --backend emulator)');
  }

  const { load } = await import('../../index.js');
  let backendSel: BackendOption = backendOpt;
  if (engine !== undefined || dumpJs) {
    const { createEmulatorBackend } = await import('../../../native-sim/index.js');
    backendSel = createEmulatorBackend({ reason: 'bpfkit run --engine/--dump-js', engine: (engine ?? 'jit') as 'jit' | 'interpreter' });
  }
  const obj = await load(objPath, { backend: backendSel });
  try {
    const prog = obj.program(progName);
    if (init) {
      for (const [name, entries] of Object.entries(init)) {
        const handle = obj.map(name).handle;
        if (RECORD_TYPES.has(handle.info.type) || NO_DUMP_TYPES.has(handle.info.type)) {
          throw new ArgumentError(`run: --map-init: map ${name} is a ${handle.info.type} map; it cannot be filled by key`);
        }
        for (const e of entries) {
          const key = parseHex('run', `--map-init ${name} key`, e.key);
          const value = parseHex('run', `--map-init ${name} value`, e.value);
          if (key.length !== handle.info.keySize) throw new ArgumentError(`run: --map-init ${name}: key ${e.key} is ${key.length} bytes, the map's key size is ${handle.info.keySize}`);
          handle.update(key, value, 0);
        }
      }
    }
    const runOpts: { data?: Uint8Array; ctx?: Uint8Array; repeat?: number } = {};
    if (data !== undefined) runOpts.data = data;
    if (ctx !== undefined) runOpts.ctx = ctx;
    if (repeat !== undefined) runOpts.repeat = repeat;
    const res = prog.run(runOpts);
    const out: RunOutput = { retval: res.retval, data: toHex(res.data), durationNs: res.durationNs };
    if (o.flags.has('dump-maps')) {
      const maps: Record<string, MapEntryHex[]> = {};
      for (const name of Object.keys(obj.maps).sort()) maps[name] = dumpMap(obj.maps[name]!.handle);
      out.maps = maps;
    }
    let js: string | undefined;
    if (dumpJs) {
      const h = prog.handle as { jsSource?: () => string };
      js = typeof h.jsSource === 'function' ? h.jsSource() : undefined;
    }
    if (json) io.stdout.write(JSON.stringify(js !== undefined ? { ...out, js } : out) + '\n');
    else {
      if (js !== undefined) io.stdout.write(`// generated JavaScript for ${progName}\n${js}\n`);
      io.stdout.write(`retval: ${out.retval}\nduration: ${out.durationNs} ns\ndata: ${out.data}\n`);
      if (out.maps) {
        for (const [name, entries] of Object.entries(out.maps)) {
          io.stdout.write(`map ${name}: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}\n`);
          for (const e of entries) io.stdout.write(`  key: ${e.key}  value: ${e.value}\n`);
        }
      }
    }
    return 0;
  } finally {
    obj.close();
  }
}
