// Codecs over hand-built BTF (bitfields, unions, anonymous members, enum64, floats, bools,
// pointers, typedef chains) and over clang-built BTF checked against the C layout that
// bpftool reports (`bpftool btf dump` as the oracle for sizes and member offsets).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Btf, BtfKind, type BtfType } from '../../lib/btf/index.js';
import { ArgumentError } from '../../lib/errors.js';
import { bytesCodec, codecByName, codecFor, decode, encode, openObject, perCpuCodec } from '../../lib/object/index.js';
import { compileProg } from '../helpers/progs.js';

type NoId<T> = T extends unknown ? Omit<T, 'id'> : never;

function btf(types: NoId<BtfType>[]): Btf {
  const all = [{ kind: BtfKind.Void, id: 0, name: '' }, ...types.map((t, i) => ({ ...t, id: i + 1 }))] as BtfType[];
  return new Btf(new Uint8Array(0), all, new Uint8Array(1));
}

const int = (name: string, size: number, signed = false, bool = false) =>
  ({ kind: BtfKind.Int, name, size, encoding: { signed, char: false, bool }, bitOffset: 0, bits: bool ? 1 : size * 8 }) as NoId<BtfType>;

describe('codecs from hand-built BTF', () => {
  const b = btf([
    int('unsigned int', 4), // 1
    int('int', 4, true), // 2
    int('long long', 8, true), // 3
    int('_Bool', 1, false, true), // 4
    { kind: BtfKind.Float, name: 'double', size: 8 }, // 5
    { kind: BtfKind.Enum64, name: 'big', size: 8, signed: false, values: [{ name: 'HUGE', value: 1n << 40n }] }, // 6
    { kind: BtfKind.Ptr, name: '', type: 1 }, // 7
    // 8: struct bits { unsigned a:3; int b:5; unsigned c:24; }
    { kind: BtfKind.Struct, name: 'bits', size: 4, members: [
      { name: 'a', type: 1, bitOffset: 0, bitSize: 3 }, { name: 'b', type: 2, bitOffset: 3, bitSize: 5 }, { name: 'c', type: 1, bitOffset: 8, bitSize: 24 },
    ] },
    // 9: union u { unsigned x; long long y; }
    { kind: BtfKind.Union, name: 'u', size: 8, members: [{ name: 'x', type: 1, bitOffset: 0, bitSize: 0 }, { name: 'y', type: 3, bitOffset: 0, bitSize: 0 }] },
    // 10: anonymous struct { unsigned lo; unsigned hi; }
    { kind: BtfKind.Struct, name: '', size: 8, members: [{ name: 'lo', type: 1, bitOffset: 0, bitSize: 0 }, { name: 'hi', type: 1, bitOffset: 32, bitSize: 0 }] },
    // 11: struct outer { struct { lo; hi; }; _Bool on; double d; enum big e; void *p; }
    { kind: BtfKind.Struct, name: 'outer', size: 40, members: [
      { name: '', type: 10, bitOffset: 0, bitSize: 0 }, { name: 'on', type: 4, bitOffset: 64, bitSize: 0 },
      { name: 'd', type: 5, bitOffset: 128, bitSize: 0 }, { name: 'e', type: 6, bitOffset: 192, bitSize: 0 }, { name: 'p', type: 7, bitOffset: 256, bitSize: 0 },
    ] },
    { kind: BtfKind.Typedef, name: 'u32_t', type: 1 }, // 12
    { kind: BtfKind.Const, name: '', type: 12 }, // 13
    { kind: BtfKind.Array, name: '', elemType: 13, indexType: 1, nelems: 3 }, // 14
  ]);

  it('bitfields pack and sign-extend like C', () => {
    const c = codecFor(b, 8, 4);
    const bytes = encode(c, { a: 5, b: -3, c: 0xabcdef }, 'x');
    // a=101b, b=-3 → 11101b in bits 3..7, c in bits 8..31
    expect(new DataView(bytes.buffer).getUint32(0, true)).toBe(((0xabcdef << 8) | (0b11101 << 3) | 5) >>> 0);
    expect(decode(c, bytes)).toEqual({ a: 5, b: -3, c: 0xabcdef });
    expect(() => encode(c, { a: 8 }, 'x')).toThrow(/x\.a: 8 does not fit in 3-bit field/);
  });

  it('unions decode every member and encode exactly one', () => {
    const c = codecFor(b, 9, 8);
    const bytes = encode(c, { y: -2n }, 'v');
    expect(decode(c, bytes)).toEqual({ x: 0xfffffffe, y: -2n });
    expect(() => encode(c, { x: 1, y: 2n }, 'v')).toThrow(/set only one member of union u/);
  });

  it('anonymous members flatten; bool, double, enum64 and pointers', () => {
    const c = codecFor(b, 11, 40);
    const v = { lo: 1, hi: 2, on: true, d: 1.5, e: 1n << 40n, p: 0xdeadbeefn };
    expect(decode(c, encode(c, v, 'v'))).toEqual(v);
    expect(decode<{ e: bigint }>(c, encode(c, { e: 'HUGE' }, 'v')).e).toBe(1n << 40n);
    expect(() => encode(c, { e: 'SMALL' }, 'v')).toThrow(/"SMALL" is not an enumerator of enum big \(have: HUGE\)/);
    expect(() => encode(c, { d: 'x' }, 'v')).toThrow(/expected a number for double/);
  });

  it('typedef/const chains keep the typedef name; arrays of non-bytes are JS arrays', () => {
    const c = codecFor(b, 14, 12);
    expect(c.typeName).toBe('u32_t[3]');
    expect(decode(c, encode(c, [1, 2, 3], 'a'))).toEqual([1, 2, 3]);
    expect(decode(c, encode(c, [7], 'a'))).toEqual([7, 0, 0]);
    expect(() => encode(c, [1, 2, 3, 4], 'a')).toThrow(/expected at most 3 elements for u32_t\[3\]/);
    expect(() => encode(c, [-1n << 40n], 'a')).toThrow(/a\[0\]: .* does not fit in u32_t/);
  });

  it('falls back to bytes when the BTF size disagrees or there is no type', () => {
    expect(codecFor(b, 1, 8).typeName).toBe('bytes[8]');
    expect(codecFor(undefined, 1, 4).typeName).toBe('bytes[4]');
    expect(codecFor(b, 0, 4).typeName).toBe('bytes[4]');
  });

  it('integer ranges: u32 accepts -2^31..2^32-1, 64-bit takes bigint or safe numbers', () => {
    const u = codecFor(b, 1, 4);
    expect(decode(u, encode(u, -1, 'k'))).toBe(0xffffffff);
    expect(() => encode(u, 2 ** 32, 'k')).toThrow(ArgumentError);
    const s = codecFor(b, 3, 8);
    expect(decode(s, encode(s, -5, 'k'))).toBe(-5n);
    expect(decode(s, encode(s, (1n << 64n) - 1n, 'k'))).toBe(-1n);
    expect(() => encode(s, 1n << 64n, 'k')).toThrow(/does not fit in long long/);
    expect(() => encode(s, undefined, 'k')).toThrow(/k: expected long long, got undefined/);
  });

  it('per-CPU codecs pad each CPU slot to 8 bytes', () => {
    const c = perCpuCodec(codecFor(b, 1, 4), 2);
    expect(c.size).toBe(16);
    const bytes = encode(c, [1, 2], 'v');
    expect([...bytes]).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
    expect(decode(c, bytes)).toEqual([1, 2]);
  });

  it('bytes codecs take strings and exact-size arrays', () => {
    const c = bytesCodec(6);
    expect(decode(c, encode(c, 'hi', 'k'))).toEqual(new Uint8Array([104, 105, 0, 0, 0, 0]));
    expect(() => encode(c, 'toolongstring', 'k')).toThrow(/string of 13 bytes does not fit in bytes\[6\]/);
    expect(() => encode(c, new Uint8Array(5), 'k')).toThrow(/k: expected 6 bytes \(bytes\[6\]\), got 5/);
  });
});

describe('codecs from clang-built BTF agree with bpftool', () => {
  it('every struct type of the corpus: codec size = BTF size, and fields round-trip', async () => {
    let checked = 0;
    for (const name of ['maps_btf', 'xdp_port_filter', 'lpm_trie', 'tracepoint_getpid', 'cgroup_skb', 'atomics.v3', 'uprobe', 'events']) {
      const path = await compileProg(name);
      const spec = openObject(path);
      const dump = execFileSync('bpftool', ['btf', 'dump', 'file', path], { encoding: 'utf8' });
      for (const m of dump.matchAll(/^\[\d+\] STRUCT '([^']+)' size=(\d+) vlen=\d+$/gm)) {
        if (m[1] === '(anon)') continue;
        const c = codecByName(spec.btf!, `struct ${m[1]}`);
        expect(c, m[1]).toBeDefined();
        expect(c!.size, m[1]).toBe(Number(m[2]));
        const zero = decode<Record<string, unknown>>(c!, new Uint8Array(c!.size));
        expect(encode(c!, zero, 'rt')).toEqual(new Uint8Array(c!.size));
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });
});

describe('integer fast path', () => {
  const b = btf([int('unsigned short', 2), int('int', 4, true), int('signed char', 1, true), int('unsigned long long', 8)]);
  it('encodes and decodes like the general path, for every size and sign', () => {
    const cases: [number, number, (number | bigint)[]][] = [
      [1, 2, [0, 1, 0xffff, -1, -32768, 0x1234]],
      [2, 4, [0, -1, 2 ** 31 - 1, -(2 ** 31), 0xffffffff, 123456]],
      [3, 1, [0, -128, 127, 255, -1]],
      [4, 8, [0, 1, 2 ** 53 - 1, 0x1_0000_0000, 2n ** 64n - 1n, -1n, -1]],
    ];
    for (const [id, size, values] of cases) {
      const c = codecFor(b, id, size);
      for (const v of values) {
        const bytes = encode(c, v, 'v');
        expect(bytes.length).toBe(size);
        const big = BigInt.asUintN(size * 8, BigInt(v));
        const want = new Uint8Array(size);
        for (let i = 0; i < size; i++) want[i] = Number((big >> BigInt(8 * i)) & 0xffn);
        expect(bytes, `${c.typeName} ${v}`).toEqual(want);
        const back = decode(c, bytes);
        const signed = id === 2 || id === 3;
        const expectNum = signed ? BigInt.asIntN(size * 8, big) : big;
        expect(size === 8 ? back : BigInt(back as number), `${c.typeName} ${v}`).toBe(expectNum);
      }
      expect(() => encode(c, 2 ** 64, 'v')).toThrow(ArgumentError);
      expect(() => encode(c, 0.5, 'v')).toThrow(/expected an integer/);
    }
    // bytes codecs accept numbers but still decode as bytes
    const raw = bytesCodec(4);
    expect(decode(raw, encode(raw, 0x01020304, 'v'))).toEqual(new Uint8Array([4, 3, 2, 1]));
  });
});
