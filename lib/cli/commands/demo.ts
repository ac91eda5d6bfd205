/**
 * `bpfkit demo [--backend emulator|kernel] [--out FILE] [--pcap FILE] [--json]`
 *
 * The XDP port filter of examples/port-filter, end to end. Policies come from the example's
 * config.json (22 pass, 23 drop, 53 and 443 to the AF_XDP socket, 3306 drop, 8080 pass; other
 * ports pass). The bundled traffic.pcap (or --pcap) is replayed one frame at a time from the
 * peer of the filtered interface:
 *
 * - emulator (default; any OS, no root): a simulated interface wired to a simulated peer;
 * - kernel (root on Linux): a real veth pair between two network namespaces created for the run
 *   and removed afterwards (also on errors and Ctrl-C); frames are sent from the peer namespace.
 *
 * Prints a progress bar (only when stdout is a TTY), a per-port/verdict table, the frames that
 * reached the AF_XDP socket and the stats map, and writes those frames to --out (default
 * ./out.pcap). --json prints the result as JSON instead of the tables.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArgumentError, BpfError, NotSupportedError } from '../../errors.js';
import { writePcap } from '../../../native-sim/net/pcap.js';
import { readConfig, VERDICTS, type Verdict } from '../../../examples/port-filter/filter.js';
import { runEmulatorScenario, toJson, type ScenarioResult } from '../../../examples/port-filter/scenario.js';
import { readTraffic, TRAFFIC_PCAP } from '../../../examples/port-filter/traffic.js';
import { describeFrame } from '../../../examples/port-filter/describe.js';
import type { CommandIo } from '../main.js';
import { parseOpts } from '../parse-opts.js';

const USAGE = `usage: bpfkit demo [--backend emulator|kernel] [--out FILE] [--pcap FILE] [--json]

Run the example XDP port filter (examples/port-filter) on mixed traffic: per destination port,
frames pass to the stack, are dropped, or go to an AF_XDP socket read by this process.
  --backend emulator   simulated interfaces, any OS, no root (default)
  --backend kernel     a real veth pair in two network namespaces created and removed for the
                       run (root on Linux)
  --out FILE           where to write the frames that reached the AF_XDP socket (./out.pcap)
  --pcap FILE          traffic to replay instead of the bundled traffic.pcap
  --json               print the result as JSON
`;

type Tty = { isTTY?: boolean; columns?: number };

function progressBar(io: CommandIo): ((done: number, total: number) => void) | undefined {
  const out = io.stdout as Tty & CommandIo['stdout'];
  if (!out.isTTY) return undefined;
  const width = Math.max(10, Math.min(40, (out.columns ?? 80) - 30));
  return (done, total) => {
    const fill = Math.round((done / total) * width);
    out.write(`\r  [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} frames${done === total ? '\r\x1b[K' : ''}`);
  };
}

function pad(s: string | number, n: number): string {
  return String(s).padEnd(n);
}

/** The per-port/verdict table: one row per (port, protocol), unparsed frames by protocol. */
export function verdictTable(r: ScenarioResult): string {
  const rows = new Map<string, { port: number | null; proto: string; n: Record<Verdict, number> }>();
  for (const o of r.outcomes) {
    const key = `${o.port ?? -1}/${o.proto}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { port: o.port, proto: o.proto, n: { pass: 0, drop: 0, to_socket: 0, unparsed: 0 } }));
    row.n[o.verdict]++;
  }
  const sorted = [...rows.values()].sort((a, b) => (a.port ?? 1e6) - (b.port ?? 1e6) || (a.proto < b.proto ? -1 : a.proto > b.proto ? 1 : 0));
  const head = `  ${pad('port', 6)} ${pad('proto', 6)} ${VERDICTS.map((v) => pad(v, 10)).join(' ')}`;
  const lines = [head, `  ${'-'.repeat(head.length - 2)}`];
  for (const row of sorted) lines.push(`  ${pad(row.port ?? '-', 6)} ${pad(row.proto, 6)} ${VERDICTS.map((v) => pad(row.n[v] || '.', 10)).join(' ')}`);
  lines.push(`  ${'-'.repeat(head.length - 2)}`);
  lines.push(`  ${pad('total', 6)} ${pad('', 6)} ${VERDICTS.map((v) => pad(r.verdicts[v], 10)).join(' ')}`);
  return lines.map((l) => l.trimEnd()).join('\n');
}

export async function run(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('demo', args, { values: ['backend', 'out', 'pcap'], flags: ['json'] });
  if (o.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (o.positional.length) throw new ArgumentError(`demo: unexpected argument ${JSON.stringify(o.positional[0])}\n${USAGE}`);
  const backend = o.values.get('backend') ?? 'emulator';
  if (backend !== 'emulator' && backend !== 'kernel') throw new ArgumentError(`demo: --backend must be emulator or kernel, got ${JSON.stringify(backend)}`);
  const out = resolve(o.values.get('out') ?? 'out.pcap');
  const pcap = o.values.get('pcap') ?? TRAFFIC_PCAP;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(pcap);
  } catch (e) {
    throw new ArgumentError(`demo: cannot read --pcap ${pcap}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (backend === 'kernel' && (process.platform !== 'linux' || process.getuid?.() !== 0)) {
    throw new NotSupportedError('bpfkit demo --backend kernel', `demo: the kernel backend needs root on Linux (it creates network namespaces and a veth pair, loads XDP and opens AF_XDP sockets)${process.platform === 'linux' ? '' : `; this is ${process.platform}`}`, { hint: process.platform === 'linux' ? 'run it with sudo, or run `bpfkit demo` on the emulator' : 'run `bpfkit demo` on the emulator' });
  }
  const frames = readTraffic(bytes, pcap);
  if (frames.length === 0) throw new BpfError('EMPTY_INPUT', `demo: ${pcap} has no frames`);
  const config = readConfig();
  const json = o.flags.has('json');
  const progress = json ? undefined : progressBar(io);
  const say = (s: string) => {
    if (!json) io.stdout.write(`${s}\n`);
  };
  const policies = Object.entries(config.policies).map(([p, a]) => `${p}→${a}`).join('  ');
  say(`bpfkit demo: XDP port filter (examples/port-filter/port_filter.bpf.c), ${frames.length} frames from ${pcap === TRAFFIC_PCAP ? 'the bundled traffic.pcap' : pcap}`);
  say(`policies: ${policies}  (other ports pass; non-TCP/UDP frames pass as 'unparsed')`);

  let result: ScenarioResult;
  if (backend === 'kernel') {
    const { runKernelScenario } = await import('../../../examples/port-filter/netns/kernel.js');
    say('backend: kernel — a veth pair between two new network namespaces; frames are sent from the peer namespace');
    result = await runKernelScenario(pcap, config, progress);
  } else {
    say(`backend: emulator — simulated interface ${config.interface} wired to a simulated peer`);
    result = await runEmulatorScenario(frames, config, progress);
  }

  writeFileSync(out, writePcap(result.xsk));
  if (json) {
    io.stdout.write(`${JSON.stringify({ ...(toJson(result) as object), out })}\n`);
    return 0;
  }
  say('');
  say('verdicts per destination port:');
  say(verdictTable(result));
  say(`\nframes that reached the AF_XDP socket (${result.xsk.length}):`);
  result.xsk.forEach((f, i) => say(`  ${String(i + 1).padStart(3)}. ${describeFrame(f).summary}`));
  const s = result.stats;
  say(`\nstats map (per-CPU, summed): pass ${s.pass}, drop ${s.drop}, to_socket ${s.to_socket}, unparsed ${s.unparsed}`);
  say(`wrote ${out} (${result.xsk.length} frames from the AF_XDP socket; open it with tcpdump -r or Wireshark)`);
  if (backend === 'emulator') say('\nnext: sudo npx bpfkit demo --backend kernel   (the same on a real veth pair, root on Linux)');
  return 0;
}
