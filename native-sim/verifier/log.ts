/**
 * Kernel-style verifier log text: instructions as the disassembler prints them and register /
 * stack states in the kernel's notation (`R1=ctx() R2=pkt(off=14,r=14) R10=fp0 fp-8=mmmmmmmm`).
 */
import { disasmSlot } from '../../lib/isa/disasm.js';
import { S64_MAX, S64_MIN, U64, U32, S32_MAX, S32_MIN } from './scalar.js';
import { Reg, Slot, T, type State } from './state.js';

interface ProgramView {
  readonly spec: { instructions: Uint8Array };
  readonly mapNames: string[];
  readonly maps: { keySize: number; valueSize: number }[];
}

export function insnText(v: ProgramView, i: number): string {
  try {
    return disasmSlot(v.spec.instructions, i, { alu32: true }).text;
  } catch {
    return '<invalid>';
  }
}

function hexs(n: bigint): string {
  return n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

export function scalarText(r: Reg): string {
  if (r.isConst()) {
    const s = BigInt.asIntN(64, r.tv);
    return s < 0n ? `${s}` : `${r.tv}`;
  }
  const parts: string[] = [];
  if (r.smin !== S64_MIN) parts.push(`smin=${r.smin}`);
  if (r.smax !== S64_MAX) parts.push(`smax=${r.smax}`);
  if (r.umin !== 0n) parts.push(`umin=${r.umin}`);
  if (r.umax !== U64) parts.push(`umax=${r.umax}`);
  if (r.s32min !== S32_MIN) parts.push(`smin32=${r.s32min}`);
  if (r.s32max !== S32_MAX) parts.push(`smax32=${r.s32max}`);
  if (r.u32min !== 0) parts.push(`umin32=${r.u32min}`);
  if (r.u32max !== U32) parts.push(`umax32=${r.u32max}`);
  if (r.tm !== U64) parts.push(`var_off=(${hexs(r.tv)}; ${hexs(r.tm)})`);
  return parts.length ? `scalar(${parts.join(',')})` : 'scalar()';
}

const NAMES = ['?', 'scalar', 'ctx', 'map_ptr', 'map_value', 'map_key', 'fp', 'pkt', 'pkt_meta', 'pkt_end', 'mem', 'sock', 'sock_common', 'tcp_sock', 'func'];

export function regText(v: ProgramView, r: Reg): string {
  if (r.type === T.Scalar) return scalarText(r);
  if (r.type === T.Stack && r.isConst()) return `fp${r.off + Number(BigInt.asIntN(64, r.tv)) || '0'}`;
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id}`);
  if (r.ref) parts.push(`ref_obj_id=${r.ref}`);
  if (r.off) parts.push(`off=${r.off}`);
  if (r.type === T.Pkt || r.type === T.PktMeta) parts.push(`r=${r.range}`);
  if (r.type === T.MapPtr || r.type === T.MapValue || r.type === T.MapKey) {
    const m = v.maps[r.map];
    parts.push(`map=${v.mapNames[r.map] ?? '?'}`);
    if (m) parts.push(`ks=${m.keySize},vs=${m.valueSize}`);
  }
  if (r.type === T.Mem) parts.push(`sz=${r.mem}`);
  if (!r.isConst()) {
    const s = scalarText(r);
    parts.push(s.slice('scalar('.length, -1));
  }
  return `${NAMES[r.type]}${r.nul ? '_or_null' : ''}(${parts.join(',')})`;
}

export function formatState(v: ProgramView, st: State): string {
  const out: string[] = [];
  for (let f = 0; f < st.frames.length; f++) {
    const fr = st.frames[f]!;
    const prefix = st.frames.length > 1 ? `frame${f}: ` : '';
    const items: string[] = [];
    for (let r = 0; r <= 10; r++) {
      const reg = fr.regs[r]!;
      if (reg.type === T.NotInit) continue;
      items.push(`R${r}=${regText(v, reg)}`);
    }
    for (let s = 63; s >= 0; s--) {
      const base = s * 8;
      let any = false;
      let text = '';
      for (let b = 7; b >= 0; b--) {
        const t = fr.slot[base + b]!;
        if (t !== Slot.Invalid) any = true;
        text += t === Slot.Misc ? 'm' : t === Slot.Zero ? '0' : t === Slot.Spill ? 'r' : '?';
      }
      if (!any) continue;
      const sp = fr.spill[s];
      items.push(`fp${base - 512}=${sp && fr.slot[base] === Slot.Spill ? regText(v, sp) : text}`);
    }
    out.push(prefix + items.join(' '));
  }
  return out.join(' | ');
}
