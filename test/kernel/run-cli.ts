// Launch the bpfkit CLI from sources (tests spawn it, e.g. inside a network namespace with
// `ip netns exec NS node --import tsx test/kernel/run-cli.ts ARGS...`).
import { main } from '../../lib/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
