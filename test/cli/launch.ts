// Same as bin/bpfkit.js, but runs the TypeScript sources (no build needed): for process-level tests.
import { main } from '../../lib/cli/main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
