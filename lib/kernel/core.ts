/**
 * CO-RE: resolve an object's BTF.ext CO-RE relocations against the running kernel's BTF and
 * patch the instructions, as libbpf does at load time.
 *
 * Supported kinds: field byte offset / byte size / exists / signed / lshift_u64 / rshift_u64,
 * type id (local, target) / exists / size / matches, enum value exists / value.
 * A relocation without a matching target type or field is "poisoned" like libbpf does: the
 * instruction becomes a call to the invalid helper 0xbad2310, so the verifier rejects the
 * program only if that code is reachable (guarded by bpf_core_field_exists() it is not).
 */
import { BpfError } from '../errors.js';
import { BtfKind, type Btf, type BtfMember, type BtfType } from '../btf/index.js';
import type { CoreReloc, ProgramSpec } from '../spec/index.js';

/** The invalid helper id libbpf uses to poison unresolvable relocations. */
export const POISON_HELPER = 0xbad2310;

const enum Op {
  ClassMask = 0x07,
  Ld = 0x00,
  Ldx = 0x01,
  St = 0x02,
  Stx = 0x03,
  Alu = 0x04,
  Jmp = 0x05,
  Alu64 = 0x07,
  SrcX = 0x08,
  SizeMask = 0x18,
  ModeMask = 0xe0,
  ModeImm = 0x00,
  ModeMem = 0x60,
  ModeMemSx = 0x80,
  Call = 0x85,
  LdImm64 = 0x18,
}

const SIZE_CODE: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };
const CODE_SIZE: Record<number, number> = { 0x10: 1, 0x08: 2, 0x00: 4, 0x18: 8 };

/** Result of resolving one relocation. */
export interface CoreResult {
  reloc: CoreReloc;
  /** Value the instruction gets; undefined when poisoned. */
  value?: number;
  /** Local value (for messages/tests). */
  local: number;
  /** For field offset relocations on loads/stores: the target field size (to adjust the access size). */
  targetSize?: number;
  localSize?: number;
  poisoned: boolean;
  reason?: string;
}

function essentialName(name: string): string {
  const i = name.indexOf('___');
  return i > 0 ? name.slice(0, i) : name;
}

/** Kind class used for candidate matching (struct vs union vs enum vs ...). */
function kindClass(t: BtfType): number {
  switch (t.kind) {
    case BtfKind.Enum:
    case BtfKind.Enum64:
      return BtfKind.Enum;
    case BtfKind.Fwd:
      return t.union ? BtfKind.Union : BtfKind.Struct;
    default:
      return t.kind;
  }
}

/** Loose compatibility of two field types (libbpf's bpf_core_fields_are_compat, simplified). */
function fieldsCompat(local: Btf, lid: number, target: Btf, tid: number, depth = 0): boolean {
  const l = local.resolve(lid);
  const t = target.resolve(tid);
  if (!l || !t) return false;
  if (depth > 16) return false;
  const lk = kindClass(l);
  const tk = kindClass(t);
  const intLike = (k: number) => k === BtfKind.Int || k === BtfKind.Enum;
  if (intLike(lk) && intLike(tk)) return true;
  if (lk !== tk) return false;
  switch (l.kind) {
    case BtfKind.Struct:
    case BtfKind.Union:
      return essentialName(l.name) === essentialName(t.name) || l.name === '' || t.name === '';
    case BtfKind.Array:
      return t.kind === BtfKind.Array && fieldsCompat(local, l.elemType, target, t.elemType, depth + 1);
    default:
      return true;
  }
}

/** One resolved step of an access path. */
interface Access {
  /** type id (in its BTF) of the field reached */
  typeId: number;
  /** bit offset from the root */
  bitOffset: number;
  /** bitfield size (0 = not a bitfield) */
  bitSize: number;
}

/** Walk the local access path; returns the member names/array indices at each step. */
interface LocalStep {
  kind: 'member' | 'array';
  name: string;
  index: number;
}

function parseAccess(s: string): number[] {
  const parts = s.split(':');
  const out: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0) return [];
    out.push(n);
  }
  return out;
}

function localWalk(btf: Btf, rootId: number, access: number[]): { steps: LocalStep[]; acc: Access } | undefined {
  let id = btf.resolveId(rootId);
  const rootSize = btf.sizeof(id) ?? 0;
  let bit = access[0]! * rootSize * 8;
  let bitSize = 0;
  const steps: LocalStep[] = [];
  for (let i = 1; i < access.length; i++) {
    const t = btf.types[btf.resolveId(id)];
    const idx = access[i]!;
    if (!t) return undefined;
    if (t.kind === BtfKind.Struct || t.kind === BtfKind.Union) {
      const m = t.members[idx];
      if (!m) return undefined;
      steps.push({ kind: 'member', name: m.name, index: idx });
      bit += m.bitOffset;
      bitSize = m.bitSize;
      id = m.type;
    } else if (t.kind === BtfKind.Array) {
      const es = btf.sizeof(t.elemType) ?? 0;
      steps.push({ kind: 'array', name: '', index: idx });
      bit += idx * es * 8;
      bitSize = 0;
      id = t.elemType;
    } else return undefined;
  }
  return { steps, acc: { typeId: id, bitOffset: bit, bitSize } };
}

/** Find a member by name in a target struct/union, descending into anonymous members. */
function findMember(btf: Btf, typeId: number, name: string, depth = 0): { member: BtfMember; bitOffset: number } | undefined {
  const t = btf.types[btf.resolveId(typeId)];
  if (!t || (t.kind !== BtfKind.Struct && t.kind !== BtfKind.Union) || depth > 16) return undefined;
  for (const m of t.members) {
    if (m.name === name) return { member: m, bitOffset: m.bitOffset };
  }
  for (const m of t.members) {
    if (m.name !== '') continue;
    const inner = findMember(btf, m.type, name, depth + 1);
    if (inner) return { member: inner.member, bitOffset: m.bitOffset + inner.bitOffset };
  }
  return undefined;
}

function targetWalk(local: Btf, steps: LocalStep[], localAcc: Access, target: Btf, targetRoot: number, arrayIdx: number): Access | undefined {
  let id = target.resolveId(targetRoot);
  const rootSize = target.sizeof(id) ?? 0;
  let bit = arrayIdx * rootSize * 8;
  let bitSize = 0;
  for (const s of steps) {
    const t = target.types[target.resolveId(id)];
    if (!t) return undefined;
    if (s.kind === 'member') {
      if (t.kind !== BtfKind.Struct && t.kind !== BtfKind.Union) return undefined;
      const f = findMember(target, id, s.name);
      if (!f) return undefined;
      bit += f.bitOffset;
      bitSize = f.member.bitSize;
      id = f.member.type;
    } else {
      if (t.kind !== BtfKind.Array) return undefined;
      if (t.nelems !== 0 && s.index >= t.nelems) return undefined;
      bit += s.index * (target.sizeof(t.elemType) ?? 0) * 8;
      bitSize = 0;
      id = t.elemType;
    }
  }
  if (!fieldsCompat(local, localAcc.typeId, target, id)) return undefined;
  return { typeId: id, bitOffset: bit, bitSize };
}

function candidates(local: Btf, localId: number, target: Btf): number[] {
  const lt = local.types[localId];
  if (!lt || !lt.name) return [];
  const want = kindClass(lt);
  return target.findByName(essentialName(lt.name)).filter((id) => kindClass(target.types[id]!) === want);
}

function isSigned(btf: Btf, id: number): boolean {
  const t = btf.resolve(id);
  if (!t) return false;
  if (t.kind === BtfKind.Int) return t.encoding.signed;
  if (t.kind === BtfKind.Enum || t.kind === BtfKind.Enum64) return t.signed;
  return false;
}

/** Field relocation values for an access (libbpf's bpf_core_calc_field_relo semantics). */
function fieldValue(kind: CoreReloc['kind'], btf: Btf, acc: Access): { value: number; size: number } | undefined {
  const size = btf.sizeof(acc.typeId) ?? 0;
  if (acc.bitSize === 0) {
    const byteOff = acc.bitOffset >>> 3;
    switch (kind) {
      case 'field_byte_offset': return { value: byteOff, size };
      case 'field_byte_size': return { value: size, size };
      case 'field_exists': return { value: 1, size };
      case 'field_signed': return { value: isSigned(btf, acc.typeId) ? 1 : 0, size };
      case 'field_lshift_u64': return { value: 64 - size * 8, size };
      case 'field_rshift_u64': return { value: 64 - size * 8, size };
      default: return undefined;
    }
  }
  // Bitfield: the smallest naturally aligned load of at least the member type's size covering it.
  let byteSz = size || 1;
  let byteOff = Math.floor(acc.bitOffset / 8 / byteSz) * byteSz;
  while (acc.bitOffset + acc.bitSize - byteOff * 8 > byteSz * 8) {
    if (byteSz >= 8) return undefined;
    byteSz *= 2;
    byteOff = Math.floor(acc.bitOffset / 8 / byteSz) * byteSz;
  }
  switch (kind) {
    case 'field_byte_offset': return { value: byteOff, size: byteSz };
    case 'field_byte_size': return { value: byteSz, size: byteSz };
    case 'field_exists': return { value: 1, size: byteSz };
    case 'field_signed': return { value: isSigned(btf, acc.typeId) ? 1 : 0, size: byteSz };
    case 'field_lshift_u64': return { value: 64 - (acc.bitOffset + acc.bitSize - byteOff * 8), size: byteSz };
    case 'field_rshift_u64': return { value: 64 - acc.bitSize, size: byteSz };
    default: return undefined;
  }
}

function isFieldKind(k: CoreReloc['kind']): boolean {
  return k.startsWith('field_');
}

/** Resolve one relocation against `target` (kernel BTF). */
export function resolveCoreReloc(local: Btf, target: Btf, reloc: CoreReloc, prog: string): CoreResult {
  const where = `load program ${prog}: CO-RE relocation at insn ${reloc.insn}`;
  const lroot = local.types[reloc.typeId];
  if (!lroot) throw new BpfError('CORE_INVALID', `${where}: local type id ${reloc.typeId} is not in the object's BTF`);
  const access = parseAccess(reloc.accessString);
  const kind = reloc.kind;
  if (kind === 'type_id_local') return { reloc, value: reloc.typeId, local: reloc.typeId, poisoned: false };

  if (kind === 'enumval_exists' || kind === 'enumval_value') {
    const le = local.resolve(reloc.typeId);
    if (!le || (le.kind !== BtfKind.Enum && le.kind !== BtfKind.Enum64) || access.length !== 1) {
      throw new BpfError('CORE_INVALID', `${where}: ${kind} on a non-enum type or bad access "${reloc.accessString}"`);
    }
    const lv = le.values[access[0]!];
    if (!lv) throw new BpfError('CORE_INVALID', `${where}: enumerator #${access[0]} out of range`);
    const localVal = Number(BigInt.asIntN(64, lv.value));
    for (const cid of candidates(local, local.resolveId(reloc.typeId), target)) {
      const te = target.types[cid]!;
      if (te.kind !== BtfKind.Enum && te.kind !== BtfKind.Enum64) continue;
      const tv = te.values.find((v) => essentialName(v.name) === essentialName(lv.name));
      if (!tv) continue;
      return { reloc, local: kind === 'enumval_exists' ? 1 : localVal, value: kind === 'enumval_exists' ? 1 : Number(BigInt.asIntN(64, tv.value)), poisoned: false };
    }
    if (kind === 'enumval_exists') return { reloc, local: 1, value: 0, poisoned: false };
    return { reloc, local: localVal, poisoned: true, reason: `enumerator ${lv.name} not found in kernel BTF` };
  }

  if (!isFieldKind(kind)) {
    // type-based
    const lid = local.resolveId(reloc.typeId);
    const lsize = local.sizeof(reloc.typeId) ?? 0;
    const localVal = kind === 'type_size' ? lsize : kind === 'type_id_target' ? reloc.typeId : 1;
    const cands = candidates(local, reloc.typeId, target).concat(lid !== reloc.typeId ? candidates(local, lid, target) : []);
    const tid = cands[0];
    if (tid === undefined) {
      if (kind === 'type_exists' || kind === 'type_matches') return { reloc, local: 1, value: 0, poisoned: false };
      return { reloc, local: localVal, poisoned: true, reason: `type ${lroot.name || '#' + reloc.typeId} not found in kernel BTF` };
    }
    switch (kind) {
      case 'type_exists':
      case 'type_matches':
        return { reloc, local: 1, value: 1, poisoned: false };
      case 'type_size':
        return { reloc, local: lsize, value: target.sizeof(tid) ?? 0, poisoned: false };
      case 'type_id_target':
        return { reloc, local: reloc.typeId, value: tid, poisoned: false };
      default:
        throw new BpfError('CORE_INVALID', `${where}: unsupported relocation kind ${kind}`);
    }
  }

  // field-based
  if (access.length === 0) throw new BpfError('CORE_INVALID', `${where}: bad access string "${reloc.accessString}"`);
  const lw = localWalk(local, reloc.typeId, access);
  if (!lw) throw new BpfError('CORE_INVALID', `${where}: access "${reloc.accessString}" does not fit local type ${lroot.name}`);
  const lv = fieldValue(kind, local, lw.acc);
  if (!lv) throw new BpfError('CORE_INVALID', `${where}: cannot compute ${kind} for the local field`);
  const lrootResolved = local.resolveId(reloc.typeId);
  const cands = candidates(local, lrootResolved, target);
  for (const cid of cands) {
    const tw = targetWalk(local, lw.steps, lw.acc, target, cid, access[0]!);
    if (!tw) continue;
    const tv = fieldValue(kind, target, tw);
    if (!tv) continue;
    return { reloc, local: lv.value, value: tv.value, localSize: lv.size, targetSize: tv.size, poisoned: false };
  }
  if (kind === 'field_exists') return { reloc, local: 1, value: 0, poisoned: false };
  const path = lw.steps.map((s) => (s.kind === 'member' ? s.name : `[${s.index}]`)).join('.');
  return { reloc, local: lv.value, poisoned: true, reason: `field ${lroot.name}.${path} not found in kernel BTF` };
}

function poison(view: DataView, slot: number): void {
  const o = slot * 8;
  view.setUint8(o, Op.Call);
  view.setUint8(o + 1, 0);
  view.setInt16(o + 2, 0, true);
  view.setInt32(o + 4, POISON_HELPER | 0, true);
}

/** Apply one resolved relocation to the instruction bytes (in place). */
export function patchCoreInsn(insns: Uint8Array, res: CoreResult, prog: string): void {
  const slot = res.reloc.insn;
  const where = `load program ${prog}: CO-RE relocation at insn ${slot}`;
  if (slot < 0 || slot * 8 + 8 > insns.length) throw new BpfError('CORE_INVALID', `${where}: instruction out of range`);
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const o = slot * 8;
  const code = view.getUint8(o);
  const cls = code & Op.ClassMask;
  if (res.poisoned || res.value === undefined) {
    if (code === Op.LdImm64 && slot * 8 + 16 <= insns.length) {
      poison(view, slot);
      // second slot becomes `r0 = r0` (never executed: the call above is fatal if reached)
      view.setUint8(o + 8, Op.Alu64 | 0xb0 | Op.SrcX);
      view.setUint8(o + 9, 0);
      view.setInt16(o + 10, 0, true);
      view.setInt32(o + 12, 0, true);
    } else poison(view, slot);
    return;
  }
  const v = res.value;
  if (cls === Op.Alu || cls === Op.Alu64) {
    if (code & Op.SrcX) throw new BpfError('CORE_INVALID', `${where}: ALU instruction with a register source cannot be relocated`);
    view.setInt32(o + 4, v | 0, true);
    return;
  }
  if (cls === Op.Ldx || cls === Op.St || cls === Op.Stx) {
    if (v > 0x7fff || v < -0x8000) throw new BpfError('CORE_INVALID', `${where}: offset ${v} does not fit the instruction`);
    view.setInt16(o + 2, v, true);
    if (res.reloc.kind === 'field_byte_offset' && res.targetSize !== undefined && res.localSize !== undefined && res.targetSize !== res.localSize) {
      const cur = CODE_SIZE[code & Op.SizeMask];
      const nc = SIZE_CODE[res.targetSize];
      if (cur === res.localSize && nc !== undefined && (cls === Op.Ldx)) {
        view.setUint8(o, (code & ~Op.SizeMask) | nc);
      }
    }
    return;
  }
  if (code === Op.LdImm64) {
    if (slot * 8 + 16 > insns.length) throw new BpfError('CORE_INVALID', `${where}: truncated ld_imm64`);
    const big = BigInt.asUintN(64, BigInt(v));
    view.setUint32(o + 4, Number(big & 0xffffffffn), true);
    view.setUint32(o + 12, Number(big >> 32n), true);
    return;
  }
  throw new BpfError('CORE_INVALID', `${where}: cannot relocate instruction with opcode 0x${code.toString(16)}`);
}

/**
 * Resolve and apply every CO-RE relocation of `spec` to `insns` (a copy of its instructions).
 * `target` is the kernel BTF; returns the results (poisoned ones included) for diagnostics.
 */
export function applyCoreRelocs(spec: ProgramSpec, insns: Uint8Array, local: Btf | undefined, target: () => Btf): CoreResult[] {
  if (spec.coreRelocs.length === 0) return [];
  if (!local) throw new BpfError('CORE_INVALID', `load program ${spec.name}: has CO-RE relocations but the object has no BTF`);
  const kernel = target();
  const out: CoreResult[] = [];
  for (const r of spec.coreRelocs) {
    const res = resolveCoreReloc(local, kernel, r, spec.name);
    patchCoreInsn(insns, res, spec.name);
    out.push(res);
  }
  return out;
}
