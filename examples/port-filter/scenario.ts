/**
 * The port filter's end-to-end scenario, the same on both backends: frames are sent one at a
 * time from the peer of the filtered interface; each frame's verdict is the `stats` slot the
 * program incremented for it (so kernel and emulator are observed the same way), and every frame
 * that reaches the AF_XDP socket is copied out of the `for await` loop.
 *
 * `runScenario(filter, frames, inject)` is backend-agnostic: `inject(frame)` puts one frame on
 * the wire toward the filtered interface (a simulated peer's transmit on the emulator, an
 * AF_PACKET socket in the peer namespace on the kernel).
 */
import { BpfError } from '../../lib/index.js';
import { describeFrame } from './describe.js';
import { emulatorPeer, startFilter, VERDICTS, type FilterConfig, type RunningFilter, type Verdict } from './filter.js';

export interface FrameOutcome {
  index: number;
  proto: string;
  port: number | null;
  verdict: Verdict;
  summary: string;
}

export interface ScenarioResult {
  backend: string;
  reason: string;
  outcomes: FrameOutcome[];
  /** Frames per verdict. */
  verdicts: Record<Verdict, number>;
  /** The stats map after the run, summed over CPUs. */
  stats: Record<Verdict, bigint>;
  /** Frames received on the AF_XDP socket, in order (copies). */
  xsk: Uint8Array[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const turn = () => new Promise<void>((r) => setImmediate(r));

/** Wait until `cond()` holds, yielding to the event loop; throws after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (let i = 0; !cond(); i++) {
    if (Date.now() > end) throw new BpfError('TIMEOUT', `port filter scenario: ${what} (waited ${ms} ms)`);
    if (i < 50) await turn();
    else await sleep(2);
  }
}

export async function runScenario(
  f: RunningFilter,
  frames: readonly Uint8Array[],
  inject: (frame: Uint8Array) => void | Promise<void>,
  onProgress?: (done: number, total: number) => void,
): Promise<ScenarioResult> {
  const xsk: Uint8Array[] = [];
  const reader = (async () => {
    // each frame is a view into UMEM that is recycled after this body: keep a copy
    for await (const frame of f.sock) xsk.push(frame.slice());
  })();
  const outcomes: FrameOutcome[] = [];
  const verdicts: Record<Verdict, number> = { pass: 0, drop: 0, to_socket: 0, unparsed: 0 };
  let before = f.stats();
  const sum = (s: Record<Verdict, bigint>) => s.pass + s.drop + s.to_socket + s.unparsed;
  try {
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      await inject(frame);
      let after = before;
      await until(() => sum((after = f.stats())) > sum(before), 3000, `frame ${i + 1} was not seen by the XDP program`);
      const changed = VERDICTS.filter((v) => after[v] !== before[v]);
      if (changed.length !== 1 || sum(after) !== sum(before) + 1n) {
        throw new BpfError('UNEXPECTED', `port filter scenario: frame ${i + 1} changed the stats by ${sum(after) - sum(before)} in ${changed.join(', ')} (foreign traffic on the interface?)`);
      }
      const verdict = changed[0]!;
      verdicts[verdict]++;
      if (verdict === 'to_socket') await until(() => xsk.length === verdicts.to_socket, 3000, `frame ${i + 1} did not reach the AF_XDP socket`);
      const info = describeFrame(frame);
      outcomes.push({ index: i + 1, proto: info.proto, port: info.port, verdict, summary: info.summary });
      before = after;
      onProgress?.(i + 1, frames.length);
    }
  } finally {
    f.sock.close();
    await reader;
  }
  return { backend: f.obj.backend.kind, reason: f.obj.backend.reason, outcomes, verdicts, stats: f.stats(), xsk };
}

/** JSON-safe form (bigints as strings, frames as hex) for passing results between processes. */
export function toJson(r: ScenarioResult): unknown {
  return {
    ...r,
    stats: Object.fromEntries(Object.entries(r.stats).map(([k, v]) => [k, v.toString()])),
    xsk: r.xsk.map((x) => Buffer.from(x).toString('hex')),
  };
}

export function fromJson(v: unknown): ScenarioResult {
  const o = v as Omit<ScenarioResult, 'stats' | 'xsk'> & { stats: Record<Verdict, string>; xsk: string[] };
  return {
    ...o,
    stats: Object.fromEntries(Object.entries(o.stats).map(([k, x]) => [k, BigInt(x)])) as Record<Verdict, bigint>,
    xsk: o.xsk.map((h) => Uint8Array.from(Buffer.from(h, 'hex'))),
  };
}

/** The scenario on the emulator: a simulated interface wired to a simulated peer that sends. */
export async function runEmulatorScenario(
  frames: readonly Uint8Array[],
  config: FilterConfig,
  onProgress?: (done: number, total: number) => void,
): Promise<ScenarioResult> {
  const f = await startFilter(config, { backend: 'emulator' });
  try {
    const peer = emulatorPeer(f);
    return await runScenario(f, frames, (frame) => void peer.transmit(frame), onProgress);
  } finally {
    f.close();
  }
}
