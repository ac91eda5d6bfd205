// TCP client for the load balancer end-to-end test, run inside the client namespace.
// Usage: client.ts VIP PORT SPORT[,SPORT...] [--hold]
// Opens one connection per source port and prints one JSON line: [{ sport, greeting }].
// With --hold the connections stay open; after a line on stdin each sends "ping" and a second
// JSON line lists [{ sport, reply }]. Every step is bounded by a timeout; if stdin closes before
// that line (the test process died or gave up), the client exits at once.
import { connect, type Socket } from 'node:net';

const [vip, portText, sportsText, hold] = process.argv.slice(2);
const port = Number(portText);
const sports = (sportsText ?? '').split(',').map(Number);
const TIMEOUT_MS = 4000;

function readLine(s: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('timeout')), TIMEOUT_MS);
    const onData = (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) {
        clearTimeout(t);
        s.off('data', onData);
        resolve(buf.slice(0, i));
      }
    };
    s.on('data', onData);
    s.once('error', (e) => { clearTimeout(t); reject(e); });
  });
}

async function open(sport: number): Promise<{ sport: number; socket?: Socket; greeting: string }> {
  const s = connect({ host: vip, port, localPort: sport, localAddress: '0.0.0.0' });
  try {
    const greeting = await readLine(s);
    return { sport, socket: s, greeting };
  } catch (e) {
    s.destroy();
    return { sport, greeting: `error: ${(e as Error).message}` };
  }
}

const conns = [];
for (const sp of sports) conns.push(await open(sp));
console.log(JSON.stringify(conns.map((c) => ({ sport: c.sport, greeting: c.greeting }))));
if (hold === '--hold') {
  const gone = () => process.exit(1);
  await new Promise<void>((resolve) => {
    process.stdin.once('data', () => resolve());
    process.stdin.once('end', gone);
    process.stdin.once('error', gone);
  });
  process.stdin.off('end', gone).off('error', gone).destroy();
  const replies = [];
  for (const c of conns) {
    if (!c.socket) { replies.push({ sport: c.sport, reply: 'error: not connected' }); continue; }
    c.socket.write('ping\n');
    try {
      replies.push({ sport: c.sport, reply: await readLine(c.socket) });
    } catch (e) {
      replies.push({ sport: c.sport, reply: `error: ${(e as Error).message}` });
    }
  }
  console.log(JSON.stringify(replies));
}
for (const c of conns) c.socket?.destroy();
