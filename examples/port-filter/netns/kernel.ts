/**
 * Kernel runs of the port filter on a real veth pair between two network namespaces that this
 * module creates and removes (unique names per process and run; removal on every exit path:
 * normal end, errors, process exit, SIGINT/SIGTERM). Needs root on Linux.
 *
 * Namespace A holds the filtered end (XDP + AF_XDP socket, in a child process started with
 * `ip netns exec A`, since attaching and binding use the caller's namespace); namespace B holds
 * the peer, from which real frames are sent through an AF_PACKET socket. IPv6 is disabled on
 * both ends and no addresses are assigned, so the only frames on the wire are the ones sent.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BpfError } from '../../../lib/index.js';
import { fromJson, type ScenarioResult } from '../scenario.js';
import { MAC_A, MAC_B } from '../traffic.js';
import { scriptCommand } from './spawn.js';

let counter = 0;

export interface VethPair {
  nsA: string;
  nsB: string;
  ifA: string;
  ifB: string;
  /** Child processes to kill when the pair is destroyed (processes running inside it). */
  children: ChildProcess[];
  /** Run a command in a namespace; returns stdout. */
  exec(ns: string, cmd: string, args: string[], opts?: { timeout?: number }): string;
  destroy(): void;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

/** Create namespaces A and B joined by a veth pair (links up, IPv6 off, no addresses). */
export function createVethPair(prefix = 'pf'): VethPair {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new BpfError('NOT_SUPPORTED', 'port filter on the kernel: needs root on Linux (network namespaces, veth, XDP, AF_XDP)');
  }
  const tag = `${prefix}${process.pid % 1000000}x${++counter}`;
  const pair: VethPair = {
    nsA: `${tag}-a`, nsB: `${tag}-b`, ifA: `${tag}a`.slice(0, 15), ifB: `${tag}b`.slice(0, 15),
    exec(ns, cmd, args, opts = {}) {
      return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    children: [],
    destroy() {
      for (const c of pair.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      for (const ns of [pair.nsA, pair.nsB]) {
        try {
          ip(['netns', 'del', ns]);
        } catch {
          // not created (or already removed)
        }
      }
      process.off('exit', pair.destroy);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
  // Registered before anything is created: without a listener Node dies on SIGINT at once.
  const onSignal = (sig: NodeJS.Signals) => {
    pair.destroy();
    process.kill(process.pid, sig);
  };
  process.once('exit', pair.destroy);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    ip(['netns', 'add', pair.nsA]);
    ip(['netns', 'add', pair.nsB]);
    ip(['link', 'add', pair.ifA, 'address', MAC_A, 'numtxqueues', '1', 'numrxqueues', '1', 'netns', pair.nsA, 'type', 'veth',
      'peer', 'name', pair.ifB, 'address', MAC_B, 'numtxqueues', '1', 'numrxqueues', '1', 'netns', pair.nsB]);
    for (const [ns, dev] of [[pair.nsA, pair.ifA], [pair.nsB, pair.ifB]] as const) {
      pair.exec(ns, 'sysctl', ['-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'link', 'set', dev, 'up']);
    }
  } catch (e) {
    pair.destroy();
    throw new BpfError('SETUP_FAILED', `port filter on the kernel: creating namespaces and veth failed: ${(e as Error).message}`, { cause: e });
  }
  return pair;
}

/** Run `run`, removing the pair afterwards (signals are handled by the pair itself). */
export function withCleanup<T>(pair: VethPair, run: () => Promise<T>): Promise<T> {
  return run().finally(() => pair.destroy());
}

/**
 * Run the scenario over `pcap` on a fresh veth pair: the filter in namespace A (XDP in `mode`:
 * native by default on veth, or skb = generic XDP), the frames sent from namespace B. Namespaces
 * are removed afterwards.
 */
export async function runKernelScenario(
  pcap: string,
  config: { queue: number; policies: Record<string, string> },
  onProgress?: (done: number, total: number) => void,
  opts: { mode?: 'native' | 'skb' } = {},
): Promise<ScenarioResult> {
  const pair = createVethPair();
  return withCleanup(pair, async () => {
    const sideArgs = [pair.ifA, pair.nsB, pair.ifB, pcap, JSON.stringify({ queue: config.queue, policies: config.policies })];
    if (opts.mode) sideArgs.push(opts.mode);
    const [cmd, args] = scriptCommand('filter-side', sideArgs);
    const child = spawn('ip', ['netns', 'exec', pair.nsA, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    pair.children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let result: ScenarioResult | undefined;
    let error: string | undefined;
    for await (const line of createInterface({ input: child.stdout! })) {
      let msg: { progress?: [number, number]; result?: unknown; error?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg.progress) onProgress?.(msg.progress[0], msg.progress[1]);
      if (msg.result) result = fromJson(msg.result);
      if (msg.error) error = msg.error;
    }
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    if (!result) throw new BpfError('KERNEL_RUN_FAILED', `port filter on the kernel: ${error ?? `the filter process exited with ${child.exitCode}`}${stderr ? `\n${stderr.trim()}` : ''}`);
    return result;
  });
}
