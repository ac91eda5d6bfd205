/**
 * BPF_MAP_TYPE_PROG_ARRAY: tail call targets. User space stores a program id (the kernel takes an
 * fd) and reads back the program id, like the kernel. All programs in one prog array must share a
 * program type (the first one stored decides), else EINVAL. Programs cannot look slots up.
 */
import type { MapSpec } from '../../lib/spec/index.js';
import { Errno, readU32, type SimMapOptions } from './base.js';
import { programById } from './registry.js';
import { SlotArrayMap } from './slot-array.js';

/** What a prog array needs from an emulator program. */
export interface TailCallTarget {
  readonly id: number;
  readonly type: string;
  readonly name: string;
}

export class ProgArrayMap extends SlotArrayMap<TailCallTarget> {
  ownerType: string | undefined;

  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts);
  }

  protected resolve(value: Uint8Array): TailCallTarget | number {
    const id = readU32(value, 0);
    const p = programById<TailCallTarget>(id);
    if (!p) return -Errno.EINVAL;
    if (this.ownerType !== undefined && this.ownerType !== p.type) return -Errno.EINVAL;
    this.ownerType ??= p.type;
    return p;
  }

  /** Store a program directly (load-time `values = {...}` and the object layer). */
  setProgram(index: number, prog: TailCallTarget): void {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, prog.id, true);
    this.update(new Uint8Array(new Uint32Array([index]).buffer), v, 0);
  }

  override progLookup(): Uint8Array | null {
    return null;
  }

  protected override updateHint(errno: number): string | undefined {
    if (errno === Errno.EINVAL) return 'the value must be the id of a loaded emulator program of the same type as the others in the array';
    return super.updateHint(errno);
  }
}
