/**
 * Object BTF fix-ups, as libbpf does before BPF_BTF_LOAD: clang leaves DATASEC sizes (and, for
 * older LLVM, variable offsets) for the linker to fill in; the loader takes them from the ELF
 * section headers and symbols. Also rewrites the few things the kernel rejects in a clang object:
 * FUNCs with extern linkage, unnamed parameters of function prototypes, FUNC entries inside the
 * `.ksyms` DATASEC, and the unsized `.kconfig`/`.ksyms` DATASECs.
 */
import { ElfError } from '../errors.js';
import { Btf } from './btf.js';
import { parseBtfLayout, type BtfLayout, type BtfParseContext } from './parse.js';
import { BtfKind, type BtfVarSecinfo } from './types.js';

export interface DataSymbol {
  value: number;
  size: number;
  /** ST_VISIBILITY: 0 default, 1 internal, 2 hidden, 3 protected. */
  visibility: number;
  /** Name of the section the symbol is defined in. */
  section: string;
}

export interface BtfFixupInput {
  /** ELF section size by name (undefined if there is no such section). */
  sectionSizes: (name: string) => number | undefined;
  /** Global (and weak) STT_OBJECT symbols by name. */
  symbols: Map<string, DataSymbol>;
  /** Local STT_OBJECT symbols by `section + "\0" + name`; null when the name is not unique. */
  localSymbols?: Map<string, DataSymbol | null>;
}

const enum VarLinkage { Static = 0, GlobalAllocated = 1, GlobalExtern = 2 }
const enum FuncLinkage { Static = 0, Global = 1, Extern = 2 }

/**
 * Apply the fix-ups to `btf` (never modifying the bytes it was parsed from) and return the
 * BTF to keep: the same instance when only in-place edits were needed, or a re-parsed one when
 * types or strings had to be appended.
 */
export function fixupBtf(btf: Btf, layout: BtfLayout, input: BtfFixupInput, ctx: BtfParseContext): Btf {
  const raw = btf.raw;
  // Patches to the type records as [offset, u32 value] pairs, applied to a copy of the raw
  // blob only when someone reads `raw` (usually just the kernel backend, once).
  const patches: number[] = [];
  const dv = { setUint32: (off: number, v: number, _le: true): void => void patches.push(off, v >>> 0) };
  const types = btf.types;
  const newStrings: string[] = [];
  let strTail = layout.strLen;
  const addString = (s: string): number => {
    const off = strTail;
    newStrings.push(s);
    strTail += Buffer.byteLength(s) + 1;
    return off;
  };
  const newTypes: Uint8Array[] = [];
  let nextId = types.length;
  let intId = 0;
  let dummyVarId = 0;
  const intType = (): number => {
    for (let i = 1; i < types.length && !intId; i++) {
      const t = types[i]!;
      if (t.kind === BtfKind.Int && t.size === 4 && t.bits === 32 && t.bitOffset === 0) intId = i;
    }
    if (!intId) {
      const rec = new Uint8Array(16);
      const d = new DataView(rec.buffer);
      d.setUint32(0, addString('int'), true);
      d.setUint32(4, BtfKind.Int << 24, true);
      d.setUint32(8, 4, true);
      d.setUint32(12, (1 << 24) | 32, true);
      newTypes.push(rec);
      intId = nextId++;
    }
    return intId;
  };
  const dummyKsymVar = (): number => {
    if (dummyVarId) return dummyVarId;
    intType();
    const rec = new Uint8Array(16);
    const d = new DataView(rec.buffer);
    d.setUint32(0, addString('dummy_ksym'), true);
    d.setUint32(4, BtfKind.Var << 24, true);
    d.setUint32(8, intId, true);
    d.setUint32(12, VarLinkage.GlobalAllocated, true);
    newTypes.push(rec);
    dummyVarId = nextId++;
    return dummyVarId;
  };

  const fail = (msg: string, id: number): never => {
    throw new ElfError(`fix up BTF: ${msg}`, { file: ctx.file, section: ctx.section ?? '.BTF', offset: layout.recordOffset[id] });
  };

  let paramName = 0;
  for (let id = 1; id < types.length; id++) {
    const t = types[id]!;
    const rec = layout.recordOffset[id]!;
    if (t.kind === BtfKind.Func) {
      if (t.linkage === FuncLinkage.Extern) {
        // The kernel accepts only static and global FUNCs; an extern FUNC is a declaration.
        t.linkage = FuncLinkage.Static;
        dv.setUint32(rec + 4, BtfKind.Func << 24, true);
        const proto = types[t.type];
        if (proto && proto.kind === BtfKind.FuncProto) {
          const protoRec = layout.recordOffset[proto.id]!;
          for (let i = 0; i < proto.params.length; i++) {
            const prm = proto.params[i]!;
            if (prm.name || !prm.type) continue;
            if (!paramName) paramName = addString('arg');
            prm.name = 'arg';
            dv.setUint32(protoRec + 12 + i * 8, paramName, true);
          }
        }
      }
      continue;
    }
    if (t.kind !== BtfKind.Datasec) continue;
    const vars = t.vars;
    if (t.name === '.ksyms' || t.name === '.kconfig') {
      let off = 0;
      for (let i = 0; i < vars.length; i++) {
        const v = vars[i]!;
        const vt = types[v.type]!;
        let size = 0;
        if (vt.kind === BtfKind.Func) {
          v.type = dummyKsymVar();
          size = 4;
        } else if (vt.kind === BtfKind.Var) {
          // Extern VARs are resolved by the loader; the kernel only takes allocated globals.
          const vrec = layout.recordOffset[vt.id]!;
          if (vt.linkage === VarLinkage.GlobalExtern) {
            vt.linkage = VarLinkage.GlobalAllocated;
            dv.setUint32(vrec + 12, VarLinkage.GlobalAllocated, true);
          }
          let sz = btf.sizeof(vt.type);
          if (sz === undefined || sz === 0) {
            // Typeless ksym (`extern const void sym __ksym`): give it an int type.
            vt.type = intType();
            dv.setUint32(vrec + 8, vt.type, true);
            sz = 4;
          }
          size = sz;
        } else {
          fail(`DATASEC ${t.name} entry of type ${v.type} is neither a VAR nor a FUNC`, id);
        }
        const align = size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
        off = (off + align - 1) & ~(align - 1);
        v.offset = off;
        v.size = size;
        off += size;
      }
      t.size = off;
    } else {
      const secSize = input.sectionSizes(t.name);
      if (t.size === 0) {
        if (secSize === undefined || secSize === 0) fail(`DATASEC ${t.name} has no matching ELF section to take its size from`, id);
        t.size = secSize!;
        for (const v of vars) {
          const vt = types[v.type];
          if (!vt || vt.kind !== BtfKind.Var) continue;
          if (vt.linkage === VarLinkage.GlobalExtern) continue;
          if (vt.linkage === VarLinkage.Static) {
            // Static variables: take the offset from their local symbol when it is unambiguous,
            // else keep the one clang wrote.
            const ls = input.localSymbols?.get(`${t.name}\0${vt.name}`);
            if (ls) v.offset = ls.value;
            continue;
          }
          const sym = input.symbols.get(vt.name);
          if (!sym || sym.section !== t.name) fail(`DATASEC ${t.name}: variable ${vt.name} has no ELF symbol in that section`, id);
          v.offset = sym!.value;
          if (sym!.visibility === 1 || sym!.visibility === 2) {
            vt.linkage = VarLinkage.Static;
            dv.setUint32(layout.recordOffset[vt.id]! + 12, VarLinkage.Static, true);
          }
        }
      }
      for (const v of vars) {
        if (v.offset > t.size || v.size > t.size - v.offset) fail(`DATASEC ${t.name}: variable at offset ${v.offset} size ${v.size} is outside the section (${t.size} bytes)`, id);
      }
    }
    vars.sort(byOffset);
    dv.setUint32(rec + 8, t.size, true);
    for (let i = 0; i < vars.length; i++) {
      const v = vars[i]!;
      const o = rec + 12 + i * 12;
      dv.setUint32(o, v.type, true);
      dv.setUint32(o + 4, v.offset, true);
      dv.setUint32(o + 8, v.size, true);
    }
  }

  const patched = (): Uint8Array => {
    const r = raw.slice();
    const d = new DataView(r.buffer, r.byteOffset, r.byteLength);
    for (let i = 0; i < patches.length; i += 2) d.setUint32(patches[i]!, patches[i + 1]!, true);
    return r;
  };
  if (!newTypes.length && !newStrings.length) {
    btf.invalidate();
    btf.setRawFactory(patched);
    return btf;
  }
  // Rebuild: header | types | appended types | strings | appended strings, and parse again.
  const base = patched();
  const addTypes = newTypes.reduce((n, r) => n + r.length, 0);
  const addStr = strTail - layout.strLen;
  const out = new Uint8Array(layout.hdrLen + layout.typeLen + addTypes + strTail);
  out.set(base.subarray(0, layout.hdrLen), 0);
  let p = layout.hdrLen;
  out.set(base.subarray(layout.typeOff, layout.typeOff + layout.typeLen), p);
  p += layout.typeLen;
  for (const r of newTypes) {
    out.set(r, p);
    p += r.length;
  }
  out.set(base.subarray(layout.strOff, layout.strOff + layout.strLen), p);
  let sp = p + layout.strLen;
  const enc = new TextEncoder();
  for (const s of newStrings) {
    const b = enc.encode(s);
    out.set(b, sp);
    sp += b.length + 1;
  }
  const od = new DataView(out.buffer);
  od.setUint32(8, 0, true);
  od.setUint32(12, layout.typeLen + addTypes, true);
  od.setUint32(16, layout.typeLen + addTypes, true);
  od.setUint32(20, layout.strLen + addStr, true);
  return parseBtfLayout(out, ctx).btf;
}

function byOffset(a: BtfVarSecinfo, b: BtfVarSecinfo): number {
  return a.offset - b.offset;
}

