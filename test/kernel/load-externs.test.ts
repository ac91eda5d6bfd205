/**
 * Extern symbols resolved against the running kernel: kconfig values (checked against
 * /proc/config.gz and uname), a typeless ksym (checked against /proc/kallsyms) and kfunc calls
 * (checked with bpftool's translated dump).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { kernelVersionCode } from '../../lib/kernel/externs.js';
import { compileC } from '../helpers/progs.js';
import { bpftool, kernelSkipReason, loadObjectFile, u32, type LoadedObject } from './load-helpers.js';

const title = kernelSkipReason ? `kernel externs (skipped: ${kernelSkipReason})` : 'kernel externs';

describe.skipIf(kernelSkipReason !== undefined)(title, () => {
  let obj: LoadedObject;
  beforeAll(async () => {
    obj = loadObjectFile(await compileC('test/kernel/progs/externs_k.bpf.c'));
  });
  afterAll(() => obj?.close());

  test('kconfig and ksym values seen by the program match the kernel (config.gz, uname, kallsyms)', () => {
    expect(obj.progs.get('read_externs')!.run({}).retval).toBe(0);
    const bss = obj.maps.get('.bss')!.lookup(u32(0))!;
    const dv = new DataView(bss.buffer, bss.byteOffset);
    const [kver, hz, nope, addr] = [0, 1, 2, 3].map((i) => dv.getBigUint64(i * 8, true));
    const rel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
    const m = /^(\d+)\.(\d+)\.(\d+)/.exec(rel)!;
    expect(kver).toBe(BigInt((Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3]), 255)));
    expect(kernelVersionCode(rel)).toBe(Number(kver));
    const config = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
    expect(hz).toBe(BigInt(/^CONFIG_HZ=(\d+)$/m.exec(config)![1]!));
    expect(nope).toBe(0n); // unknown __weak kconfig → 0
    const sym = readFileSync('/proc/kallsyms', 'utf8').split('\n').find((l) => / bpf_prog_put$/.test(l))!;
    expect(addr).toBe(BigInt('0x' + sym.split(' ')[0]));
  });

  test('kfunc calls carry vmlinux BTF ids (bpftool shows the kernel function names)', () => {
    const prog = obj.progs.get('call_kfuncs')!;
    const dump = bpftool('prog', 'dump', 'xlated', 'id', String(prog.id)) as { disasm?: string }[];
    const calls = dump.map((d) => d.disasm ?? '').filter((d) => d.includes('call'));
    expect(calls.some((c) => c.includes('bpf_rcu_read_lock'))).toBe(true);
    expect(calls.some((c) => c.includes('bpf_rcu_read_unlock'))).toBe(true);
  });

  test('the .kconfig map is read-only for programs, frozen, and owned by the program after the session', () => {
    const prog = obj.progs.get('read_externs')!;
    const show = bpftool('prog', 'show', 'id', String(prog.id)) as { map_ids: number[] };
    const maps = show.map_ids.map((id) => bpftool('map', 'show', 'id', String(id)) as { name: string; frozen?: number; flags?: number });
    const kconfig = maps.find((mp) => mp.name === '.kconfig');
    expect(kconfig).toBeDefined();
    expect(kconfig!.frozen).toBe(1);
  });
});
