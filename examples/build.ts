/**
 * Compiles every examples/<name>/*.bpf.c into the .bpf.o committed beside it, so the examples
 * and the demo run without clang. The build is reproducible (relative source path, debug prefix
 * map), so `examples/objects.test.ts` can check each committed object equals a fresh compile.
 *
 *   npx tsx examples/build.ts          rebuild the committed objects
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXAMPLES_DIR = dirname(fileURLToPath(import.meta.url));

export function exampleSources(): string[] {
  const out: string[] = [];
  for (const d of readdirSync(EXAMPLES_DIR).sort()) {
    const dir = join(EXAMPLES_DIR, d);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.bpf.c')) out.push(join(dir, f));
  }
  return out;
}

function clang(): string {
  return process.env.BPFKIT_CLANG ?? 'clang-19';
}

function archInclude(): string {
  const m = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
  return `/usr/include/${m === 'aarch64' ? 'aarch64' : m}-linux-gnu`;
}

/** Compile `src` exactly as the committed object was built; returns the object bytes. */
export function compileExample(src: string): Uint8Array {
  const dir = dirname(src);
  const tmp = mkdtempSync(join(tmpdir(), 'bpfkit-example-'));
  try {
    const out = join(tmp, 'out.o');
    execFileSync(clang(), ['-O2', '-g', '-target', 'bpf', `-I${archInclude()}`, `-fdebug-prefix-map=${dir}=.`, '-c', basename(src), '-o', out], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    return readFileSync(out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function objectPathFor(src: string): string {
  return src.replace(/\.bpf\.c$/, '.bpf.o');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const src of exampleSources()) {
    writeFileSync(objectPathFor(src), compileExample(src));
    console.log(`built ${objectPathFor(src).slice(EXAMPLES_DIR.length + 1)}`);
  }
}
