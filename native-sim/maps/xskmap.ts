/**
 * BPF_MAP_TYPE_XSKMAP: AF_XDP socket per queue index. User space stores a simulated XSK socket id
 * (native-sim/net/xsk.ts; the kernel takes a socket fd); slots cannot be read from user space
 * (EOPNOTSUPP, as the kernel). A program lookup yields `struct bpf_xdp_sock { u32 queue_id }`.
 */
import type { MapSpec } from '../../lib/spec/index.js';
import { Errno, readU32, writeU32, type SimMapOptions } from './base.js';
import { SlotArrayMap } from './slot-array.js';

/** What an xskmap needs from a simulated AF_XDP socket. */
export interface XskTarget {
  readonly id: number;
  readonly queueId: number;
  deliver(frame: Uint8Array): boolean;
}

const sockets = new Map<number, XskTarget>();

/** Make a simulated socket storable by id. */
export function registerXsk(sock: XskTarget): void {
  sockets.set(sock.id, sock);
}
export function unregisterXsk(id: number): void {
  sockets.delete(id);
}

export class XskMap extends SlotArrayMap<XskTarget> {
  protected override readonly userLookup = false;
  private readonly views: Uint8Array[] = [];
  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts);
  }
  protected resolve(value: Uint8Array): XskTarget | number {
    const s = sockets.get(readU32(value, 0));
    return s ?? -Errno.EBADF;
  }
  override progLookup(kb: Uint8Array, koff: number): Uint8Array | null {
    const i = readU32(kb, koff);
    const t = this.target(i);
    if (!t) return null;
    const v = (this.views[i] ??= new Uint8Array(4));
    writeU32(v, 0, t.queueId);
    return v;
  }
}
