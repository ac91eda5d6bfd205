/**
 * `bpfkit detach xdp (--dev IFACE | --pin PATH) [--json]`
 * `bpfkit detach tc (--dev IFACE [--direction ingress|egress] | --pin PATH) [--json]`
 *
 * By pinned path: opens the link (BPF_OBJ_GET), detaches it (BPF_LINK_DETACH) and removes the pin.
 * By device: finds the interface's XDP (or tcx, one or both directions) links by listing the
 * kernel's links (BPF_LINK_GET_NEXT_ID + BPF_OBJ_GET_INFO_BY_FD), detaches each, and removes
 * bpfkit's default pin for them (/sys/fs/bpf/bpfkit/links/...) when it is there.
 * Exit code 1 when nothing was attached.
 */
import { existsSync, rmSync } from 'node:fs';
import { ArgumentError, BpfError } from '../../errors.js';
import type { CommandIo } from '../main.js';
import { parseOpts } from '../parse-opts.js';
import { defaultLinkPin } from './attach.js';

const USAGE = `usage: bpfkit detach xdp (--dev IFACE | --pin PATH) [--json]
       bpfkit detach tc (--dev IFACE [--direction ingress|egress] | --pin PATH) [--json]

Detach the XDP / tcx programs attached to IFACE through BPF links (or the link pinned at PATH)
and remove bpfkit's pins of them.
`;

interface Detached {
  linkId: number;
  programId?: number;
  target: string;
}

export async function run(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('detach', args, { values: ['dev', 'pin', 'direction'], flags: ['json'] });
  if (o.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [hook, ...rest] = o.positional;
  if (hook !== 'xdp' && hook !== 'tc') throw new ArgumentError(`detach: hook must be xdp or tc, got ${JSON.stringify(hook ?? '')}\n${USAGE}`);
  if (rest.length) throw new ArgumentError(`detach ${hook}: unexpected argument ${rest[0]}`);
  const dev = o.values.get('dev');
  const pin = o.values.get('pin');
  if ((dev === undefined) === (pin === undefined)) throw new ArgumentError(`detach ${hook}: give exactly one of --dev IFACE or --pin PATH`);
  const direction = o.values.get('direction');
  if (direction !== undefined && (hook !== 'tc' || (direction !== 'ingress' && direction !== 'egress'))) {
    throw new ArgumentError(hook === 'tc' ? `detach tc: --direction must be ingress or egress, got ${JSON.stringify(direction)}` : 'detach xdp: --direction is only for tc');
  }
  const links = await import('../../kernel/links.js');
  const listing = await import('../../kernel/listing.js');
  const done: Detached[] = [];
  const kind = hook === 'xdp' ? 'xdp' : 'tc';

  if (pin !== undefined) {
    const l = links.openPinnedLink(pin);
    if (l.info.kind !== kind) {
      l.close();
      throw new ArgumentError(`detach ${hook}: the link pinned at ${pin} is a ${l.info.kind} link (${l.info.target})`);
    }
    const progId = listing.linkInfoByFd(l.fd!).progId;
    done.push({ linkId: l.info.id, programId: progId, target: l.info.target });
    l.detach();
  } else {
    const { loadBinding } = await import('../../kernel/binding.js');
    const ifindex = loadBinding().ifNameToIndex(dev!);
    if (ifindex <= 0) throw new BpfError('ENODEV', `detach ${hook} --dev ${dev}: no such interface ${dev}`);
    const wanted = hook === 'xdp' ? ['xdp'] : ['tcx'];
    const attachTypes = direction ? [`tcx_${direction}`] : ['tcx_ingress', 'tcx_egress'];
    for (const e of listing.listLinks()) {
      if (!wanted.includes(e.type) || e.ifindex !== ifindex) continue;
      if (hook === 'tc' && !attachTypes.includes(e.attachType ?? '')) continue;
      const l = links.openLinkById(e.id);
      if (!l) continue;
      done.push({ linkId: e.id, programId: e.progId, target: l.info.target });
      l.detach();
    }
    // Drop bpfkit's default pins of what was detached.
    const pins = hook === 'xdp' ? [defaultLinkPin('xdp', dev!)] : (direction ? [direction] : ['ingress', 'egress']).map((d) => defaultLinkPin('tc', dev!, d as 'ingress' | 'egress'));
    for (const p of pins) {
      if (!existsSync(p)) continue;
      let id: number | undefined;
      try {
        const l = links.openPinnedLink(p);
        id = l.info.id;
        l.close();
      } catch {
        id = undefined;
      }
      if (id === undefined || done.some((d) => d.linkId === id)) rmSync(p, { force: true });
    }
  }
  if (o.flags.has('json')) io.stdout.write(JSON.stringify(done) + '\n');
  else for (const d of done) io.stdout.write(`detached link ${d.linkId}${d.programId !== undefined ? ` (prog id ${d.programId})` : ''} from ${hook} on ${d.target}\n`);
  if (done.length === 0) {
    io.stderr.write(`bpfkit detach ${hook}: no ${hook === 'xdp' ? 'XDP' : 'tcx'} link attached to ${dev ?? pin}\n`);
    return 1;
  }
  return 0;
}
