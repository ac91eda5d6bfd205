/**
 * `bpfkit lb`: drive the example XDP load balancer (examples/load-balancer) from a config file.
 *
 *   bpfkit lb apply CONFIG [--dev IFACE] [--backend kernel|emulator] [--mode skb|native]
 *                          [--pin-dir DIR] [--json]
 *   bpfkit lb stats [--dev IFACE | --pin-dir DIR] [--interval SECONDS] [--count N] [--json]
 *   bpfkit lb destroy [--dev IFACE | --pin-dir DIR]
 *
 * On the kernel, the balancer's maps and its XDP link are pinned under the pin directory
 * (default /sys/fs/bpf/bpfkit-lb/IFACE), so a later `apply` reads the running state back from the
 * maps, diffs it against the config and writes only the changes.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError, BpfError } from '../../errors.js';
import { Link } from '../../object/link.js';
import type { CommandIo } from '../main.js';
import { parseOpts } from '../parse-opts.js';
import { loadConfig } from '../../../examples/load-balancer/config.js';
import { LB_MAP_NAMES, LINK_PIN, LoadBalancer, openPinnedDataPlane, RODATA_PIN, type LbStats } from '../../../examples/load-balancer/control.js';

const USAGE = `usage: bpfkit lb apply CONFIG [--dev IFACE] [--backend kernel|emulator] [--mode skb|native] [--pin-dir DIR] [--json]
       bpfkit lb stats [--dev IFACE | --pin-dir DIR] [--interval SECONDS] [--count N] [--json]
       bpfkit lb destroy [--dev IFACE | --pin-dir DIR]

Run the example XDP load balancer (Maglev, connection table, IPIP) from a YAML/JSON config.

  apply     load and attach the balancer on IFACE (kernel; maps and link pinned) or diff the
            running balancer against CONFIG and apply only the changes. With --backend emulator
            the config is applied to a fresh emulator instance and the changes are listed.
  stats     per-VIP and per-backend packet and byte rates of a running balancer
  destroy   detach the balancer and remove its pins

options:
  --dev IFACE        interface to attach to (kernel)
  --backend B        kernel (default with --dev or --pin-dir) or emulator
  --mode M           XDP mode: skb (generic, default) or native
  --pin-dir DIR      where maps and the link are pinned (default /sys/fs/bpf/bpfkit-lb/IFACE)
  --interval S       stats: seconds between the two samples of a rate (default 1)
  --count N          stats: how many rate lines to print (default 1)
  --json             machine-readable output
`;

function pinDirOf(cmd: string, dev: string | undefined, dir: string | undefined): string {
  if (dir) return dir;
  if (!dev) throw new ArgumentError(`${cmd}: give --dev IFACE or --pin-dir DIR`);
  if (!/^[\w.-]{1,15}$/.test(dev)) throw new ArgumentError(`${cmd}: bad interface name ${JSON.stringify(dev)}`);
  return join('/sys/fs/bpf/bpfkit-lb', dev);
}

function formatStats(s: LbStats): string {
  const rows = [...s.vips.map((v) => `vip      ${v.vip.padEnd(32)} ${String(v.packets).padStart(12)} pkts ${String(v.bytes).padStart(14)} bytes`),
    ...s.backends.map((b) => `backend  ${`${b.address} (${b.vip})`.padEnd(32)} ${String(b.packets).padStart(12)} pkts ${String(b.bytes).padStart(14)} bytes`)];
  const verdicts = Object.entries(s.verdicts).filter(([, n]) => n > 0n).map(([k, n]) => `${k}=${n}`).join(' ');
  return `${rows.join('\n')}\nverdicts ${verdicts || '(none)'}\nconn table hits=${s.lru.hits} misses=${s.lru.misses}\n`;
}

async function apply(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('lb apply', args, { values: ['dev', 'backend', 'mode', 'pin-dir'], flags: ['json'] });
  if (o.help) { io.stdout.write(USAGE); return 0; }
  if (o.positional.length !== 1) throw new ArgumentError('lb apply: expected one CONFIG file');
  const config = loadConfig(o.positional[0]!);
  const backend = o.values.get('backend') ?? (o.values.has('dev') || o.values.has('pin-dir') ? 'kernel' : 'emulator');
  if (backend !== 'kernel' && backend !== 'emulator') throw new ArgumentError(`lb apply: --backend must be kernel or emulator, got ${JSON.stringify(backend)}`);
  const mode = o.values.get('mode') ?? 'skb';
  if (mode !== 'skb' && mode !== 'native') throw new ArgumentError(`lb apply: --mode must be skb or native, got ${JSON.stringify(mode)}`);
  const out = (r: { changes: string[]; ringSlots: number }, where: string) => {
    if (o.flags.has('json')) io.stdout.write(JSON.stringify({ where, ...r }) + '\n');
    else io.stdout.write(`${where}: ${r.changes.length ? r.changes.map((c) => `\n  ${c}`).join('') : ' no changes'}\n  (${r.ringSlots} ring slots written)\n`);
  };

  if (backend === 'emulator') {
    const lb = await LoadBalancer.load({ backend: 'emulator', ringSize: config.ringSize });
    try {
      out(lb.apply(config), 'emulator (fresh instance; its state ends with this command)');
    } finally {
      lb.close();
    }
    return 0;
  }

  const dev = o.values.get('dev');
  const dir = pinDirOf('lb apply', dev, o.values.get('pin-dir'));
  if (existsSync(join(dir, LINK_PIN))) {
    const running = await openPinnedDataPlane(dir);
    try {
      const lb = LoadBalancer.fromMaps(running.plane, running.ringSize);
      out(lb.apply(config), `running balancer at ${dir}`);
    } finally {
      running.close();
    }
    return 0;
  }
  if (!dev) throw new ArgumentError(`lb apply: nothing runs at ${dir}; give --dev IFACE to start the balancer`);
  const lb = await LoadBalancer.load({ backend: 'kernel', ringSize: config.ringSize });
  try {
    const r = lb.apply(config);
    mkdirSync(dir, { recursive: true });
    for (const name of LB_MAP_NAMES) lb.object!.map(name).pin(join(dir, name));
    lb.object!.map('.rodata').pin(join(dir, RODATA_PIN));
    const link = lb.attach(dev, { mode });
    link.pin(join(dir, LINK_PIN));
    out(r, `started on ${dev} (pinned at ${dir})`);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    lb.close();
  }
  return 0;
}

async function stats(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('lb stats', args, { values: ['dev', 'pin-dir', 'interval', 'count'], flags: ['json'] });
  if (o.help) { io.stdout.write(USAGE); return 0; }
  const interval = Number(o.values.get('interval') ?? '1');
  if (!Number.isFinite(interval) || interval <= 0 || interval > 3600) throw new ArgumentError('lb stats: --interval must be a number of seconds in (0, 3600]');
  const count = Number(o.values.get('count') ?? '1');
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new ArgumentError('lb stats: --count must be a positive integer');
  const dir = pinDirOf('lb stats', o.values.get('dev'), o.values.get('pin-dir'));
  const running = await openPinnedDataPlane(dir);
  try {
    const lb = LoadBalancer.fromMaps(running.plane, running.ringSize);
    let prev = lb.stats();
    for (let i = 0; i < count; i++) {
      await new Promise((r) => setTimeout(r, interval * 1000));
      const cur = lb.stats();
      const rate = (a: bigint, b: bigint) => Number(a - b) / interval;
      const vips = cur.vips.map((v, j) => ({ vip: v.vip, packets: v.packets.toString(), bytes: v.bytes.toString(), pps: rate(v.packets, prev.vips[j]?.packets ?? 0n), bps: rate(v.bytes, prev.vips[j]?.bytes ?? 0n) * 8 }));
      const backends = cur.backends.map((b, j) => ({ vip: b.vip, address: b.address, packets: b.packets.toString(), bytes: b.bytes.toString(), pps: rate(b.packets, prev.backends[j]?.packets ?? 0n), bps: rate(b.bytes, prev.backends[j]?.bytes ?? 0n) * 8 }));
      if (o.flags.has('json')) {
        io.stdout.write(JSON.stringify({ vips, backends, verdicts: Object.fromEntries(Object.entries(cur.verdicts).map(([k, v]) => [k, v.toString()])), lru: { hits: cur.lru.hits.toString(), misses: cur.lru.misses.toString() } }) + '\n');
      } else {
        io.stdout.write(formatStats(cur));
        for (const v of vips) io.stdout.write(`rate vip ${v.vip}: ${v.pps.toFixed(1)} pps ${v.bps.toFixed(0)} bit/s\n`);
        for (const b of backends) io.stdout.write(`rate backend ${b.address} (${b.vip}): ${b.pps.toFixed(1)} pps ${b.bps.toFixed(0)} bit/s\n`);
      }
      prev = cur;
    }
  } finally {
    running.close();
  }
  return 0;
}

async function destroy(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('lb destroy', args, { values: ['dev', 'pin-dir'] });
  if (o.help) { io.stdout.write(USAGE); return 0; }
  const dir = pinDirOf('lb destroy', o.values.get('dev'), o.values.get('pin-dir'));
  if (!existsSync(dir)) throw new BpfError('LB_NOT_RUNNING', `lb destroy: nothing pinned at ${dir}`);
  if (existsSync(join(dir, LINK_PIN))) {
    const link = await Link.openPinned(join(dir, LINK_PIN), { backend: 'kernel' });
    link.detach();
  }
  for (const f of readdirSync(dir)) rmSync(join(dir, f), { force: true });
  rmSync(dir, { recursive: true, force: true });
  io.stdout.write(`removed the balancer pinned at ${dir}\n`);
  return 0;
}

export async function run(args: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    (sub === undefined ? io.stderr : io.stdout).write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  switch (sub) {
    case 'apply': return apply(rest, io);
    case 'stats': return stats(rest, io);
    case 'destroy': return destroy(rest, io);
    default: throw new ArgumentError(`lb: unknown subcommand ${JSON.stringify(sub)} (apply, stats, destroy)`);
  }
}
