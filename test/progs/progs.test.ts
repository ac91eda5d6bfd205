// The shared test-program corpus: every program compiles, the real kernel verifier accepts every
// object (bpftool prog loadall as the oracle), v4 objects really contain the v4 instructions, and
// the compile cache is content-addressed and safe under concurrency.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseObject } from '../../lib/elf/index.js';
import { refusedByKernel } from '../helpers/kernel-features.js';
import { allProgs, compileC, compileProg, type ProgInfo } from '../helpers/progs.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
const progs: ProgInfo[] = await allProgs();

function objdump(path: string, extra: string[] = []): string {
  return execFileSync('llvm-objdump-19', ['-d', '--no-show-raw-insn', ...extra, path], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

function sections(path: string): string[] {
  const out = execFileSync('llvm-readelf-19', ['-S', '-W', path], { encoding: 'utf8' });
  return [...out.matchAll(/^\s*\[\s*\d+\]\s+(\S+)/gm)].map((m) => m[1]!);
}

function header(p: ProgInfo, key: string): string | undefined {
  const m = new RegExp(`bpfkit: ${key}=(\\S+)`).exec(readFileSync(p.source, 'utf8'));
  return m?.[1];
}

function ensureBpffs(): void {
  try {
    execFileSync('mountpoint', ['-q', '/sys/fs/bpf']);
  } catch {
    execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
  }
}

describe('test program corpus', () => {
  it('has at least 25 programs covering cpu v1..v4', () => {
    expect(progs.length).toBeGreaterThanOrEqual(25);
    expect(new Set(progs.map((p) => p.cpu))).toEqual(new Set(['v1', 'v2', 'v3', 'v4']));
    for (const p of progs) expect(readFileSync(p.path).subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  });

  it('covers the required program sections', () => {
    const all = new Set(progs.flatMap((p) => sections(p.path)));
    for (const s of ['xdp', 'tc', 'classifier', 'tcx/ingress', 'tcx/egress', 'socket', 'tracepoint/syscalls/sys_enter_getpid', 'raw_tp/sys_enter', 'cgroup_skb/ingress', 'cgroup_skb/egress', 'uprobe', 'uretprobe', '.maps', 'maps', '.data', '.rodata', '.bss']) {
      expect(all, s).toContain(s);
    }
  });

  it('covers the required map types (bpftool btf dump as the oracle)', () => {
    // `__uint(type, X)` in a map definition is a member `type` of type `int (*)[X]`.
    const defined = new Set<number>();
    for (const p of progs) {
      const dump = execFileSync('bpftool', ['btf', 'dump', 'file', p.path], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const byId = new Map<number, string>();
      for (const m of dump.matchAll(/^\[(\d+)\] (.*)$/gm)) byId.set(Number(m[1]), m[2]!);
      for (const m of dump.matchAll(/^\s+'type' type_id=(\d+) bits_offset=0$/gm)) {
        const ptr = /^PTR '\(anon\)' type_id=(\d+)/.exec(byId.get(Number(m[1])) ?? '');
        const arr = ptr && /^ARRAY '\(anon\)' .* nr_elems=(\d+)/.exec(byId.get(Number(ptr[1])) ?? '');
        if (arr) defined.add(Number(arr[1]));
      }
      if (p.name === 'legacy_maps') defined.add(0);
    }
    // hash, array, prog_array, perf_event_array, percpu_hash, percpu_array, lru_hash,
    // lru_percpu_hash, lpm_trie, array_of_maps, hash_of_maps, devmap, cpumap, xskmap, queue,
    // stack, devmap_hash, ringbuf
    for (const t of [1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 16, 17, 22, 23, 25, 27]) expect(defined, `map type ${t}`).toContain(t);
  });

  it('v4 objects contain sdiv, smod, movsx, ldsx, bswap, gotol and jmp32 (llvm-objdump)', () => {
    const text = progs.filter((p) => p.cpu === 'v4').map((p) => objdump(p.path)).join('\n');
    for (const needle of [' s/= ', ' s%= ', '= (s8)', '= (s16)', '= (s32)', '*(s8 *)', '*(s16 *)', '*(s32 *)', 'bswap16', 'bswap32', 'bswap64', '\tgotol ', 'if w']) {
      expect(text, needle).toContain(needle);
    }
  });

  it('v3 objects contain the atomic fetch/xchg/cmpxchg forms; v1 contains legacy packet loads', () => {
    const v3 = objdump(progs.find((p) => p.name === 'atomics.v3')!.path, ['--mcpu=v3']);
    for (const needle of ['atomic_fetch_add', 'atomic_fetch_and', 'atomic_fetch_or', 'atomic_fetch_xor', 'xchg_64', 'cmpxchg_64', 'xchg32_32', 'cmpxchg32_32', 'lock *(u64 *)', 'lock *(u32 *)']) {
      expect(v3, needle).toContain(needle);
    }
    const v1 = progs.filter((p) => p.cpu === 'v1').map((p) => objdump(p.path)).join('\n');
    expect(v1).toContain('skb[');
    expect(v1).not.toMatch(/\bw\d+ /);
  });

  it.skipIf(!isRootLinux)('every object is accepted by the kernel verifier (bpftool prog loadall)', async () => {
    ensureBpffs();
    const failures: string[] = [];
    for (const p of progs) {
      const flags = header(p, 'check-flags');
      const path = flags ? await compileC(p.source, { cpu: p.cpu, extraFlags: flags.split(',') }) : p.path;
      const type = header(p, 'bpftool-type');
      const dir = `/sys/fs/bpf/bpfkit_progs_test_${process.pid}_${p.name.replace(/\W/g, '_')}`;
      // an object with a program calling a helper this kernel does not offer its type cannot load
      // whole: bpftool must then fail naming exactly that helper (probed by test/kernel/features.test.ts)
      const refused = [...(await refusedByKernel(parseObject(readFileSync(path), path))).values()].flat();
      try {
        execFileSync('bpftool', ['prog', 'loadall', path, dir, ...(type ? ['type', type] : [])], { stdio: 'pipe' });
        if (refused.length) failures.push(`${p.name}: loaded although the probe says ${refused[0]!.helper} is missing`);
      } catch (e) {
        const stderr = String((e as { stderr?: Buffer }).stderr ?? e);
        if (!refused.some((r) => stderr.includes(`cannot use helper ${r.helper}#${r.id}`))) {
          failures.push(`${p.name}: ${stderr.split('\n').slice(-8).join('\n')}`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('compile cache', () => {
  it('returns the same path for the same source and flags, another for other flags', async () => {
    const a = await compileProg('xdp_basic');
    const b = await compileProg('xdp_basic');
    const c = await compileProg('xdp_basic', { cpu: 'v1' });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(existsSync(c)).toBe(true);
  });

  it('is keyed by included headers and safe under concurrent compiles', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfkit-progs-'));
    try {
      const src = join(dir, 'inc.bpf.c');
      writeFileSync(join(dir, 'val.h'), '#define VAL 1\n');
      writeFileSync(src, `#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n#include "val.h"\nSEC("xdp") int f(struct xdp_md *c) { return VAL; }\nchar _l[] SEC("license") = "GPL";\n// ${dir}\n`);
      const paths = await Promise.all([1, 2, 3, 4].map(() => compileC(src)));
      expect(new Set(paths).size).toBe(1);
      writeFileSync(join(dir, 'val.h'), '#define VAL 2\n');
      const changed = await compileC(src);
      expect(changed).not.toBe(paths[0]);
      expect(objdump(changed)).toContain('w0 = 0x2');
      for (const p of new Set([...paths, changed])) rmSync(p, { force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports compiler errors with the source path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfkit-progs-'));
    try {
      const src = join(dir, 'bad.bpf.c');
      writeFileSync(src, 'int f( {\n');
      await expect(compileC(src)).rejects.toThrow(/bad\.bpf\.c/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
