/**
 * Contexts of tracing programs: a tracepoint's ctx is the record whose layout the caller
 * supplies (the bytes of the tracepoint's `format`, common fields first); a raw tracepoint's ctx
 * is an array of u64 arguments; a uprobe's ctx is `struct pt_regs`. All are read-only regions.
 */
import { ArgumentError } from '../../lib/errors.js';
import type { AddressSpace, Region } from '../memory/index.js';
import { RegionFlag, RegionKind } from '../memory/index.js';

export class BytesContext {
  readonly region: Region;
  readonly bytes: Uint8Array;
  constructor(space: AddressSpace, bytes: Uint8Array, name: string, writable = false) {
    this.bytes = bytes;
    this.region = space.allocate(RegionKind.Ctx, name).setBytes(bytes).configure(writable ? RegionFlag.Read | RegionFlag.Write : RegionFlag.Read);
    this.region.owner = this;
  }
  release(space: AddressSpace): void {
    space.release(this.region);
  }
}

/** A field of a tracepoint record layout. */
export interface TracepointField {
  name: string;
  offset: number;
  size: number;
  signed?: boolean;
}

/**
 * Build a tracepoint record from a field layout and values (numbers/bigints for integers,
 * Uint8Array or string for arrays). The common header (type, flags, preempt_count, pid) is part
 * of the layout the caller gives, as in the tracepoint's `format` file.
 */
export function tracepointRecord(fields: readonly TracepointField[], values: Record<string, number | bigint | string | Uint8Array>, size?: number): Uint8Array {
  const total = size ?? fields.reduce((m, f) => Math.max(m, f.offset + f.size), 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  for (const f of fields) {
    const v = values[f.name];
    if (v === undefined) continue;
    if (typeof v === 'string' || v instanceof Uint8Array) {
      const b = typeof v === 'string' ? new TextEncoder().encode(v) : v;
      out.set(b.subarray(0, f.size), f.offset);
      continue;
    }
    const n = BigInt(v);
    switch (f.size) {
      case 1: dv.setUint8(f.offset, Number(BigInt.asUintN(8, n))); break;
      case 2: dv.setUint16(f.offset, Number(BigInt.asUintN(16, n)), true); break;
      case 4: dv.setUint32(f.offset, Number(BigInt.asUintN(32, n)), true); break;
      case 8: dv.setBigUint64(f.offset, BigInt.asUintN(64, n), true); break;
      default: throw new ArgumentError(`tracepoint record: field ${f.name} is ${f.size} bytes (integer fields are 1, 2, 4 or 8 bytes; pass a string or bytes for arrays)`);
    }
  }
  return out;
}

/** A raw tracepoint ctx: u64 args back to back. */
export function rawTracepointArgs(args: readonly (number | bigint)[]): Uint8Array {
  const out = new Uint8Array(args.length * 8);
  const dv = new DataView(out.buffer);
  args.forEach((a, i) => dv.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(a)), true));
  return out;
}
