/**
 * The load balancer's control-plane state, kept in TypeScript, and the map writes that turn one
 * state into another. `LoadBalancer` (control.ts) applies the writes to real maps; `model.ts`
 * runs frames against a state to predict what the data plane does.
 */
import { ArgumentError } from '../../lib/errors.js';
import { parseIp, parseMac } from '../common/packets.js';
import {
  EMPTY_SLOT, MAX_BACKENDS, MAX_VIPS, PROTOCOLS, VIP_FLAGS, encodeBackend, encodeCtl, encodeVipAddrKey,
  encodeVipKey, encodeVipMeta, u32, vipIdString, type CtlConfig, type ProtocolName, type VipFlagName, type VipId,
} from './layout.js';
import { buildMaglevRing, ringDiff } from './maglev.js';

export interface BackendState {
  id: number;
  address: string;
  weight: number;
}

export interface VipState {
  id: VipId;
  vipNum: number;
  flags: VipFlagName[];
  backends: BackendState[];
  ring: Uint32Array;
}

/** One batch of writes for one map; keys and values are raw bytes. */
export interface MapWrites {
  map: 'vips' | 'vip_addrs' | 'rings' | 'backends' | 'ctl';
  updates: [Uint8Array, Uint8Array][];
  deletes: Uint8Array[];
}

export function flagBits(flags: readonly VipFlagName[]): number {
  return flags.reduce((acc, f) => acc | VIP_FLAGS[f], 0);
}

function canonicalAddress(address: string): string {
  return Buffer.from(parseIp(address).bytes).toString('hex');
}

/**
 * Control-plane state. Every mutating method returns the map writes, in the order they must be
 * applied so that traffic never sees a half-built VIP: backends are written before ring slots
 * point at them, and ring slots stop pointing at a backend before it is cleared.
 */
export class LbState {
  readonly vips = new Map<string, VipState>();
  ctl: CtlConfig;

  constructor(readonly ringSize: number, ctl: CtlConfig) {
    this.ctl = ctl;
  }

  vip(id: VipId): VipState {
    const v = this.vips.get(vipIdString(id));
    if (!v) throw new ArgumentError(`lb: no VIP ${vipIdString(id)}`);
    return v;
  }

  /** Backend ids in use, across VIPs. */
  private usedBackendIds(): Set<number> {
    const s = new Set<number>();
    for (const v of this.vips.values()) for (const b of v.backends) s.add(b.id);
    return s;
  }

  private vipsOnAddress(address: string): number {
    const canon = canonicalAddress(address);
    let n = 0;
    for (const v of this.vips.values()) if (canonicalAddress(v.id.address) === canon) n++;
    return n;
  }

  setCtl(ctl: CtlConfig): MapWrites[] {
    this.ctl = ctl;
    return [{ map: 'ctl', updates: [[u32(0), encodeCtl(ctl)]], deletes: [] }];
  }

  addVip(id: VipId, flags: VipFlagName[] = []): MapWrites[] {
    if (!(id.protocol in PROTOCOLS)) throw new ArgumentError(`lb: unknown protocol ${JSON.stringify(id.protocol)}`);
    if (!Number.isInteger(id.port) || id.port < 0 || id.port > 65535) throw new ArgumentError(`lb: port ${id.port} out of range 0..65535`);
    parseIp(id.address);
    const key = vipIdString(id);
    if (this.vips.has(key)) throw new ArgumentError(`lb: VIP ${key} exists already`);
    const used = new Set([...this.vips.values()].map((v) => v.vipNum));
    let vipNum = 0;
    while (used.has(vipNum)) vipNum++;
    if (vipNum >= MAX_VIPS) throw new ArgumentError(`lb: at most ${MAX_VIPS} VIPs`);
    const vip: VipState = { id, vipNum, flags: [...flags], backends: [], ring: new Uint32Array(this.ringSize).fill(EMPTY_SLOT) };
    this.vips.set(key, vip);
    return [
      this.ringWrites(vip, undefined),
      { map: 'vips', updates: [[encodeVipKey(id), encodeVipMeta(vipNum, flagBits(flags))]], deletes: [] },
      { map: 'vip_addrs', updates: [[encodeVipAddrKey(id.address), u32(this.vipsOnAddress(id.address))]], deletes: [] },
    ];
  }

  setVipFlags(id: VipId, flags: VipFlagName[]): MapWrites[] {
    const vip = this.vip(id);
    vip.flags = [...flags];
    return [{ map: 'vips', updates: [[encodeVipKey(id), encodeVipMeta(vip.vipNum, flagBits(flags))]], deletes: [] }];
  }

  removeVip(id: VipId): MapWrites[] {
    const vip = this.vip(id);
    this.vips.delete(vipIdString(id));
    const left = this.vipsOnAddress(id.address);
    const addrWrite: MapWrites = left > 0
      ? { map: 'vip_addrs', updates: [[encodeVipAddrKey(id.address), u32(left)]], deletes: [] }
      : { map: 'vip_addrs', updates: [], deletes: [encodeVipAddrKey(id.address)] };
    const empty = new Uint32Array(this.ringSize).fill(EMPTY_SLOT);
    const old = vip.ring;
    vip.ring = empty;
    return [
      { map: 'vips', updates: [], deletes: [encodeVipKey(id)] },
      addrWrite,
      this.ringWrites(vip, old),
      { map: 'backends', updates: vip.backends.map((b) => [u32(b.id), encodeBackend(undefined, 0, 0)]), deletes: [] },
    ];
  }

  addBackend(id: VipId, address: string, weight = 1): MapWrites[] {
    const vip = this.vip(id);
    const fam = parseIp(address).family;
    if (fam === 4 && parseIp(vip.id.address).family === 6) throw new ArgumentError(`lb: IPv6 VIP ${vipIdString(id)} cannot use IPv4 backend ${address}`);
    if (!Number.isInteger(weight) || weight < 0 || weight > 65535) throw new ArgumentError(`lb: weight ${weight} out of range 0..65535`);
    const canon = canonicalAddress(address);
    if (vip.backends.some((b) => canonicalAddress(b.address) === canon)) throw new ArgumentError(`lb: VIP ${vipIdString(id)} has backend ${address} already`);
    const used = this.usedBackendIds();
    let bid = 0;
    while (used.has(bid)) bid++;
    if (bid >= MAX_BACKENDS) throw new ArgumentError(`lb: at most ${MAX_BACKENDS} backends`);
    vip.backends.push({ id: bid, address, weight });
    return [
      { map: 'backends', updates: [[u32(bid), encodeBackend(address, vip.vipNum, weight)]], deletes: [] },
      this.rebuild(vip),
    ];
  }

  removeBackend(id: VipId, address: string): MapWrites[] {
    const vip = this.vip(id);
    const canon = canonicalAddress(address);
    const i = vip.backends.findIndex((b) => canonicalAddress(b.address) === canon);
    if (i < 0) throw new ArgumentError(`lb: VIP ${vipIdString(id)} has no backend ${address}`);
    const [gone] = vip.backends.splice(i, 1);
    return [
      this.rebuild(vip),
      { map: 'backends', updates: [[u32(gone!.id), encodeBackend(undefined, 0, 0)]], deletes: [] },
    ];
  }

  setWeight(id: VipId, address: string, weight: number): MapWrites[] {
    const vip = this.vip(id);
    const canon = canonicalAddress(address);
    const b = vip.backends.find((x) => canonicalAddress(x.address) === canon);
    if (!b) throw new ArgumentError(`lb: VIP ${vipIdString(id)} has no backend ${address}`);
    if (!Number.isInteger(weight) || weight < 0 || weight > 65535) throw new ArgumentError(`lb: weight ${weight} out of range 0..65535`);
    b.weight = weight;
    return [
      { map: 'backends', updates: [[u32(b.id), encodeBackend(b.address, vip.vipNum, weight)]], deletes: [] },
      this.rebuild(vip),
    ];
  }

  /**
   * Make the VIP's backends exactly `want` (by address), rebuilding the ring once: new and
   * re-weighted backend entries are written first, then the changed ring slots in one batch, then
   * the removed backends' entries are cleared.
   */
  setBackends(id: VipId, want: readonly { address: string; weight: number }[]): { writes: MapWrites[]; changes: string[] } {
    const vip = this.vip(id);
    const changes: string[] = [];
    const first: MapWrites = { map: 'backends', updates: [], deletes: [] };
    const last: MapWrites = { map: 'backends', updates: [], deletes: [] };
    const wanted = new Map(want.map((w) => [canonicalAddress(w.address), w]));
    for (const b of [...vip.backends]) {
      if (!wanted.has(canonicalAddress(b.address))) {
        vip.backends.splice(vip.backends.indexOf(b), 1);
        last.updates.push([u32(b.id), encodeBackend(undefined, 0, 0)]);
        changes.push(`remove backend ${b.address}`);
      }
    }
    // Ids freed by this change are cleared last, so they are not handed out again in it.
    const used = this.usedBackendIds();
    for (const [k] of last.updates) used.add(new DataView(k.buffer, k.byteOffset).getUint32(0, true));
    for (const w of want) {
      const have = vip.backends.find((b) => canonicalAddress(b.address) === canonicalAddress(w.address));
      if (have) {
        if (have.weight !== w.weight) {
          changes.push(`set weight of ${w.address} from ${have.weight} to ${w.weight}`);
          have.weight = w.weight;
          first.updates.push([u32(have.id), encodeBackend(have.address, vip.vipNum, w.weight)]);
        }
        continue;
      }
      let bid = 0;
      while (used.has(bid)) bid++;
      if (bid >= MAX_BACKENDS) throw new ArgumentError(`lb: at most ${MAX_BACKENDS} backends`);
      used.add(bid);
      vip.backends.push({ id: bid, address: w.address, weight: w.weight });
      first.updates.push([u32(bid), encodeBackend(w.address, vip.vipNum, w.weight)]);
      changes.push(`add backend ${w.address} weight ${w.weight}`);
    }
    if (changes.length === 0) return { writes: [], changes };
    return { writes: [first, this.rebuild(vip), last], changes };
  }

  /** Re-create a VIP read back from the maps (no map writes). */
  restoreVip(id: VipId, vipNum: number, flags: VipFlagName[]): void {
    this.vips.set(vipIdString(id), { id, vipNum, flags, backends: [], ring: new Uint32Array(this.ringSize).fill(EMPTY_SLOT) });
  }

  /** Re-create a backend read back from the maps (no map writes). */
  restoreBackend(id: VipId, backendId: number, address: string, weight: number): void {
    this.vip(id).backends.push({ id: backendId, address, weight });
  }

  /** Recompute every VIP's ring from its backends (after restoring; no map writes). */
  rebuildAll(): void {
    for (const v of this.vips.values()) this.rebuild(v);
  }

  private rebuild(vip: VipState): MapWrites {
    const old = vip.ring;
    vip.ring = buildMaglevRing(
      vip.backends.map((b) => ({ id: b.id, identity: parseIp(b.address).bytes, weight: b.weight })),
      this.ringSize,
    );
    return this.ringWrites(vip, old);
  }

  /** Ring slots that differ from `old` (all slots when undefined), as one batch. */
  private ringWrites(vip: VipState, old: Uint32Array | undefined): MapWrites {
    const ring = vip.ring;
    const slots = old ? ringDiff(old, ring) : undefined;
    const n = slots ? slots.length : ring.length;
    const base = vip.vipNum * this.ringSize;
    // One packed buffer for keys and one for values; the updates are views into them.
    const keys = new Uint8Array(n * 4);
    const values = new Uint8Array(n * 4);
    const kv = new DataView(keys.buffer);
    const vv = new DataView(values.buffer);
    const updates: [Uint8Array, Uint8Array][] = new Array(n);
    for (let i = 0; i < n; i++) {
      const slot = slots ? slots[i]! : i;
      kv.setUint32(i * 4, base + slot, true);
      vv.setUint32(i * 4, ring[slot]!, true);
      updates[i] = [keys.subarray(i * 4, i * 4 + 4), values.subarray(i * 4, i * 4 + 4)];
    }
    return { map: 'rings', updates, deletes: [] };
  }

}

export function ctlFromConfig(c: { gatewayMac: string; sourcePrefix4: string; sourcePrefix6: string; maxPacketSize: number }): CtlConfig {
  return {
    gatewayMac: parseMac(c.gatewayMac),
    sourcePrefix4: parseIp(c.sourcePrefix4).bytes,
    sourcePrefix6: parseIp(c.sourcePrefix6).bytes,
    maxPacketSize: c.maxPacketSize,
  };
}

export type { ProtocolName };
