/**
 * The load balancer's configuration file (YAML or JSON) and its validation. Errors name the
 * file and the path of the offending field, e.g. `lb.yaml: vips[1].backends[0].weight: ...`.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ArgumentError } from '../../lib/errors.js';
import { parseIp, parseMac } from '../common/packets.js';
import { DEFAULT_RING_SIZE, MAX_VIPS, PROTOCOLS, RING_SIZE_MAX, VIP_FLAGS, type ProtocolName, type VipFlagName } from './layout.js';
import { isPrime } from './maglev.js';

export interface BackendConfig {
  address: string;
  weight: number;
}

export interface VipConfig {
  address: string;
  /** 0 = every port. */
  port: number;
  protocol: ProtocolName;
  flags: VipFlagName[];
  backends: BackendConfig[];
}

export interface LbConfig {
  ringSize: number;
  gatewayMac: string;
  sourcePrefix4: string;
  sourcePrefix6: string;
  maxPacketSize: number;
  vips: VipConfig[];
}

export const DEFAULTS = {
  ringSize: DEFAULT_RING_SIZE,
  sourcePrefix4: '172.16.0.0',
  sourcePrefix6: 'fc00:bbbb::',
  maxPacketSize: 1514,
};

class Checker {
  constructor(readonly source: string) {}
  fail(path: string, msg: string): never {
    throw new ArgumentError(`${this.source}: ${path}: ${msg}`);
  }
  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'expected a mapping');
    return v as Record<string, unknown>;
  }
  list(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'expected a list');
    return v;
  }
  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${JSON.stringify(v)}`);
    return v;
  }
  int(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(path, `expected an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
    return v;
  }
  ip(v: unknown, path: string): string {
    const s = this.str(v, path);
    try {
      parseIp(s);
    } catch (e) {
      this.fail(path, (e as Error).message);
    }
    return s;
  }
  known(o: Record<string, unknown>, path: string, keys: string[]): void {
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(path ? `${path}.${k}` : k, `unknown field (expected one of ${keys.join(', ')})`);
  }
}

/** Validate a parsed config document. */
export function validateConfig(doc: unknown, source = '<config>'): LbConfig {
  const c = new Checker(source);
  const top = c.obj(doc, '(top)');
  c.known(top, '', ['ringSize', 'gatewayMac', 'sourcePrefix4', 'sourcePrefix6', 'maxPacketSize', 'vips']);
  const ringSize = top.ringSize === undefined ? DEFAULTS.ringSize : c.int(top.ringSize, 'ringSize', 2, RING_SIZE_MAX);
  if (!isPrime(ringSize)) c.fail('ringSize', `${ringSize} is not prime (Maglev needs a prime ring size)`);
  const gatewayMac = c.str(top.gatewayMac, 'gatewayMac');
  try {
    parseMac(gatewayMac);
  } catch (e) {
    c.fail('gatewayMac', (e as Error).message);
  }
  const sourcePrefix4 = top.sourcePrefix4 === undefined ? DEFAULTS.sourcePrefix4 : c.ip(top.sourcePrefix4, 'sourcePrefix4');
  const sourcePrefix6 = top.sourcePrefix6 === undefined ? DEFAULTS.sourcePrefix6 : c.ip(top.sourcePrefix6, 'sourcePrefix6');
  if (parseIp(sourcePrefix4).family !== 4) c.fail('sourcePrefix4', 'expected an IPv4 address');
  if (parseIp(sourcePrefix6).family !== 6) c.fail('sourcePrefix6', 'expected an IPv6 address');
  const maxPacketSize = top.maxPacketSize === undefined ? DEFAULTS.maxPacketSize : c.int(top.maxPacketSize, 'maxPacketSize', 64, 9216);
  const vipsRaw = c.list(top.vips ?? [], 'vips');
  if (vipsRaw.length > MAX_VIPS) c.fail('vips', `at most ${MAX_VIPS} VIPs are supported, got ${vipsRaw.length}`);
  const seen = new Set<string>();
  const vips = vipsRaw.map((raw, i): VipConfig => {
    const p = `vips[${i}]`;
    const v = c.obj(raw, p);
    c.known(v, p, ['address', 'port', 'protocol', 'flags', 'backends']);
    const address = c.ip(v.address, `${p}.address`);
    const port = v.port === undefined ? 0 : c.int(v.port, `${p}.port`, 0, 65535);
    const protocol = c.str(v.protocol ?? 'tcp', `${p}.protocol`) as ProtocolName;
    if (!(protocol in PROTOCOLS)) c.fail(`${p}.protocol`, `expected one of ${Object.keys(PROTOCOLS).join(', ')}`);
    const flagsRaw = c.list(v.flags ?? [], `${p}.flags`);
    const flags = flagsRaw.map((f, j) => {
      const s = c.str(f, `${p}.flags[${j}]`);
      if (!(s in VIP_FLAGS)) c.fail(`${p}.flags[${j}]`, `unknown flag ${JSON.stringify(s)} (expected one of ${Object.keys(VIP_FLAGS).join(', ')})`);
      return s as VipFlagName;
    });
    const id = `${protocol}/${address}:${port}`;
    if (seen.has(id)) c.fail(p, `duplicate VIP ${id}`);
    seen.add(id);
    const backsRaw = c.list(v.backends ?? [], `${p}.backends`);
    const addrs = new Set<string>();
    const backends = backsRaw.map((b, j): BackendConfig => {
      const bp = `${p}.backends[${j}]`;
      const bo = typeof b === 'string' ? { address: b } : c.obj(b, bp);
      c.known(bo, bp, ['address', 'weight']);
      const baddr = c.ip(bo.address, `${bp}.address`);
      const family = parseIp(baddr).family;
      if (family === 4 && parseIp(address).family === 6) c.fail(`${bp}.address`, 'an IPv6 VIP cannot be carried to an IPv4 backend (no IPv6-in-IPv4 encapsulation)');
      const canon = Buffer.from(parseIp(baddr).bytes).toString('hex');
      if (addrs.has(canon)) c.fail(`${bp}.address`, `duplicate backend ${baddr}`);
      addrs.add(canon);
      const weight = bo.weight === undefined ? 1 : c.int(bo.weight, `${bp}.weight`, 0, 65535);
      return { address: baddr, weight };
    });
    return { address, port, protocol, flags, backends };
  });
  return { ringSize, gatewayMac, sourcePrefix4, sourcePrefix6, maxPacketSize, vips };
}

/** Read and validate a YAML or JSON config file. */
export function loadConfig(path: string): LbConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ArgumentError(`lb config ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ArgumentError(`lb config ${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${(e as Error).message.split('\n')[0]})`);
  }
  return validateConfig(doc, path);
}
