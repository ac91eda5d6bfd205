import { BtfKind, type BtfType } from './types.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Longest typedef/qualifier/array chain the helpers follow before declaring a cycle. */
const MAX_CHAIN = 64;

/**
 * Parsed BTF. `raw` is the (possibly fixed-up) blob suitable for BPF_BTF_LOAD; `types[id]` is
 * the type with that id; `strings` is the raw string section for offset look-ups.
 * The ELF/BTF reader owns the parsing (`parse.ts`) and the helper methods below.
 */
export class Btf {
  // ES private fields: caches and the lazy blob stay out of equality checks and copies.
  #byName: Map<string, number[]> | undefined;
  #raw: Uint8Array;
  #rawFactory: (() => Uint8Array) | undefined;

  constructor(
    raw: Uint8Array,
    readonly types: BtfType[],
    readonly strings: Uint8Array,
  ) {
    this.#raw = raw;
    // An own, enumerable accessor so that copies and JSON of a spec still carry the blob.
    Object.defineProperty(this, 'raw', { enumerable: true, configurable: true, get: () => this.rawBlob() });
  }

  /** The BTF blob (with any fix-ups applied), as BPF_BTF_LOAD wants it. */
  declare readonly raw: Uint8Array;

  private rawBlob(): Uint8Array {
    if (this.#rawFactory) {
      this.#raw = this.#rawFactory();
      this.#rawFactory = undefined;
    }
    return this.#raw;
  }

  /**
   * Let `raw` be computed on first read (the fix-ups use this to avoid copying the blob when
   * nobody loads it). @internal
   */
  setRawFactory(f: () => Uint8Array): void {
    this.#rawFactory = f;
  }

  /** The type with this id, or undefined if out of range. */
  typeById(id: number): BtfType | undefined {
    return this.types[id];
  }

  /** NUL-terminated string at `off` in the string section ('' when out of range). */
  stringAt(off: number): string {
    const s = this.strings;
    if (off < 0 || off >= s.length) return '';
    let end = off;
    while (end < s.length && s[end] !== 0) end++;
    return utf8.decode(s.subarray(off, end));
  }

  /** Follow typedef, const, volatile, restrict and type tags to the underlying type id. */
  resolveId(id: number): number {
    for (let i = 0; i < MAX_CHAIN; i++) {
      const t = this.types[id];
      if (!t) return id;
      switch (t.kind) {
        case BtfKind.Typedef: case BtfKind.Const: case BtfKind.Volatile: case BtfKind.Restrict: case BtfKind.TypeTag:
          id = t.type;
          continue;
        default:
          return id;
      }
    }
    return id;
  }

  /** The type after following typedef/qualifiers (see `resolveId`). */
  resolve(id: number): BtfType | undefined {
    return this.types[this.resolveId(id)];
  }

  /**
   * Size in bytes of a type, following typedefs, qualifiers and arrays; undefined for types
   * without a size (void, functions, forward declarations) or on a cycle.
   */
  sizeof(id: number): number | undefined {
    let mult = 1;
    for (let i = 0; i < MAX_CHAIN; i++) {
      const t = this.types[this.resolveId(id)];
      if (!t) return undefined;
      switch (t.kind) {
        case BtfKind.Int: case BtfKind.Struct: case BtfKind.Union: case BtfKind.Enum: case BtfKind.Enum64:
        case BtfKind.Float: case BtfKind.Datasec:
          return mult * t.size;
        case BtfKind.Ptr:
          return mult * 8;
        case BtfKind.Array:
          mult *= t.nelems;
          id = t.elemType;
          continue;
        case BtfKind.Var:
          id = t.type;
          continue;
        default:
          return undefined;
      }
    }
    return undefined;
  }

  /** Ids of all types with this name (in id order), optionally of one kind. */
  findByName(name: string, kind?: BtfKind): number[] {
    if (!this.#byName) {
      const m = new Map<string, number[]>();
      for (let i = 1; i < this.types.length; i++) {
        const n = this.types[i]!.name;
        if (!n) continue;
        const l = m.get(n);
        if (l) l.push(i);
        else m.set(n, [i]);
      }
      this.#byName = m;
    }
    const ids = this.#byName.get(name) ?? [];
    return kind === undefined ? ids.slice() : ids.filter((i) => this.types[i]!.kind === kind);
  }

  /** First type with this name (and kind, if given). */
  typeByName(name: string, kind?: BtfKind): BtfType | undefined {
    const ids = this.findByName(name, kind);
    return ids.length ? this.types[ids[0]!] : undefined;
  }

  /** Drop name caches after the type list was changed by a fix-up. */
  invalidate(): void {
    this.#byName = undefined;
  }
}
