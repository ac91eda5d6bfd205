/**
 * `bpfkit attach xdp OBJ --program NAME --dev IFACE [--mode skb|native|offload] [--pin PATH]
 *    [--pin-maps DIR] [--json]`
 * `bpfkit attach tc OBJ --program NAME --dev IFACE [--direction ingress|egress] [--pin PATH]
 *    [--pin-maps DIR] [--json]`
 *
 * Loads OBJ on the kernel, attaches the program through a BPF link (XDP link, tcx link) and pins
 * the link so the attachment outlives this command: at PATH, or by default at
 * /sys/fs/bpf/bpfkit/links/xdp-IFACE (tc: tc-IFACE-DIRECTION), which is where
 * `bpfkit detach` looks. `--pin-maps DIR` also pins every map of the object at DIR/NAME so that
 * `bpfkit map update DIR/NAME ...` can change the running program's maps.
 * Prints `attached NAME (prog id P) to xdp on IFACE: link id L, pinned at PATH` (or JSON
 * { program, programId, linkId, hook, dev, pin, maps }).
 */
import { existsSync, mkdirSync, statfsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ArgumentError, BpfError } from '../../errors.js';
import type { CommandIo } from '../main.js';
import { parseOpts } from '../parse-opts.js';

export const DEFAULT_LINK_DIR = '/sys/fs/bpf/bpfkit/links';

/** Where `attach` pins a link by default (and `detach --dev` looks). */
export function defaultLinkPin(hook: 'xdp' | 'tc', dev: string, direction?: 'ingress' | 'egress'): string {
  return join(DEFAULT_LINK_DIR, hook === 'xdp' ? `xdp-${dev}` : `tc-${dev}-${direction ?? 'ingress'}`);
}

const BPF_FS_MAGIC = 0xcafe4a11;

/**
 * Create `dir` (and its parents) one level at a time — Node's recursive mkdir spins forever on
 * sysfs, which is what /sys/fs/bpf is inside `ip netns exec` — and check that it is on bpffs.
 */
function ensureBpffsDir(dir: string, op: string): void {
  let cur = '';
  for (const part of resolve(dir).split('/').filter(Boolean)) {
    cur += `/${part}`;
    if (existsSync(cur)) continue;
    try {
      mkdirSync(cur);
    } catch (e) {
      throw new BpfError('PIN_DIR', `${op}: cannot create ${cur}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e, hint: 'pins need a bpf filesystem (mount -t bpf bpf /sys/fs/bpf)' });
    }
  }
  let type = 0;
  try {
    type = Number(statfsSync(dir).type);
  } catch {
    type = 0;
  }
  if (type !== BPF_FS_MAGIC) {
    throw new BpfError('NOT_BPFFS', `${op}: ${dir} is not on a bpf filesystem`, {
      hint: 'mount -t bpf bpf /sys/fs/bpf; inside `ip netns exec`, /sys is remounted, so pin under a bpffs mounted elsewhere',
    });
  }
}

const USAGE = `usage: bpfkit attach xdp OBJ --program NAME --dev IFACE [--mode skb|native|offload]
                     [--pin PATH] [--pin-maps DIR] [--json]
       bpfkit attach tc OBJ --program NAME --dev IFACE [--direction ingress|egress]
                     [--pin PATH] [--pin-maps DIR] [--json]

Load OBJ into the kernel and attach program NAME to interface IFACE through a BPF link pinned
at PATH (default ${DEFAULT_LINK_DIR}/xdp-IFACE or tc-IFACE-DIRECTION), so that the program
stays attached after bpfkit exits. Undo with \`bpfkit detach\`. --pin-maps DIR pins every map
at DIR/NAME (for \`bpfkit map update\`).
`;

export async function run(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('attach', args, { values: ['program', 'dev', 'mode', 'direction', 'pin', 'pin-maps'], flags: ['json'] });
  if (o.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [hook, objPath, ...rest] = o.positional;
  if (hook !== 'xdp' && hook !== 'tc') throw new ArgumentError(`attach: hook must be xdp or tc, got ${JSON.stringify(hook ?? '')}\n${USAGE}`);
  if (!objPath) throw new ArgumentError(`attach ${hook}: missing OBJ\n${USAGE}`);
  if (rest.length) throw new ArgumentError(`attach ${hook}: unexpected argument ${rest[0]}`);
  const progName = o.values.get('program');
  if (!progName) throw new ArgumentError(`attach ${hook}: --program NAME is required`);
  const dev = o.values.get('dev');
  if (!dev) throw new ArgumentError(`attach ${hook}: --dev IFACE is required`);
  const mode = o.values.get('mode');
  if (mode !== undefined && (hook !== 'xdp' || (mode !== 'skb' && mode !== 'native' && mode !== 'offload'))) {
    throw new ArgumentError(hook === 'xdp' ? `attach xdp: --mode must be skb, native or offload, got ${JSON.stringify(mode)}` : 'attach tc: --mode is only for xdp');
  }
  const direction = o.values.get('direction');
  if (direction !== undefined && (hook !== 'tc' || (direction !== 'ingress' && direction !== 'egress'))) {
    throw new ArgumentError(hook === 'tc' ? `attach tc: --direction must be ingress or egress, got ${JSON.stringify(direction)}` : 'attach xdp: --direction is only for tc');
  }
  const dir = (direction ?? 'ingress') as 'ingress' | 'egress';
  const pin = o.values.get('pin') ?? defaultLinkPin(hook, dev, dir);
  const pinMaps = o.values.get('pin-maps');
  if (existsSync(pin)) {
    throw new BpfError('EEXIST', `attach ${hook} ${progName} to ${dev}: ${pin} already exists (something is attached; run bpfkit detach ${hook} --pin ${pin} first)`);
  }

  const op = `attach ${hook} ${progName} to ${dev}`;
  ensureBpffsDir(dirname(pin), op);
  if (pinMaps) ensureBpffsDir(pinMaps, op);
  const { load } = await import('../../index.js');
  const obj = await load(objPath, { backend: 'kernel' });
  try {
    const prog = obj.program(progName);
    const link = hook === 'xdp' ? prog.attachXdp(dev, mode ? { mode: mode as 'skb' | 'native' | 'offload' } : {}) : prog.attachTc(dev, dir);
    try {
      link.pin(pin);
    } catch (e) {
      link.detach();
      throw e;
    }
    const maps: Record<string, string> = {};
    if (pinMaps) {
      for (const [name, m] of Object.entries(obj.maps)) {
        const p = join(pinMaps, name.replace(/\//g, '_'));
        m.pin(p);
        maps[name] = p;
      }
    }
    const out = { program: progName, programId: prog.id, linkId: link.id, hook, dev, ...(hook === 'tc' ? { direction: dir } : {}), pin, maps };
    if (o.flags.has('json')) io.stdout.write(JSON.stringify(out) + '\n');
    else {
      io.stdout.write(`attached ${progName} (prog id ${prog.id}) to ${hook}${hook === 'tc' ? ` ${dir}` : ''} on ${dev}: link id ${link.id}, pinned at ${pin}\n`);
      for (const [n, p] of Object.entries(maps)) io.stdout.write(`  map ${n} pinned at ${p}\n`);
    }
    return 0;
  } finally {
    // The pinned link keeps the program (and its maps) alive.
    obj.close();
  }
}
