/**
 * The kernel-facing CLI commands, run in process through `main(argv, io)`: prog/map/link list
 * (checked against bpftool's JSON as the oracle), map dump/lookup/update/delete on a pinned map
 * (bpftool map dump as the oracle), `run` (test runs with --map-init / --dump-maps: verdicts,
 * counters, global data, per-CPU values, ring buffer records), and attach/detach xdp|tc on a veth
 * pair created here (`ip link` and the link list as oracles).
 */
import { mkdirSync, rmSync, rmdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { possibleCpus } from '../../lib/kernel/sys.js';
import { compileProg, compileC } from '../helpers/progs.js';
import { execFileP, ip, ipQuiet, isRootLinux, KPROGS, loadKernelObject, SKIP_REASON, type LoadedKernelObject } from './kload.js';

const tag = `${process.pid % 100000}`;
const PIN_DIR = `/sys/fs/bpf/bpfkit-cli-${tag}`;
const TMP = join(KPROGS, '..', '..', '.cache', `cli-${tag}`);

interface Out {
  code: number;
  out: string;
  err: string;
}

async function cli(...argv: string[]): Promise<Out> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

async function bpftoolJson(...args: string[]): Promise<any> {
  const r = await execFileP('bpftool', [...args, '-j'], { timeout: 20_000, maxBuffer: 64 << 20 });
  return JSON.parse(r.stdout);
}

/** Ethernet + IPv4 + UDP (to `dport`) + 4 payload bytes, as hex. */
function udpFrame(dport: number): string {
  const b = Buffer.alloc(14 + 20 + 8 + 4);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(20 + 8 + 4, 16);
  b[22] = 64;
  b[23] = 17;
  b.set([10, 0, 0, 1], 26);
  b.set([10, 0, 0, 2], 30);
  b.writeUInt16BE(40000, 34);
  b.writeUInt16BE(dport, 36);
  b.writeUInt16BE(12, 38);
  b.write('ping', 42);
  return b.toString('hex');
}

function le(n: number, bytes: number): string {
  const b = Buffer.alloc(bytes);
  b.writeUIntLE(n, 0, Math.min(bytes, 6));
  return b.toString('hex');
}

describe.skipIf(!isRootLinux)(`kernel CLI commands (${isRootLinux ? 'root' : SKIP_REASON})`, () => {
  let filter: LoadedKernelObject;
  let filterObj = '';
  let eventsObj = '';

  beforeAll(async () => {
    mkdirSync(PIN_DIR, { recursive: true });
    mkdirSync(TMP, { recursive: true });
    filter = await loadKernelObject('kfilter');
    filterObj = filter.path;
    eventsObj = await compileC(join(KPROGS, 'kevents.bpf.c'));
  });

  afterAll(() => {
    filter?.close();
    rmSync(PIN_DIR, { recursive: true, force: true });
    rmSync(TMP, { recursive: true, force: true });
  });

  describe('listing', () => {
    test('prog list --json agrees with bpftool; text lists the program', async () => {
      const p = filter.prog('xdp_filter');
      const r = await cli('prog', 'list', '--json');
      expect(r.code, r.err).toBe(0);
      const mine = (JSON.parse(r.out) as any[]).find((e) => e.id === p.id);
      const theirs = await bpftoolJson('prog', 'show', 'id', String(p.id));
      expect(mine).toMatchObject({ id: theirs.id, type: theirs.type, name: theirs.name, tag: theirs.tag, gplCompatible: theirs.gpl_compatible, uid: 0 });
      expect(mine.xlatedBytes).toBe(theirs.bytes_xlated);
      expect(mine.jitedBytes).toBe(theirs.bytes_jited);
      expect([...mine.mapIds].sort()).toEqual([...theirs.map_ids].sort());
      const t = await cli('prog', 'list');
      expect(t.out).toMatch(new RegExp(`^${p.id}: xdp  name xdp_filter  tag ${theirs.tag}  gpl$`, 'm'));
    });

    test('map list --json agrees with bpftool', async () => {
      const m = filter.map('ports');
      const r = await cli('map', 'list', '--json');
      expect(r.code, r.err).toBe(0);
      const mine = (JSON.parse(r.out) as any[]).find((e) => e.id === m.info.id);
      const theirs = await bpftoolJson('map', 'show', 'id', String(m.info.id));
      expect(mine).toMatchObject({ id: theirs.id, type: theirs.type, name: theirs.name, keySize: theirs.bytes_key, valueSize: theirs.bytes_value, maxEntries: theirs.max_entries, flags: theirs.flags });
      const t = await cli('map', 'list');
      expect(t.out).toMatch(new RegExp(`^${m.info.id}: hash  name ports  flags 0x0\\n\\tkey 2B  value 4B  max_entries 64`, 'm'));
    });

    test('link list --json shows an attached raw tracepoint link as bpftool does', async () => {
      const t = await loadKernelObject('ktrace');
      const link = t.prog('raw_sys_enter').attach({ kind: 'raw_tracepoint', name: 'sys_enter' });
      try {
        const r = await cli('link', 'list', '--json');
        expect(r.code, r.err).toBe(0);
        const mine = (JSON.parse(r.out) as any[]).find((e) => e.id === link.info.id);
        const theirs = await bpftoolJson('link', 'show', 'id', String(link.info.id));
        expect(mine).toMatchObject({ id: theirs.id, type: theirs.type, progId: theirs.prog_id, tracepoint: theirs.tp_name });
        const txt = await cli('link', 'list');
        expect(txt.out).toContain(`${link.info.id}: raw_tracepoint  prog ${t.prog('raw_sys_enter').id}\n\ttp_name sys_enter\n`);
      } finally {
        link.close();
        t.close();
      }
    });

    test('without privileges: EPERM with the root/CAP_BPF hint, exit 1 (run as nobody via setpriv)', async () => {
      const { runCmd } = await import('./kload.js');
      for (const what of ['prog', 'map', 'link']) {
        const r = await runCmd('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', join(KPROGS, '..', 'run-cli.ts'), what, 'list'], { timeoutMs: 60_000 });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toContain(`bpfkit ${what}: list ${what === 'prog' ? 'program' : what}s: Operation not permitted (run as root or grant CAP_BPF`);
      }
    });

    test('usage errors exit 2, --help exits 0', async () => {
      expect((await cli('prog', 'frobnicate')).code).toBe(2);
      expect((await cli('map', 'list', '--bogus')).code).toBe(2);
      expect((await cli('link', '--help')).code).toBe(0);
      expect((await cli('prog', '--help')).out).toContain('usage: bpfkit prog list');
    });
  });

  describe('map on a pinned path', () => {
    test('update / lookup / dump / delete, checked with bpftool map dump', async () => {
      const path = `${PIN_DIR}/ports`;
      filter.map('ports').pin(path);
      expect((await cli('map', 'update', path, le(5000, 2), le(1, 4))).code).toBe(0);
      expect((await cli('map', 'update', path, '0x1400', '00 00 00 00')).code).toBe(0); // port 20
      const dump = await bpftoolJson('map', 'dump', 'pinned', path);
      const asHex = (a: string[]): string => a.map((x) => x.replace(/^0x/, '')).join('');
      expect(dump.map((e: any) => ({ key: asHex(e.key), value: asHex(e.value) })).sort((a: any, b: any) => (a.key < b.key ? -1 : 1))).toEqual([
        { key: '1400', value: '00000000' },
        { key: '8813', value: '01000000' },
      ]);
      const d = await cli('map', 'dump', path, '--json');
      expect(JSON.parse(d.out)).toEqual([
        { key: '1400', value: '00000000' },
        { key: '8813', value: '01000000' },
      ]);
      expect((await cli('map', 'dump', path)).out).toBe('key: 1400  value: 00000000\nkey: 8813  value: 01000000\nFound 2 elements\n');
      expect((await cli('map', 'lookup', path, '8813')).out).toBe('key: 8813  value: 01000000\n');
      expect(JSON.parse((await cli('map', 'lookup', path, '8813', '--json')).out)).toEqual({ key: '8813', value: '01000000' });
      expect((await cli('map', 'update', path, '8813', '02000000', '--flags', 'noexist')).code).toBe(1);
      expect((await cli('map', 'update', path, '8813', '02000000', '--flags', 'exist')).code).toBe(0);
      expect(filter.map('ports').lookup(new Uint8Array([0x88, 0x13]))).toEqual(new Uint8Array([2, 0, 0, 0]));
      expect((await cli('map', 'delete', path, '8813')).code).toBe(0);
      const missing = await cli('map', 'lookup', path, '8813');
      expect(missing.code).toBe(1);
      expect(missing.err).toContain('not found');
      expect((await cli('map', 'delete', path, '8813')).code).toBe(1);
      expect((await cli('map', 'lookup', path, 'zz')).code).toBe(2);
      expect((await cli('map', 'lookup', path, '010203')).err).toContain("key size is 2");
      expect((await cli('map', 'update', path, '0100', '01')).code).toBe(2);
      expect((await cli('map', 'dump', `${PIN_DIR}/nope`)).code).toBe(1);
      filter.map('ports').delete(new Uint8Array([0x14, 0]));
    });
  });

  describe('map on a pinned per-CPU map', () => {
    test('values are all CPUs concatenated (8-byte slots), as bpftool shows them per CPU', async () => {
      const { load } = await import('../../lib/index.js');
      const obj = await load(await compileProg('xdp_port_filter'), { backend: 'kernel' });
      const path = `${PIN_DIR}/stats`;
      try {
        obj.map('stats').pin(path);
        const cpus = possibleCpus();
        const value = Array.from({ length: cpus }, (_, c) => le(100 + c, 8)).join('');
        expect((await cli('map', 'update', path, '01000000', value)).code).toBe(0);
        expect((await cli('map', 'lookup', path, '01000000')).out).toBe(`key: 01000000  value: ${value}\n`);
        const short = await cli('map', 'update', path, '01000000', le(1, 8));
        expect(short.code).toBe(2);
        expect(short.err).toContain('per-CPU');
        const dump = await bpftoolJson('map', 'lookup', 'pinned', path, 'key', '1', '0', '0', '0');
        const perCpu = (dump.values as { cpu: number; value: string[] }[]).map((v) => Number(BigInt('0x' + [...v.value].reverse().map((x) => x.replace(/^0x/, '')).join(''))));
        expect(perCpu).toEqual(Array.from({ length: cpus }, (_, c) => 100 + c));
      } finally {
        rmSync(path, { force: true });
        obj.close();
      }
    });
  });

  describe('run', () => {
    test('--map-init drives the verdict; --dump-maps shows the counters and data_out is the packet', async () => {
      const frame = udpFrame(5000);
      const pass = await cli('run', filterObj, '--program', 'xdp_filter', '--backend', 'kernel', '--data', frame, '--dump-maps', '--json');
      expect(pass.code, pass.err).toBe(0);
      const p = JSON.parse(pass.out);
      expect(Object.keys(p)).toEqual(['retval', 'data', 'durationNs', 'maps']);
      expect(p.retval).toBe(2);
      expect(p.data).toBe(frame);
      expect(typeof p.durationNs).toBe('number');
      expect(p.maps).toEqual({
        counters: [
          { key: '00000000', value: le(1, 8) },
          { key: '01000000', value: le(0, 8) },
          { key: '02000000', value: le(0, 8) },
        ],
        ports: [],
      });
      const init = join(TMP, 'init.json');
      writeFileSync(init, JSON.stringify({ ports: [{ key: le(5000, 2), value: le(1, 4) }, { key: le(53, 2), value: le(0, 4) }], counters: [{ key: '02000000', value: le(7, 8) }] }));
      const drop = await cli('run', filterObj, '--program', 'xdp_filter', '--backend', 'kernel', '--data', frame, '--map-init', init, '--dump-maps', '--json', '--repeat', '5');
      expect(drop.code, drop.err).toBe(0);
      const d = JSON.parse(drop.out);
      expect(d.retval).toBe(1);
      expect(d.maps.counters).toEqual([
        { key: '00000000', value: le(0, 8) },
        { key: '01000000', value: le(5, 8) },
        { key: '02000000', value: le(7, 8) },
      ]);
      expect(d.maps.ports).toEqual([
        { key: le(53, 2), value: le(0, 4) },
        { key: le(5000, 2), value: le(1, 4) },
      ]);
      const text = await cli('run', filterObj, '--program', 'xdp_filter', '--backend', 'kernel', '--data', frame);
      expect(text.out).toMatch(/^retval: 2\nduration: \d+ ns\ndata: [0-9a-f]+\n$/);
      expect(text.out).not.toContain('map ');
    });

    test('ring buffer records are listed by 4-byte little-endian index; --data-file works', async () => {
      const pkt = Buffer.alloc(32);
      pkt.writeUInt32LE(77, 0);
      for (let i = 0; i < 16; i++) pkt[8 + i] = i;
      const f = join(TMP, 'pkt.bin');
      writeFileSync(f, pkt);
      const r = await cli('run', eventsObj, '--program', 'emit', '--backend', 'kernel', '--data-file', f, '--repeat', '3', '--dump-maps', '--json');
      expect(r.code, r.err).toBe(0);
      const o = JSON.parse(r.out);
      const rec = Buffer.concat([pkt.subarray(0, 8), pkt.subarray(8, 24)]).toString('hex');
      expect(o.maps.rb).toEqual([
        { key: '00000000', value: rec },
        { key: '01000000', value: rec },
        { key: '02000000', value: rec },
      ]);
      expect(o.maps.pb).toEqual([]);
    });

    test('global data under section names; per-CPU values are all CPUs concatenated', async () => {
      const g = await compileProg('globals');
      const r = await cli('run', g, '--program', 'globals_rw', '--backend', 'kernel', '--data', '00'.repeat(14), '--dump-maps', '--json');
      expect(r.code, r.err).toBe(0);
      const o = JSON.parse(r.out);
      for (const sec of ['.bss', '.data', '.rodata']) {
        expect(o.maps[sec], sec).toHaveLength(1);
        expect(o.maps[sec][0].key).toBe('00000000');
      }
      expect(o.maps['.rodata'][0].value).toContain('8877665544332211'); // magic, little endian
      expect(o.maps['.rodata'][0].value).toContain(Buffer.from('bpfkit!\0').toString('hex'));

      const pf = await compileProg('xdp_port_filter');
      const cpus = possibleCpus();
      const r2 = await cli('run', pf, '--program', 'port_filter', '--backend', 'kernel', '--data', udpFrame(8080), '--dump-maps', '--json');
      expect(r2.code, r2.err).toBe(0);
      const stats = JSON.parse(r2.out).maps.stats as { key: string; value: string }[];
      expect(stats.map((e) => e.key)).toEqual(['00000000', '01000000', '02000000']);
      for (const e of stats) expect(e.value.length).toBe(cpus * 16);
      const sum = (hex: string): number => {
        let s = 0;
        for (let c = 0; c < cpus; c++) s += Number(Buffer.from(hex.slice(c * 16, c * 16 + 16), 'hex').readBigUInt64LE(0));
        return s;
      };
      expect(stats.map((e) => sum(e.value))).toEqual([1, 0, 0]);
    });

    test('the emulator backend gives the same output through the same command (kernel as the oracle)', async () => {
      const init = join(TMP, 'init-x.json');
      writeFileSync(init, JSON.stringify({ ports: [{ key: le(5000, 2), value: le(1, 4) }] }));
      const pkt = Buffer.alloc(32);
      pkt.writeUInt32LE(9, 0);
      const cases: string[][] = [
        [filterObj, '--program', 'xdp_filter', '--data', udpFrame(5000)],
        [filterObj, '--program', 'xdp_filter', '--data', udpFrame(5000), '--map-init', init, '--repeat', '3'],
        [filterObj, '--program', 'xdp_count', '--data', udpFrame(80)],
        [eventsObj, '--program', 'emit', '--data', pkt.toString('hex'), '--repeat', '2'],
        [await compileProg('globals'), '--program', 'globals_rw', '--data', '00'.repeat(20)],
      ];
      for (const c of cases) {
        const outs = [];
        for (const backend of ['kernel', 'emulator']) {
          const r = await cli('run', ...c, '--backend', backend, '--dump-maps', '--json');
          expect(r.code, `${backend}: ${r.err}`).toBe(0);
          const o = JSON.parse(r.out);
          expect(o.durationNs).toBeGreaterThanOrEqual(0);
          delete o.durationNs;
          outs.push(o);
        }
        expect(outs[1], c.join(' ')).toEqual(outs[0]);
      }
    });

    test('--ctx is passed as ctx_in (xdp_md): a consistent ctx runs, an inconsistent one is refused by the kernel', async () => {
      const frame = udpFrame(80);
      const len = frame.length / 2;
      const ctx = (dataEnd: number): string => {
        const b = Buffer.alloc(24); // struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex
        b.writeUInt32LE(dataEnd, 4);
        return b.toString('hex');
      };
      const ok = await cli('run', filterObj, '--program', 'xdp_filter', '--backend', 'kernel', '--data', frame, '--ctx', ctx(len), '--json');
      expect(ok.code, ok.err).toBe(0);
      expect(JSON.parse(ok.out).retval).toBe(2);
      const bad = await cli('run', filterObj, '--program', 'xdp_filter', '--backend', 'kernel', '--data', frame, '--ctx', ctx(len + 5), '--json');
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/invalid argument/i);
    });

    test('bad input: usage errors exit 2; a missing program is named', async () => {
      expect((await cli('run', filterObj)).code).toBe(2);
      expect((await cli('run', filterObj, '--program', 'xdp_filter', '--backend', 'quantum')).code).toBe(2);
      expect((await cli('run', filterObj, '--program', 'xdp_filter', '--data', '0g')).code).toBe(2);
      expect((await cli('run', filterObj, '--program', 'xdp_filter', '--data', '00', '--data-file', '/x')).code).toBe(2);
      expect((await cli('run', filterObj, '--program', 'xdp_filter', '--repeat', '0')).code).toBe(2);
      const bad = join(TMP, 'bad.json');
      writeFileSync(bad, '{"ports": 3}');
      expect((await cli('run', filterObj, '--program', 'xdp_filter', '--map-init', bad)).code).toBe(2);
      const nope = await cli('run', filterObj, '--program', 'nope', '--backend', 'kernel');
      expect(nope.code).toBe(2);
      expect(nope.err).toContain("no program named 'nope'");
      expect((await cli('run', '/nonexistent.o', '--program', 'x', '--backend', 'kernel')).code).toBe(1);
    });
  });

  describe('attach / detach', () => {
    const VA = `bkc${tag}a`;
    const VB = `bkc${tag}b`;
    beforeAll(async () => {
      await ipQuiet('link', 'del', VA);
      await ip('link', 'add', VA, 'type', 'veth', 'peer', 'name', VB);
      await ip('link', 'set', VA, 'up');
      await ip('link', 'set', VB, 'up');
    });
    afterAll(async () => {
      await ipQuiet('link', 'del', VA);
      rmSync(`/sys/fs/bpf/bpfkit/links/xdp-${VA}`, { force: true });
      rmSync(`/sys/fs/bpf/bpfkit/links/tc-${VA}-egress`, { force: true });
      // The default pin directories, when nothing else is pinned there.
      for (const d of ['/sys/fs/bpf/bpfkit/links', '/sys/fs/bpf/bpfkit']) {
        try {
          rmdirSync(d);
        } catch {
          /* not empty (someone else's pins) or already gone */
        }
      }
    });

    test('attach xdp pins a link at the default path; detach xdp --dev removes it', async () => {
      const a = await cli('attach', 'xdp', filterObj, '--program', 'xdp_filter', '--dev', VA, '--mode', 'skb', '--json');
      expect(a.code, a.err).toBe(0);
      const info = JSON.parse(a.out);
      const pin = `/sys/fs/bpf/bpfkit/links/xdp-${VA}`;
      expect(info).toMatchObject({ program: 'xdp_filter', hook: 'xdp', dev: VA, pin });
      expect(existsSync(pin)).toBe(true);
      expect(await ip('-d', 'link', 'show', 'dev', VA)).toMatch(new RegExp(`xdpgeneric[\\s\\S]*prog/xdp id ${info.programId} name xdp_filter`));
      const links = JSON.parse((await cli('link', 'list', '--json')).out) as any[];
      expect(links.find((l) => l.id === info.linkId)).toMatchObject({ type: 'xdp', ifname: VA, progId: info.programId });
      const again = await cli('attach', 'xdp', filterObj, '--program', 'xdp_filter', '--dev', VA);
      expect(again.code).toBe(1);
      expect(again.err).toContain('already exists');
      const d = await cli('detach', 'xdp', '--dev', VA);
      expect(d.code, d.err).toBe(0);
      expect(d.out).toBe(`detached link ${info.linkId} (prog id ${info.programId}) from xdp on ${VA}\n`);
      expect(existsSync(pin)).toBe(false);
      expect(await ip('-d', 'link', 'show', 'dev', VA)).not.toMatch(/prog\/xdp/);
      const none = await cli('detach', 'xdp', '--dev', VA);
      expect(none.code).toBe(1);
      expect(none.err).toContain(`no XDP link attached to ${VA}`);
    });

    test('attach tc egress with --pin and --pin-maps; map update through the pin; detach tc --pin', async () => {
      const tcObj = await compileC(join(KPROGS, 'ktcx.bpf.c'));
      const pin = `${PIN_DIR}/tc-link`;
      const maps = `${PIN_DIR}/tc-maps`;
      const a = await cli('attach', 'tc', tcObj, '--program', 'tc_out', '--dev', VA, '--direction', 'egress', '--pin', pin, '--pin-maps', maps, '--json');
      expect(a.code, a.err).toBe(0);
      const info = JSON.parse(a.out);
      expect(info.maps).toEqual({ tc_block: `${maps}/tc_block`, tc_counts: `${maps}/tc_counts` });
      const links = JSON.parse((await cli('link', 'list', '--json')).out) as any[];
      expect(links.find((l) => l.id === info.linkId)).toMatchObject({ type: 'tcx', ifname: VA, attachType: 'tcx_egress' });
      expect((await cli('map', 'update', `${maps}/tc_block`, le(53, 2), '01')).code).toBe(0);
      expect(JSON.parse((await cli('map', 'dump', `${maps}/tc_block`, '--json')).out)).toEqual([{ key: le(53, 2), value: '01' }]);
      expect((await cli('detach', 'xdp', '--pin', pin)).code).toBe(2); // a tc link, not xdp
      const d = await cli('detach', 'tc', '--pin', pin, '--json');
      expect(d.code, d.err).toBe(0);
      expect(JSON.parse(d.out)).toEqual([{ linkId: info.linkId, programId: info.programId, target: `${VA}/egress` }]);
      expect(existsSync(pin)).toBe(false);
      expect((JSON.parse((await cli('link', 'list', '--json')).out) as any[]).some((l) => l.id === info.linkId)).toBe(false);
      rmSync(maps, { recursive: true, force: true });
      expect((await cli('detach', 'tc', '--dev', VA)).code).toBe(1);
      expect((await cli('detach', 'tc', '--dev', 'nosuchdev0')).code).toBe(1);
      expect((await cli('detach', 'tc')).code).toBe(2);
      expect((await cli('attach', 'xdp', filterObj, '--program', 'xdp_filter', '--dev', VA, '--direction', 'egress')).code).toBe(2);
      const notBpffs = await cli('attach', 'xdp', filterObj, '--program', 'xdp_filter', '--dev', VA, '--pin', join(TMP, 'link'));
      expect(notBpffs.code).toBe(1);
      expect(notBpffs.err).toContain('is not on a bpf filesystem');
      expect(await ip('-d', 'link', 'show', 'dev', VA)).not.toMatch(/prog\/xdp/);
    });
  });
});
