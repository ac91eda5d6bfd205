/**
 * Where an example's committed files (compiled objects, pcaps) are: beside the module when run
 * from source, or in the package's examples/ folder when run from the compiled dist/ tree.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function exampleAsset(moduleUrl: string, relative: string): string {
  const beside = fileURLToPath(new URL(relative, moduleUrl));
  if (existsSync(beside)) return beside;
  const fromDist = beside.replace(/[\\/]dist[\\/]examples[\\/]/, '/examples/');
  return existsSync(fromDist) ? fromDist : beside;
}
