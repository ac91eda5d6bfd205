// `bpfkit inspect` and the CLI dispatcher. Oracles: `bpftool btf dump file` for BTF-defined map
// definitions (type, key/value size, max entries), `llvm-readelf-19` for program names/sections,
// function sizes, legacy `maps` section contents and global data section sizes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, main } from '../../lib/cli/main.js';
import type { InspectReport } from '../../lib/cli/commands/inspect.js';
import { MAP_TYPES } from '../../lib/spec/index.js';
import { allProgs, type ProgInfo } from '../helpers/progs.js';

function capture() {
  let out = '';
  let err = '';
  return { io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } }, out: () => out, err: () => err };
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = capture();
  const code = await main(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

// ─── bpftool btf dump (raw) parsing: just enough to size types and read map definitions ───────
interface DumpType { kind: string; name: string; attrs: Record<string, number>; members: { name: string; type: number }[] }

function parseDump(text: string): Map<number, DumpType> {
  const types = new Map<number, DumpType>();
  let cur: DumpType | undefined;
  for (const line of text.split('\n')) {
    const t = /^\[(\d+)\] (\w+) '([^']*)'(.*)$/.exec(line);
    if (t) {
      const attrs: Record<string, number> = {};
      for (const a of t[4]!.matchAll(/(\w+)=(-?\d+)/g)) attrs[a[1]!] = Number(a[2]);
      cur = { kind: t[2]!, name: t[3]!, attrs, members: [] };
      types.set(Number(t[1]), cur);
      continue;
    }
    const m = /^\t'([^']*)' type_id=(\d+)/.exec(line);
    if (m && cur) cur.members.push({ name: m[1]!, type: Number(m[2]) });
  }
  return types;
}

function sizeOf(types: Map<number, DumpType>, id: number): number {
  const t = types.get(id)!;
  switch (t.kind) {
    case 'INT': case 'STRUCT': case 'UNION': case 'ENUM': case 'ENUM64': case 'FLOAT': return t.attrs.size!;
    case 'PTR': return 8;
    case 'ARRAY': return t.attrs.nr_elems! * sizeOf(types, t.attrs.type_id!);
    case 'TYPEDEF': case 'CONST': case 'VOLATILE': case 'RESTRICT': case 'TYPE_TAG': return sizeOf(types, t.attrs.type_id!);
    default: throw new Error(`size of ${t.kind}`);
  }
}

interface OracleMap { name: string; type?: string; keySize?: number; valueSize?: number; maxEntries?: number }

function btfMaps(path: string): OracleMap[] {
  const types = parseDump(execFileSync('bpftool', ['btf', 'dump', 'file', path], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const sec = [...types.values()].find((t) => t.kind === 'DATASEC' && t.name === '.maps');
  if (!sec) return [];
  const out: OracleMap[] = [];
  const text = execFileSync('bpftool', ['btf', 'dump', 'file', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const secStart = text.indexOf("DATASEC '.maps'");
  const nextType = text.indexOf('\n[', secStart);
  const block = text.slice(secStart, nextType < 0 ? undefined : nextType);
  for (const v of block.matchAll(/^\ttype_id=(\d+) offset=\d+ size=\d+ \(VAR '([^']+)'\)$/gm)) {
    const varT = types.get(Number(v[1]))!;
    let defId = varT.attrs.type_id!;
    while (['TYPEDEF', 'CONST', 'VOLATILE'].includes(types.get(defId)!.kind)) defId = types.get(defId)!.attrs.type_id!;
    const def = types.get(defId)!;
    const m: OracleMap = { name: v[2]! };
    const nr = (member: { type: number }) => types.get(types.get(member.type)!.attrs.type_id!)!.attrs.nr_elems!;
    for (const mem of def.members) {
      if (mem.name === 'type') m.type = MAP_TYPES[nr(mem)];
      if (mem.name === 'max_entries') m.maxEntries = nr(mem);
      if (mem.name === 'key_size') m.keySize = nr(mem);
      if (mem.name === 'value_size') m.valueSize = nr(mem);
      if (mem.name === 'key') m.keySize = sizeOf(types, types.get(mem.type)!.attrs.type_id!);
      if (mem.name === 'value') m.valueSize = sizeOf(types, types.get(mem.type)!.attrs.type_id!);
      if (mem.name === 'values') m.valueSize = 4;
    }
    out.push(m);
  }
  return out;
}

interface ElfInfo { sections: string[]; sizes: Map<string, number>; funcs: { name: string; section: string; size: number; global: boolean }[]; legacy: OracleMap[] }

function elfInfo(path: string): ElfInfo {
  const secText = execFileSync('llvm-readelf-19', ['-S', '-W', path], { encoding: 'utf8' });
  const sections: string[] = [];
  const sizes = new Map<string, number>();
  for (const m of secText.matchAll(/^\s*\[\s*(\d+)\]\s+(\S*)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)/gm)) {
    sections[Number(m[1])] = m[2]!;
    sizes.set(m[2]!, parseInt(m[3]!, 16));
  }
  const symText = execFileSync('llvm-readelf-19', ['-s', '-W', path], { encoding: 'utf8' });
  const funcs: ElfInfo['funcs'] = [];
  const legacy: OracleMap[] = [];
  const mapsIdx = sections.indexOf('maps');
  let mapsData: Buffer | undefined;
  if (mapsIdx > 0) {
    const hexText = execFileSync('llvm-readelf-19', ['-x', 'maps', path], { encoding: 'utf8' });
    const hex = [...hexText.matchAll(/^\s*0x[0-9a-f]+ ((?:[0-9a-f]{2,8} ){1,4})/gm)].map((m) => m[1]!.replace(/ /g, '')).join('');
    mapsData = Buffer.from(hex, 'hex');
  }
  for (const m of symText.matchAll(/^\s*\d+: ([0-9a-f]+)\s+(\d+) (FUNC|OBJECT)\s+(GLOBAL|LOCAL|WEAK)\s+\S+\s+(\d+) (\S+)$/gm)) {
    const sec = sections[Number(m[5])]!;
    if (m[3] === 'FUNC') funcs.push({ name: m[6]!, section: sec, size: Number(m[2]), global: m[4] !== 'LOCAL' });
    else if (sec === 'maps' && mapsData) {
      const off = parseInt(m[1]!, 16);
      legacy.push({ name: m[6]!, type: MAP_TYPES[mapsData.readUInt32LE(off)], keySize: mapsData.readUInt32LE(off + 4), valueSize: mapsData.readUInt32LE(off + 8), maxEntries: mapsData.readUInt32LE(off + 12) });
    }
  }
  return { sections, sizes, funcs, legacy };
}

let progs: ProgInfo[] = [];
const reports = new Map<string, InspectReport>();
beforeAll(async () => {
  progs = await allProgs();
  for (const p of progs) {
    const r = await cli('inspect', p.path, '--json');
    expect(r.code, `${p.name}: ${r.err}`).toBe(0);
    reports.set(p.name, JSON.parse(r.out) as InspectReport);
  }
});

describe('inspect --json agrees with bpftool and llvm-readelf on every test program', () => {
  it('has the documented keys', () => {
    for (const [name, r] of reports) {
      expect(Object.keys(r), name).toEqual(expect.arrayContaining(['license', 'programs', 'maps']));
      for (const p of r.programs) expect(Object.keys(p)).toEqual(expect.arrayContaining(['name', 'section', 'type', 'instructions']));
      for (const m of r.maps) expect(Object.keys(m)).toEqual(expect.arrayContaining(['name', 'type', 'keySize', 'valueSize', 'maxEntries', 'flags']));
    }
    expect(reports.get('xdp_basic')!.license).toBe('GPL');
    expect(reports.get('mixed')!.license).toBe('Dual MIT/GPL');
  });

  it('program names, sections and instruction counts (llvm-readelf symbols)', () => {
    for (const p of progs) {
      const r = reports.get(p.name)!;
      const elf = elfInfo(p.path);
      const expected = elf.funcs.filter((f) => f.global && f.section !== '.text').map((f) => `${f.name}@${f.section}`).sort();
      expect(r.programs.map((x) => `${x.name}@${x.section}`).sort(), p.name).toEqual(expected);
      for (const prog of r.programs) {
        const f = elf.funcs.find((x) => x.name === prog.name)!;
        if (prog.subprograms.length === 0) expect(prog.instructions, `${p.name}/${prog.name}`).toBe(f.size / 8);
        else expect(prog.instructions, `${p.name}/${prog.name}`).toBeGreaterThan(f.size / 8);
        for (const s of prog.subprograms) expect(elf.funcs.map((x) => x.name), `${prog.name} uses ${s}`).toContain(s);
      }
    }
  });

  it('BTF-defined maps: names, types, key/value sizes and max entries (bpftool btf dump)', () => {
    let n = 0;
    for (const p of progs) {
      const r = reports.get(p.name)!;
      for (const o of btfMaps(p.path)) {
        const m = r.maps.find((x) => x.name === o.name);
        expect(m, `${p.name}: map ${o.name}`).toBeDefined();
        expect(m!.type, `${p.name}/${o.name}`).toBe(o.type);
        if (o.maxEntries !== undefined) expect(m!.maxEntries, `${p.name}/${o.name}`).toBe(o.maxEntries);
        expect(m!.keySize, `${p.name}/${o.name} key`).toBe(o.keySize ?? 0);
        expect(m!.valueSize, `${p.name}/${o.name} value`).toBe(o.valueSize ?? 0);
        n++;
      }
    }
    expect(n).toBeGreaterThanOrEqual(35);
  });

  it('legacy maps (section contents) and global data maps (section sizes) — llvm-readelf', () => {
    for (const p of progs) {
      const r = reports.get(p.name)!;
      const elf = elfInfo(p.path);
      for (const o of elf.legacy) {
        expect(r.maps.find((x) => x.name === o.name), `${p.name}: ${o.name}`).toMatchObject({ type: o.type, keySize: o.keySize, valueSize: o.valueSize, maxEntries: o.maxEntries, section: 'maps' });
      }
      for (const sec of elf.sections) {
        if (!sec || !/^\.(data|rodata|bss)(\..+)?$/.test(sec) || !elf.sizes.get(sec)) continue;
        expect(r.maps.find((x) => x.name === sec), `${p.name}: ${sec}`).toMatchObject({ type: 'array', keySize: 4, valueSize: elf.sizes.get(sec), maxEntries: 1 });
      }
      const expectedNames = [...btfMaps(p.path).map((m) => m.name), ...elf.legacy.map((m) => m.name), ...elf.sections.filter((s) => s && /^\.(data|rodata|bss)(\..+)?$/.test(s) && elf.sizes.get(s))];
      expect(r.maps.map((m) => m.name).sort(), p.name).toEqual(expectedNames.sort());
    }
    expect(reports.get('legacy_maps')!.maps.map((m) => m.name).sort()).toEqual(['legacy_array', 'legacy_hash']);
  });

  it('kernel enum names for types, attach types, pinning and map-in-map details', () => {
    const tc = reports.get('tc_classifier')!;
    expect(tc.programs.find((p) => p.name === 'tcx_ingress')).toMatchObject({ type: 'sched_cls', attachType: 'tcx_ingress' });
    const cg = reports.get('cgroup_skb')!;
    expect(cg.programs.find((p) => p.name === 'count_egress')).toMatchObject({ type: 'cgroup_skb', attachType: 'cgroup_inet_egress' });
    expect(reports.get('tracepoint_getpid')!.programs[0]).toMatchObject({ type: 'tracepoint', attachTo: 'syscalls/sys_enter_getpid', maps: expect.arrayContaining(['calls', 'events']) });
    expect(reports.get('pinned')!.maps.find((m) => m.name === 'bpfkit_pinned_counter')!.pinning).toBe('by_name');
    const mim = reports.get('map_in_map')!.maps.find((m) => m.name === 'outer_array')!;
    expect(mim.innerMap).toMatchObject({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(mim.contents).toEqual([{ key: 0, value: 'inner_a' }, { key: 3, value: 'inner_b' }]);
    const sub = reports.get('subprogs')!.programs.find((p) => p.name === 'xdp_subprogs')!;
    expect(sub.subprograms).toEqual(expect.arrayContaining(['hash_packet', 'classify', 'store', 'fold', 'mix']));
    const g = reports.get('globals')!.maps.find((m) => m.name === '.rodata')!;
    expect(g.initialDataSize).toBe(g.valueSize);
  });
});

describe('inspect text output and errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-inspect-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a table with programs and maps', async () => {
    const p = progs.find((x) => x.name === 'xdp_port_filter')!;
    const r = await cli('inspect', p.path);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/license:\s+GPL/);
    expect(r.out).toMatch(/^ {2}port_filter\s+xdp\s+xdp\s+xdp\s+\d+\s+-\s+port_policy,stats,xsks$/m);
    expect(r.out).toMatch(/^ {2}port_policy\s+hash\s+2\s+8\s+1024\s+0x0\s+none\s+0\s+\.maps$/m);
    expect(r.err).toBe('');
  });

  it('exit 1 for a missing file, a directory and a non-ELF file, with the reason on stderr', async () => {
    const bad = join(dir, 'bad.o');
    writeFileSync(bad, Buffer.from('definitely not an ELF object file'));
    for (const [arg, re] of [[join(dir, 'nope.o'), /no such file/], [dir, /is a directory/], [bad, /bad\.o/]] as const) {
      const r = await cli('inspect', arg);
      expect(r.code, arg).toBe(1);
      expect(r.err).toMatch(re);
      expect(r.out).toBe('');
    }
  });

  it('exit 2 for usage errors; --help exits 0', async () => {
    expect((await cli('inspect')).code).toBe(2);
    expect((await cli('inspect', 'a.o', 'b.o')).code).toBe(2);
    const bogus = await cli('inspect', '--bogus', 'a.o');
    expect(bogus.code).toBe(2);
    expect(bogus.err).toMatch(/usage: bpfkit inspect/);
    const h = await cli('inspect', '--help');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/usage: bpfkit inspect OBJ \[--json\]/);
  });
});

describe('bpfkit dispatcher', () => {
  it('no command and unknown commands are usage errors (2); --help lists every command (0)', async () => {
    const none = await cli();
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/usage: bpfkit COMMAND/);
    const unknown = await cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command 'frobnicate'/);
    const help = await cli('--help');
    expect(help.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(help.out).toContain(`  ${name}`);
    expect((await cli('help', 'inspect')).out).toMatch(/usage: bpfkit inspect/);
    expect((await cli('--version')).out).toMatch(/^bpfkit \d+\.\d+\.\d+/);
    expect((await cli('__proto__')).code).toBe(2);
  });

  it('every command in the table loads and answers --help with exit 0', async () => {
    for (const name of Object.keys(COMMANDS)) {
      const r = await cli(name, '--help');
      expect(r.code, `${name}: ${r.err}`).toBe(0);
      expect(r.out.length, name).toBeGreaterThan(20);
    }
  });
});
