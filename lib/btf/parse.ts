/**
 * .BTF and .BTF.ext parsing. Every malformed input gives an `ElfError` naming the section and
 * the offset of the bad record; nothing else is thrown.
 */
import { ElfError } from '../errors.js';
import { Btf } from './btf.js';
import { BtfKind, type BtfMember, type BtfType } from './types.js';

export const BTF_MAGIC = 0xeb9f;
const HDR_LEN = 24;

export interface BtfParseContext {
  file?: string;
  section?: string;
}

/** Where each type record lives inside `raw` (byte offset of its 12-byte common header). */
export interface BtfLayout {
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
  /** recordOffset[id] = absolute offset in raw of type `id`'s record (0 for void). */
  recordOffset: number[];
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function short(ctx: BtfParseContext, rec: number, id: number, kind: number, n: number): never {
  fail(ctx, rec, `type ${id} (kind ${kind}) record extends past the type section (needs ${n} more bytes)`);
}

function fail(ctx: BtfParseContext, offset: number, msg: string): never {
  throw new ElfError(`parse BTF: ${msg}`, { file: ctx.file, section: ctx.section ?? '.BTF', offset });
}

/** A string section decoded once; names are substrings of it (no per-name native call). */
export class StrTab {
  private readonly text: string;
  /** True when some byte is ≥ 0x80: only then are names checked for UTF-8 sequences. */
  private readonly wide: boolean;
  constructor(readonly bytes: Uint8Array, private readonly ctx: BtfParseContext, private readonly base: number) {
    this.text = latin1(bytes);
    this.wide = NON_ASCII.test(this.text);
  }
  get(off: number, where: number): string {
    if (off === 0) return '';
    const b = this.bytes;
    if (off >= b.length) fail(this.ctx, where, `string offset ${off} is outside the string section (${b.length} bytes)`);
    const end = this.text.indexOf('\0', off);
    if (end < 0) fail(this.ctx, this.base + off, `string at offset ${off} is not NUL-terminated`);
    const str = this.text.slice(off, end);
    return this.wide && NON_ASCII.test(str) ? utf8.decode(b.subarray(off, end)) : str;
  }
}

// eslint-disable-next-line no-control-regex
export const NON_ASCII = /[^\x00-\x7f]/;
type Latin1View = { toString(enc: 'latin1', start: number, end: number): string };
const NodeBuffer = (globalThis as { Buffer?: { from(ab: ArrayBufferLike, off: number, len: number): Latin1View } }).Buffer;
const latin1Decoder = new TextDecoder('latin1');

/** Bytes → string with one char per byte (ISO-8859-1), in one call. */
export function latin1(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', 0, bytes.byteLength);
  // WHATWG "latin1" is windows-1252, which differs only in 0x80-0x9f; names with such bytes
  // are re-decoded as UTF-8 by the callers anyway.
  return latin1Decoder.decode(bytes);
}

/**
 * Parse a .BTF section. The returned `Btf` keeps views into `data` (no copy): do not modify
 * `data` while the Btf is in use.
 */
export function parseBtf(data: Uint8Array, ctx: BtfParseContext = {}): Btf {
  return parseBtfLayout(data, ctx).btf;
}

export function parseBtfLayout(data: Uint8Array, ctx: BtfParseContext = {}): { btf: Btf; layout: BtfLayout } {
  const raw = data;
  const len = raw.length;
  if (len < HDR_LEN) fail(ctx, 0, `section is ${len} bytes, too small for the BTF header`);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = dv.getUint16(0, true);
  if (magic !== BTF_MAGIC) {
    if (magic === 0x9feb) fail(ctx, 0, 'big-endian BTF is not supported');
    fail(ctx, 0, `bad magic 0x${magic.toString(16)} (want 0xeb9f)`);
  }
  const version = raw[2]!;
  if (version !== 1) fail(ctx, 2, `unsupported BTF version ${version}`);
  const hdrLen = dv.getUint32(4, true);
  if (hdrLen < HDR_LEN || hdrLen > len) fail(ctx, 4, `header length ${hdrLen} is invalid`);
  const typeOffRel = dv.getUint32(8, true);
  const typeLen = dv.getUint32(12, true);
  const strOffRel = dv.getUint32(16, true);
  const strLen = dv.getUint32(20, true);
  const typeOff = hdrLen + typeOffRel;
  const strOff = hdrLen + strOffRel;
  if (typeOff > len || typeLen > len - typeOff) fail(ctx, 8, `type section ${typeOffRel}+${typeLen} extends past the end (${len - hdrLen} bytes after header)`);
  if (strOff > len || strLen > len - strOff) fail(ctx, 16, `string section ${strOffRel}+${strLen} extends past the end (${len - hdrLen} bytes after header)`);
  if (typeLen % 4 !== 0) fail(ctx, 12, `type section length ${typeLen} is not a multiple of 4`);
  if (strLen > 0 && raw[strOff + strLen - 1] !== 0) fail(ctx, strOff + strLen - 1, 'string section is not NUL-terminated');
  const strings = raw.subarray(strOff, strOff + strLen);
  const st = new StrTab(strings, ctx, strOff);

  const types: BtfType[] = [{ kind: BtfKind.Void, id: 0, name: '' }];
  const offsets: number[] = [0];
  const end = typeOff + typeLen;
  let p = typeOff;
  while (p < end) {
    if (end - p < 12) fail(ctx, p, `truncated type record for type ${types.length}`);
    const id = types.length;
    const rec = p;
    const nameOff = dv.getUint32(p, true);
    const info = dv.getUint32(p + 4, true);
    const sizeOrType = dv.getUint32(p + 8, true);
    p += 12;
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    const kflag = (info >>> 31) !== 0;
    const name = st.get(nameOff, rec);
    let t: BtfType;
    switch (kind) {
      case BtfKind.Int: {
        if (end - p < 4) short(ctx, rec, id, kind, 4);
        const v = dv.getUint32(p, true);
        p += 4;
        const enc = (v >>> 24) & 0xf;
        const bits = v & 0xff;
        if (bits > 128) fail(ctx, rec, `int type ${id} has ${bits} bits`);
        t = { kind, id, name, size: sizeOrType, encoding: { signed: (enc & 1) !== 0, char: (enc & 2) !== 0, bool: (enc & 4) !== 0 }, bitOffset: (v >>> 16) & 0xff, bits };
        break;
      }
      case BtfKind.Ptr:
      case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict: case BtfKind.TypeTag:
        t = { kind, id, name, type: sizeOrType } as BtfType;
        break;
      case BtfKind.Array: {
        if (end - p < 12) short(ctx, rec, id, kind, 12);
        t = { kind, id, name, elemType: dv.getUint32(p, true), indexType: dv.getUint32(p + 4, true), nelems: dv.getUint32(p + 8, true) };
        p += 12;
        break;
      }
      case BtfKind.Struct: case BtfKind.Union: {
        if (end - p < 12 * vlen) short(ctx, rec, id, kind, 12 * vlen);
        const members: BtfMember[] = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const mo = dv.getUint32(p + 8, true);
          members[i] = {
            name: st.get(dv.getUint32(p, true), p),
            type: dv.getUint32(p + 4, true),
            bitOffset: kflag ? mo & 0xffffff : mo,
            bitSize: kflag ? mo >>> 24 : 0,
          };
          p += 12;
        }
        t = { kind, id, name, size: sizeOrType, members };
        break;
      }
      case BtfKind.Enum: {
        if (end - p < 8 * vlen) short(ctx, rec, id, kind, 8 * vlen);
        const values = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const v = kflag ? dv.getInt32(p + 4, true) : dv.getUint32(p + 4, true);
          values[i] = { name: st.get(dv.getUint32(p, true), p), value: BigInt(v) };
          p += 8;
        }
        t = { kind, id, name, size: sizeOrType, signed: kflag, values };
        break;
      }
      case BtfKind.Enum64: {
        if (end - p < 12 * vlen) short(ctx, rec, id, kind, 12 * vlen);
        const values = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const lo = BigInt(dv.getUint32(p + 4, true));
          const hi = BigInt(dv.getUint32(p + 8, true));
          let v = (hi << 32n) | lo;
          if (kflag) v = BigInt.asIntN(64, v);
          values[i] = { name: st.get(dv.getUint32(p, true), p), value: v };
          p += 12;
        }
        t = { kind, id, name, size: sizeOrType, signed: kflag, values };
        break;
      }
      case BtfKind.Fwd:
        t = { kind, id, name, union: kflag };
        break;
      case BtfKind.Func:
        t = { kind, id, name, type: sizeOrType, linkage: vlen };
        break;
      case BtfKind.FuncProto: {
        if (end - p < 8 * vlen) short(ctx, rec, id, kind, 8 * vlen);
        const params = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          params[i] = { name: st.get(dv.getUint32(p, true), p), type: dv.getUint32(p + 4, true) };
          p += 8;
        }
        t = { kind, id, name, returnType: sizeOrType, params };
        break;
      }
      case BtfKind.Var: {
        if (end - p < 4) short(ctx, rec, id, kind, 4);
        t = { kind, id, name, type: sizeOrType, linkage: dv.getUint32(p, true) };
        p += 4;
        break;
      }
      case BtfKind.Datasec: {
        if (end - p < 12 * vlen) short(ctx, rec, id, kind, 12 * vlen);
        const vars = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          vars[i] = { type: dv.getUint32(p, true), offset: dv.getUint32(p + 4, true), size: dv.getUint32(p + 8, true) };
          p += 12;
        }
        t = { kind, id, name, size: sizeOrType, vars };
        break;
      }
      case BtfKind.Float:
        t = { kind, id, name, size: sizeOrType };
        break;
      case BtfKind.DeclTag: {
        if (end - p < 4) short(ctx, rec, id, kind, 4);
        t = { kind, id, name, type: sizeOrType, componentIdx: dv.getInt32(p, true) };
        p += 4;
        break;
      }
      default:
        fail(ctx, rec, `type ${id} has unknown kind ${kind}`);
    }
    types.push(t);
    offsets.push(rec);
  }

  // Every type reference must name an existing type, so helpers never walk off the table.
  const n = types.length;
  const check = (ref: number, id: number): void => {
    if (ref >= n) fail(ctx, offsets[id]!, `type ${id} refers to type ${ref}, but there are only ${n} types`);
  };
  for (let id = 1; id < n; id++) {
    const t = types[id]!;
    switch (t.kind) {
      case BtfKind.Ptr: case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict:
      case BtfKind.TypeTag: case BtfKind.Func: case BtfKind.Var: case BtfKind.DeclTag:
        check(t.type, id);
        break;
      case BtfKind.Array:
        check(t.elemType, id);
        check(t.indexType, id);
        break;
      case BtfKind.Struct: case BtfKind.Union:
        for (const m of t.members) check(m.type, id);
        break;
      case BtfKind.FuncProto:
        check(t.returnType, id);
        for (const q of t.params) check(q.type, id);
        break;
      case BtfKind.Datasec:
        for (const v of t.vars) check(v.type, id);
        break;
      default:
        break;
    }
  }

  const layout: BtfLayout = { hdrLen, typeOff, typeLen, strOff, strLen, recordOffset: offsets };
  return { btf: new Btf(raw, types, strings), layout };
}

// ---------------------------------------------------------------------------------------------
// .BTF.ext

export interface ExtFuncInfo {
  /** Byte offset of the function within its ELF section. */
  insnOff: number;
  typeId: number;
}
export interface ExtLineInfo {
  insnOff: number;
  fileNameOff: number;
  lineOff: number;
  line: number;
  column: number;
}
export interface ExtCoreReloc {
  insnOff: number;
  typeId: number;
  accessStrOff: number;
  accessString: string;
  kind: number;
}

/** Where one ELF section's records sit in the .BTF.ext data. */
interface ExtBlock {
  /** Byte offset of the first record. */
  off: number;
  count: number;
}

const enum ExtKind { Func = 0, Line = 1, Core = 2 }

/**
 * .BTF.ext records grouped by the ELF section (program section) they describe. Everything is
 * validated when parsed; individual records are decoded on demand (per section) so that
 * opening an object does not allocate one object per line_info record.
 */
export class BtfExt {
  readonly funcInfoRecSize: number;
  readonly lineInfoRecSize: number;
  readonly coreReloRecSize: number;
  /** @internal */
  constructor(
    private readonly data: Uint8Array,
    private readonly btf: Btf,
    private readonly blocks: [Map<string, ExtBlock>, Map<string, ExtBlock>, Map<string, ExtBlock>],
    recSizes: [number, number, number],
  ) {
    this.funcInfoRecSize = recSizes[0];
    this.lineInfoRecSize = recSizes[1];
    this.coreReloRecSize = recSizes[2];
  }

  private cache: [Map<string, ExtFuncInfo[]>, Map<string, ExtLineInfo[]>, Map<string, ExtCoreReloc[]>] = [new Map(), new Map(), new Map()];

  private decode<T>(kind: ExtKind, sec: string, one: (dv: DataView, o: number) => T): T[] {
    const cache = this.cache[kind] as Map<string, T[]>;
    let l = cache.get(sec);
    if (l) return l;
    l = [];
    const recSize = kind === ExtKind.Func ? this.funcInfoRecSize : kind === ExtKind.Line ? this.lineInfoRecSize : this.coreReloRecSize;
    const d = this.data;
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const b = this.blocks[kind].get(sec);
    if (b) for (let i = 0, o = b.off; i < b.count; i++, o += recSize) l.push(one(dv, o));
    cache.set(sec, l);
    return l;
  }

  /** func_info records of one ELF section (empty if none). */
  funcInfoFor(sec: string): ExtFuncInfo[] {
    return this.decode(ExtKind.Func, sec, (dv, o) => ({ insnOff: dv.getUint32(o, true), typeId: dv.getUint32(o + 4, true) }));
  }

  /** line_info records of one ELF section, in instruction order as clang emits them. */
  lineInfoFor(sec: string): ExtLineInfo[] {
    return this.decode(ExtKind.Line, sec, (dv, o) => {
      const lc = dv.getUint32(o + 12, true);
      return { insnOff: dv.getUint32(o, true), fileNameOff: dv.getUint32(o + 4, true), lineOff: dv.getUint32(o + 8, true), line: lc >>> 10, column: lc & 0x3ff };
    });
  }

  /** CO-RE relocation records of one ELF section. */
  coreRelocsFor(sec: string): ExtCoreReloc[] {
    return this.decode(ExtKind.Core, sec, (dv, o) => {
      const accessStrOff = dv.getUint32(o + 8, true);
      return { insnOff: dv.getUint32(o, true), typeId: dv.getUint32(o + 4, true), accessStrOff, accessString: this.btf.stringAt(accessStrOff), kind: dv.getUint32(o + 12, true) };
    });
  }

  private all<T>(kind: ExtKind, f: (sec: string) => T[]): Map<string, T[]> {
    const m = new Map<string, T[]>();
    for (const sec of this.blocks[kind].keys()) m.set(sec, f(sec));
    return m;
  }

  /** All func_info records by ELF section. */
  get funcInfo(): Map<string, ExtFuncInfo[]> {
    return this.all(ExtKind.Func, (s) => this.funcInfoFor(s));
  }
  /** All line_info records by ELF section. */
  get lineInfo(): Map<string, ExtLineInfo[]> {
    return this.all(ExtKind.Line, (s) => this.lineInfoFor(s));
  }
  /** All CO-RE relocation records by ELF section. */
  get coreRelocs(): Map<string, ExtCoreReloc[]> {
    return this.all(ExtKind.Core, (s) => this.coreRelocsFor(s));
  }
}

/** Parse and validate .BTF.ext against the object's parsed BTF (for the string table). */
export function parseBtfExt(data: Uint8Array, btf: Btf, ctx: BtfParseContext = {}): BtfExt {
  const c: BtfParseContext = { file: ctx.file, section: ctx.section ?? '.BTF.ext' };
  const len = data.length;
  if (len < 24) fail(c, 0, `section is ${len} bytes, too small for the BTF.ext header`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magic = dv.getUint16(0, true);
  if (magic !== BTF_MAGIC) fail(c, 0, `bad magic 0x${magic.toString(16)} (want 0xeb9f)`);
  if (data[2] !== 1) fail(c, 2, `unsupported BTF.ext version ${data[2]}`);
  const hdrLen = dv.getUint32(4, true);
  if (hdrLen < 24 || hdrLen > len) fail(c, 4, `header length ${hdrLen} is invalid`);
  const st = new StrTab(btf.strings, c, 0);
  const nstr = btf.strings.length;
  const ntypes = btf.types.length;
  const blocks: [Map<string, ExtBlock>, Map<string, ExtBlock>, Map<string, ExtBlock>] = [new Map(), new Map(), new Map()];

  const sub = (hdrField: number, minRec: number, what: string, kind: ExtKind): number => {
    const off = dv.getUint32(hdrField, true);
    const sublen = dv.getUint32(hdrField + 4, true);
    if (sublen === 0) return minRec;
    const start = hdrLen + off;
    if (start > len || sublen > len - start) fail(c, hdrField, `${what} ${off}+${sublen} extends past the end of the section`);
    if (sublen < 4) fail(c, start, `${what} is too short`);
    const recSize = dv.getUint32(start, true);
    if (recSize < minRec || recSize % 4 !== 0) fail(c, start, `${what} record size ${recSize} is invalid (minimum ${minRec})`);
    let p = start + 4;
    const end = start + sublen;
    while (p < end) {
      if (end - p < 8) fail(c, p, `${what}: truncated section header`);
      const secName = st.get(dv.getUint32(p, true), p);
      const num = dv.getUint32(p + 4, true);
      p += 8;
      if (num === 0) fail(c, p - 4, `${what}: section ${secName} has no records`);
      if (num > (end - p) / recSize) fail(c, p - 4, `${what}: ${num} records for section ${secName} extend past the end`);
      if (blocks[kind].has(secName)) fail(c, p - 8, `${what}: section ${secName} appears twice`);
      blocks[kind].set(secName, { off: p, count: num });
      let prev = -1;
      for (let i = 0; i < num; i++, p += recSize) {
        const insnOff = dv.getUint32(p, true);
        if (insnOff % 8 !== 0) fail(c, p, `${what} record in ${secName} at instruction byte offset ${insnOff} is not on an instruction boundary`);
        if (insnOff < prev) fail(c, p, `${what} records in ${secName} are not in instruction order`);
        if (kind !== ExtKind.Core) prev = insnOff;
        const a = dv.getUint32(p + 4, true);
        if (kind === ExtKind.Func) {
          if (a >= ntypes || btf.types[a]!.kind !== BtfKind.Func) fail(c, p, `func_info in ${secName} refers to type ${a}, which is not a FUNC`);
        } else if (kind === ExtKind.Line) {
          if (a >= nstr) fail(c, p, `line_info in ${secName}: file name offset ${a} is outside the string table`);
          const lineOff = dv.getUint32(p + 8, true);
          if (lineOff >= nstr) fail(c, p, `line_info in ${secName}: line text offset ${lineOff} is outside the string table`);
        } else {
          if (a >= ntypes) fail(c, p, `core_relo in ${secName} refers to type ${a}, out of range`);
          st.get(dv.getUint32(p + 8, true), p);
          const kindNo = dv.getUint32(p + 12, true);
          if (kindNo > 12) fail(c, p, `core_relo in ${secName} has unknown kind ${kindNo}`);
        }
      }
    }
    return recSize;
  };

  const fi = sub(8, 8, 'func_info', ExtKind.Func);
  const li = sub(16, 16, 'line_info', ExtKind.Line);
  const cr = hdrLen >= 32 ? sub(24, 16, 'core_relo', ExtKind.Core) : 16;
  return new BtfExt(data, btf, blocks, [fi, li, cr]);
}
