/**
 * `bpfkit inspect OBJ [--json]`: license, programs (name, section, type, attach type, instruction
 * count, subprograms used, maps used) and maps (name, type, key/value size, max entries, flags,
 * pinning, initial data size) of a BPF object. Pure: parses the file, loads nothing.
 *
 * `--json` prints one object `{ file, license, kernelVersion, programs: [{ name, section, type,
 * attachType, attachTo, instructions, subprograms, maps }], maps: [{ name, type, keySize,
 * valueSize, maxEntries, flags, pinning, section, initialDataSize, innerMap?, contents? }] }`;
 * types are the kernel's enum names lowercased without prefix (`xdp`, `sched_cls`, `hash`, ...).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { BpfError } from '../../errors.js';
import { parseObject } from '../../elf/index.js';
import type { MapSpec, ObjectSpec, ProgramSpec } from '../../spec/index.js';
import type { CommandIo } from '../main.js';

const USAGE = `usage: bpfkit inspect OBJ [--json]

Show the license, programs and maps of a BPF object file (nothing is loaded).

options:
  --json       print one JSON object instead of a table
  -h, --help   show this help
`;

export interface InspectProgram {
  name: string;
  section: string;
  type: string;
  attachType: string | null;
  attachTo: string | null;
  /** Instruction slots of the linked program (entry function plus subprograms). */
  instructions: number;
  subprograms: string[];
  maps: string[];
}

export interface InspectMap {
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  pinning: string;
  section: string;
  initialDataSize: number;
  innerMap?: Omit<InspectMap, 'innerMap' | 'contents'>;
  contents?: { key: number; value: string }[];
}

export interface InspectReport {
  file: string;
  license: string;
  kernelVersion: number;
  programs: InspectProgram[];
  maps: InspectMap[];
}

function describeProgram(p: ProgramSpec): InspectProgram {
  const maps: string[] = [];
  for (const r of p.mapReferences) if (!maps.includes(r.map)) maps.push(r.map);
  return {
    name: p.name,
    section: p.section,
    type: p.type,
    attachType: p.attachType ?? null,
    attachTo: p.attachTo ?? null,
    instructions: p.instructions.length >> 3,
    subprograms: [...p.subprograms],
    maps,
  };
}

function describeMap(m: MapSpec): InspectMap {
  const out: InspectMap = {
    name: m.name,
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    pinning: m.pinning,
    section: m.section,
    initialDataSize: m.initialData?.length ?? 0,
  };
  if (m.innerMap) {
    const { innerMap: _i, contents: _c, ...inner } = describeMap(m.innerMap);
    out.innerMap = inner;
  }
  if (m.contents.length) out.contents = m.contents.map((c) => ({ key: c.key, value: c.value }));
  return out;
}

/** The report `inspect` prints, from a parsed spec. */
export function inspectSpec(spec: ObjectSpec, file: string = spec.source): InspectReport {
  return {
    file,
    license: spec.license,
    kernelVersion: spec.kernelVersion,
    programs: spec.programs.map(describeProgram),
    maps: spec.maps.map(describeMap),
  };
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function hexFlags(f: number): string {
  return `0x${f.toString(16)}`;
}

export function formatText(r: InspectReport): string {
  const out: string[] = [];
  out.push(`file:     ${r.file}`);
  out.push(`license:  ${r.license || '(none)'}`);
  if (r.kernelVersion) out.push(`version:  ${r.kernelVersion}`);
  out.push('');
  out.push(`programs (${r.programs.length}):`);
  if (r.programs.length) {
    const rows = [['NAME', 'SECTION', 'TYPE', 'ATTACH', 'INSNS', 'SUBPROGRAMS', 'MAPS']];
    for (const p of r.programs) {
      rows.push([p.name, p.section, p.type, p.attachType ?? '-', String(p.instructions), p.subprograms.join(',') || '-', p.maps.join(',') || '-']);
    }
    out.push(table(rows));
  }
  out.push('');
  out.push(`maps (${r.maps.length}):`);
  if (r.maps.length) {
    const rows = [['NAME', 'TYPE', 'KEY', 'VALUE', 'MAX', 'FLAGS', 'PINNING', 'INIT', 'SECTION']];
    for (const m of r.maps) {
      rows.push([m.name, m.type, String(m.keySize), String(m.valueSize), String(m.maxEntries), hexFlags(m.flags), m.pinning, String(m.initialDataSize), m.section]);
      if (m.innerMap) {
        const i = m.innerMap;
        rows.push([`  inner`, i.type, String(i.keySize), String(i.valueSize), String(i.maxEntries), hexFlags(i.flags), i.pinning, '-', '']);
      }
      for (const c of m.contents ?? []) rows.push([`  [${c.key}]`, `→ ${c.value}`, '', '', '', '', '', '', '']);
    }
    out.push(table(rows));
  }
  return out.join('\n') + '\n';
}

export async function run(args: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    io.stderr.write(`bpfkit inspect: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    io.stderr.write(`bpfkit inspect: ${parsed.positionals.length ? 'expected one object file' : 'missing OBJ'}\n${USAGE}`);
    return 2;
  }
  const path = parsed.positionals[0]!;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    io.stderr.write(`bpfkit inspect: read ${path}: ${why}\n`);
    return 1;
  }
  let spec: ObjectSpec;
  try {
    spec = parseObject(bytes, path);
  } catch (e) {
    if (e instanceof BpfError) {
      io.stderr.write(`bpfkit inspect: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const report = inspectSpec(spec, path);
  io.stdout.write(parsed.values.json ? JSON.stringify(report, null, 2) + '\n' : formatText(report));
  return 0;
}
