// TCP server for a load balancer backend, run inside the backend's namespace: greets every
// connection with NAME and answers each line with NAME:line. Usage: server.ts NAME ADDRESS PORT
// Runs until its stdin closes (or a signal): the test keeps a pipe to stdin open, so the server
// also ends when the test process dies without cleaning up.
import { createServer } from 'node:net';

const [name, address, port] = process.argv.slice(2);
const server = createServer((s) => {
  s.write(`${name}\n`);
  let buf = '';
  s.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      s.write(`${name}:${buf.slice(0, i)}\n`);
      buf = buf.slice(i + 1);
    }
  });
  s.on('error', () => s.destroy());
});
server.listen(Number(port), address, () => console.log('listening'));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
