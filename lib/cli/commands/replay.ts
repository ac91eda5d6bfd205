/**
 * `bpfkit replay OBJ --program NAME --pcap IN.pcap [--out OUT.pcap] [--engine jit|interpreter]
 *   [--map-init FILE.json] [--json]`
 *
 * Replays a capture through a program on the emulator: XDP programs are attached to a simulated
 * interface (`replay0`) and each frame is received on it; TC programs are attached to its ingress;
 * socket filters and cgroup_skb programs are test-run per frame. Prints how many packets got
 * each verdict; `--out` writes the frames that left the program (passed, transmitted or
 * redirected, as modified, with their original timestamps) to a pcap that tcpdump reads.
 * Exit codes: 0 ok, 1 bad input, 2 usage.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ArgumentError } from '../../errors.js';
import type { CommandIo } from '../main.js';
import { parseHex, parseOpts } from '../parse-opts.js';

const USAGE = `usage: bpfkit replay OBJ --program NAME --pcap IN.pcap [--out OUT.pcap]
                     [--engine jit|interpreter] [--map-init FILE.json] [--json]

Run every frame of IN.pcap through program NAME on the emulator (XDP: received on a simulated
interface; TC: its ingress; socket filters and cgroup_skb: test runs) and print a verdict summary.
--out writes the frames that got through (as the program left them) to OUT.pcap.
--map-init takes { MAP: [{ "key": HEX, "value": HEX }] } entries to store before the replay.
`;

const SK_VERDICT = (len: number, retval: number): string => (retval === 0 ? 'DROP' : retval >= len ? 'PASS' : 'TRUNCATE');

export interface ReplaySummary {
  program: string;
  type: string;
  packets: number;
  verdicts: Record<string, number>;
  written?: number;
}

export async function run(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('replay', args, { values: ['program', 'pcap', 'out', 'engine', 'map-init'], flags: ['json'] });
  if (o.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (o.positional.length !== 1) throw new ArgumentError(`replay: expected one object file, got ${o.positional.length}\n${USAGE}`);
  const progName = o.values.get('program');
  if (!progName) throw new ArgumentError(`replay: --program NAME is required\n${USAGE}`);
  const pcapPath = o.values.get('pcap');
  if (!pcapPath) throw new ArgumentError(`replay: --pcap IN.pcap is required\n${USAGE}`);
  const engine = o.values.get('engine') ?? 'jit';
  if (engine !== 'jit' && engine !== 'interpreter') throw new ArgumentError(`replay: --engine must be jit or interpreter, got ${JSON.stringify(engine)}`);
  let pcapBytes: Uint8Array;
  try {
    pcapBytes = new Uint8Array(readFileSync(pcapPath));
  } catch (e) {
    throw new ArgumentError(`replay: cannot read --pcap ${pcapPath}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let init: Record<string, { key: string; value: string }[]> | undefined;
  if (o.values.has('map-init')) {
    const f = o.values.get('map-init')!;
    try {
      init = JSON.parse(readFileSync(f, 'utf8')) as Record<string, { key: string; value: string }[]>;
    } catch (e) {
      throw new ArgumentError(`replay: cannot read --map-init ${f}: ${(e as Error).message}`);
    }
  }

  const { load } = await import('../../index.js');
  const { EmulatorBackend, readPcap, writePcap } = await import('../../../native-sim/index.js');
  const capture = readPcap(pcapBytes, pcapPath);
  if (capture.linkType !== 1) throw new ArgumentError(`replay: ${pcapPath} has link type ${capture.linkType}; only Ethernet (1) captures can be replayed`);
  const backend = new EmulatorBackend({ engine, reason: 'bpfkit replay' });
  const obj = await load(o.positional[0]!, { backend });
  try {
    const prog = obj.program(progName);
    if (init) {
      for (const [name, entries] of Object.entries(init)) {
        const h = obj.map(name).handle;
        for (const e of entries) h.update(parseHex('replay', `--map-init ${name} key`, e.key), parseHex('replay', `--map-init ${name} value`, e.value), 0);
      }
    }
    const summary: ReplaySummary = { program: progName, type: prog.type, packets: capture.packets.length, verdicts: {} };
    const count = (v: string): void => {
      summary.verdicts[v] = (summary.verdicts[v] ?? 0) + 1;
    };
    const out: { data: Uint8Array; timestampNs?: bigint }[] = [];
    const keep = (data: Uint8Array, ts: bigint | undefined): void => {
      out.push(ts !== undefined ? { data, timestampNs: ts } : { data });
    };
    if (prog.type === 'xdp' || prog.type === 'sched_cls' || prog.type === 'sched_act') {
      const iface = backend.interface('replay0');
      const link = prog.type === 'xdp' ? prog.attachXdp('replay0') : prog.attachTc('replay0', 'ingress');
      try {
        for (const p of capture.packets) {
          const r = iface.receive(p.data);
          count(r.verdict);
          if (!r.dropped && r.frame) keep(r.frame, p.timestampNs);
        }
      } finally {
        link.close();
      }
    } else if (prog.type === 'socket_filter' || prog.type === 'cgroup_skb') {
      for (const p of capture.packets) {
        if (p.data.length < 14) {
          count('INVALID');
          continue;
        }
        let r;
        try {
          r = prog.run({ data: p.data });
        } catch {
          count('INVALID');
          continue;
        }
        if (prog.type === 'socket_filter') {
          const v = SK_VERDICT(p.data.length - 14, r.retval);
          count(v);
          if (r.retval > 0) keep(p.data.subarray(0, Math.min(p.data.length, 14 + r.retval)), p.timestampNs);
        } else {
          count(r.retval & 1 ? 'ALLOW' : 'DROP');
          if (r.retval & 1) keep(p.data, p.timestampNs);
        }
      }
    } else {
      throw new ArgumentError(`replay: ${progName} is a ${prog.type} program; replay runs XDP, TC, socket filter and cgroup_skb programs`);
    }
    if (o.values.has('out')) {
      const f = o.values.get('out')!;
      writeFileSync(f, writePcap(out));
      summary.written = out.length;
    }
    if (o.flags.has('json')) io.stdout.write(JSON.stringify(summary) + '\n');
    else {
      io.stdout.write(`${summary.packets} packets through ${progName} (${summary.type}, emulator ${engine})\n`);
      for (const [v, n] of Object.entries(summary.verdicts).sort((a, b) => b[1] - a[1])) io.stdout.write(`  ${v.padEnd(14)} ${n}\n`);
      if (summary.written !== undefined) io.stdout.write(`wrote ${summary.written} packets to ${o.values.get('out')}\n`);
    }
    return 0;
  } finally {
    obj.close();
  }
}
