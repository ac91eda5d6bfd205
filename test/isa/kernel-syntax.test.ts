/**
 * The kernel-log syntax printer against the real kernel: every test object is loaded with
 * `bpftool -d prog loadall` (libbpf asks for a level-2 verifier log, which prints each
 * instruction the verifier visits), and each logged `N: (xx) TEXT` must equal `formatKernel` of
 * instruction N of the program as lib/elf links it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseObject } from '../../lib/elf/index.js';
import { decode, insn } from '../../lib/isa/insn.js';
import { formatKernel } from '../../lib/isa/kernel-syntax.js';
import { CallSrc, Op } from '../../lib/isa/opcodes.js';
import { allProgs, compileC } from '../helpers/progs.js';

const isRootLinux = process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0;
const PIN_ROOT = '/sys/fs/bpf';
const PIN_DIR = `${PIN_ROOT}/bpfkit_isa_kernel_syntax_${process.pid}`;

function ensureBpffs(): void {
  const mounts = readFileSync('/proc/mounts', 'utf8');
  if (!mounts.split('\n').some((l) => l.split(' ')[1] === PIN_ROOT && l.split(' ')[2] === 'bpf')) {
    execFileSync('mount', ['-t', 'bpf', 'bpf', PIN_ROOT]);
  }
}

/** Per program: logged instruction index → [opcode, text]. */
function kernelLogs(objPath: string, n: number): Map<string, Map<number, [number, string]>> {
  const dir = `${PIN_DIR}_${n}`;
  try {
    const r = spawnSync('bpftool', ['-d', 'prog', 'loadall', objPath, dir], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 60_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    const logs = new Map<string, Map<number, [number, string]>>();
    let cur: Map<number, [number, string]> | undefined;
    for (const line of out.split('\n')) {
      const begin = /^libbpf: prog '([^']+)': -- BEGIN PROG LOAD LOG --$/.exec(line);
      if (begin) {
        cur = new Map();
        logs.set(begin[1]!, cur);
        continue;
      }
      if (line.startsWith('-- END PROG LOAD LOG --')) {
        cur = undefined;
        continue;
      }
      const m = /^(\d+): \(([0-9a-f]{2})\) (.*?)(?:\s+;.*)?$/.exec(line);
      if (m && cur) cur.set(Number(m[1]), [parseInt(m[2]!, 16), `(${m[2]}) ${m[3]!.trimEnd()}`]);
    }
    return logs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

afterAll(() => {
  if (existsSync(PIN_ROOT)) for (let n = 0; n < 400; n++) rmSync(`${PIN_DIR}_${n}`, { recursive: true, force: true });
});

describe('formatKernel', () => {
  it('prints the kernel verifier-log forms', () => {
    const t = (code: number, dst: number, src: number, off: number, imm: number, hi = 0): string => formatKernel(insn(code, dst, src, off, imm, hi));
    expect(t(0x61, 1, 6, 12, 0)).toBe('(61) r1 = *(u32 *)(r6 +12)');
    expect(t(0x63, 10, 1, -4, 0)).toBe('(63) *(u32 *)(r10 -4) = r1');
    expect(t(0x7a, 10, 0, -8, -1)).toBe('(7a) *(u64 *)(r10 -8) = -1');
    expect(t(0x07, 2, 0, 0, -4)).toBe('(07) r2 += -4');
    expect(t(0xbc, 1, 2, 0, 0)).toBe('(bc) w1 = w2');
    expect(t(0xbf, 1, 2, 16, 0)).toBe('(bf) r1 = (s16)r2');
    expect(t(0x3f, 1, 2, 1, 0)).toBe('(3f) r1 s/= r2');
    expect(t(0x87, 3, 0, 0, 0)).toBe('(87) r3 = -r3');
    expect(t(0xdc, 1, 0, 0, 16)).toBe('(dc) r1 = be16 r1');
    expect(t(0xd7, 1, 0, 0, 64)).toBe('(d7) r1 = bswap64 r1');
    expect(t(0x15, 0, 0, 2, 0)).toBe('(15) if r0 == 0x0 goto pc+2');
    expect(t(0x56, 1, 0, -3, -1)).toBe('(56) if w1 != 0xffffffff goto pc-3');
    expect(t(0x2d, 1, 7, 4, 0)).toBe('(2d) if r1 > r7 goto pc+4');
    expect(t(0x05, 0, 0, -1, 0)).toBe('(05) goto pc-1');
    expect(t(0x06, 0, 0, 0, 70000)).toBe('(06) gotol pc+70000');
    expect(t(0xe5, 0, 0, 3, 0)).toBe('(e5) may_goto pc+3');
    expect(t(0x85, 0, 0, 0, 1)).toBe('(85) call bpf_map_lookup_elem#1');
    expect(t(0x85, 0, 1, 0, 5)).toBe('(85) call pc+5');
    expect(t(0x85, 0, 2, 0, 1234)).toBe('(85) call kernel-function#1234');
    expect(formatKernel(insn(0x85, 0, 2, 0, 1234), { callName: () => 'bpf_rcu_read_lock' })).toBe('(85) call bpf_rcu_read_lock#1234');
    expect(t(0x95, 0, 0, 0, 0)).toBe('(95) exit');
    expect(t(0x18, 1, 0, 0, 0x3fd00200, -0x77ed)).toBe('(18) r1 = 0xffff88133fd00200');
    expect(t(0x30, 0, 0, 0, 23)).toBe('(30) r0 = *(u8 *)skb[23]');
    expect(t(0x48, 0, 7, 0, 2)).toBe('(48) r0 = *(u16 *)skb[r7 + 2]');
    expect(t(0xdb, 0, 1, 0, 0)).toBe('(db) lock *(u64 *)(r0 +0) += r1');
    expect(t(0xdb, 1, 2, 8, 0x51)).toBe('(db) r2 = atomic64_fetch_and((u64 *)(r1 +8), r2)');
    expect(t(0xc3, 1, 2, 0, 0xe1)).toBe('(c3) r2 = atomic_xchg((u32 *)(r1 +0), r2)');
    expect(t(0xdb, 1, 2, 0, 0xf1)).toBe('(db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)');
    expect(t(0xd3, 1, 2, 0, 0x100)).toBe('(d3) r1 = load_acquire((u8 *)(r2 +0))');
    expect(t(0xdb, 1, 2, 0, 0x110)).toBe('(db) store_release((u64 *)(r1 +0), r2)');
    expect(t(0xbf, 1, 2, 1, 1)).toBe('(bf) r1 = addr_space_cast(r2, 0, 1)');
  });

  it.skipIf(!isRootLinux)('equals the Linux verifier log for every instruction it visits in the test objects (needs root on Linux)', async () => {
    ensureBpffs();
    mkdirSync(PIN_ROOT, { recursive: true });
    // Objects with by-name pinned maps are left out: bpftool's libbpf would pin them under
    // /sys/fs/bpf itself (its pin root is fixed), outside this test's own pin directory.
    const objects = (await allProgs()).filter((p) => !/LIBBPF_PIN_BY_NAME/.test(readFileSync(p.source, 'utf8'))).map((p) => p.path);
    const fixtures = join(import.meta.dirname, 'fixtures');
    for (const name of ['alu', 'mem', 'jumps', 'atomics', 'calls', 'ldabs']) {
      for (const cpu of ['v2', 'v4'] as const) objects.push(await compileC(join(fixtures, `${name}.c`), { cpu }));
    }
    let checked = 0;
    const diffs: string[] = [];
    const codesSeen = new Set<number>();
    for (let n = 0; n < objects.length; n++) {
      const path = objects[n]!;
      const spec = parseObject(new Uint8Array(readFileSync(path)), path);
      const logs = kernelLogs(path, n);
      for (const prog of spec.programs) {
        const log = logs.get(prog.name);
        if (!log) continue;
        const skip = new Set<number>([
          ...prog.mapReferences.map((r) => r.insn),
          ...prog.externReferences.map((r) => r.insn),
          ...prog.coreRelocs.map((r) => r.insn),
        ]);
        // Compare the entry function only: where libbpf puts subprograms is its own business.
        const entryEnd = prog.functionStarts[1]?.insn ?? prog.instructions.length / 8;
        for (const [idx, [code, text]] of log) {
          if (idx >= entryEnd || skip.has(idx)) continue;
          const i = decode(prog.instructions, idx);
          // Fields that libbpf or the kernel fill in before the log is printed: map and global
          // data addresses in ld_imm64, kfunc BTF ids, and bpf-to-bpf call offsets (libbpf
          // places subprograms in its own order).
          if (i.code === Op.LD_IMM64 && i.src !== 0) continue;
          if (i.code === Op.CALL && i.src !== CallSrc.HELPER) continue;
          if (i.code !== code) {
            diffs.push(`${path} ${prog.name} ${idx}: opcode ${code.toString(16)} in the log, ${i.code.toString(16)} in the spec`);
            continue;
          }
          const ours = formatKernel(i);
          if (ours !== text) diffs.push(`${path} ${prog.name} ${idx}: kernel ${JSON.stringify(text)} bpfkit ${JSON.stringify(ours)}`);
          codesSeen.add(i.code);
          checked++;
        }
      }
    }
    expect(diffs.slice(0, 15)).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
    expect(codesSeen.size).toBeGreaterThan(60);
  });
});
