// The CLI as a process: real exit codes and streams (the README's newcomer command included).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const launch = join(root, 'test', 'cli', 'launch.ts');

function bpfkit(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', launch, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('bpfkit process', () => {
  it('inspect on the bundled example exits 0 and prints the program and maps', () => {
    const r = bpfkit('inspect', 'examples/hello/hello.bpf.o');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}hello\s+xdp\s+xdp\s+xdp\s+\d+/m);
    expect(r.out).toMatch(/^ {2}by_ethertype\s+hash\s+2\s+16\s+64\s/m);
  });

  it('inspect --json prints one parseable JSON object', () => {
    const r = bpfkit('inspect', '--json', 'examples/hello/hello.bpf.o');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { license: string; programs: { name: string }[]; maps: { name: string }[] };
    expect(j.license).toBe('GPL');
    expect(j.programs.map((p) => p.name)).toEqual(['hello']);
    expect(j.maps.map((m) => m.name).sort()).toEqual(['.rodata', 'by_ethertype']);
  });

  it('exit codes: 1 for a bad object, 2 for usage errors', () => {
    const bad = bpfkit('inspect', 'package.json');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/package\.json/);
    expect(bpfkit().code).toBe(2);
    expect(bpfkit('inspect', '--nope').code).toBe(2);
    expect(bpfkit('no-such-command').code).toBe(2);
  });
});
