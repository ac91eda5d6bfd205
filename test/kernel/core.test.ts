/**
 * CO-RE against the running kernel. Values the programs compute after relocation are compared
 * with bpftool's own dump of /sys/kernel/btf/vmlinux (independent BTF parser) and with what the
 * kernel does at run time (raw_tp test run; tracepoint attached and triggered by getpid).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VerifierError } from '../../lib/errors.js';
import { parseObject } from '../../lib/elf/index.js';
import { vmlinuxBtf } from '../../lib/kernel/btf.js';
import { POISON_HELPER, patchCoreInsn, resolveCoreReloc } from '../../lib/kernel/core.js';
import { sys } from '../../lib/kernel/sys.js';
import { compileC } from '../helpers/progs.js';
import { kernelSkipReason, loadObjectFile, readU64, u32, u64, type LoadedObject } from './load-helpers.js';

const title = kernelSkipReason ? `kernel CO-RE (skipped: ${kernelSkipReason})` : 'kernel CO-RE';

/** bpftool's raw dump of vmlinux BTF: struct member bit offsets, sizes and enum values. */
class VmlinuxOracle {
  private readonly text: string;
  constructor() {
    this.text = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'raw'], {
      encoding: 'utf8',
      maxBuffer: 512 << 20,
    });
  }
  private block(header: RegExp): string[] {
    const lines = this.text.split('\n');
    const i = lines.findIndex((l) => header.test(l));
    if (i < 0) throw new Error(`bpftool dump has no ${header}`);
    const out = [lines[i]!];
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith('\t'); j++) out.push(lines[j]!);
    return out;
  }
  typeId(kind: string, name: string): number {
    return Number(/^\[(\d+)\]/.exec(this.block(new RegExp(`^\\[\\d+\\] ${kind} '${name}' `))[0])![1]);
  }
  structSize(name: string): number {
    return Number(/size=(\d+)/.exec(this.block(new RegExp(`^\\[\\d+\\] STRUCT '${name}' `))[0])![1]);
  }
  member(struct: string, member: string): { bitOffset: number; bitSize: number } {
    const l = this.block(new RegExp(`^\\[\\d+\\] STRUCT '${struct}' `)).find((x) => x.startsWith(`\t'${member}' `));
    if (!l) throw new Error(`no member ${member} in ${struct}`);
    return { bitOffset: Number(/bits_offset=(\d+)/.exec(l)![1]), bitSize: Number(/bitfield_size=(\d+)/.exec(l)?.[1] ?? 0) };
  }
  memberByteOffset(struct: string, member: string): number {
    const l = this.block(new RegExp(`^\\[\\d+\\] STRUCT '${struct}' `)).find((x) => x.startsWith(`\t'${member}' `));
    if (!l) throw new Error(`no member ${member} in ${struct}`);
    return Number(/bits_offset=(\d+)/.exec(l)![1]) / 8;
  }
  enumValue(en: string, name: string): number {
    const l = this.block(new RegExp(`^\\[\\d+\\] ENUM '${en}' `)).find((x) => x.startsWith(`\t'${name}' `));
    return Number(/val=(-?\d+)/.exec(l!)![1]);
  }
}

describe.skipIf(kernelSkipReason !== undefined)(title, () => {
  let oracle: VmlinuxOracle;
  let obj: LoadedObject;
  let objPath = '';

  beforeAll(async () => {
    oracle = new VmlinuxOracle();
    objPath = await compileC('test/kernel/progs/core_task.bpf.c');
    obj = loadObjectFile(objPath);
  });
  afterAll(() => {
    obj?.close();
  });

  const out = (k: number): bigint => readU64(obj.maps.get('out')!.lookup(u32(k))!);

  test('raw_tp: field offset/size/exists, type size/exists, enum value match bpftool; the read sees our tgid', () => {
    const spec = obj.spec.programs.find((p) => p.name === 'core_raw_tp')!;
    expect(spec.coreRelocs.length).toBeGreaterThanOrEqual(7);
    const r = obj.progs.get('core_raw_tp')!.run({});
    expect(r.retval).toBe(0);
    expect(out(0)).toBe(BigInt(process.pid));
    expect(out(1)).toBe(BigInt(oracle.memberByteOffset('task_struct', 'tgid')));
    expect(out(2)).toBe(4n);
    expect(out(3)).toBe(0n);
    expect(out(4)).toBe(BigInt(oracle.structSize('task_struct')));
    expect(out(5)).toBe(BigInt(oracle.enumValue('bpf_map_type', 'BPF_MAP_TYPE_RINGBUF')));
    expect(out(5)).not.toBe(1000n); // the local (wrong) value was replaced
    expect(out(6)).toBe(1n);
    expect(out(7)).toBe(1n);
    // bitfield: the 4-byte (unsigned int) aligned load that holds it, and the shifts that extract it
    const bf = oracle.member('task_struct', 'sched_migrated');
    expect(bf.bitSize).toBe(1);
    const byteOff = Math.floor(bf.bitOffset / 32) * 4;
    expect(out(11)).toBe(BigInt(byteOff));
    expect(out(12)).toBe(4n);
    expect(out(13)).toBe(BigInt(64 - (bf.bitOffset + bf.bitSize - byteOff * 8)));
    expect(out(14)).toBe(BigInt(64 - bf.bitSize));
    expect(out(15)).toBe(2n); // pid signed, sched_migrated unsigned
    // type ids: kernel id from bpftool's vmlinux dump, local id from bpftool's dump of the object
    expect(out(16)).toBe(BigInt(oracle.typeId('STRUCT', 'task_struct')));
    const local = execFileSync('bpftool', ['btf', 'dump', 'file', objPath, 'format', 'raw'], { encoding: 'utf8' });
    expect(out(17)).toBe(BigInt(/^\[(\d+)\] STRUCT 'task_struct' /m.exec(local)![1]!));
    expect(out(18)).toBe(1n); // flavor ___missing matches the kernel's task_struct by essential name
  });

  test('tracepoint: ctx field offset relocated; attached program sees sys_enter_getpid with the right nr', () => {
    const prog = obj.progs.get('core_tp')!;
    const map = obj.maps.get('out')!;
    map.update(u32(10), u64(process.pid), 0);
    map.update(u32(8), u64(0), 0);
    const link = prog.attach({ kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_getpid' });
    try {
      for (let i = 0; i < 3; i++) sys().getpid();
    } finally {
      link.close();
    }
    const nrOffset = oracle.memberByteOffset('syscall_trace_enter', 'nr');
    expect(out(9)).toBe(BigInt(nrOffset));
    const fmt = readFileSync('/sys/kernel/tracing/events/syscalls/sys_enter_getpid/format', 'utf8');
    expect(Number(/field:int __syscall_nr;\s*offset:(\d+)/.exec(fmt)![1])).toBe(nrOffset);
    const expectedNr = process.arch === 'x64' ? 39n : process.arch === 'arm64' ? 172n : undefined;
    if (expectedNr !== undefined) expect(out(8)).toBe(expectedNr);
    else expect(out(8)).toBeGreaterThan(0n);
  });

  test('resolution against vmlinux directly: offsets from lib/btf agree with bpftool; missing field poisons', () => {
    const spec = parseObject(readFileSync(objPath), objPath);
    const prog = spec.programs.find((p) => p.name === 'core_raw_tp')!;
    const kernel = vmlinuxBtf();
    const results = prog.coreRelocs.map((r) => resolveCoreReloc(spec.btf!, kernel, r, prog.name));
    const offsetOfTgid = results.find((r) => r.reloc.kind === 'field_byte_offset' && r.value === oracle.memberByteOffset('task_struct', 'tgid'));
    expect(offsetOfTgid).toBeDefined();
    const exists = results.filter((r) => r.reloc.kind === 'field_exists').map((r) => r.value).sort();
    expect(exists).toEqual([0, 1]);
    // a field offset on the missing field is poisoned: the instruction becomes call 0xbad2310
    const missingType = spec.btf!.findByName('task_struct___missing')[0]!;
    const res = resolveCoreReloc(spec.btf!, kernel, { insn: 0, typeId: missingType, accessString: '0:0', kind: 'field_byte_offset' }, 'x');
    expect(res.poisoned).toBe(true);
    expect(res.reason).toMatch(/bpfkit_no_such_field not found/);
    const insns = new Uint8Array(16);
    insns[0] = 0x61; // ldx w
    patchCoreInsn(insns, res, 'x');
    expect(insns[0]).toBe(0x85);
    expect(new DataView(insns.buffer).getInt32(4, true)).toBe(POISON_HELPER);
  });

  test('a reachable poisoned relocation gives VerifierError naming the relocation and the C line', async () => {
    const path = await compileC('test/kernel/progs/core_poison.bpf.c');
    let err: unknown;
    try {
      loadObjectFile(path).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifierError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/CO-RE relocation \(field_byte_offset\) failed: field task_struct___gone\.bpfkit_no_such_field not found in kernel BTF/);
    expect(msg).toMatch(/core_poison\.bpf\.c:\d+/);
    expect((err as VerifierError).source?.file).toMatch(/core_poison\.bpf\.c$/);
  });
});
