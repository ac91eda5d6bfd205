// Runs the bpfkit CLI from source (tests run it in child processes and inside namespaces).
import { main } from "../../../lib/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
