/**
 * A reference model of lb.bpf.c written from its specification in TypeScript: given the
 * control-plane state and a frame, what the data plane must do (action, output bytes, counters).
 * The fixture suite's expected values come from here, and both the emulator and the kernel must
 * reproduce them byte for byte.
 */
import { foldChecksum, onesSum } from '../common/packets.js';
import { hashBytes, FLOW_HASH_SEED } from './hash.js';
import { EMPTY_SLOT, MAX_BACKENDS, MAX_VIPS, SIZES, VIP_FLAGS, type VerdictName } from './layout.js';
import { flagBits, type LbState } from './state.js';
import { parseIp } from '../common/packets.js';

export type XdpAction = 'drop' | 'pass' | 'tx';
export const XDP_ACTION_CODES: Record<XdpAction, number> = { drop: 1, pass: 2, tx: 3 };

export interface CounterDeltas {
  verdicts: Partial<Record<VerdictName, number>>;
  /** vip_num → [packets, bytes] */
  vips: Record<number, [number, number]>;
  /** backend id → [packets, bytes] */
  backends: Record<number, [number, number]>;
  lru: { hit: number; miss: number };
}

export interface ModelResult {
  action: XdpAction;
  verdict: VerdictName;
  frame: Uint8Array;
  backend?: number;
  counters: CounterDeltas;
}

const OUTER_TTL = 64;

interface Flow {
  key: Uint8Array; // struct flow_key
  syn: boolean;
}

export class LbModel {
  /** The connection table: flow_key hex → backend id. */
  readonly conns = new Map<string, number>();

  constructor(readonly state: LbState) {}

  process(input: Uint8Array): ModelResult {
    const counters: CounterDeltas = { verdicts: {}, vips: {}, backends: {}, lru: { hit: 0, miss: 0 } };
    const f = input.slice();
    const done = (verdict: VerdictName, action: XdpAction, frame: Uint8Array = f, backend?: number): ModelResult => {
      counters.verdicts[verdict] = (counters.verdicts[verdict] ?? 0) + 1;
      return backend === undefined ? { action, verdict, frame, counters } : { action, verdict, frame, backend, counters };
    };
    if (f.length < 14) return done('pass', 'pass');
    const etype = (f[12]! << 8) | f[13]!;
    if (etype === 0x0800) return this.ipv4(f, counters, done);
    if (etype === 0x86dd) return this.ipv6(f, counters, done);
    return done('pass', 'pass');
  }

  private isVipAddr(addr: Uint8Array): boolean {
    for (const v of this.state.vips.values()) {
      const b = parseIp(v.id.address).bytes;
      if (b.length === addr.length && b.every((x, i) => x === addr[i])) return true;
    }
    return false;
  }

  private findVip(dst: Uint8Array, dport: number, proto: number) {
    const match = (port: number) => {
      for (const v of this.state.vips.values()) {
        const b = parseIp(v.id.address).bytes;
        const p = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 }[v.id.protocol];
        if (v.id.port === port && p === proto && b.length === dst.length && b.every((x, i) => x === dst[i])) return v;
      }
      return undefined;
    };
    return match(dport) ?? match(0);
  }

  private ipv4(f: Uint8Array, counters: CounterDeltas, done: (v: VerdictName, a: XdpAction, fr?: Uint8Array, b?: number) => ModelResult): ModelResult {
    const ip = 14;
    if (f.length < ip + 20) return done('drop_malformed', 'drop');
    const daddr = f.slice(ip + 16, ip + 20);
    if (!this.isVipAddr(daddr)) return done('pass', 'pass');
    if ((f[ip]! & 0xf) !== 5) return done('drop_ip_options', 'drop');
    if ((((f[ip + 6]! << 8) | f[ip + 7]!) & 0x3fff) !== 0) return done('drop_fragment', 'drop');
    const innerLen = (f[ip + 2]! << 8) | f[ip + 3]!;
    if (innerLen < 20 || ip + innerLen > f.length) return done('drop_malformed', 'drop');
    const l4 = ip + 20;
    const proto = f[ip + 9]!;
    let verdict: VerdictName = 'tx';
    const key = new Uint8Array(SIZES.flow_key);
    let syn = false;
    key[36] = proto;
    if (proto === 6 || proto === 17) {
      if (f.length < l4 + (proto === 6 ? 20 : 8)) return done('drop_malformed', 'drop');
      key.set(f.subarray(ip + 12, ip + 16), 0);
      key.set(daddr, 16);
      key.set(f.subarray(l4, l4 + 4), 32);
      if (proto === 6) syn = (f[l4 + 13]! & 0x02) !== 0 && (f[l4 + 13]! & 0x10) === 0;
    } else if (proto === 1) {
      if (f.length < l4 + 8) return done('drop_malformed', 'drop');
      const type = f[l4]!;
      const code = f[l4 + 1]!;
      if (type === 8) {
        const out = f.slice();
        const old = (type << 8) | code;
        out[l4] = 0;
        setU16(out, l4 + 2, csumReplace2(getU16(out, l4 + 2), old, code));
        out.set(f.subarray(ip + 16, ip + 20), ip + 12);
        out.set(f.subarray(ip + 12, ip + 16), ip + 16);
        out[ip + 8] = OUTER_TTL;
        setU16(out, ip + 10, 0);
        setU16(out, ip + 10, foldChecksum(onesSum(out.subarray(ip, ip + 20))));
        out.set(f.subarray(6, 12), 0);
        out.set(f.subarray(0, 6), 6);
        return done('icmp_echo_reply', 'tx', out);
      }
      if (type !== 3 || code !== 4) return done('pass', 'pass');
      const inner = l4 + 8;
      if (f.length < inner + 20 || (f[inner]! & 0xf) !== 5) return done('drop_malformed', 'drop');
      if (f.length < inner + 24) return done('drop_malformed', 'drop');
      key[36] = f[inner + 9]!;
      key.set(f.subarray(inner + 16, inner + 20), 0);
      key.set(f.subarray(inner + 12, inner + 16), 16);
      key.set(f.subarray(inner + 22, inner + 24), 32);
      key.set(f.subarray(inner + 20, inner + 22), 34);
      verdict = 'icmp_forward';
    } else {
      key.set(f.subarray(ip + 12, ip + 16), 0);
      key.set(daddr, 16);
    }
    return this.forward(f, 4, innerLen, { key, syn }, verdict, counters, done);
  }

  private ipv6(f: Uint8Array, counters: CounterDeltas, done: (v: VerdictName, a: XdpAction, fr?: Uint8Array, b?: number) => ModelResult): ModelResult {
    const ip = 14;
    if (f.length < ip + 40) return done('drop_malformed', 'drop');
    if (!this.isVipAddr(f.slice(ip + 24, ip + 40))) return done('pass', 'pass');
    const innerLen = 40 + ((f[ip + 4]! << 8) | f[ip + 5]!);
    if (ip + innerLen > f.length) return done('drop_malformed', 'drop');
    const nexthdr = f[ip + 6]!;
    if (nexthdr === 44) return done('drop_fragment', 'drop');
    const l4 = ip + 40;
    const key = new Uint8Array(SIZES.flow_key);
    key.set(f.subarray(ip + 8, ip + 24), 0);
    key.set(f.subarray(ip + 24, ip + 40), 16);
    key[36] = nexthdr;
    let syn = false;
    let verdict: VerdictName = 'tx';
    if (nexthdr === 6 || nexthdr === 17) {
      if (f.length < l4 + (nexthdr === 6 ? 20 : 8)) return done('drop_malformed', 'drop');
      key.set(f.subarray(l4, l4 + 4), 32);
      if (nexthdr === 6) syn = (f[l4 + 13]! & 0x02) !== 0 && (f[l4 + 13]! & 0x10) === 0;
    } else if (nexthdr === 58) {
      if (f.length < l4 + 8) return done('drop_malformed', 'drop');
      const type = f[l4]!;
      const code = f[l4 + 1]!;
      if (type === 128) {
        const out = f.slice();
        out[l4] = 129;
        setU16(out, l4 + 2, csumReplace2(getU16(f, l4 + 2), (128 << 8) | code, (129 << 8) | code));
        out.set(f.subarray(ip + 24, ip + 40), ip + 8);
        out.set(f.subarray(ip + 8, ip + 24), ip + 24);
        out[ip + 7] = OUTER_TTL;
        out.set(f.subarray(6, 12), 0);
        out.set(f.subarray(0, 6), 6);
        return done('icmp_echo_reply', 'tx', out);
      }
      if (type !== 2) return done('pass', 'pass');
      const inner = l4 + 8;
      if (f.length < inner + 40 + 4) return done('drop_malformed', 'drop');
      key[36] = f[inner + 6]!;
      key.set(f.subarray(inner + 24, inner + 40), 0);
      key.set(f.subarray(inner + 8, inner + 24), 16);
      key.set(f.subarray(inner + 42, inner + 44), 32);
      key.set(f.subarray(inner + 40, inner + 42), 34);
      verdict = 'icmp_forward';
    }
    return this.forward(f, 6, innerLen, { key, syn }, verdict, counters, done);
  }

  private forward(
    f: Uint8Array, family: 4 | 6, innerLen: number, flow: Flow, verdict: VerdictName, counters: CounterDeltas,
    done: (v: VerdictName, a: XdpAction, fr?: Uint8Array, b?: number) => ModelResult,
  ): ModelResult {
    const alen = family === 4 ? 4 : 16;
    const dst = flow.key.slice(16, 16 + alen);
    const dport = (flow.key[34]! << 8) | flow.key[35]!;
    const vip = this.findVip(dst, dport, flow.key[36]!);
    if (!vip) return done('pass', 'pass');
    if (vip.vipNum >= MAX_VIPS) return done('drop_no_backend', 'drop');
    add(counters.vips, vip.vipNum, f.length);

    // pick_backend
    const hk = flow.key.slice();
    const flags = flagBits(vip.flags);
    if (flags & VIP_FLAGS['hash-dport-only']) {
      hk.fill(0, 0, 32);
      hk[32] = 0;
      hk[33] = 0;
    } else if (flags & VIP_FLAGS['hash-no-src-port']) {
      hk[32] = 0;
      hk[33] = 0;
    }
    const hash = hashBytes(hk, FLOW_HASH_SEED);
    const connKey = Buffer.from(flow.key).toString('hex');
    let backendId: number | undefined;
    if (!flow.syn) {
      const known = this.conns.get(connKey);
      if (known !== undefined && this.backendById(known)) {
        counters.lru.hit++;
        backendId = known;
      }
    }
    if (backendId === undefined) {
      counters.lru.miss++;
      const m = this.state.ringSize;
      const slot = vip.ring[hash % m]!;
      if (slot === EMPTY_SLOT || slot >= MAX_BACKENDS || !this.backendById(slot)) return done('drop_no_backend', 'drop');
      this.conns.set(connKey, slot);
      backendId = slot;
    }
    const b = this.backendById(backendId)!;
    const bfam = parseIp(b.address).family;
    // encap_and_tx
    if (bfam === 4 && family !== 4) return done('drop_encap', 'drop');
    const outerLen = bfam === 4 ? 20 : 40;
    const maxPkt = this.state.ctl.maxPacketSize || 1514;
    if (14 + outerLen + innerLen > maxPkt) return done('drop_oversize', 'drop');
    const out = new Uint8Array(f.length + outerLen);
    out.set(f.subarray(14), 14 + outerLen);
    out.set(this.state.ctl.gatewayMac, 0);
    out.set(f.subarray(0, 6), 6);
    const baddr = parseIp(b.address).bytes;
    if (bfam === 4) {
      out[12] = 0x08;
      out[13] = 0x00;
      const o = 14;
      out[o] = 0x45;
      setU16(out, o + 2, innerLen + 20);
      setU16(out, o + 6, 0x4000);
      out[o + 8] = OUTER_TTL;
      out[o + 9] = 4;
      const p4 = this.state.ctl.sourcePrefix4;
      out[o + 12] = p4[0]!;
      out[o + 13] = p4[1]!;
      out[o + 14] = (hash >>> 8) & 0xff;
      out[o + 15] = hash & 0xff;
      out.set(baddr, o + 16);
      setU16(out, o + 10, foldChecksum(onesSum(out.subarray(o, o + 20))));
    } else {
      out[12] = 0x86;
      out[13] = 0xdd;
      const o = 14;
      out[o] = 0x60;
      setU16(out, o + 4, innerLen);
      out[o + 6] = family === 4 ? 4 : 41;
      out[o + 7] = OUTER_TTL;
      out.set(this.state.ctl.sourcePrefix6.subarray(0, 12), o + 8);
      out[o + 20] = hash >>> 24;
      out[o + 21] = (hash >>> 16) & 0xff;
      out[o + 22] = (hash >>> 8) & 0xff;
      out[o + 23] = hash & 0xff;
      out.set(baddr, o + 24);
    }
    add(counters.backends, backendId, innerLen);
    return done(verdict, 'tx', out, backendId);
  }

  private backendById(id: number): { address: string } | undefined {
    for (const v of this.state.vips.values()) for (const b of v.backends) if (b.id === id) return b;
    return undefined;
  }
}

function add(rec: Record<number, [number, number]>, k: number, bytes: number): void {
  const c = (rec[k] ??= [0, 0]);
  c[0] += 1;
  c[1] += bytes;
}

function getU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function setU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/** RFC 1624 incremental checksum update, as the data plane computes it. */
function csumReplace2(sum: number, old: number, now: number): number {
  let s = (~sum & 0xffff) + (~old & 0xffff) + now;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
