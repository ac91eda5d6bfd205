/**
 * Codecs: JavaScript values ⇄ the bytes of map keys and values, derived from BTF.
 *
 * - integers of ≤ 32 bits → number; 64-bit (and wider) integers and pointers → bigint;
 *   `_Bool` → boolean; floats → number
 * - enums → number (enum64 → bigint); encoding also accepts an enumerator name, or its short
 *   alias when all enumerators share a `PREFIX_` (`ACTION_DROP` or `drop`; see enumAliases)
 * - structs → plain objects with the field names (nested; anonymous members are flattened as in
 *   C; bitfields supported); unions → objects with every member decoded, encoded from one member
 * - arrays → JS arrays, except arrays of 1-byte integers (`char[N]`, `__u8[N]`) → Uint8Array
 *   (encoding also accepts a string, written as UTF-8 and zero-padded)
 * - DATASEC (global data maps `.data`, `.rodata`, `.bss`) → objects keyed by variable name
 * - without BTF: `Uint8Array`; numbers/bigints are also accepted for 1/2/4/8-byte sizes
 *
 * A `Uint8Array` of exactly the right size is always accepted as raw bytes. Every mismatch throws
 * `ArgumentError` naming the map, whether it was the key or the value, and what was wrong.
 */
import { BtfKind, type Btf, type BtfType } from '../btf/index.js';
import { ArgumentError } from '../errors.js';

export interface Codec<T = unknown> {
  /** Encoded size in bytes. */
  readonly size: number;
  /** Human-readable type, for messages (`u32`, `struct flow_key`, `u8[4]`, `bytes[16]`). */
  readonly typeName: string;
  /**
   * Write `value` at `view`'s byte offset `off`. `path` names the value for error messages; `null`
   * is the fast path used by `encode` (no strings built; a failure is retried with a real path).
   */
  write(value: unknown, bytes: Uint8Array, view: DataView, off: number, path: string | null): void;
  /** Read a value at `off`. */
  read(bytes: Uint8Array, view: DataView, off: number): T;
  /**
   * Set on plain integer codecs: numbers in [lo, hi] are encoded (and ≤ 4-byte values decoded) by
   * `encode`/`decode` directly, without the scratch buffer.
   */
  readonly int?: { readonly size: 1 | 2 | 4 | 8; readonly signed: boolean; readonly lo: number; readonly hi: number };
}

/** A short description of any value for error messages (never throws). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `${v.length}-byte Uint8Array`;
  if (Array.isArray(v)) return `array of ${v.length}`;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return typeof v;
}

/** Thrown on the fast path (path === null); `encode` catches it and re-encodes with paths. */
const RETRY_WITH_PATH: unique symbol = Symbol('retry with path');

function fail(path: string | null, msg: string): never {
  if (path === null) throw RETRY_WITH_PATH;
  throw new ArgumentError(`${path}: ${msg}`);
}

/** `path + seg` when tracking paths, else null (no string built on the fast path). */
function sub(path: string | null, seg: string | number, close = ''): string | null {
  return path === null ? null : typeof seg === 'number' ? `${path}[${seg}${close}]` : `${path}.${seg}`;
}

// ─── integers ─────────────────────────────────────────────────────────────────────────────────

const LO = new Map<number, bigint>();
const HI = new Map<number, bigint>();
function bounds(bits: number): [bigint, bigint] {
  let lo = LO.get(bits);
  if (lo === undefined) {
    lo = -(1n << BigInt(bits - 1));
    LO.set(bits, lo);
    HI.set(bits, (1n << BigInt(bits)) - 1n);
  }
  return [lo, HI.get(bits)!];
}

function toBigInt(v: unknown, path: string | null, bits: number, typeName: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') {
    if (!Number.isInteger(v)) fail(path, `expected an integer for ${typeName}, got ${describeValue(v)}`);
    b = BigInt(v);
  } else if (typeof v === 'boolean') b = v ? 1n : 0n;
  else fail(path, `expected a number or bigint for ${typeName}, got ${describeValue(v)}`);
  const [lo, hi] = bounds(bits);
  if (b < lo || b > hi) fail(path, `${b} does not fit in ${typeName} (${bits} bits)`);
  return b;
}

const U64_LO = -(1n << 63n);
const U64_HI = (1n << 64n) - 1n;

function intCodec(size: number, signed: boolean, name: string, bool = false): Codec {
  const bits = size * 8;
  const typeName = name || `${signed ? 's' : 'u'}${bits}`;
  if (bool && size === 1) {
    return {
      size, typeName,
      write(v, _b, view, off, path) {
        view.setUint8(off, Number(toBigInt(v, path, 8, typeName)));
      },
      read: (_b, view, off) => view.getUint8(off) !== 0,
    };
  }
  const nLo = -(2 ** (bits - 1));
  const nHi = 2 ** bits - 1;
  switch (size) {
    case 1: case 2: case 4:
      return {
        size, typeName,
        int: { size, signed, lo: nLo, hi: nHi },
        write(v, _b, view, off, path) {
          let n: number;
          if (typeof v === 'number' && Number.isInteger(v) && v >= nLo && v <= nHi) n = v;
          else n = Number(toBigInt(v, path, bits, typeName));
          if (size === 1) view.setUint8(off, n & 0xff);
          else if (size === 2) view.setUint16(off, n & 0xffff, true);
          else view.setUint32(off, n >>> 0, true);
        },
        read(_b, view, off) {
          if (size === 1) return signed ? view.getInt8(off) : view.getUint8(off);
          if (size === 2) return signed ? view.getInt16(off, true) : view.getUint16(off, true);
          return signed ? view.getInt32(off, true) : view.getUint32(off, true);
        },
      };
    case 8:
      return {
        size, typeName,
        int: { size: 8, signed, lo: 0, hi: Number.MAX_SAFE_INTEGER },
        write(v, _b, view, off, path) {
          if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
            // common case without BigInt: low and high 32-bit halves
            view.setUint32(off, v % 0x100000000, true);
            view.setUint32(off + 4, Math.floor(v / 0x100000000), true);
            return;
          }
          if (typeof v === 'bigint' && v >= U64_LO && v <= U64_HI) {
            view.setBigUint64(off, BigInt.asUintN(64, v), true);
            return;
          }
          view.setBigUint64(off, BigInt.asUintN(64, toBigInt(v, path, 64, typeName)), true);
        },
        read: (_b, view, off) => (signed ? view.getBigInt64(off, true) : view.getBigUint64(off, true)),
      };
    default:
      return {
        size, typeName,
        write(v, _b, view, off, path) {
          let b = BigInt.asUintN(bits, toBigInt(v, path, bits, typeName));
          for (let i = 0; i < size; i++) {
            view.setUint8(off + i, Number(b & 0xffn));
            b >>= 8n;
          }
        },
        read(_b, view, off) {
          let b = 0n;
          for (let i = size - 1; i >= 0; i--) b = (b << 8n) | BigInt(view.getUint8(off + i));
          return signed ? BigInt.asIntN(bits, b) : b;
        },
      };
  }
}

function floatCodec(size: number, name: string): Codec {
  if (size !== 4 && size !== 8) return bytesCodec(size, name);
  return {
    size, typeName: name,
    write(v, _b, view, off, path) {
      if (typeof v !== 'number') fail(path, `expected a number for ${name}, got ${describeValue(v)}`);
      if (size === 4) view.setFloat32(off, v, true);
      else view.setFloat64(off, v, true);
    },
    read: (_b, view, off) => (size === 4 ? view.getFloat32(off, true) : view.getFloat64(off, true)),
  };
}

// ─── raw bytes ────────────────────────────────────────────────────────────────────────────────

const utf8 = new TextEncoder();

/** An unsigned little-endian integer of 1, 2, 4 or 8 bytes (u32 for map slots and indexes). */
export function uintCodec(size: 1 | 2 | 4 | 8, typeName = `u${size * 8}`): Codec {
  return intCodec(size, false, typeName);
}

/** Opaque bytes; also accepts strings (UTF-8, zero padded) and, for 1/2/4/8 bytes, integers. */
export function bytesCodec(size: number, typeName = `bytes[${size}]`): Codec<Uint8Array> {
  const asInt = size === 1 || size === 2 || size === 4 || size === 8 ? intCodec(size, false, typeName) : undefined;
  // numbers are accepted (encode fast path) but values decode as bytes: no `int` for decoding
  const intIn = asInt?.int ? { ...asInt.int, encodeOnly: true } : undefined;
  return {
    size, typeName,
    ...(intIn ? { int: intIn } : {}),
    write(v, b, view, off, path) {
      if (v instanceof Uint8Array) {
        if (v.length > size) fail(path, `expected at most ${size} bytes for ${typeName}, got ${v.length}`);
        b.set(v, off);
        return;
      }
      if (typeof v === 'string') {
        const enc = utf8.encode(v);
        if (enc.length > size) fail(path, `string of ${enc.length} bytes does not fit in ${typeName}`);
        b.set(enc, off);
        return;
      }
      if (asInt && (typeof v === 'number' || typeof v === 'bigint')) {
        asInt.write(v, b, view, off, path);
        return;
      }
      fail(path, `expected a ${size}-byte Uint8Array${asInt ? ', number or bigint' : ''} for ${typeName}, got ${describeValue(v)}`);
    },
    read: (b, _view, off) => b.slice(off, off + size),
  };
}

// ─── BTF-derived ──────────────────────────────────────────────────────────────────────────────

interface Field {
  name: string;
  codec: Codec;
  /** Byte offset, for byte-aligned fields. */
  off: number;
  /** Bitfield: bit offset within the containing struct and bit width (0 = not a bitfield). */
  bitOff: number;
  bits: number;
  signed: boolean;
}

class Builder {
  private readonly cache = new Map<number, Codec>();
  private readonly building = new Set<number>();

  constructor(private readonly btf: Btf) {}

  private type(id: number): BtfType | undefined {
    return this.btf.types[id];
  }

  nameOf(id: number): string {
    const t = this.type(id);
    if (!t) return `type ${id}`;
    switch (t.kind) {
      case BtfKind.Struct: return `struct ${t.name || '(anon)'}`;
      case BtfKind.Union: return `union ${t.name || '(anon)'}`;
      case BtfKind.Enum: case BtfKind.Enum64: return `enum ${t.name || '(anon)'}`;
      case BtfKind.Array: return `${this.nameOf(t.elemType)}[${t.nelems}]`;
      case BtfKind.Ptr: return `${this.nameOf(t.type)} *`;
      case BtfKind.Typedef: return t.name;
      case BtfKind.Const: case BtfKind.Volatile: case BtfKind.Restrict: case BtfKind.TypeTag:
        return this.nameOf(t.type);
      case BtfKind.Void: return 'void';
      default: return t.name || `type ${id}`;
    }
  }

  codec(id: number): Codec | undefined {
    const hit = this.cache.get(id);
    if (hit) return hit;
    if (this.building.has(id)) return undefined; // a cycle: only through pointers, which we don't follow
    this.building.add(id);
    try {
      const c = this.make(id);
      if (c) this.cache.set(id, c);
      return c;
    } finally {
      this.building.delete(id);
    }
  }

  private make(id: number): Codec | undefined {
    const t = this.type(id);
    if (!t) return undefined;
    switch (t.kind) {
      case BtfKind.Int:
        if (t.bitOffset !== 0 || (t.bits !== t.size * 8 && !t.encoding.bool)) return bytesCodec(t.size, t.name);
        return intCodec(t.size, t.encoding.signed, t.name, t.encoding.bool);
      case BtfKind.Ptr:
        return intCodec(8, false, this.nameOf(id));
      case BtfKind.Float:
        return floatCodec(t.size, t.name);
      case BtfKind.Enum: case BtfKind.Enum64:
        return this.enumCodec(t);
      case BtfKind.Typedef: case BtfKind.Const: case BtfKind.Volatile: case BtfKind.Restrict: case BtfKind.TypeTag: {
        const target = this.btf.resolve(t.type);
        if (t.kind === BtfKind.Typedef && target?.kind === BtfKind.Int && target.bitOffset === 0 && (target.bits === target.size * 8 || target.encoding.bool)) {
          return intCodec(target.size, target.encoding.signed, t.name, target.encoding.bool); // messages name the typedef (__u16)
        }
        const inner = this.codec(t.type);
        if (!inner) return undefined;
        return t.kind === BtfKind.Typedef ? { ...inner, typeName: t.name } : inner;
      }
      case BtfKind.Array:
        return this.arrayCodec(id, t.elemType, t.nelems);
      case BtfKind.Struct: case BtfKind.Union:
        return this.structCodec(id, t.kind === BtfKind.Union, t.size, t.members);
      case BtfKind.Datasec:
        return this.datasecCodec(t.name, t.size, t.vars);
      case BtfKind.Var:
        return this.codec(t.type);
      default:
        return undefined;
    }
  }

  private enumCodec(t: Extract<BtfType, { kind: BtfKind.Enum | BtfKind.Enum64 }>): Codec {
    const base = intCodec(t.size, t.signed, `enum ${t.name || '(anon)'}`);
    const byName = new Map<string, number | bigint>(t.values.map((v) => [v.name, v.value]));
    for (const [alias, value] of enumAliases(t.values)) if (!byName.has(alias)) byName.set(alias, value);
    const typeName = base.typeName;
    return {
      size: t.size, typeName,
      write(v, b, view, off, path) {
        if (typeof v === 'string') {
          const n = byName.get(v);
          if (n === undefined) fail(path, `${JSON.stringify(v)} is not an enumerator of ${typeName} (have: ${[...byName.keys()].join(', ')})`);
          base.write(t.size > 4 ? n : Number(n), b, view, off, path);
          return;
        }
        base.write(v, b, view, off, path);
      },
      read: base.read,
    };
  }

  private arrayCodec(id: number, elemType: number, n: number): Codec | undefined {
    const elem = this.codec(elemType);
    if (!elem) return undefined;
    const resolved = this.btf.resolve(elemType);
    const typeName = this.nameOf(id);
    if (resolved?.kind === BtfKind.Int && resolved.size === 1 && !resolved.encoding.bool) return bytesCodec(n, typeName);
    const es = elem.size;
    const size = es * n;
    return {
      size, typeName,
      write(v, b, view, off, path) {
        if (v instanceof Uint8Array && v.length === size) {
          b.set(v, off);
          return;
        }
        if (!Array.isArray(v)) fail(path, `expected an array of ${n} for ${typeName}, got ${describeValue(v)}`);
        if (v.length > n) fail(path, `expected at most ${n} elements for ${typeName}, got ${v.length}`);
        for (let i = 0; i < v.length; i++) elem.write(v[i], b, view, off + i * es, sub(path, i));
      },
      read(b, view, off) {
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = elem.read(b, view, off + i * es);
        return out;
      },
    };
  }

  private collectFields(members: readonly { name: string; type: number; bitOffset: number; bitSize: number }[], baseBit: number, out: Field[]): boolean {
    for (const m of members) {
      const bitOff = baseBit + m.bitOffset;
      const rt = this.btf.resolve(m.type);
      if (!m.name && rt && (rt.kind === BtfKind.Struct || rt.kind === BtfKind.Union)) {
        if (!this.collectFields(rt.members, bitOff, out)) return false;
        continue;
      }
      const codec = this.codec(m.type);
      if (!codec) return false;
      if (m.bitSize || bitOff % 8) {
        const bits = m.bitSize || codec.size * 8;
        const signed = rt?.kind === BtfKind.Int ? rt.encoding.signed : rt?.kind === BtfKind.Enum || rt?.kind === BtfKind.Enum64 ? rt.signed : false;
        out.push({ name: m.name, codec, off: bitOff >> 3, bitOff, bits, signed });
      } else {
        out.push({ name: m.name, codec, off: bitOff >> 3, bitOff, bits: 0, signed: false });
      }
    }
    return true;
  }

  private structCodec(id: number, union: boolean, size: number, members: readonly { name: string; type: number; bitOffset: number; bitSize: number }[]): Codec | undefined {
    const fields: Field[] = [];
    if (!this.collectFields(members, 0, fields)) return undefined;
    const named = fields.filter((f) => f.name);
    const byName = new Map(named.map((f) => [f.name, f]));
    const typeName = this.nameOf(id);
    return {
      size, typeName,
      write(v, b, view, off, path) {
        if (v instanceof Uint8Array) {
          if (v.length !== size) fail(path, `expected ${size} bytes for ${typeName}, got ${v.length}`);
          b.set(v, off);
          return;
        }
        if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `expected an object for ${typeName}, got ${describeValue(v)}`);
        const obj = v as Record<string, unknown>;
        let set = 0;
        for (const k in obj) {
          if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
          const f = byName.get(k);
          if (!f) fail(path, `${typeName} has no field '${k}' (fields: ${named.map((x) => x.name).join(', ')})`);
          const fv = obj[k];
          if (fv === undefined) continue;
          set++;
          if (union && set > 1) fail(path, `set only one member of ${typeName}`);
          if (f.bits) writeBits(b, view, off, f, fv, sub(path, k));
          else f.codec.write(fv, b, view, off + f.off, sub(path, k));
        }
      },
      read(b, view, off) {
        const out: Record<string, unknown> = {};
        for (const f of named) out[f.name] = f.bits ? readBits(view, off, f) : f.codec.read(b, view, off + f.off);
        return out;
      },
    };
  }

  private datasecCodec(name: string, size: number, vars: readonly { type: number; offset: number; size: number }[]): Codec | undefined {
    const fields: { name: string; off: number; codec: Codec }[] = [];
    for (const v of vars) {
      const vt = this.type(v.type);
      const codec = this.codec(v.type) ?? bytesCodec(v.size);
      fields.push({ name: vt?.name ?? `@${v.offset}`, off: v.offset, codec });
    }
    const byName = new Map(fields.map((f) => [f.name, f]));
    return {
      size, typeName: `section ${name}`,
      write(v, b, view, off, path) {
        if (v instanceof Uint8Array) {
          if (v.length !== size) fail(path, `expected ${size} bytes for section ${name}, got ${v.length}`);
          b.set(v, off);
          return;
        }
        if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `expected an object of ${name} variables, got ${describeValue(v)}`);
        for (const [k, fv] of Object.entries(v as Record<string, unknown>)) {
          const f = byName.get(k);
          if (!f) fail(path, `section ${name} has no variable '${k}' (variables: ${fields.map((x) => x.name).join(', ')})`);
          if (fv !== undefined) f.codec.write(fv, b, view, off + f.off, sub(path, k));
        }
      },
      read(b, view, off) {
        const out: Record<string, unknown> = {};
        for (const f of fields) out[f.name] = f.codec.read(b, view, off + f.off);
        return out;
      },
    };
  }

  /** Codec of one variable of a DATASEC, by name (for `globals` overrides at load). */
  variable(datasecId: number, varName: string): { off: number; codec: Codec } | undefined {
    const t = this.type(datasecId);
    if (!t || t.kind !== BtfKind.Datasec) return undefined;
    for (const v of t.vars) {
      const vt = this.type(v.type);
      if (vt?.name === varName) return { off: v.offset, codec: this.codec(v.type) ?? bytesCodec(v.size) };
    }
    return undefined;
  }
}

/**
 * Short names for enumerators that share a `PREFIX_`: `ACTION_DROP` → `drop` (lowercase, prefix
 * removed). Only when every enumerator has the prefix, no short name is empty or starts with a
 * digit, and no two collide; otherwise there are no aliases.
 */
export function enumAliases(values: readonly { name: string; value: number | bigint }[]): [string, number | bigint][] {
  if (values.length < 2) return [];
  let prefix = values[0]!.name;
  for (const v of values) {
    let i = 0;
    while (i < prefix.length && i < v.name.length && prefix[i] === v.name[i]) i++;
    prefix = prefix.slice(0, i);
  }
  const cut = prefix.lastIndexOf('_');
  if (cut < 0) return [];
  prefix = prefix.slice(0, cut + 1);
  const out: [string, number | bigint][] = [];
  const seen = new Set<string>();
  for (const v of values) {
    const alias = v.name.slice(prefix.length).toLowerCase();
    if (!alias || /^[0-9]/.test(alias) || seen.has(alias)) return [];
    seen.add(alias);
    out.push([alias, v.value]);
  }
  return out;
}

function writeBits(b: Uint8Array, view: DataView, base: number, f: Field, v: unknown, path: string | null): void {
  const val = BigInt.asUintN(f.bits, toBigInt(v, path, f.bits, `${f.bits}-bit field`));
  for (let i = 0; i < f.bits; i++) {
    const bit = f.bitOff + i;
    const at = base + (bit >> 3);
    const mask = 1 << (bit & 7);
    if ((val >> BigInt(i)) & 1n) b[at]! |= mask;
    else b[at]! &= ~mask;
  }
  void view;
}

function readBits(view: DataView, base: number, f: Field): number | bigint {
  let val = 0n;
  for (let i = f.bits - 1; i >= 0; i--) {
    const bit = f.bitOff + i;
    val = (val << 1n) | BigInt((view.getUint8(base + (bit >> 3)) >> (bit & 7)) & 1);
  }
  const r = f.signed ? BigInt.asIntN(f.bits, val) : val;
  return f.codec.size <= 4 ? Number(r) : r;
}

const builders = new WeakMap<Btf, Builder>();
function builderFor(btf: Btf): Builder {
  let b = builders.get(btf);
  if (!b) builders.set(btf, (b = new Builder(btf)));
  return b;
}

/**
 * The codec for BTF type `typeId` of `size` bytes; a bytes codec when there is no BTF, the id is
 * 0, the type has no codec, or its size disagrees with `size`.
 */
export function codecFor(btf: Btf | undefined, typeId: number, size: number): Codec {
  if (btf && typeId) {
    const c = builderFor(btf).codec(typeId);
    if (c && c.size === size) return c;
  }
  return bytesCodec(size);
}

/** The codec for a BTF type found by name (struct, union, typedef, enum, int), or undefined. */
export function codecByName(btf: Btf, name: string): Codec | undefined {
  const b = builderFor(btf);
  for (const prefix of ['struct ', 'union ', 'enum ']) {
    if (name.startsWith(prefix)) name = name.slice(prefix.length);
  }
  for (const id of btf.findByName(name)) {
    const t = btf.types[id]!;
    if (t.kind === BtfKind.Var || t.kind === BtfKind.Func || t.kind === BtfKind.FuncProto || t.kind === BtfKind.Datasec || t.kind === BtfKind.Fwd) continue;
    const c = b.codec(id);
    if (c) return c;
  }
  return undefined;
}

/** Offset and codec of variable `name` in DATASEC `datasecId`. */
export function datasecVariable(btf: Btf, datasecId: number, name: string): { off: number; codec: Codec } | undefined {
  return builderFor(btf).variable(datasecId, name);
}

/** Encode `value` to exactly `codec.size` bytes. `what` (or a function building it) prefixes errors (e.g. `update flows: key`). */
function whatText(w: string | (() => string)): string {
  return typeof w === 'string' ? w : w();
}

/** Little-endian bytes of an integer number already checked against `int.lo..int.hi`. */
function intBytes(size: 1 | 2 | 4 | 8, n: number): Uint8Array {
  const out = new Uint8Array(size);
  if (size === 8) {
    const lo = n % 0x100000000;
    const hi = Math.floor(n / 0x100000000);
    out[0] = lo & 0xff; out[1] = (lo >>> 8) & 0xff; out[2] = (lo >>> 16) & 0xff; out[3] = lo >>> 24;
    out[4] = hi & 0xff; out[5] = (hi >>> 8) & 0xff; out[6] = (hi >>> 16) & 0xff; out[7] = hi >>> 24;
    return out;
  }
  const u = n >>> 0;
  out[0] = u & 0xff;
  if (size >= 2) out[1] = (u >>> 8) & 0xff;
  if (size === 4) {
    out[2] = (u >>> 16) & 0xff;
    out[3] = u >>> 24;
  }
  return out;
}

export function encode(codec: Codec, value: unknown, what: string | (() => string)): Uint8Array {
  const ic = codec.int;
  if (ic !== undefined && typeof value === 'number' && Number.isInteger(value) && value >= ic.lo && value <= ic.hi) return intBytes(ic.size, value);
  if (value instanceof Uint8Array) {
    if (value.length === codec.size) return value;
    throw new ArgumentError(`${whatText(what)}: expected ${codec.size} bytes (${codec.typeName}), got ${value.length}`);
  }
  if (value === undefined || value === null) throw new ArgumentError(`${whatText(what)}: expected ${codec.typeName}, got ${describeValue(value)}`);
  // Write into the scratch area and copy out: one small allocation per encode, no DataView or
  // ArrayBuffer per call. Codecs never call encode/decode re-entrantly.
  const size = codec.size;
  growScratch(size);
  scratchU8.fill(0, 0, size);
  try {
    codec.write(value, scratchU8, scratchView, 0, null);
  } catch (e) {
    if (e !== RETRY_WITH_PATH) throw e;
    scratchU8.fill(0, 0, size);
    codec.write(value, scratchU8, scratchView, 0, whatText(what)); // throws the ArgumentError with the full path
  }
  return scratchU8.slice(0, size);
}

/** Scratch area for encoding and decoding, so that no DataView over caller bytes is needed. */
let scratch = new ArrayBuffer(256);
let scratchU8 = new Uint8Array(scratch);
let scratchView = new DataView(scratch);

function growScratch(size: number): void {
  if (size <= scratch.byteLength) return;
  scratch = new ArrayBuffer(Math.max(size, scratch.byteLength * 2));
  scratchU8 = new Uint8Array(scratch);
  scratchView = new DataView(scratch);
}

/** Decode `bytes` (at least `codec.size` long, read from `off`). */
export function decode<T = unknown>(codec: Codec, bytes: Uint8Array, off = 0): T {
  const ic = codec.int as (Codec['int'] & { encodeOnly?: boolean }) | undefined;
  if (ic !== undefined && ic.size <= 4 && !ic.encodeOnly && bytes.length - off >= ic.size) {
    let u = bytes[off]!;
    if (ic.size >= 2) u |= bytes[off + 1]! << 8;
    if (ic.size === 4) u = (u | (bytes[off + 2]! << 16) | (bytes[off + 3]! << 24)) >>> 0;
    if (ic.signed) {
      const bits = ic.size * 8;
      if (bits === 32) u = u | 0;
      else if (u >= 2 ** (bits - 1)) u -= 2 ** bits;
    }
    return u as T;
  }
  const n = Math.max(0, Math.min(codec.size, bytes.length - off));
  growScratch(codec.size);
  if (n < codec.size) scratchU8.fill(0, 0, codec.size);
  scratchU8.set(n === bytes.length && off === 0 ? bytes : bytes.subarray(off, off + n), 0);
  // codecs never call decode re-entrantly, so the scratch area is free for the duration of read
  return codec.read(scratchU8, scratchView, 0) as T;
}

/**
 * Per-CPU values: `cpus` slots of `roundUp(size, 8)` bytes, CPU 0 first. Encoding takes an array
 * of exactly `cpus` values (or the raw bytes of all slots); decoding returns an array.
 */
export function perCpuCodec(elem: Codec, cpus: number): Codec<unknown[]> {
  const stride = (elem.size + 7) & ~7;
  const size = stride * cpus;
  return {
    size, typeName: `${elem.typeName} per-CPU ×${cpus}`,
    write(v, b, view, off, path) {
      if (v instanceof Uint8Array) {
        if (v.length !== size) fail(path, `expected ${size} bytes (${cpus} CPUs × ${stride}) for a per-CPU value, got ${v.length}`);
        b.set(v, off);
        return;
      }
      if (!Array.isArray(v) || v.length !== cpus) fail(path, `a per-CPU value is an array of ${cpus} values (one per possible CPU), got ${describeValue(v)}`);
      for (let i = 0; i < cpus; i++) elem.write(v[i], b, view, off + i * stride, path === null ? null : `${path}[cpu ${i}]`);
    },
    read(b, view, off) {
      const out = new Array<unknown>(cpus);
      for (let i = 0; i < cpus; i++) out[i] = elem.read(b, view, off + i * stride);
      return out;
    },
  };
}
