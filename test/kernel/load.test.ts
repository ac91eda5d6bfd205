/**
 * Loading into the real kernel: the addon probe, object BTF (BPF_BTF_LOAD), every test program,
 * func/line info (read back with bpftool), verifier rejections naming the C line, test runs,
 * by-name pinning and program pinning.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BpfError, NotSupportedError, VerifierError } from '../../lib/errors.js';
import { parseObject } from '../../lib/elf/index.js';
import { addonPaths, createKernelBackend, probeKernel } from '../../lib/kernel/index.js';
import { attachBtfId as attachBtfIdOf, loadBtf } from '../../lib/kernel/btf.js';
import { mapBtfId } from '../../lib/kernel/maps.js';
import { loadProgram } from '../../lib/kernel/programs.js';
import { objInfo, sys } from '../../lib/kernel/sys.js';
import { ProgInfoOff } from '../../lib/kernel/attr.js';
import { kernelLoadable } from '../helpers/kernel-features.js';
import { allProgs, compileC, compileProg } from '../helpers/progs.js';
import {
  bpftool, concat, insn, kernelSkipReason, loadObjectFile, loadSpec, pinDir, progSpec, readU32, readU64,
  removePinDir, retImm, u32,
} from './load-helpers.js';

const title = kernelSkipReason ? `kernel load (skipped: ${kernelSkipReason})` : 'kernel load';

describe.skipIf(kernelSkipReason !== undefined)(title, () => {
  let dir = '';
  const cleanup: { close(): void }[] = [];

  beforeAll(() => {
    dir = pinDir('load');
  });
  afterAll(() => {
    for (const c of cleanup) c.close();
    removePinDir(dir);
  });

  test('probe: addon loads and bpf(2) works; loader paths include BPFKIT_ADDON first', () => {
    expect(probeKernel()).toEqual({ ok: true, reason: 'addon loaded, bpf(2) works' });
    const be = createKernelBackend();
    expect(be.kind).toBe('kernel');
    expect(be.possibleCpus).toBe(Number(readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(/[-,]/).pop()) + 1);
    expect(be.ifindex('lo')).toBe(1);
    expect(() => be.ifindex('bpfkit-nope0')).toThrow(/no interface named bpfkit-nope0/);
    const old = process.env.BPFKIT_ADDON;
    process.env.BPFKIT_ADDON = '/nonexistent/bpf_sys.node';
    try {
      const paths = addonPaths();
      expect(paths[0]).toBe('/nonexistent/bpf_sys.node');
      expect(paths.some((p) => p.endsWith('build/Release/bpf_sys.node'))).toBe(true);
      expect(paths.some((p) => p.endsWith('build/Debug/bpf_sys.node'))).toBe(true);
    } finally {
      if (old === undefined) delete process.env.BPFKIT_ADDON;
      else process.env.BPFKIT_ADDON = old;
    }
  });

  test('when no addon loads, the error lists every path tried with its cause, and probe() says why', () => {
    // Run the real loader from a copy of lib/ that has no build/ next to it.
    const root = mkdtempSync(join(tmpdir(), 'bpfkit-loader-'));
    try {
      mkdirSync(join(root, 'lib', 'kernel'), { recursive: true });
      copyFileSync('lib/kernel/binding.ts', join(root, 'lib', 'kernel', 'binding.ts'));
      copyFileSync('lib/errors.ts', join(root, 'lib', 'errors.ts'));
      writeFileSync(join(root, 'package.json'), '{"type":"module"}');
      const bogus = join(root, 'bogus.node');
      writeFileSync(bogus, 'not an ELF shared object');
      writeFileSync(
        join(root, 'main.ts'),
        `import { loadBinding, probe } from './lib/kernel/binding.js';
         let msg = '', name = '';
         try { loadBinding(); } catch (e) { msg = (e as Error).message; name = (e as Error).constructor.name; }
         console.log(JSON.stringify({ msg, name, probe: probe() }));`,
      );
      const out = execFileSync(join(process.cwd(), 'node_modules', '.bin', 'tsx'), [join(root, 'main.ts')], {
        encoding: 'utf8',
        env: { ...process.env, BPFKIT_ADDON: `${bogus}:${join(root, 'missing.node')}` },
      });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { msg: string; name: string; probe: { ok: boolean; reason: string } };
      expect(r.name).toBe('NotSupportedError');
      expect(r.msg).toContain(`${bogus}: `);
      expect(r.msg).toMatch(/invalid ELF header|file too short|cannot open/);
      expect(r.msg).toContain(`${join(root, 'missing.node')}: not found`);
      expect(r.msg).toContain(`${join(root, 'build', 'Release', 'bpf_sys.node')}: not found`);
      expect(r.msg).toContain(`${join(root, 'build', 'Debug', 'bpf_sys.node')}: not found`);
      expect(r.msg).toContain('npm install');
      expect(r.probe.ok).toBe(false);
      expect(r.probe.reason).toBe(r.msg);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('without privileges: EPERM gives SyscallError with the CAP_BPF hint, and probe() says why', () => {
    const root = mkdtempSync(join(tmpdir(), 'bpfkit-eperm-'));
    try {
      const lib = join(process.cwd(), 'lib', 'kernel');
      writeFileSync(
        join(root, 'main.ts'),
        `import { probe } from '${lib}/binding.js';
         import { KernelMap } from '${lib}/maps.js';
         import { loadProgram } from '${lib}/programs.js';
         const out: Record<string, unknown> = { probe: probe() };
         const spec = { name: 'x', type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, pinning: 'none', section: '.maps', keyTypeId: 0, valueTypeId: 0, contents: [], freeze: false, globalData: false } as const;
         try { KernelMap.create(spec); } catch (e) { out.map = { name: (e as Error).constructor.name, msg: (e as Error).message, errno: (e as { errno?: number }).errno }; }
         const insns = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
         const prog = { name: 'p', section: 'socket', type: 'socket_filter', flags: 0, sleepable: false, instructions: insns, subprograms: [], functionStarts: [], mapReferences: [], externReferences: [], license: 'GPL', kernelVersion: 0, funcInfo: [], lineInfo: [], coreRelocs: [] } as const;
         try { loadProgram(prog as never, { maps: new Map() }, { btfFd: 0 }); } catch (e) { out.prog = { name: (e as Error).constructor.name, msg: (e as Error).message }; }
         console.log(JSON.stringify(out));`,
      );
      chmodSync(root, 0o755);
      chmodSync(join(root, 'main.ts'), 0o644);
      const out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', join(process.cwd(), 'node_modules', '.bin', 'tsx'), join(root, 'main.ts')], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { probe: { ok: boolean; reason: string }; map: { name: string; msg: string; errno: number }; prog: { name: string; msg: string } };
      expect(r.probe.ok).toBe(false);
      expect(r.probe.reason).toMatch(/Operation not permitted.*CAP_BPF/);
      expect(r.map.name).toBe('SyscallError');
      expect(r.map.errno).toBe(1);
      expect(r.map.msg).toMatch(/^create map x \(hash\): Operation not permitted \(run as root or grant CAP_BPF/);
      expect(r.prog.name).toBe('SyscallError');
      expect(r.prog.msg).toMatch(/^load program p: Operation not permitted \(run as root or grant CAP_BPF.*CAP_NET_ADMIN/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('object BTF loads (BPF_BTF_LOAD); maps carry it; bad BTF is rejected with the kernel log', async () => {
    const spec = parseObject(readFileSync(await compileProg('maps_btf')));
    const fd = loadBtf(spec.btf!.raw, spec.source);
    expect(fd).toBeGreaterThan(0);
    sys().close(fd);

    const obj = loadObjectFile(await compileProg('maps_btf'));
    cleanup.push(obj);
    const flows = obj.maps.get('flows')!;
    const btfId = mapBtfId(flows.fd!);
    expect(btfId).toBeGreaterThan(0);
    const raw = (bpftool('btf', 'dump', 'id', String(btfId)) as { types: { name: string; kind: string }[] }).types;
    expect(raw.some((t) => t.kind === 'STRUCT' && t.name === 'flow_stats')).toBe(true);

    const bad = new Uint8Array(spec.btf!.raw);
    new DataView(bad.buffer).setUint32(8, 0xffff, true); // type_off far beyond the blob
    let err: unknown;
    try {
      loadBtf(bad, 'corrupt.o');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BpfError);
    expect((err as BpfError).code).toBe('BTF_REJECTED');
    expect((err as Error).message).toMatch(/^load BTF of corrupt\.o: the kernel rejected it/);
    expect((err as { log?: string }).log?.length).toBeGreaterThan(0);
  });

  test('every program in test/progs loads; bpftool sees each with its name, type and verified insns', async () => {
    const progs = await allProgs();
    expect(progs.length).toBeGreaterThanOrEqual(25);
    const loaded: string[] = [];
    let refused = 0;
    for (const p of progs) {
      // programs calling a helper this kernel does not offer their type are left out here
      // (test/kernel/features.test.ts checks the kernel refuses exactly those, naming the helper)
      const spec = parseObject(readFileSync(p.path), p.path);
      const programs = await kernelLoadable(spec);
      refused += spec.programs.length - programs.length;
      // by-name pinned maps go under this file's pin dir, never the user's /sys/fs/bpf
      const obj = loadSpec(spec, { pinRoot: dir, programs });
      try {
        expect(obj.progs.size, p.name).toBe(programs.length);
        for (const [name, prog] of obj.progs) {
          const show = bpftool('prog', 'show', 'id', String(prog.id)) as { name: string; type: string; id: number };
          // bpftool prints the full name from BTF func_info, else the kernel's 15-byte name
          expect([name, name.slice(0, 15)], `${p.name}/${name}`).toContain(show.name);
          expect(show.id).toBe(prog.id);
          expect(prog.insnsProcessed ?? 0, `${p.name}/${name}`).toBeGreaterThan(0);
          loaded.push(`${p.name}/${name}`);
        }
      } finally {
        obj.close();
      }
    }
    expect(loaded.length).toBeGreaterThanOrEqual(progs.length);
    if (refused) console.log(`kernel load: ${refused} program(s) left out, calling a helper this kernel does not offer`);
  });

  test('every program in test/progs loads through the public API (load(path, { backend: "kernel" }))', async () => {
    const { load } = await import('../../lib/index.js');
    for (const p of await allProgs()) {
      const programs = await kernelLoadable(parseObject(readFileSync(p.path), p.path));
      const obj = await load(p.path, { backend: 'kernel', pinRoot: dir, programs });
      try {
        expect(obj.backend.kind, p.name).toBe('kernel');
        const names = Object.keys(obj.programs);
        expect(names.length, p.name).toBeGreaterThan(0);
        for (const n of names) expect(obj.programs[n]!.id, `${p.name}/${n}`).toBeGreaterThan(0);
      } finally {
        obj.close();
      }
    }
  });

  test('func_info and line_info reach the kernel (bpftool prog dump xlated shows prototypes and C lines)', async () => {
    const obj = loadObjectFile(await compileProg('subprogs'));
    cleanup.push(obj);
    const prog = obj.progs.get('xdp_subprogs')!;
    const spec = obj.spec.programs.find((p) => p.name === 'xdp_subprogs')!;
    const dump = bpftool('prog', 'dump', 'xlated', 'id', String(prog.id)) as { proto?: string; src?: string }[];
    const protos = dump.filter((d) => d.proto).map((d) => d.proto!);
    expect(protos.length).toBe(spec.funcInfo.length);
    expect(protos[0]).toMatch(/xdp_subprogs\(struct xdp_md \* ?ctx\)/);
    const srcs = new Set(dump.filter((d) => d.src).map((d) => d.src!.trim()));
    const specLines = new Set(spec.lineInfo.map((l) => l.text.trim()).filter((t) => t));
    expect(srcs.size).toBeGreaterThan(3);
    for (const s of srcs) expect(specLines.has(s), s).toBe(true);
  });

  test('a program the verifier rejects gives VerifierError naming the C file, line and text', async () => {
    const src = 'test/kernel/progs/verifier_reject.bpf.c';
    const path = await compileC(src);
    const line = readFileSync(src, 'utf8').split('\n').findIndex((l) => l.includes('BPFKIT_REJECT_LINE')) + 1;
    let err: unknown;
    try {
      loadObjectFile(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifierError);
    const v = err as VerifierError;
    expect(v.program).toBe('reject_oob');
    expect(v.code).toBe('VERIFIER_REJECTED');
    expect(v.source?.line).toBe(line);
    expect(v.source?.file).toMatch(/verifier_reject\.bpf\.c$/);
    expect(v.message).toContain(`verifier_reject.bpf.c:${line}`);
    expect(v.message).toContain('data[20] == 7');
    expect(v.message).toMatch(/^load program reject_oob: verifier rejected the program at insn \d+/);
    expect(v.message).toMatch(/invalid access to packet|outside of the packet/);
    expect(v.log).toMatch(/processed \d+ insns/);
    expect(v.insn).toBeTypeOf('number');
  });

  test('the verifier log buffer grows on ENOSPC (verbose log of a large program from a 1 KiB start)', async () => {
    const spec = parseObject(readFileSync(await compileProg('loops')));
    const obj = loadSpec(spec, { programs: ['loop_sum_bytes'], logLevel: 2 });
    cleanup.push(obj);
    const be = createKernelBackend();
    const session = be.openSession(spec);
    try {
      const prog = session.loadProgram(spec.programs.find((p) => p.name === 'loop_sum_bytes')!, { maps: obj.maps, logLevel: 2, logSize: 1024 });
      cleanup.push(prog);
      expect(prog.log!.length).toBeGreaterThan(1024);
      expect(prog.log).toMatch(/processed \d+ insns/);
    } finally {
      session.close();
    }
  });

  test('test run: retval and data_out (xdp_basic verdicts, MAC swap, hand-assembled socket filter)', async () => {
    const obj = loadObjectFile(await compileProg('xdp_basic'));
    cleanup.push(obj);
    const pkt = (len: number, b0 = 0) => {
      const d = new Uint8Array(len);
      d[0] = b0;
      d[1] = 9;
      return d;
    };
    const lenProg = obj.progs.get('xdp_len_verdict')!;
    expect(lenProg.run({ data: pkt(40) }).retval).toBe(1); // XDP_DROP
    expect(lenProg.run({ data: pkt(100) }).retval).toBe(2); // XDP_PASS
    expect(lenProg.run({ data: pkt(1200) }).retval).toBe(0); // XDP_ABORTED
    const first = obj.progs.get('xdp_first_byte')!;
    const r = first.run({ data: pkt(64, 3), repeat: 10 });
    expect(r.retval).toBe(3);
    expect(r.data).toEqual(pkt(64, 3));
    expect(r.durationNs).toBeGreaterThanOrEqual(0);
    // the program's map effects are visible: counters[2] += data[1] per run (10 runs)
    expect(readU64(obj.maps.get('counters')!.lookup(u32(2))!)).toBe(90n);

    const adj = loadObjectFile(await compileProg('xdp_adjust'), { programs: ['xdp_swap_macs'] });
    cleanup.push(adj);
    const frame = new Uint8Array(60);
    frame.set([1, 2, 3, 4, 5, 6], 0);
    frame.set([10, 20, 30, 40, 50, 60], 6);
    const out = adj.progs.get('xdp_swap_macs')!.run({ data: frame });
    expect(out.retval).toBe(3); // XDP_TX
    expect([...out.data.subarray(0, 12)]).toEqual([10, 20, 30, 40, 50, 60, 1, 2, 3, 4, 5, 6]);
    expect(out.data.length).toBe(60);

    const sock = loadProgram(progSpec('ret_len', 'socket_filter', concat(insn(0x61, 0, 1, 0, 0), insn(0x95, 0, 0, 0, 0))), { maps: new Map() }, { btfFd: 0 });
    cleanup.push(sock);
    expect(sock.run({ data: new Uint8Array(77) }).retval).toBe(77 - 14); // r0 = skb->len (Ethernet header pulled)
    const ret7 = loadProgram(progSpec('ret7', 'socket_filter', retImm(7)), { maps: new Map() }, { btfFd: 0 });
    cleanup.push(ret7);
    expect(ret7.run({ data: new Uint8Array(20) }).retval).toBe(7);
    expect(() => ret7.run({ data: new Uint8Array(20), repeat: -1 })).toThrow(/repeat/);
    // an output buffer smaller than the packet: ENOSPC with a hint
    expect(() => first.run({ data: pkt(64, 2), dataSizeOut: 10 })).toThrow(/pass a larger dataSizeOut/);
    // too short for an Ethernet header: EINVAL with a hint
    expect(() => first.run({ data: new Uint8Array(4) })).toThrow(/Ethernet header/);
  });

  test('global data: .data/.rodata created with their initial contents', async () => {
    const obj = loadObjectFile(await compileProg('globals'));
    cleanup.push(obj);
    for (const m of obj.spec.maps.filter((s) => s.globalData && s.initialData)) {
      const live = obj.maps.get(m.name)!;
      expect(live.lookup(u32(0)), m.name).toEqual(Uint8Array.from(m.initialData!.subarray(0, m.valueSize)));
    }
    expect(obj.spec.maps.filter((s) => s.globalData).length).toBeGreaterThanOrEqual(2);
  });

  test('pinning by name: created once under the pin root, reused by a second load, incompatible definition rejected', async () => {
    const path = await compileProg('pinned');
    const spec = parseObject(readFileSync(path), path);
    const pinnedSpec = spec.maps.find((m) => m.pinning === 'by_name')!;
    expect(pinnedSpec).toBeDefined();
    const a = loadSpec(spec, { pinRoot: dir });
    cleanup.push(a);
    expect(existsSync(`${dir}/${pinnedSpec.name}`)).toBe(true);
    const first = a.maps.get(pinnedSpec.name)!;
    first.update(u32(0), new Uint8Array(first.info.valueSize).fill(1), 0);
    const b = loadSpec(spec, { pinRoot: dir });
    cleanup.push(b);
    expect(b.maps.get(pinnedSpec.name)!.info.id).toBe(first.info.id);
    expect(b.maps.get('unpinned')!.info.id).not.toBe(a.maps.get('unpinned')!.info.id);
    const shown = bpftool('map', 'show', 'pinned', `${dir}/${pinnedSpec.name}`) as { id: number };
    expect(shown.id).toBe(first.info.id);

    const changed = { ...spec, maps: spec.maps.map((m) => (m === pinnedSpec ? { ...m, maxEntries: m.maxEntries + 1 } : m)) };
    let err: unknown;
    try {
      loadSpec(changed, { pinRoot: dir });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BpfError);
    expect((err as BpfError).code).toBe('MAP_INCOMPATIBLE');
    expect((err as Error).message).toContain(`max_entries ${pinnedSpec.maxEntries}`);
    expect((err as Error).message).toContain(`max_entries ${pinnedSpec.maxEntries + 1}`);
    expect((err as Error).message).toContain(`${dir}/${pinnedSpec.name}`);

    // a missing pin root is created level by level; a pin root off bpffs fails with a hint
    const nested = loadSpec(spec, { pinRoot: `${dir}/nested/a/b` });
    cleanup.push(nested);
    expect(existsSync(`${dir}/nested/a/b/${pinnedSpec.name}`)).toBe(true);
    expect(() => loadSpec(spec, { pinRoot: '/proc/bpfkit-no-such-dir' })).toThrow(/cannot create \/proc\/bpfkit-no-such-dir/);
  });

  test('program pin and openPinnedProgram', () => {
    const prog = loadProgram(progSpec('pin_me', 'socket_filter', retImm(3)), { maps: new Map() }, { btfFd: 0 });
    cleanup.push(prog);
    prog.pin(`${dir}/prog_pin_me`);
    const again = createKernelBackend().openPinnedProgram(`${dir}/prog_pin_me`);
    cleanup.push(again);
    expect(again.id).toBe(prog.id);
    expect(again.type).toBe('socket_filter');
    expect(again.name).toBe('pin_me');
    expect(again.run({ data: new Uint8Array(16) }).retval).toBe(3);
    expect(readU32(u32(again.id))).toBe((bpftool('prog', 'show', 'pinned', `${dir}/prog_pin_me`) as { id: number }).id);
  });

  test('tp_btf program gets attach_btf_id = the btf_trace_<tp> typedef in vmlinux (bpftool oracle)', async () => {
    const obj = loadObjectFile(await compileC('test/kernel/progs/tracing_btf.bpf.c'));
    cleanup.push(obj);
    const prog = obj.progs.get('on_sys_enter_btf')!;
    expect(prog.type).toBe('tracing');
    const info = objInfo('test', prog.fd!, ProgInfoOff.Size);
    const attachBtfId = new DataView(info.buffer, info.byteOffset).getUint32(ProgInfoOff.AttachBtfId, true);
    const raw = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'raw'], { encoding: 'utf8', maxBuffer: 512 << 20 });
    const m = /^\[(\d+)\] TYPEDEF 'btf_trace_sys_enter' /m.exec(raw);
    expect(m).not.toBeNull();
    expect(attachBtfId).toBe(Number(m![1]));
    // fentry/fexit and lsm targets (this kernel refuses loading fentry programs, so resolve only)
    const fn = /^\[(\d+)\] FUNC 'bpf_fentry_test1' /m.exec(raw);
    expect(attachBtfIdOf('func', 'bpf_fentry_test1', 'x')).toBe(Number(fn![1]));
    const lsm = /^\[(\d+)\] FUNC 'bpf_lsm_file_open' /m.exec(raw);
    if (lsm) expect(attachBtfIdOf('lsm', 'file_open', 'x')).toBe(Number(lsm[1]));
    expect(() => attachBtfIdOf('func', 'bpfkit_no_such_function', 'x')).toThrow(NotSupportedError);
  });

  test('test run with ctx in/out (__sk_buff: mark in, retval = mark, ctx out returned)', () => {
    // r0 = *(u32 *)(r1 + 8) (skb->mark); exit
    const prog = loadProgram(progSpec('ret_mark', 'sched_cls', concat(insn(0x61, 0, 1, 8, 0), insn(0x95, 0, 0, 0, 0))), { maps: new Map() }, { btfFd: 0 });
    cleanup.push(prog);
    const SKB = 192; // sizeof(struct __sk_buff)
    const ctx = new Uint8Array(SKB);
    new DataView(ctx.buffer).setUint32(8, 0x4242, true);
    const r = prog.run({ data: new Uint8Array(64), ctx });
    expect(r.retval).toBe(0x4242);
    expect(r.ctx?.length).toBe(SKB);
    expect(new DataView(r.ctx!.buffer, r.ctx!.byteOffset).getUint32(8, true)).toBe(0x4242);
    expect(r.data.length).toBe(64);
  });

  test('bad programs fail with typed errors before or at the syscall', () => {
    const maps = new Map();
    expect(() => loadProgram(progSpec('empty', 'xdp', new Uint8Array(0)), { maps }, { btfFd: 0 })).toThrow(/non-empty multiple of 8/);
    const ldMap = concat(insn(0x18, 1, 1, 0, 0), insn(0, 0, 0, 0, 0), retImm(0));
    expect(() => loadProgram(progSpec('nomap', 'xdp', ldMap, { mapReferences: [{ insn: 0, map: 'ghost', offset: 0 }] }), { maps }, { btfFd: 0 })).toThrow(/references map ghost/);
    expect(() => loadProgram(progSpec('unk', 'unspec', retImm(0)), { maps }, { btfFd: 0 })).toThrow(NotSupportedError);
    // no exit: rejected by the verifier, no BTF → no source line but the insn is named
    let err: unknown;
    try {
      loadProgram(progSpec('noexit', 'socket_filter', insn(0xb7, 0, 0, 0, 0)), { maps }, { btfFd: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifierError);
    expect((err as VerifierError).log.length).toBeGreaterThan(0);
    // the license is passed as is: a non-GPL program may not call a GPL-only helper
    const gplCall = concat(insn(0x85, 0, 0, 0, 35 /* bpf_get_current_task */), retImm(0));
    expect(() => loadProgram(progSpec('mit_prog', 'raw_tracepoint', gplCall, { license: 'MIT' }), { maps }, { btfFd: 0 })).toThrow(/GPL/);
    const ok = loadProgram(progSpec('gpl_prog', 'raw_tracepoint', gplCall, { license: 'Dual MIT/GPL' }), { maps }, { btfFd: 0 });
    ok.close();
  });
});
