/**
 * `bpfkit map list [--json]` — every BPF map in the kernel, like `bpftool map list`.
 * `bpfkit map dump PINNED_PATH [--json]` — every entry, sorted by key hex.
 * `bpfkit map lookup PINNED_PATH KEY_HEX [--json]`
 * `bpfkit map update PINNED_PATH KEY_HEX VALUE_HEX [--flags any|noexist|exist]`
 * `bpfkit map delete PINNED_PATH KEY_HEX`
 *
 * Keys and values are raw bytes in hex (spaces, `0x` and `:` separators accepted on input,
 * lowercase contiguous hex on output). A per-CPU map's value is every possible CPU's value
 * (each padded to 8 bytes) concatenated in CPU order, as bpf(2) exchanges it.
 * Text dump lines: `key: HEX  value: HEX`; JSON dump: [{ "key": HEX, "value": HEX }].
 * Exit codes: 0 ok, 1 failure (e.g. key not found), 2 usage error.
 */
import { ArgumentError, MapError } from '../../errors.js';
import type { CommandIo } from '../main.js';
import { parseHex, parseOpts, toHex } from '../parse-opts.js';

const USAGE = `usage: bpfkit map list [--json]
       bpfkit map dump PINNED_PATH [--json]
       bpfkit map lookup PINNED_PATH KEY_HEX [--json]
       bpfkit map update PINNED_PATH KEY_HEX VALUE_HEX [--flags any|noexist|exist]
       bpfkit map delete PINNED_PATH KEY_HEX

List kernel BPF maps, or read and change a map pinned in bpffs. Keys and values are hex bytes;
per-CPU values are all CPUs' values concatenated in CPU order.
`;

const FLAGS: Record<string, number> = { any: 0, noexist: 1, exist: 2 };

const NO_KEYS = new Set(['ringbuf', 'user_ringbuf', 'perf_event_array', 'queue', 'stack', 'bloom_filter']);

export async function run(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('map', args, { flags: ['json'], values: ['flags'] });
  if (o.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [sub, path, ...rest] = o.positional;
  const json = o.flags.has('json');
  if (sub === 'list' || sub === 'show') {
    if (path !== undefined) throw new ArgumentError(`map list: unexpected argument ${path}`);
    const { listMaps } = await import('../../kernel/listing.js');
    const maps = listMaps();
    if (json) {
      io.stdout.write(JSON.stringify(maps) + '\n');
      return 0;
    }
    for (const m of maps) {
      io.stdout.write(`${m.id}: ${m.type}  name ${m.name}  flags 0x${m.flags.toString(16)}\n`);
      let line = `\tkey ${m.keySize}B  value ${m.valueSize}B  max_entries ${m.maxEntries}`;
      if (m.memlock !== undefined) line += `  memlock ${m.memlock}B`;
      if (m.btfId) line += `  btf_id ${m.btfId}`;
      if (m.frozen) line += '  frozen';
      io.stdout.write(line + '\n');
    }
    return 0;
  }
  if (sub !== 'dump' && sub !== 'lookup' && sub !== 'update' && sub !== 'delete') {
    throw new ArgumentError(`map: unknown subcommand ${JSON.stringify(sub ?? '')}\n${USAGE}`);
  }
  if (path === undefined) throw new ArgumentError(`map ${sub}: missing PINNED_PATH\n${USAGE}`);
  const want = sub === 'dump' ? 0 : sub === 'update' ? 2 : 1;
  if (rest.length !== want) throw new ArgumentError(`map ${sub}: expected ${want === 0 ? 'no' : want} argument${want === 1 ? '' : 's'} after PINNED_PATH, got ${rest.length}`);
  if (o.values.has('flags') && sub !== 'update') throw new ArgumentError(`map ${sub}: --flags is only for update`);
  const { BpfMap } = await import('../../index.js');
  const pinned = await BpfMap.openPinned(path, { backend: 'kernel' });
  const map = pinned.handle;
  const valueBytes = pinned.perCpu ? pinned.backend.possibleCpus * ((map.info.valueSize + 7) & ~7) : map.info.valueSize;
  try {
    const cmd = `map ${sub}`;
    if (sub === 'dump') {
      if (NO_KEYS.has(map.info.type)) throw new ArgumentError(`${cmd} ${path}: a ${map.info.type} map has no keys to dump`);
      const entries: { key: string; value: string }[] = [];
      for (let k = map.nextKey(undefined); k !== undefined; k = map.nextKey(k)) {
        const v = map.lookup(k);
        if (v !== undefined) entries.push({ key: toHex(k), value: toHex(v) });
      }
      entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      if (json) io.stdout.write(JSON.stringify(entries) + '\n');
      else {
        for (const e of entries) io.stdout.write(`key: ${e.key}  value: ${e.value}\n`);
        io.stdout.write(`Found ${entries.length} element${entries.length === 1 ? '' : 's'}\n`);
      }
      return 0;
    }
    const key = parseHex(cmd, 'KEY_HEX', rest[0]!);
    if (key.length !== map.info.keySize) throw new ArgumentError(`${cmd} ${path}: key is ${key.length} bytes, the map's key size is ${map.info.keySize}`);
    if (sub === 'lookup') {
      const v = map.lookup(key);
      if (v === undefined) {
        io.stderr.write(`bpfkit ${cmd}: ${path}: key ${toHex(key)} not found\n`);
        return 1;
      }
      io.stdout.write(json ? JSON.stringify({ key: toHex(key), value: toHex(v) }) + '\n' : `key: ${toHex(key)}  value: ${toHex(v)}\n`);
      return 0;
    }
    if (sub === 'delete') {
      try {
        map.delete(key);
      } catch (e) {
        if (e instanceof MapError && e.code === 'KEY_NOT_FOUND') {
          io.stderr.write(`bpfkit ${cmd}: ${path}: key ${toHex(key)} not found\n`);
          return 1;
        }
        throw e;
      }
      return 0;
    }
    const value = parseHex(cmd, 'VALUE_HEX', rest[1]!);
    if (value.length !== valueBytes) {
      throw new ArgumentError(`${cmd} ${path}: value is ${value.length} bytes, expected ${valueBytes}${pinned.perCpu ? ' (per-CPU: all CPUs, each padded to 8 bytes)' : ''}`);
    }
    const fl = o.values.get('flags') ?? 'any';
    const flags = FLAGS[fl];
    if (flags === undefined) throw new ArgumentError(`${cmd}: --flags must be any, noexist or exist, got ${JSON.stringify(fl)}`);
    map.update(key, value, flags);
    return 0;
  } finally {
    pinned.close();
  }
}
