// Context handling, emulator vs kernel: BPF_PROG_TEST_RUN's ctx_in validation and ctx_out for
// struct xdp_md and struct __sk_buff (TC, socket filter, cgroup_skb), size limits of data_in, and
// what programs read from the context — same results or the same errno on kernel, JIT and
// interpreter.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseObject } from '../../lib/elf/index.js';
import { join } from 'node:path';
import { compileC } from '../helpers/progs.js';
import { diffObject, pinToCpu0, resultsSnapshot, type RunInput } from './diff-harness.js';
import { ipv4 } from './packets.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
const PIN_ROOT = `/sys/fs/bpf/bpfkit_emu_diff_ctx_${process.pid}`; // per process: runs of this file may overlap

function xdpCtx(fields: Partial<Record<'data' | 'data_end' | 'data_meta' | 'ingress' | 'rxq' | 'egress', number>>, size = 24): Uint8Array {
  const c = new Uint8Array(size);
  const dv = new DataView(c.buffer);
  const order = ['data', 'data_end', 'data_meta', 'ingress', 'rxq', 'egress'] as const;
  order.forEach((k, i) => {
    if (fields[k] !== undefined && i * 4 + 4 <= size) dv.setUint32(i * 4, fields[k]!, true);
  });
  return c;
}

function skbCtx(set: [number, number, number?][], size = 192): Uint8Array {
  const c = new Uint8Array(size);
  const dv = new DataView(c.buffer);
  for (const [off, v, width] of set) {
    if (width === 8) dv.setBigUint64(off, BigInt(v), true);
    else dv.setUint32(off, v, true);
  }
  return c;
}

function xdpInputs(): RunInput[] {
  const p = ipv4({ proto: 6, dport: 80, payload: 20 });
  const n = p.length;
  const meta = new Uint8Array(8 + n);
  meta.set([1, 2, 3, 4, 5, 6, 7, 8]);
  meta.set(p, 8);
  const tail = new Uint8Array(32);
  tail[30] = 1;
  return [
    { data: p },
    { data: p, ctx: xdpCtx({ data_end: n }) },
    { data: p, ctx: xdpCtx({ data_end: n, data_meta: 4 }) },
    { data: p, ctx: xdpCtx({ data_end: n - 1 }) },
    { data: p, ctx: xdpCtx({ data: n + 4, data_end: n }) },
    { data: meta, ctx: xdpCtx({ data: 8, data_end: meta.length }) },
    { data: meta, ctx: xdpCtx({ data: 6, data_end: meta.length }) },
    { data: p, ctx: xdpCtx({ data_end: n, egress: 1 }) },
    { data: p, ctx: xdpCtx({ data_end: n, rxq: 1 }) },
    { data: p, ctx: xdpCtx({ data_end: n, ingress: 9999 }) },
    { data: p, ctx: xdpCtx({ data_end: n }, 8) },
    { data: p, ctx: new Uint8Array([...xdpCtx({ data_end: n }), ...tail]) },
    { data: p, ctx: new Uint8Array([...xdpCtx({ data_end: n }), ...new Uint8Array(8)]) },
    { data: new Uint8Array(13) },
    { data: new Uint8Array(14) },
    { data: new Uint8Array(3520) },
    { data: new Uint8Array(3521) },
  ];
}

function skbInputs(): RunInput[] {
  const p = ipv4({ proto: 17, dport: 53, payload: 20 });
  return [
    { data: p },
    { data: p, ctx: skbCtx([[8, 77], [32, 3], [48, 1], [64, 5]]) }, // mark, priority, cb[0], cb[4]
    { data: p, ctx: skbCtx([[0, 5]]) }, // len must be zero
    { data: p, ctx: skbCtx([[12, 1]]) }, // queue_mapping
    { data: p, ctx: skbCtx([[36, 3]]) }, // ingress_ifindex
    { data: p, ctx: skbCtx([[40, 1]]) }, // ifindex lo
    { data: p, ctx: skbCtx([[40, 99999]]) }, // no such device
    { data: p, ctx: skbCtx([[152, 123456789, 8]]) }, // tstamp
    { data: p, ctx: skbCtx([[160, p.length + 100]]) }, // wire_len
    { data: p, ctx: skbCtx([[160, 10]]) }, // wire_len < len
    { data: p, ctx: skbCtx([[164, 70000]]) }, // gso_segs too big
    { data: p, ctx: skbCtx([[164, 3], [176, 1400]]) }, // gso_segs, gso_size
    { data: p, ctx: skbCtx([[184, 42, 8]]) }, // hwtstamp
    { data: p, ctx: skbCtx([[68, 1]]) }, // hash
    { data: p, ctx: skbCtx([[8, 1]], 100) }, // short ctx
    { data: p, ctx: new Uint8Array([...skbCtx([[8, 1]]), 0, 0, 0, 1]) }, // non-zero tail
    { data: new Uint8Array(13) },
    { data: new Uint8Array(3712) },
    { data: new Uint8Array(3713) },
  ];
}

/** Only the rows that differ: `slot=emulator/kernel`. */
function diffRows(a: string, b: string): string {
  const x = a.split(',');
  const y = b.split(',');
  return x.map((r, i) => (r === y[i] ? '' : `${r} (kernel ${y[i]?.split('=')[1]})`)).filter(Boolean).join(' ');
}

describe.skipIf(!isRootLinux)('contexts: emulator vs kernel (needs root on Linux)', () => {
  beforeAll(() => pinToCpu0());
  afterAll(() => rmSync(PIN_ROOT, { recursive: true, force: true }));

  it('xdp_md and __sk_buff ctx_in/ctx_out and data limits', async () => {
    const src = join(import.meta.dirname, 'progs', 'ctx_probe.bpf.c');
    const path = await compileC(src);
    const spec = parseObject(readFileSync(path), path);
    expect(spec.programs.map((p) => p.type).sort()).toEqual(['cgroup_skb', 'sched_cls', 'socket_filter', 'xdp']);
    const perRun: string[] = [];
    let n = 0;
    const { diffs, runs } = await diffObject(
      spec,
      PIN_ROOT,
      (_prog, type) => (type === 'xdp' ? xdpInputs() : skbInputs()),
      (objs) => {
        const [k, ...e] = resultsSnapshot(objs, 'seen');
        n++;
        e.forEach((s, i) => {
          if (s !== k) perRun.push(`run ${n} ${i === 0 ? 'jit' : 'interpreter'}: seen ${diffRows(s, k!)}`);
        });
      },
    );
    expect(runs).toBeGreaterThan(100);
    expect([...diffs, ...perRun].slice(0, 12)).toEqual([]);
  }, 120_000);
});
