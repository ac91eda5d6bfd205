// Compiles every test/progs/*.bpf.c once per run (cached by content hash in test/.cache), so
// test files can call compileProg()/allProgs() and hit the cache.
import { allProgs } from './helpers/progs.js';

export default async function setup(): Promise<void> {
  await allProgs();
}
