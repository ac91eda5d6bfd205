/**
 * `bpfkit gen types`: TypeScript declarations for an object's maps and programs, from its BTF,
 * plus a typed loader (`loadPortFilter()` for `port_filter.bpf.o`).
 *
 * The types describe exactly what the BTF codecs (lib/object/codec.ts) return and accept:
 *
 *   BTF                          read (lookup/iterate)        write (update/push)
 *   int ≤ 32 bits, float         number                       number
 *   int 64 bits+, pointer        bigint                       bigint | number
 *   _Bool                        boolean                      boolean | number
 *   enum (enum64)                number (bigint)              number | enumerator name | short alias
 *   char[N], u8[N]               Uint8Array                   Uint8Array | string
 *   T[N]                         T[]                          readonly T[] (≤ N elements)
 *   struct / union               interface with the fields    the same with optional fields
 *   DATASEC (.data/.rodata/.bss) { variable: type }           partial object
 *   per-CPU value                V[] (one per possible CPU)   readonly V[]
 *   no BTF / unsupported         Uint8Array                   Uint8Array (+ number | bigint for 1/2/4/8 bytes)
 *
 * Output is deterministic: declarations appear in the order maps reference them, names come from
 * BTF (PascalCase), nothing depends on time, paths outside the object or the environment.
 */
import { basename } from 'node:path';
import { BtfKind, type Btf, type BtfType } from '../btf/index.js';
import { enumAliases } from '../object/codec.js';
import type { MapSpec, ObjectSpec } from '../spec/index.js';

export interface GenOptions {
  /** Module specifier the generated file imports bpfkit from (default 'bpfkit'). */
  importFrom?: string;
  /** Path of the object relative to the generated file (default: the object's file name). */
  objectPath?: string;
  /** Base name for the loader and interfaces (default: from the object file name). */
  name?: string;
}

const PERCPU = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);
const RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum', 'export', 'extends',
  'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this',
  'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'Uint8Array', 'Promise', 'Program', 'BpfObject', 'LoadOptions',
  'TypedMap', 'Record', 'fileURLToPath', 'load', 'Object', 'Array', 'Number', 'String', 'Symbol', 'Map', 'Set',
]);

/** `port_filter` → `PortFilter`; empty or leading-digit names get a prefix. */
export function pascal(name: string): string {
  const parts = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  let s = parts.map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
  if (!s || /^[0-9]/.test(s)) s = `T${s}`;
  return s;
}

/** The object's base name: `examples/port-filter/port_filter.bpf.o` → `port_filter`. */
export function objectBaseName(path: string): string {
  return basename(path).replace(/\.o$/, '').replace(/\.bpf$/, '');
}

function propKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

interface TypePair {
  /** What reads return. */
  out: string;
  /** What writes accept. */
  in: string;
}

const BYTES: TypePair = { out: 'Uint8Array', in: 'Uint8Array' };

class Generator {
  private readonly decls: string[] = [];
  private readonly named = new Map<number, { out: string; in: string }>();
  private readonly used = new Set<string>();
  private readonly building = new Set<number>();

  constructor(private readonly btf: Btf) {}

  /** A fresh identifier based on `base`. */
  private ident(base: string): string {
    let n = base;
    for (let i = 2; this.used.has(n) || RESERVED.has(n); i++) n = `${base}${i}`;
    this.used.add(n);
    return n;
  }

  reserve(name: string): void {
    this.used.add(name);
  }

  declarations(): string {
    return this.decls.join('\n');
  }

  private t(id: number): BtfType | undefined {
    return this.btf.types[id];
  }

  /** Type pair for BTF type `id`, or undefined when the codec would fall back to bytes. */
  pair(id: number): TypePair | undefined {
    const t = this.t(id);
    if (!t) return undefined;
    switch (t.kind) {
      case BtfKind.Int:
        if (t.encoding.bool && t.size === 1) return { out: 'boolean', in: 'boolean | number' };
        if (t.bitOffset !== 0 || t.bits !== t.size * 8) return t.encoding.bool ? undefined : { out: 'Uint8Array', in: 'Uint8Array' };
        if (t.size <= 4) return { out: 'number', in: 'number' };
        return { out: 'bigint', in: 'bigint | number' };
      case BtfKind.Ptr:
        return { out: 'bigint', in: 'bigint | number' };
      case BtfKind.Float:
        return t.size === 4 || t.size === 8 ? { out: 'number', in: 'number' } : BYTES;
      case BtfKind.Enum: case BtfKind.Enum64:
        return this.enumPair(t);
      case BtfKind.Typedef: case BtfKind.Const: case BtfKind.Volatile: case BtfKind.Restrict: case BtfKind.TypeTag: case BtfKind.Var:
        return this.pair(t.type);
      case BtfKind.Array: {
        const r = this.btf.resolve(t.elemType);
        const elem = this.pair(t.elemType);
        if (!elem) return undefined;
        if (r?.kind === BtfKind.Int && r.size === 1 && !r.encoding.bool) return { out: 'Uint8Array', in: 'Uint8Array | string' };
        return { out: `${wrap(elem.out)}[]`, in: `readonly ${wrap(elem.in)}[] | Uint8Array` };
      }
      case BtfKind.Struct: case BtfKind.Union:
        return this.structPair(t);
      case BtfKind.Datasec:
        return this.datasecPair(t);
      default:
        return undefined;
    }
  }

  private enumPair(t: Extract<BtfType, { kind: BtfKind.Enum | BtfKind.Enum64 }>): TypePair {
    const num = t.kind === BtfKind.Enum64 || t.size > 4 ? 'bigint' : 'number';
    const hit = this.named.get(t.id);
    if (hit) return hit;
    const names = t.values.map((v) => v.name);
    const aliases = enumAliases(t.values).map(([a]) => a).filter((a) => !names.includes(a));
    if (!t.name) {
      const lits = [...names, ...aliases].map((n) => JSON.stringify(n));
      return { out: num, in: [num === 'bigint' ? 'bigint | number' : 'number', ...lits].join(' | ') };
    }
    const base = pascal(t.name);
    const constName = this.ident(base);
    const typeName = this.ident(`${base}Name`);
    const lit = (v: bigint) => (num === 'bigint' ? `${v}n` : String(v));
    const lines = [`/** enum ${t.name} (${t.size} bytes): enumerator values. */`, `export const ${constName} = {`];
    for (const v of t.values) lines.push(`  ${propKey(v.name)}: ${lit(v.value)},`);
    lines.push('} as const;');
    lines.push(`/** Names accepted for enum ${t.name} when writing${aliases.length ? ' (full enumerator names and short aliases)' : ''}. */`);
    lines.push(`export type ${typeName} = ${[...names, ...aliases].map((n) => JSON.stringify(n)).join(' | ')};`);
    this.decls.push(lines.join('\n') + '\n');
    const p = { out: num, in: `${num === 'bigint' ? 'bigint | number' : 'number'} | ${typeName}` };
    this.named.set(t.id, p);
    return p;
  }

  /** Fields of a struct/union with anonymous members flattened, as the codec does. */
  private fields(members: readonly { name: string; type: number; bitOffset: number; bitSize: number }[], out: { name: string; type: number; bitfield: boolean; bitSize: number }[]): boolean {
    for (const m of members) {
      const r = this.btf.resolve(m.type);
      if (!m.name && r && (r.kind === BtfKind.Struct || r.kind === BtfKind.Union)) {
        if (!this.fields(r.members, out)) return false;
        continue;
      }
      out.push({ name: m.name, type: m.type, bitfield: m.bitSize !== 0 || m.bitOffset % 8 !== 0, bitSize: m.bitSize });
    }
    return true;
  }

  private structPair(t: Extract<BtfType, { kind: BtfKind.Struct | BtfKind.Union }>): TypePair | undefined {
    const hit = this.named.get(t.id);
    if (hit) return hit;
    if (this.building.has(t.id)) return undefined;
    this.building.add(t.id);
    try {
      const fs: { name: string; type: number; bitfield: boolean; bitSize: number }[] = [];
      if (!this.fields(t.members, fs)) return undefined;
      const rows: { name: string; p: TypePair }[] = [];
      for (const f of fs) {
        const p = this.pair(f.type);
        if (!p) return undefined;
        if (!f.name) continue;
        if (f.bitfield) {
          // bitfields read as number when the declared type is ≤ 4 bytes, else bigint
          const size = this.btf.sizeof(f.type) ?? 4;
          rows.push({ name: f.name, p: size <= 4 ? { out: 'number', in: 'number | bigint' } : { out: 'bigint', in: 'bigint | number' } });
        } else rows.push({ name: f.name, p });
      }
      const kind = t.kind === BtfKind.Union ? 'union' : 'struct';
      if (!t.name) {
        const body = (k: 'out' | 'in') => `{ ${rows.map((r) => `${propKey(r.name)}${k === 'in' ? '?' : ''}: ${r.p[k]}`).join('; ')} }`;
        return { out: body('out'), in: body('in') };
      }
      const base = pascal(t.name);
      const outName = this.ident(base);
      const inName = this.ident(`${base}Input`);
      const lines = [`/** ${kind} ${t.name} (${t.size} bytes), as read from a map. */`, `export interface ${outName} {`];
      for (const r of rows) lines.push(`  ${propKey(r.name)}: ${r.p.out};`);
      lines.push('}');
      lines.push(`/** ${kind} ${t.name} as written: missing fields are zero${kind === 'union' ? '; set one member' : ''}. */`);
      lines.push(`export interface ${inName} {`);
      for (const r of rows) lines.push(`  ${propKey(r.name)}?: ${r.p.in};`);
      lines.push('}');
      this.decls.push(lines.join('\n') + '\n');
      const p = { out: outName, in: `${inName} | Uint8Array` };
      this.named.set(t.id, p);
      return p;
    } finally {
      this.building.delete(t.id);
    }
  }

  private datasecPair(t: Extract<BtfType, { kind: BtfKind.Datasec }>): TypePair {
    const rows: { name: string; p: TypePair }[] = [];
    for (const v of t.vars) {
      const vt = this.t(v.type);
      rows.push({ name: vt?.name ?? `@${v.offset}`, p: this.pair(v.type) ?? BYTES });
    }
    return {
      out: `{ ${rows.map((r) => `${propKey(r.name)}: ${r.p.out}`).join('; ')} }`,
      in: `{ ${rows.map((r) => `${propKey(r.name)}?: ${r.p.in}`).join('; ')} } | Uint8Array`,
    };
  }

  /** Key/value pair of a map, falling back to bytes when the codec would. */
  mapPair(typeId: number, size: number): TypePair {
    if (!typeId) return bytesPair(size);
    const sz = this.t(typeId)?.kind === BtfKind.Datasec ? (this.t(typeId) as { size: number }).size : this.btf.sizeof(typeId);
    if (sz !== size) return bytesPair(size);
    return this.pair(typeId) ?? bytesPair(size);
  }
}

/** The bytes codec's types: it also takes numbers and bigints for 1/2/4/8-byte sizes. */
export function bytesPair(size: number): TypePair {
  return size === 1 || size === 2 || size === 4 || size === 8 ? { out: 'Uint8Array', in: 'Uint8Array | number | bigint' } : BYTES;
}

function wrap(t: string): string {
  return /[|&]/.test(t) ? `(${t})` : t;
}

function describeMap(m: MapSpec, btf: Btf | undefined): string {
  const name = (id: number) => {
    if (!btf || !id) return undefined;
    const t = btf.types[id];
    if (!t) return undefined;
    if (t.kind === BtfKind.Struct) return `struct ${t.name || '(anon)'}`;
    if (t.kind === BtfKind.Union) return `union ${t.name || '(anon)'}`;
    if (t.kind === BtfKind.Enum || t.kind === BtfKind.Enum64) return `enum ${t.name || '(anon)'}`;
    if (t.kind === BtfKind.Datasec) return `section ${t.name}`;
    return t.name || undefined;
  };
  const k = name(m.keyTypeId) ?? `${m.keySize} bytes`;
  const v = name(m.valueTypeId) ?? `${m.valueSize} bytes`;
  return `${m.type}: key ${k}, value ${v}, max_entries ${m.maxEntries}`;
}

/** Generate the TypeScript module text for `spec` (object file `objectFile`). */
export function generateTypes(spec: ObjectSpec, objectFile: string, opts: GenOptions = {}): string {
  const base = opts.name ?? objectBaseName(objectFile);
  const P = pascal(base);
  const from = opts.importFrom ?? 'bpfkit';
  const objectPath = opts.objectPath ?? basename(objectFile);
  const gen = spec.btf ? new Generator(spec.btf) : undefined;
  const mapsName = `${P}Maps`;
  const progsName = `${P}Programs`;
  const objName = `${P}Object`;
  for (const n of [mapsName, progsName, objName, `load${P}`, 'OBJECT_PATH', 'objectPath']) gen?.reserve(n);

  const mapRows: string[] = [];
  for (const m of [...spec.maps].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const k = gen ? gen.mapPair(m.keyTypeId, m.keySize) : bytesPair(m.keySize);
    let v = gen ? gen.mapPair(m.valueTypeId, m.valueSize) : bytesPair(m.valueSize);
    if (PERCPU.has(m.type)) v = { out: `${wrap(v.out)}[]`, in: `readonly ${wrap(v.in)}[] | Uint8Array` };
    const generic = k.out === k.in && v.out === v.in ? `TypedMap<${k.out}, ${v.out}>` : `TypedMap<${k.out}, ${v.out}, ${k.in}, ${v.in}>`;
    mapRows.push(`  /** ${describeMap(m, spec.btf)}${PERCPU.has(m.type) ? ' (per-CPU: one value per possible CPU)' : ''} */\n  readonly ${propKey(m.name)}: ${generic};`);
  }
  const progRows = [...spec.programs]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((p) => `  /** SEC("${p.section}"): ${p.type} */\n  readonly ${propKey(p.name)}: Program;`);

  const out: string[] = [];
  out.push(`// Generated by \`bpfkit gen types\` from ${basename(objectFile)}. Do not edit: regenerate instead.`);
  out.push(`import { fileURLToPath } from 'node:url';`);
  out.push(`import { load, type BpfObject, type LoadOptions, type Program, type TypedMap } from '${from}';`);
  out.push('');
  if (gen) {
    // make the declarations in map order, then print them before the interfaces that use them
    const decl = gen.declarations();
    if (decl) out.push(decl);
  }
  out.push(`/** The maps of ${basename(objectFile)}, typed from its BTF. */`);
  out.push(`export interface ${mapsName} {`);
  out.push(...mapRows);
  out.push('}');
  out.push('');
  out.push(`/** The programs of ${basename(objectFile)}. */`);
  out.push(`export interface ${progsName} {`);
  out.push(...progRows);
  out.push('}');
  out.push('');
  out.push(`/** A loaded ${basename(objectFile)} with typed maps and programs. */`);
  out.push(`export type ${objName} = Omit<BpfObject, 'maps' | 'programs'> & { readonly maps: ${mapsName}; readonly programs: ${progsName} };`);
  out.push('');
  out.push(`/** Where ${basename(objectFile)} is, relative to this file. */`);
  out.push(`export const OBJECT_PATH = new URL(${JSON.stringify(objectPath.startsWith('.') ? objectPath : `./${objectPath}`)}, import.meta.url);`);
  out.push('');
  out.push(`/** Load ${basename(objectFile)} (default: the file beside this module) with typed maps and programs. */`);
  out.push(`export async function load${P}(opts: LoadOptions & { object?: string | Uint8Array } = {}): Promise<${objName}> {`);
  out.push(`  const { object, ...rest } = opts;`);
  out.push(`  const obj = await load(object ?? fileURLToPath(OBJECT_PATH), rest);`);
  out.push(`  return obj as unknown as ${objName};`);
  out.push('}');
  out.push('');
  return out.join('\n');
}
