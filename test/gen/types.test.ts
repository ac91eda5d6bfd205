// bpfkit gen types: deterministic output, the committed example module is fresh, generated code
// type-checks with tsc (for the example with a usage snippet, and for every test program), the
// types reject wrong values, and the runtime shapes the codecs return match the declared ones.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { generateTypes, objectBaseName, pascal } from '../../lib/gen/index.js';
import { load, openObject } from '../../lib/index.js';
import { codecFor, decode, enumAliases, perCpuCodec } from '../../lib/object/codec.js';
import { allProgs } from '../helpers/progs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples/port-filter');
const OBJ = join(EXAMPLE, 'port_filter.bpf.o');
const TSC = join(ROOT, 'node_modules/.bin/tsc');
const WORK = join(ROOT, 'test/.cache', `gen-${process.pid}`);

async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const PERCPU = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);

/** A TypeScript literal for a decoded value (numbers, bigints, booleans, bytes, arrays, objects). */
function literal(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return `new Uint8Array(${v.length})`;
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${literal(x)}`).join(', ')} }`;
  throw new Error(`no literal for ${typeof v}`);
}

/** tsc --noEmit over the files of `dir` with the repo's compiler options; returns diagnostics. */
function tsc(dir: string): { ok: boolean; output: string } {
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: join(ROOT, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: ROOT }, include: ['./*.ts'] }));
  try {
    return { ok: true, output: execFileSync(TSC, ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', timeout: 300_000 }) };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    return { ok: false, output: `${x.stdout ?? ''}${x.stderr ?? ''}` };
  }
}

afterAll(() => rmSync(WORK, { recursive: true, force: true }));

describe('bpfkit gen types', () => {
  it('names: object base names and PascalCase', () => {
    expect(objectBaseName('a/b/port_filter.bpf.o')).toBe('port_filter');
    expect(objectBaseName('x.o')).toBe('x');
    expect(pascal('port_filter')).toBe('PortFilter');
    expect(pascal('9lives')).toBe('T9lives');
    expect(pascal('map-in-map.v4')).toBe('MapInMapV4');
  });

  it('the committed example module equals a fresh generation, and generation is deterministic', async () => {
    const committed = readFileSync(join(EXAMPLE, 'port_filter.gen.ts'), 'utf8');
    mkdirSync(WORK, { recursive: true });
    const out = join(EXAMPLE, `.gen-check-${process.pid}.ts`);
    try {
      const r = await runCli(['gen', 'types', OBJ, '-o', out, '--import', '../../lib/index.js']);
      expect(r.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(committed);
    } finally {
      rmSync(out, { force: true });
    }
    const a = generateTypes(openObject(OBJ), OBJ);
    const b = generateTypes(openObject(readFileSync(OBJ), OBJ), OBJ);
    expect(a).toBe(b);
    // stdout form: same module, importing 'bpfkit'
    const s = await runCli(['gen', 'types', OBJ]);
    expect(s.code).toBe(0);
    expect(s.out).toBe(a);
    expect(s.out).toContain("from 'bpfkit'");
    expect(s.out).toContain('export async function loadPortFilter(');
    expect(s.out).toContain('readonly port_policy: TypedMap<number, Policy, number, PolicyInput | Uint8Array>;');
    expect(s.out).toContain('readonly stats: TypedMap<number, bigint[], number, readonly (bigint | number)[] | Uint8Array>;');
    expect(s.out).toContain('export type ActionName = "ACTION_PASS" | "ACTION_DROP" | "ACTION_TO_SOCKET" | "ACTION_UNPARSED" | "ACTION_MAX" | "pass" | "drop" | "to_socket" | "unparsed" | "max";');
  });

  it('usage errors exit 2', async () => {
    expect((await runCli(['gen'])).code).toBe(2);
    expect((await runCli(['gen', 'struct', OBJ])).code).toBe(2);
    expect((await runCli(['gen', 'types'])).code).toBe(2);
    expect((await runCli(['gen', 'types', OBJ, '--name', '1x'])).code).toBe(2);
    expect((await runCli(['gen', 'types', '/nonexistent.o'])).code).toBe(1);
    expect((await runCli(['gen', '--help'])).out).toContain('usage: bpfkit gen types');
  });

  it('tsc accepts the generated code for the example and every test program, the codecs\' decoded values have the declared types, and wrong values are rejected', async () => {
    const dir = join(WORK, 'tsc');
    mkdirSync(dir, { recursive: true });
    const imp = '../../../../lib/index.js';
    writeFileSync(join(dir, 'port_filter.gen.ts'), generateTypes(openObject(OBJ), OBJ, { importFrom: imp, objectPath: OBJ }));
    writeFileSync(join(dir, 'usage.ts'), [
      "import { Action, loadPortFilter, type Policy } from './port_filter.gen.js';",
      'export async function use(): Promise<void> {',
      "  using obj = await loadPortFilter({ backend: 'emulator' });",
      '  const maps = obj.maps;',
      "  maps.port_policy.update(443, { action: 'drop', flags: 0 });",
      "  maps.port_policy.update(80, { action: 'ACTION_TO_SOCKET' });",
      '  maps.port_policy.update(22, { action: Action.ACTION_PASS, flags: 1 });',
      '  const p: Policy | undefined = maps.port_policy.lookup(443);',
      '  const a: number | undefined = p?.action;',
      '  const perCpu: bigint[] | undefined = maps.stats.lookup(1);',
      '  const total: bigint = (perCpu ?? []).reduce((x, y) => x + y, 0n);',
      '  for (const [port, pol] of maps.port_policy) console.log(port + 1, pol.flags, a, total);',
      "  obj.programs.port_filter.attachXdp('eth0').close();",
      '}',
    ].join('\n'));
    const progs = await allProgs();
    const seen = new Set<string>();
    let n = 0;
    let checks = 0;
    for (const p of progs) {
      if (p.cpu !== 'v3' && progs.some((q) => q.name === p.name && q.cpu === 'v3')) continue;
      if (seen.has(p.name)) continue;
      seen.add(p.name);
      const spec = openObject(p.path);
      const base = `prog_${n++}`;
      const text = generateTypes(spec, `${p.name}.bpf.o`, { importFrom: imp, objectPath: p.path });
      writeFileSync(join(dir, `${base}.ts`), text);
      // Cross-check with the codecs: what they decode (from zero bytes) must have the declared
      // read types, and be accepted where the declared write types are expected.
      const mapsName = /export interface (\w+Maps) \{/.exec(text)![1]!;
      const lines = [`import type { ${mapsName} as M } from './${base}.js';`];
      for (const m of spec.maps) {
        const key = codecFor(spec.btf, m.keyTypeId, m.keySize);
        const one = codecFor(spec.btf, m.valueTypeId, m.valueSize);
        const value = PERCPU.has(m.type) ? perCpuCodec(one, 2) : one;
        const k = literal(decode(key, new Uint8Array(key.size)));
        const v = literal(decode(value, new Uint8Array(value.size)));
        const at = `M[${JSON.stringify(m.name)}]`;
        lines.push(`export const v${checks} : NonNullable<ReturnType<${at}['lookup']>> = ${v};`);
        lines.push(`export const w${checks} : Parameters<${at}['update']>[1] = ${v};`);
        lines.push(`export const k${checks} : Parameters<${at}['update']>[0] = ${k};`);
        lines.push(`export const i${checks} : ReturnType<${at}['keys']> extends IterableIterator<infer K> ? K : never = ${k};`);
        // the bytes codec also takes numbers for 1/2/4/8-byte keys (e.g. global data: lookup(0))
        if (!m.keyTypeId && [1, 2, 4, 8].includes(m.keySize)) lines.push(`export const n${checks} : Parameters<${at}['lookup']>[0] = 0;`);
        checks++;
      }
      writeFileSync(join(dir, `${base}_check.ts`), lines.join('\n') + '\n');
    }
    expect(n).toBeGreaterThan(20);
    expect(checks).toBeGreaterThan(50);
    const good = tsc(dir);
    expect(good.output).toBe('');
    expect(good.ok).toBe(true);

    // wrong values must not type-check
    const bad = join(WORK, 'bad');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'port_filter.gen.ts'), readFileSync(join(dir, 'port_filter.gen.ts')));
    writeFileSync(join(bad, 'bad.ts'), [
      "import { loadPortFilter } from './port_filter.gen.js';",
      'export async function use(): Promise<void> {',
      '  const obj = await loadPortFilter();',
      "  obj.maps.port_policy.update(443, { action: 'nope', flags: 0 });",
      "  obj.maps.port_policy.update('443', { action: 1 });",
      '  obj.maps.port_policy.update(443, { actoin: 1 });',
      '  const s: number[] | undefined = obj.maps.stats.lookup(0);',
      '  obj.maps.nosuchmap.lookup(1);',
      '  obj.programs.nosuchprog.run({ data: new Uint8Array(14) });',
      '}',
    ].join('\n'));
    const r = tsc(bad);
    expect(r.ok).toBe(false);
    const errors = r.output.split('\n').filter((l) => /bad\.ts\(\d+,\d+\): error/.test(l)).map((l) => Number(/bad\.ts\((\d+),/.exec(l)![1]));
    expect([...new Set(errors)].sort((x, y) => x - y)).toEqual([4, 5, 6, 7, 8, 9]);
  }, 300_000);

  it('runtime shapes on the emulator match the declared types', async () => {
    const { loadPortFilter } = await import('../../examples/port-filter/port_filter.gen.js');
    using obj = await loadPortFilter({ backend: 'emulator' });
    obj.maps.port_policy.update(443, { action: 'drop', flags: 0 });
    obj.maps.port_policy.update(80, { action: 'to_socket', flags: 7 });
    obj.maps.port_policy.update(22, { action: 'ACTION_PASS' });
    expect(obj.maps.port_policy.lookup(443)).toEqual({ action: 1, flags: 0 });
    expect(obj.maps.port_policy.lookup(80)).toEqual({ action: 2, flags: 7 });
    expect(obj.maps.port_policy.lookup(22)).toEqual({ action: 0, flags: 0 });
    const s = obj.maps.stats.lookup(0)!;
    expect(Array.isArray(s)).toBe(true);
    expect(s.length).toBe(obj.backend.possibleCpus);
    for (const v of s) expect(typeof v).toBe('bigint');
    expect(() => obj.maps.port_policy.update(1, { action: 'nope' as never })).toThrow(/"nope" is not an enumerator of enum action \(have: ACTION_PASS, .*drop/);
    expect(basename(OBJ)).toBe('port_filter.bpf.o');
  });
});

describe('codec: enum short aliases', () => {
  it('strips a shared PREFIX_ and lowercases', () => {
    expect(enumAliases([{ name: 'ACTION_PASS', value: 0n }, { name: 'ACTION_DROP', value: 1n }])).toEqual([['pass', 0n], ['drop', 1n]]);
    expect(enumAliases([{ name: 'XDP_ABORTED', value: 0n }, { name: 'XDP_DROP', value: 1n }, { name: 'XDP_PASS', value: 2n }])).toEqual([['aborted', 0n], ['drop', 1n], ['pass', 2n]]);
  });
  it('no aliases without a shared prefix, for a single enumerator, on collisions or leading digits', () => {
    expect(enumAliases([{ name: 'RED', value: 0n }, { name: 'GREEN', value: 1n }])).toEqual([]);
    expect(enumAliases([{ name: 'A_X', value: 0n }])).toEqual([]);
    expect(enumAliases([{ name: 'K_A', value: 0n }, { name: 'K_a', value: 1n }])).toEqual([]);
    expect(enumAliases([{ name: 'V_1', value: 0n }, { name: 'V_2', value: 1n }])).toEqual([]);
    expect(enumAliases([{ name: 'F_ONE', value: 0n }, { name: 'F_ONE_TWO', value: 1n }])).toEqual([['one', 0n], ['one_two', 1n]]);
  });
  it('load-time globals and map values accept aliases through the public API', async () => {
    using obj = await load(OBJ, { backend: 'emulator' });
    const m = obj.map('port_policy');
    m.update(9, { action: 'unparsed', flags: 0 });
    expect(m.lookup(9)).toEqual({ action: 3, flags: 0 });
  });
});
