/**
 * `bpfkit gen types OBJ [-o FILE.ts] [--import SPECIFIER] [--name NAME]`
 *
 * Writes TypeScript declarations for OBJ's maps (key/value types from BTF, matching what the
 * codecs return and accept) and programs, plus a typed loader `load<Name>()` (the name comes
 * from the object file: port_filter.bpf.o → loadPortFilter). Without -o the module goes to
 * stdout and loads the object from beside itself; with -o the object path is made relative to
 * FILE. `--import` sets the module the generated code imports bpfkit from (default 'bpfkit').
 * The output is deterministic.
 */
import { writeFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { ArgumentError, BpfError } from '../../errors.js';
import { generateTypes } from '../../gen/types.js';
import { openObject } from '../../object/object.js';
import type { CommandIo } from '../main.js';
import { parseOpts } from '../parse-opts.js';

const USAGE = `usage: bpfkit gen types OBJ [-o FILE.ts] [--import SPECIFIER] [--name NAME]

Generate TypeScript types for OBJ's maps and programs from its BTF, and a typed loader
(port_filter.bpf.o → loadPortFilter()). -o writes FILE.ts (the object path inside is relative
to it); otherwise the module is printed. --import: where the module imports bpfkit from
(default 'bpfkit'). --name: base name for the loader and interfaces.
`;

export async function run(args: string[], io: CommandIo): Promise<number> {
  const mapped = args.map((a) => (a === '-o' ? '--out' : a));
  const o = parseOpts('gen', mapped, { values: ['out', 'import', 'name'] });
  if (o.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [what, obj, ...extra] = o.positional;
  if (what !== 'types') throw new ArgumentError(`gen: expected 'types', got ${what === undefined ? 'nothing' : JSON.stringify(what)}\n${USAGE}`);
  if (obj === undefined || extra.length) throw new ArgumentError(`gen types: expected one object file\n${USAGE}`);
  const name = o.values.get('name');
  if (name !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ArgumentError(`gen types: --name must be an identifier, got ${JSON.stringify(name)}`);
  const spec = openObject(obj);
  const out = o.values.get('out');
  let objectPath: string | undefined;
  if (out !== undefined) {
    const rel = relative(dirname(resolve(out)), resolve(obj)).split(sep).join('/');
    objectPath = rel.startsWith('.') ? rel : `./${rel}`;
  }
  const text = generateTypes(spec, obj, {
    ...(o.values.has('import') ? { importFrom: o.values.get('import')! } : {}),
    ...(objectPath ? { objectPath } : {}),
    ...(name ? { name } : {}),
  });
  if (out === undefined) {
    io.stdout.write(text);
    return 0;
  }
  try {
    writeFileSync(out, text);
  } catch (e) {
    throw new BpfError('IO_ERROR', `gen types: cannot write ${out}: ${(e as Error).message}`, { cause: e });
  }
  io.stderr.write(`wrote ${out}\n`);
  return 0;
}
