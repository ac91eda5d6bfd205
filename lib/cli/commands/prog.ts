/**
 * `bpfkit prog list [--json]`: every BPF program loaded in the kernel, like `bpftool prog list`.
 *
 * Text: `ID: TYPE  name NAME  tag TAG  [gpl]`, then indented `loaded_at ... uid N` and
 * `xlated NB  jited NB  map_ids A,B` (+ `run_cnt`/`run_time_ns` when stats are enabled).
 * JSON: an array of { id, type, name, tag, gplCompatible, loadedAt, uid, xlatedBytes,
 * jitedBytes, mapIds, btfId, verifiedInsns, runCount, runTimeNs }.
 */
import { ArgumentError } from '../../errors.js';
import type { CommandIo } from '../main.js';
import { parseOpts } from '../parse-opts.js';

const USAGE = `usage: bpfkit prog list [--json]

List the BPF programs loaded in the kernel (needs root or CAP_SYS_ADMIN).
`;

export async function run(args: string[], io: CommandIo): Promise<number> {
  const o = parseOpts('prog', args, { flags: ['json'] });
  if (o.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [sub, ...rest] = o.positional;
  if (sub !== 'list' && sub !== 'show') throw new ArgumentError(`prog: unknown subcommand ${JSON.stringify(sub ?? '')}\n${USAGE}`);
  if (rest.length) throw new ArgumentError(`prog list: unexpected argument ${rest[0]}`);
  const { listPrograms } = await import('../../kernel/listing.js');
  const progs = listPrograms();
  if (o.flags.has('json')) {
    io.stdout.write(JSON.stringify(progs) + '\n');
    return 0;
  }
  for (const p of progs) {
    io.stdout.write(`${p.id}: ${p.type}  name ${p.name}  tag ${p.tag}${p.gplCompatible ? '  gpl' : ''}\n`);
    io.stdout.write(`\tloaded_at ${p.loadedAt}  uid ${p.uid}\n`);
    let line = `\txlated ${p.xlatedBytes}B  jited ${p.jitedBytes}B`;
    if (p.mapIds.length) line += `  map_ids ${p.mapIds.join(',')}`;
    if (p.btfId) line += `  btf_id ${p.btfId}`;
    io.stdout.write(line + '\n');
    if (p.runCount) io.stdout.write(`\trun_cnt ${p.runCount}  run_time_ns ${p.runTimeNs}\n`);
  }
  return 0;
}
