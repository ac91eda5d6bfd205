// Runs the bpfkit CLI from source (used by tests that run it inside network namespaces).
import { main } from '../../../lib/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
