/**
 * The filtered side of a kernel run (run inside namespace A with `ip netns exec`): starts the
 * port filter on IFNAME (kernel backend), starts the frame sender in the peer namespace, runs the
 * scenario over the frames of PCAP and prints JSON lines: `{"progress":[done,total]}` while
 * running, then `{"result":...}` (scenario.ts toJson) or `{"error":"..."}`.
 *
 *   filter-side IFNAME PEER_NS PEER_IFNAME PCAP CONFIG_JSON [native|skb]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseConfig, startFilter } from '../filter.js';
import { runScenario, toJson } from '../scenario.js';
import { readTraffic } from '../traffic.js';
import { scriptCommand } from './spawn.js';

const [ifname, peerNs, peerIf, pcap, configJson, mode] = process.argv.slice(2);
const emit = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<void> {
  if (!ifname || !peerNs || !peerIf || !pcap || !configJson) throw new Error('usage: filter-side IFNAME PEER_NS PEER_IFNAME PCAP CONFIG_JSON');
  const config = parseConfig({ ...JSON.parse(configJson), interface: ifname }, 'config');
  const frames = readTraffic(readFileSync(pcap), pcap);
  const [cmd, args] = scriptCommand('sender', [peerIf]);
  const sender = spawn('ip', ['netns', 'exec', peerNs, cmd, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: sender.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error('the frame sender in the peer namespace exited');
    return r.value;
  };
  if (mode !== undefined && mode !== 'native' && mode !== 'skb') throw new Error(`filter-side: mode must be native or skb, got ${mode}`);
  const f = await startFilter(config, mode ? { backend: 'kernel', mode } : { backend: 'kernel' });
  try {
    if ((await next()) !== 'ready') throw new Error('the frame sender did not start');
    const result = await runScenario(f, frames, async (frame) => {
      sender.stdin!.write(`${Buffer.from(frame).toString('hex')}\n`);
      const answer = await next();
      if (!answer.startsWith('ok ')) throw new Error(`sending a frame from ${peerNs}: ${answer}`);
    }, (done, total) => emit({ progress: [done, total] }));
    emit({ result: toJson(result) });
  } finally {
    f.close();
    sender.stdin!.end();
    if (sender.exitCode === null) await new Promise((r) => sender.once('exit', r));
  }
}

main().catch((e: unknown) => {
  emit({ error: e instanceof Error ? e.message : String(e) });
  process.exitCode = 1;
});
