/**
 * `bpfkit link list [--json]`: every BPF link in the kernel, like `bpftool link list`.
 *
 * Text: `ID: TYPE  prog PROG_ID`, then an indented detail line by type (`ifindex N (NAME)`,
 * `attach_type T`, `cgroup_id N`, `tp_name NAME`, `file PATH offset 0xN`). JSON: an array of
 * { id, type, progId, ifindex?, ifname?, attachType?, cgroupId?, tracepoint?, perfEventType?,
 * file?, offset? }.
 */
import { ArgumentError } from '../../errors.js';
import type { CommandIo } from '../main.js';
import { parseOpts } from '../parse-opts.js';

const USAGE = `usage: bpfkit link list [--json]

List the BPF links in the kernel (needs root or CAP_SYS_ADMIN).
`;

export async function run(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('link', args, { flags: ['json'] });
  if (o.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [sub, ...rest] = o.positional;
  if (sub !== 'list' && sub !== 'show') throw new ArgumentError(`link: unknown subcommand ${JSON.stringify(sub ?? '')}\n${USAGE}`);
  if (rest.length) throw new ArgumentError(`link list: unexpected argument ${rest[0]}`);
  const { listLinks } = await import('../../kernel/listing.js');
  const links = listLinks();
  if (o.flags.has('json')) {
    io.stdout.write(JSON.stringify(links) + '\n');
    return 0;
  }
  for (const l of links) {
    io.stdout.write(`${l.id}: ${l.type}  prog ${l.progId}\n`);
    const parts: string[] = [];
    if (l.ifindex !== undefined) parts.push(`ifindex ${l.ifindex}${l.ifname ? ` (${l.ifname})` : ''}`);
    if (l.attachType !== undefined) parts.push(`attach_type ${l.attachType}`);
    if (l.cgroupId !== undefined) parts.push(`cgroup_id ${l.cgroupId}`);
    if (l.perfEventType !== undefined) parts.push(`event_type ${l.perfEventType}`);
    if (l.tracepoint !== undefined) parts.push(`tp_name ${l.tracepoint}`);
    if (l.file !== undefined) parts.push(`file ${l.file}  offset 0x${(l.offset ?? 0).toString(16)}`);
    if (parts.length) io.stdout.write(`\t${parts.join('  ')}\n`);
  }
  return 0;
}
