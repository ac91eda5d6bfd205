/**
 * `bpfkit exec`: raw bytecode from stdin or --program, memory hex with or without spaces,
 * r1/r2 = memory pointer/length, r0 printed as 0x…, errors on stderr with exit 1, helpers that
 * need no maps/context available, unknown ones an error naming them.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['exec', ...args], { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

/** The real process: node + tsx running lib/cli/main.ts, program on stdin. */
function proc(args: string[], stdin: string): { code: number; out: string; err: string } {
  const script = `import('${join(ROOT, 'lib/cli/main.ts')}').then(async (m) => { process.exitCode = await m.main(process.argv.slice(1)); })`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script, 'exec', ...args], {
    input: stdin, cwd: ROOT, encoding: 'utf8', timeout: 60_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

// r0 = r2 (length); r0 <<= 8; r0 |= *(u8 *)(r1 + 1); exit
const SUM = 'bf 20 00 00 00 00 00 00 67 00 00 00 08 00 00 00 71 13 01 00 00 00 00 00 4f 30 00 00 00 00 00 00 95 00 00 00 00 00 00 00';

describe('bpfkit exec', () => {
  it('reads the program from stdin, memory with spaces, prints r0 (real process)', () => {
    const r = proc(['aa bb cc'], `${SUM}\n`);
    expect(r.err).toBe('');
    expect(r.out).toBe('0x3bb\n');
    expect(r.code).toBe(0);
  });

  it('reads a program written together from stdin, no memory', () => {
    const r = proc([], 'b7000000ffffffff9500000000000000\n');
    expect(r.out).toBe('0xffffffffffffffff\n');
    expect(r.code).toBe(0);
  });

  for (const engine of ['jit', 'interpreter']) {
    it(`--program with memory written together (${engine})`, async () => {
      const r = await cli(['0102030405', '--program', SUM.replace(/ /g, ''), '--engine', engine]);
      expect(r).toEqual({ code: 0, out: '0x502\n', err: '' });
    });

    it(`a memory fault is an error on stderr, exit 1 (${engine})`, async () => {
      // r0 = *(u32 *)(r1 + 4) with 4 bytes of memory
      const r = await cli(['00 00 00 00', '--program', '61 10 04 00 00 00 00 00 95 00 00 00 00 00 00 00', '--engine', engine]);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^bpfkit exec: run exec: insn 0: invalid read of 4 bytes at 0x[0-9a-f]+: out of bounds of memory/);
    });

    it(`an unknown helper id is an error naming it (${engine})`, async () => {
      const r = await cli(['--program', '85 00 00 00 39 30 00 00 95 00 00 00 00 00 00 00', '--engine', engine]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('insn 0: call to unknown helper id 12345');
    });

    it(`a helper the emulator does not provide is an error naming it (${engine})`, async () => {
      // bpf_skb_vlan_push (id 18)
      const r = await cli(['--program', '85 00 00 00 12 00 00 00 95 00 00 00 00 00 00 00', '--engine', engine]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('bpf_skb_vlan_push (id 18)');
    });

    it(`context-free helpers work: ktime_get_ns is monotonic across two calls (${engine})`, async () => {
      // r6 = ktime_get_ns(); r0 = ktime_get_ns(); r0 = r0 >= r6 ? 1 : 0 (via r0 -= r6; r0 >>= 63; r0 ^= 1)
      const prog = '85 00 00 00 05 00 00 00 bf 06 00 00 00 00 00 00 85 00 00 00 05 00 00 00 1f 60 00 00 00 00 00 00 77 00 00 00 3f 00 00 00 a7 00 00 00 01 00 00 00 95 00 00 00 00 00 00 00';
      const r = await cli(['--program', prog, '--engine', engine]);
      expect(r).toEqual({ code: 0, out: '0x1\n', err: '' });
    });

    it(`an infinite loop ends with the budget error (${engine})`, async () => {
      const r = await cli(['--program', '05 00 ff ff 00 00 00 00 95 00 00 00 00 00 00 00', '--engine', engine, '--budget', '1000']);
      expect(r.code).toBe(1);
      expect(r.err).toContain('instruction budget exhausted');
    });
  }

  it('rejects bad hex, odd digits and truncated programs with exit 1', async () => {
    expect((await cli(['--program', 'b7 00 zz'])).err).toContain("program is not hex (unexpected 'z')");
    expect((await cli(['--program', 'b70'])).code).toBe(1);
    const r = await cli(['--program', 'b7 00 00 00']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('not a multiple of 8');
    expect((await cli(['0g', '--program', '95 00 00 00 00 00 00 00'])).err).toContain('MEMORY_HEX is not hex');
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['--engine', 'fast', '--program', '9500000000000000'])).code).toBe(2);
    expect((await cli(['--frobnicate'])).code).toBe(2);
  });

  it('--dump-js prints the generated JavaScript', async () => {
    const r = await cli(['--program', 'b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00', '--dump-js']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('0x2a\n');
    expect(r.err).toContain('function jitFactory(');
    expect(r.err).toContain('r0l = 42; r0h = 0;');
  });
});
