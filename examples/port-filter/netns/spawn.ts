/**
 * How to run one of the example's helper scripts in a child process (e.g. under `ip netns exec`):
 * compiled `.js` files run with this Node; `.ts` sources run with tsx's loader (a dependency).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** [command, args] running the sibling script `name` (without extension) of this directory. */
export function scriptCommand(name: string, args: readonly string[] = []): [string, string[]] {
  const here = fileURLToPath(import.meta.url);
  const ext = here.endsWith('.ts') ? '.ts' : '.js';
  const file = join(dirname(here), `${name}${ext}`);
  if (!existsSync(file)) throw new Error(`port filter: helper script ${file} is missing`);
  if (ext === '.js') return [process.execPath, [file, ...args]];
  // node --import <tsx loader>: one process (signals and pids are the script's own)
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [process.execPath, ['--import', loader, file, ...args]];
}
