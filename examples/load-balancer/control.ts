/**
 * The load balancer's control plane: `LoadBalancer` loads lb.bpf.c (on the kernel or the
 * emulator), keeps the control-plane state in TypeScript, and writes only what changes into the
 * data plane's maps — Maglev ring updates go out as one batch of the changed slots.
 */
import { ArgumentError, BpfError } from '../../lib/errors.js';
import { BpfMap } from '../../lib/object/map.js';
import { openObject } from '../../lib/object/object.js';
import { datasecVariable } from '../../lib/object/codec.js';
import { BtfKind } from '../../lib/btf/index.js';
import { join } from 'node:path';
import { load, type BpfObject } from '../../lib/index.js';
import type { BackendOption } from '../../lib/object/registry.js';
import type { Link } from '../../lib/object/link.js';
import type { XdpMode } from '../../lib/backend.js';
import { formatIp, parseIp } from '../common/packets.js';
import { exampleAsset } from '../common/paths.js';
import { DEFAULTS, type LbConfig, type VipConfig } from './config.js';
import { FLOW_HASH_SEED, hashBytes } from './hash.js';
import {
  DEFAULT_RING_SIZE, EMPTY_SLOT, MAX_BACKENDS, MAX_VIPS, RING_SIZE_MAX, VERDICTS, VIP_FLAGS, decodeBackend, decodeVipMeta, encodeFlowKey,
  u32, vipIdString, type Flow, type ProtocolName, type VerdictName, type VipFlagName, type VipId,
} from './layout.js';
import { isPrime } from './maglev.js';
import { ctlFromConfig, flagBits, LbState, type MapWrites } from './state.js';

export const LB_OBJECT = exampleAsset(import.meta.url, './lb.bpf.o');

/** The maps the control plane writes, by name. */
export type LbMapName = MapWrites['map'] | 'conn_table' | 'vip_stats' | 'backend_stats' | 'verdicts' | 'lru_stats';
export const LB_MAP_NAMES: readonly LbMapName[] = ['vips', 'vip_addrs', 'rings', 'backends', 'ctl', 'conn_table', 'vip_stats', 'backend_stats', 'verdicts', 'lru_stats'];

/** What LoadBalancer needs from a loaded object: its maps by name and a way to run the program. */
export interface LbDataPlane {
  map(name: LbMapName): BpfMap<Uint8Array, Uint8Array>;
  /** BPF_PROG_TEST_RUN-style run of xdp_lb (kernel or emulator). */
  run(frame: Uint8Array): { retval: number; data: Uint8Array };
  possibleCpus: number;
}

export interface VipStats {
  vip: string;
  packets: bigint;
  bytes: bigint;
}

export interface BackendStats {
  vip: string;
  address: string;
  packets: bigint;
  bytes: bigint;
}

export interface LbStats {
  vips: VipStats[];
  backends: BackendStats[];
  verdicts: Record<VerdictName, bigint>;
  lru: { hits: bigint; misses: bigint };
}

export interface SimulateResult {
  action: 'aborted' | 'drop' | 'pass' | 'tx' | 'redirect';
  frame: Uint8Array;
}

export interface ApplyResult {
  /** Human-readable changes, in the order applied. */
  changes: string[];
  /** Ring slots written (all VIPs). */
  ringSlots: number;
}

function sumPerCpu(values: Uint8Array | Uint8Array[] | undefined, off: number): bigint {
  if (values === undefined) return 0n;
  const list = Array.isArray(values) ? values : [values];
  let s = 0n;
  for (const v of list) s += new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(off, true);
  return s;
}

export interface LoadBalancerOptions {
  backend?: BackendOption;
  /** Maglev ring size M, a prime ≤ 65537 (set in the data plane's `.rodata` before load). */
  ringSize?: number;
  /** The compiled lb object (default: the committed lb.bpf.o). */
  object?: string | Uint8Array;
  gatewayMac?: string;
  sourcePrefix4?: string;
  sourcePrefix6?: string;
  maxPacketSize?: number;
}

/** The data plane of a loaded lb object. */
export function dataPlaneOf(obj: BpfObject): LbDataPlane {
  const raw = new Map<string, BpfMap<Uint8Array, Uint8Array>>();
  const prog = obj.program('xdp_lb');
  return {
    map(name) {
      let m = raw.get(name);
      if (!m) raw.set(name, (m = obj.map(name).raw));
      return m;
    },
    run: (frame) => prog.run({ data: frame }),
    possibleCpus: obj.backend.possibleCpus,
  };
}

/** File names under a balancer's pin directory. */
export const LINK_PIN = 'link';
export const RODATA_PIN = 'rodata';

/** Offset of `ring_size` in the lb object's .rodata, from its BTF. */
function ringSizeOffset(): number {
  const spec = openObject(LB_OBJECT);
  const btf = spec.btf;
  const ds = btf?.types.find((t) => t.kind === BtfKind.Datasec && t.name === '.rodata');
  const v = btf && ds ? datasecVariable(btf, ds.id, 'ring_size') : undefined;
  if (!v) throw new BpfError('LB_OBJECT', `lb: ${LB_OBJECT} has no ring_size in .rodata`);
  return v.off;
}

/**
 * Re-open a balancer whose maps were pinned in `dir` by `bpfkit lb apply` (kernel), with the ring
 * size read back from its pinned `.rodata`.
 */
export async function openPinnedDataPlane(dir: string): Promise<{ plane: LbDataPlane; ringSize: number; close(): void }> {
  const maps = new Map<string, BpfMap<Uint8Array, Uint8Array>>();
  const owned: BpfMap[] = [];
  const close = () => { for (const m of owned) m.close(); };
  try {
    for (const name of [...LB_MAP_NAMES, RODATA_PIN]) {
      const m = await BpfMap.openPinned(join(dir, name), { backend: 'kernel' });
      owned.push(m);
      maps.set(name, m.raw);
    }
  } catch (e) {
    close();
    throw new BpfError('LB_NOT_RUNNING', `lb: no running balancer pinned at ${dir} (${(e as Error).message})`, { cause: e });
  }
  const rodata = maps.get(RODATA_PIN)!.lookup(new Uint8Array(4))!;
  const ringSize = new DataView(rodata.buffer, rodata.byteOffset).getUint32(ringSizeOffset(), true);
  const first = maps.get('ctl')!;
  const plane: LbDataPlane = {
    map: (name: LbMapName) => maps.get(name)!,
    run: () => { throw new BpfError('LB_NO_PROGRAM', 'lb: a balancer re-opened from pins cannot run test frames'); },
    possibleCpus: first.backend.possibleCpus,
  };
  return { plane, ringSize, close };
}

export class LoadBalancer {
  readonly state: LbState;
  /** The loaded object when the LoadBalancer loaded it itself (LoadBalancer.load). */
  object?: BpfObject;

  /** Load lb.bpf.o on `backend` and set up an empty balancer. */
  static async load(opts: LoadBalancerOptions = {}): Promise<LoadBalancer> {
    const ringSize = opts.ringSize ?? DEFAULT_RING_SIZE;
    if (!Number.isInteger(ringSize) || ringSize < 2 || ringSize > RING_SIZE_MAX || !isPrime(ringSize)) {
      throw new ArgumentError(`lb: ring size must be a prime in 2..${RING_SIZE_MAX}, got ${ringSize}`);
    }
    const obj = await load(opts.object ?? LB_OBJECT, { backend: opts.backend, globals: { ring_size: ringSize } });
    try {
      const lb = new LoadBalancer(dataPlaneOf(obj), ringSize, ctlFromConfig({
        gatewayMac: opts.gatewayMac ?? '00:00:00:00:00:00',
        sourcePrefix4: opts.sourcePrefix4 ?? DEFAULTS.sourcePrefix4,
        sourcePrefix6: opts.sourcePrefix6 ?? DEFAULTS.sourcePrefix6,
        maxPacketSize: opts.maxPacketSize ?? DEFAULTS.maxPacketSize,
      }));
      lb.object = obj;
      return lb;
    } catch (e) {
      obj.close();
      throw e;
    }
  }

  /** Attach the data plane to an interface with XDP (kernel: a real device; emulator: a simulated one). */
  attach(dev: string | number, opts: { mode?: XdpMode } = {}): Link {
    if (!this.object) throw new ArgumentError('lb attach: this LoadBalancer was not loaded by LoadBalancer.load');
    return this.object.program('xdp_lb').attachXdp(dev, opts);
  }

  close(): void {
    this.object?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  constructor(readonly plane: LbDataPlane, ringSize: number, ctl = ctlFromConfig({ gatewayMac: '00:00:00:00:00:00', ...DEFAULTS })) {
    this.state = new LbState(ringSize, ctl);
    this.write(this.state.setCtl(ctl));
  }

  /**
   * Rebuild the control-plane state from what the maps hold (after re-opening pinned maps): the
   * VIPs with their flags, and every backend with its VIP and weight.
   */
  static fromMaps(plane: LbDataPlane, ringSize: number): LoadBalancer {
    const ctlBytes = plane.map('ctl').lookup(u32(0));
    const lb = Object.create(LoadBalancer.prototype) as LoadBalancer;
    const ctl = ctlFromConfig({ gatewayMac: '00:00:00:00:00:00', ...DEFAULTS });
    if (ctlBytes) {
      ctl.gatewayMac = ctlBytes.slice(0, 6);
      ctl.sourcePrefix4 = ctlBytes.slice(8, 12);
      ctl.sourcePrefix6 = ctlBytes.slice(12, 28);
      ctl.maxPacketSize = new DataView(ctlBytes.buffer, ctlBytes.byteOffset).getUint32(28, true);
    }
    Object.assign(lb, { plane, state: new LbState(ringSize, ctl) });
    const byNum = new Map<number, VipId>();
    for (const [k, v] of plane.map('vips').entries()) {
      const family = k[19]!;
      const address = formatIp(k.slice(0, family === 4 ? 4 : 16));
      const port = (k[16]! << 8) | k[17]!;
      const protocol = (Object.entries({ tcp: 6, udp: 17, icmp: 1, icmpv6: 58 }).find(([, n]) => n === k[18])?.[0] ?? 'tcp') as ProtocolName;
      const meta = decodeVipMeta(v);
      const flags = (Object.keys(VIP_FLAGS) as VipFlagName[]).filter((f) => meta.flags & VIP_FLAGS[f]);
      const id: VipId = { address, port, protocol };
      lb.state.restoreVip(id, meta.vipNum, flags);
      byNum.set(meta.vipNum, id);
    }
    for (const [k, v] of plane.map('backends').entries()) {
      const b = decodeBackend(v);
      if (!b.family) continue;
      const vip = byNum.get(b.vipNum);
      if (vip) lb.state.restoreBackend(vip, new DataView(k.buffer, k.byteOffset).getUint32(0, true), formatIp(b.addr), b.weight);
    }
    lb.state.rebuildAll();
    return lb;
  }

  private write(batches: MapWrites[]): number {
    let ringSlots = 0;
    for (const w of batches) {
      const m = this.plane.map(w.map);
      if (w.updates.length > 1) {
        m.updateBatch(w.updates.map(([k]) => k), w.updates.map(([, v]) => v));
      } else if (w.updates.length === 1) {
        m.update(w.updates[0]![0], w.updates[0]![1]);
      }
      for (const k of w.deletes) m.delete(k);
      if (w.map === 'rings') ringSlots += w.updates.length;
    }
    return ringSlots;
  }

  addVip(vip: VipId, flags: VipFlagName[] = []): void {
    this.write(this.state.addVip(vip, flags));
  }

  removeVip(vip: VipId): void {
    this.write(this.state.removeVip(vip));
  }

  addBackend(vip: VipId, address: string, weight = 1): void {
    this.write(this.state.addBackend(vip, address, weight));
  }

  removeBackend(vip: VipId, address: string): void {
    this.write(this.state.removeBackend(vip, address));
  }

  setWeight(vip: VipId, address: string, weight: number): void {
    this.write(this.state.setWeight(vip, address, weight));
  }

  setGatewayMac(mac: string): void {
    const c = this.state.ctl;
    this.write(this.state.setCtl({ ...c, gatewayMac: ctlFromConfig({ ...DEFAULTS, gatewayMac: mac }).gatewayMac }));
  }

  /** Bring the running state to `config`, writing only what differs. */
  apply(config: LbConfig): ApplyResult {
    if (config.ringSize !== this.state.ringSize) {
      throw new ArgumentError(`lb apply: the running data plane has ring size ${this.state.ringSize}, the config asks for ${config.ringSize} (reload to change it)`);
    }
    const changes: string[] = [];
    let ringSlots = 0;
    const ctl = ctlFromConfig(config);
    const cur = this.state.ctl;
    const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
    if (!same(cur.gatewayMac, ctl.gatewayMac) || !same(cur.sourcePrefix4, ctl.sourcePrefix4) || !same(cur.sourcePrefix6, ctl.sourcePrefix6) || cur.maxPacketSize !== ctl.maxPacketSize) {
      this.write(this.state.setCtl(ctl));
      changes.push(`set gateway ${config.gatewayMac}, outer sources ${config.sourcePrefix4} / ${config.sourcePrefix6}, max packet ${config.maxPacketSize}`);
    }
    const want = new Map(config.vips.map((v) => [vipIdString(v), v]));
    for (const [key, v] of [...this.state.vips]) {
      if (!want.has(key)) {
        ringSlots += this.write(this.state.removeVip(v.id));
        changes.push(`remove VIP ${key}`);
      }
    }
    for (const [key, v] of want) {
      const id: VipId = { address: v.address, port: v.port, protocol: v.protocol };
      const have = this.state.vips.get(key);
      if (!have) {
        ringSlots += this.write(this.state.addVip(id, v.flags));
        changes.push(`add VIP ${key}${v.flags.length ? ` [${v.flags.join(', ')}]` : ''}`);
      } else if (flagBits(have.flags) !== flagBits(v.flags)) {
        this.write(this.state.setVipFlags(id, v.flags));
        changes.push(`set flags of VIP ${key} to [${v.flags.join(', ')}]`);
      }
      const r = this.state.setBackends(id, v.backends);
      ringSlots += this.write(r.writes);
      changes.push(...r.changes.map((c) => `${c} (VIP ${key})`));
    }
    return { changes, ringSlots };
  }

  /** Per-VIP, per-backend, per-verdict and connection-table counters, summed over CPUs. */
  stats(): LbStats {
    const vips: VipStats[] = [];
    const backends: BackendStats[] = [];
    for (const [key, v] of this.state.vips) {
      const c = this.plane.map('vip_stats').lookup(u32(v.vipNum)) as unknown as Uint8Array[];
      vips.push({ vip: key, packets: sumPerCpu(c, 0), bytes: sumPerCpu(c, 8) });
      for (const b of v.backends) {
        const bc = this.plane.map('backend_stats').lookup(u32(b.id)) as unknown as Uint8Array[];
        backends.push({ vip: key, address: b.address, packets: sumPerCpu(bc, 0), bytes: sumPerCpu(bc, 8) });
      }
    }
    const verdicts = Object.fromEntries(VERDICTS.map((name, i) => [name, sumPerCpu(this.plane.map('verdicts').lookup(u32(i)) as unknown as Uint8Array[], 0)])) as Record<VerdictName, bigint>;
    const lru = this.plane.map('lru_stats');
    return {
      vips,
      backends,
      verdicts,
      lru: { hits: sumPerCpu(lru.lookup(u32(0)) as unknown as Uint8Array[], 0), misses: sumPerCpu(lru.lookup(u32(1)) as unknown as Uint8Array[], 0) },
    };
  }

  /**
   * The backend address the data plane picks for `flow`: the connection table's entry when the
   * flow is known (and its backend still exists), else the VIP's Maglev ring. Undefined when the
   * flow hits no VIP or the VIP has no backend.
   */
  backendFor(flow: Flow, opts: { newConnection?: boolean } = {}): string | undefined {
    const proto = typeof flow.protocol === 'number' ? flow.protocol : ({ tcp: 6, udp: 17, icmp: 1, icmpv6: 58 } as const)[flow.protocol];
    const dst = parseIp(flow.dst).bytes;
    const find = (port: number) => [...this.state.vips.values()].find((v) => {
      const a = parseIp(v.id.address).bytes;
      return v.id.port === port && ({ tcp: 6, udp: 17, icmp: 1, icmpv6: 58 } as const)[v.id.protocol] === proto && a.length === dst.length && a.every((x, i) => x === dst[i]);
    });
    const vip = find(flow.dport) ?? find(0);
    if (!vip) return undefined;
    const key = encodeFlowKey(flow);
    const byId = (id: number) => vip.backends.find((b) => b.id === id) ?? [...this.state.vips.values()].flatMap((v) => v.backends).find((b) => b.id === id);
    if (!opts.newConnection) {
      const c = this.plane.map('conn_table').lookup(key);
      if (c) {
        const known = byId(new DataView(c.buffer, c.byteOffset).getUint32(0, true));
        if (known) return known.address;
      }
    }
    const hk = key.slice();
    const flags = flagBits(vip.flags);
    if (flags & VIP_FLAGS['hash-dport-only']) hk.fill(0, 0, 34);
    else if (flags & VIP_FLAGS['hash-no-src-port']) hk.fill(0, 32, 34);
    const slot = vip.ring[hashBytes(hk, FLOW_HASH_SEED) % this.state.ringSize]!;
    if (slot === EMPTY_SLOT) return undefined;
    return byId(slot)?.address;
  }

  /** Run one frame through the data plane (BPF_PROG_TEST_RUN on the kernel, the JIT on the emulator). */
  simulate(frame: Uint8Array): SimulateResult {
    const r = this.plane.run(frame);
    const action = (['aborted', 'drop', 'pass', 'tx', 'redirect'] as const)[r.retval] ?? 'aborted';
    return { action, frame: r.data };
  }

  /** Empty the connection table (e.g. between test scenarios). */
  clearConnections(): void {
    const m = this.plane.map('conn_table');
    for (const k of [...m.keys()]) m.delete(k);
  }
}

export { MAX_BACKENDS, MAX_VIPS };
export type { VipConfig };
