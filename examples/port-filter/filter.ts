/**
 * The port filter, as a user would script it: load port_filter.bpf.o (typed, through the
 * generated port_filter.gen.ts), set the per-port policies from config.json, attach the XDP
 * program to an interface, open an AF_XDP socket on it, print the frames that reach the socket
 * and the per-verdict counters.
 *
 *   npx tsx examples/port-filter/filter.ts [--config FILE] [--if NAME] [--backend auto|kernel|emulator]
 *                                          [--mode native|skb]
 *
 * On the kernel (root on Linux) it filters a real interface until Ctrl-C. On the emulator there
 * is no outside traffic, so it replays examples/port-filter/traffic.pcap into the simulated
 * interface from a wired peer, then prints and exits.
 */
import { readFileSync } from 'node:fs';
import { ArgumentError, openXskSocket, type Link, type XskSocket } from '../../lib/index.js';
import { exampleAsset } from '../common/paths.js';
import { describeFrame } from './describe.js';
import { loadPortFilter, type PortFilterObject } from './port_filter.gen.js';

export const OBJECT = exampleAsset(import.meta.url, './port_filter.bpf.o');
export const CONFIG = exampleAsset(import.meta.url, './config.json');

export const POLICIES = ['pass', 'drop', 'to_socket'] as const;
export type Policy = (typeof POLICIES)[number];
/** The stats slots of the program, in index order. */
export const VERDICTS = ['pass', 'drop', 'to_socket', 'unparsed'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface FilterConfig {
  interface: string;
  queue: number;
  /** Destination port → policy; ports without one pass. */
  policies: Record<string, Policy>;
}

/** Validate a config object (the shape of config.json). */
export function parseConfig(value: unknown, source = 'config'): FilterConfig {
  const v = value as Partial<FilterConfig> | null;
  if (typeof v !== 'object' || v === null) throw new ArgumentError(`${source}: expected an object { interface, queue, policies }`);
  if (typeof v.interface !== 'string' || !v.interface) throw new ArgumentError(`${source}: interface must be a non-empty string`);
  const queue = v.queue ?? 0;
  if (!Number.isInteger(queue) || queue < 0) throw new ArgumentError(`${source}: queue must be a non-negative integer`);
  if (typeof v.policies !== 'object' || v.policies === null) throw new ArgumentError(`${source}: policies must be an object { "PORT": "pass" | "drop" | "to_socket" }`);
  const policies: Record<string, Policy> = {};
  for (const [port, p] of Object.entries(v.policies)) {
    if (!/^\d+$/.test(port) || Number(port) > 65535) throw new ArgumentError(`${source}: policy key ${JSON.stringify(port)} is not a port (0..65535)`);
    if (!(POLICIES as readonly string[]).includes(p)) throw new ArgumentError(`${source}: policy for port ${port} must be one of ${POLICIES.join(', ')}, got ${JSON.stringify(p)}`);
    policies[port] = p;
  }
  return { interface: v.interface, queue, policies };
}

export function readConfig(path = CONFIG): FilterConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ArgumentError(`port filter: cannot read config ${path}: ${(e as Error).message}`);
  }
  return parseConfig(parsed, path);
}

/** The stats map summed over CPUs, by verdict. */
export function readStats(obj: PortFilterObject): Record<Verdict, bigint> {
  const out = { pass: 0n, drop: 0n, to_socket: 0n, unparsed: 0n };
  VERDICTS.forEach((name, i) => {
    for (const n of obj.maps.stats.lookup(i) ?? []) out[name] += n;
  });
  return out;
}

export interface RunningFilter {
  obj: PortFilterObject;
  link: Link;
  sock: XskSocket;
  config: FilterConfig;
  stats(): Record<Verdict, bigint>;
  close(): void;
}

/** Load, set policies, attach, open the AF_XDP socket. */
export async function startFilter(config: FilterConfig, opts: { backend?: 'auto' | 'kernel' | 'emulator'; mode?: 'skb' | 'native' } = {}): Promise<RunningFilter> {
  const obj = await loadPortFilter({ backend: opts.backend ?? 'auto', object: OBJECT });
  try {
    for (const [port, action] of Object.entries(config.policies)) obj.maps.port_policy.update(Number(port), { action, flags: 0 });
    const link = obj.programs.port_filter.attachXdp(config.interface, opts.mode ? { mode: opts.mode } : {});
    const sock = await openXskSocket(obj, { ifname: config.interface, queue: config.queue });
    return {
      obj, link, sock, config,
      stats: () => readStats(obj),
      close() {
        sock.close();
        link.close();
        obj.close();
      },
    };
  } catch (e) {
    obj.close();
    throw e;
  }
}

/** On the emulator: a simulated peer wired to the filtered interface; its `transmit` feeds it. */
export function emulatorPeer(f: RunningFilter, name = `${f.config.interface.slice(0, 10)}-peer`): { transmit(frame: Uint8Array): unknown } {
  const be = f.obj.backend as unknown as { interface(n: string): { connect(p: unknown): void; transmit(frame: Uint8Array): unknown } };
  const peer = be.interface(name);
  peer.connect(be.interface(f.config.interface));
  return peer;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined) throw new ArgumentError(`port filter: ${name} needs a value`);
  return v;
}

async function main(args: string[]): Promise<void> {
  const config = readConfig(option(args, '--config'));
  const ifname = option(args, '--if');
  if (ifname) config.interface = ifname;
  const backend = option(args, '--backend') ?? 'auto';
  if (backend !== 'auto' && backend !== 'kernel' && backend !== 'emulator') throw new ArgumentError(`port filter: --backend must be auto, kernel or emulator, got ${JSON.stringify(backend)}`);
  const mode = option(args, '--mode');
  if (mode !== undefined && mode !== 'native' && mode !== 'skb') throw new ArgumentError(`port filter: --mode must be native or skb (generic XDP), got ${JSON.stringify(mode)}`);
  const f = await startFilter(config, mode ? { backend, mode } : { backend });
  const policies = Object.entries(config.policies).map(([p, a]) => `${p}=${a}`).join(' ');
  console.log(`port filter on ${config.interface} queue ${config.queue} — ${f.obj.backend.kind} backend (${f.obj.backend.reason})`);
  console.log(`policies: ${policies} (other ports pass)`);
  const printStats = () => {
    const s = f.stats();
    console.log(`stats: pass ${s.pass}, drop ${s.drop}, to_socket ${s.to_socket}, unparsed ${s.unparsed}`);
  };
  let n = 0;
  const reader = (async () => {
    for await (const frame of f.sock) console.log(`AF_XDP #${++n}: ${describeFrame(frame).summary}`);
  })();
  if (f.obj.backend.kind === 'emulator') {
    const { readTraffic, TRAFFIC_PCAP } = await import('./traffic.js');
    const peer = emulatorPeer(f);
    const frames = readTraffic(readFileSync(TRAFFIC_PCAP), TRAFFIC_PCAP);
    console.log(`emulator: replaying ${frames.length} frames from traffic.pcap`);
    for (const frame of frames) peer.transmit(frame);
    await new Promise((r) => setImmediate(r));
    printStats();
    f.close();
    await reader;
    return;
  }
  console.log('ready (Ctrl-C to stop)');
  const timer = setInterval(printStats, 5000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    process.stdin.once('end', resolve);
    process.stdin.resume();
  });
  clearInterval(timer);
  printStats();
  f.close();
  await reader;
  process.stdin.pause();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await main(process.argv.slice(2));
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  }
}
