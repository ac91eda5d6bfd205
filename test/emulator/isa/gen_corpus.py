#!/usr/bin/env python3
"""Generates the systematic part of the ISA corpus (gen-*.data) with expected values computed
here, in Python, independently of the TypeScript engines (RFC 9669 semantics written out again).
The kernel runs the same cases where it can load them, as a second independent oracle.

Run: python3 test/emulator/isa/gen_corpus.py   (rewrites gen-*.data next to this file)
"""
import os
import random

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
HERE = os.path.dirname(os.path.abspath(__file__))


def s(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def tdiv(a, b):
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def alu(op, d, x, bits, off=0):
    m = (1 << bits) - 1
    d &= m
    x &= m
    if op == 'add': r = d + x
    elif op == 'sub': r = d - x
    elif op == 'mul': r = d * x
    elif op == 'div':
        if off: r = 0 if x == 0 else tdiv(s(d, bits), s(x, bits))
        else: r = 0 if x == 0 else d // x
    elif op == 'mod':
        if off:
            if x == 0: r = d
            else:
                a, b = s(d, bits), s(x, bits)
                r = a - tdiv(a, b) * b
        else: r = d if x == 0 else d % x
    elif op == 'or': r = d | x
    elif op == 'and': r = d & x
    elif op == 'xor': r = d ^ x
    elif op == 'lsh': r = d << (x & (bits - 1))
    elif op == 'rsh': r = d >> (x & (bits - 1))
    elif op == 'arsh': r = s(d, bits) >> (x & (bits - 1))
    elif op == 'mov': r = x
    else: raise ValueError(op)
    return r & m


def jmp(op, d, x, bits):
    m = (1 << bits) - 1
    d &= m
    x &= m
    return {
        'jeq': d == x, 'jne': d != x, 'jgt': d > x, 'jge': d >= x, 'jlt': d < x, 'jle': d <= x,
        'jset': (d & x) != 0, 'jsgt': s(d, bits) > s(x, bits), 'jsge': s(d, bits) >= s(x, bits),
        'jslt': s(d, bits) < s(x, bits), 'jsle': s(d, bits) <= s(x, bits),
    }[op]


INTERESTING = [
    0, 1, 2, 3, 7, 31, 32, 33, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
    0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x123456789abcdef0, 0x7fffffffffffffff,
    0x8000000000000000, 0xffffffffffffffff, 0xfffffffffffffffe, 0xffffffff80000000, 0xdeadbeefcafebabe,
]
IMMS = [0, 1, -1, 2, 7, 31, 32, 63, 0x7fffffff, -0x80000000, -2, 0x1234, -0x1234]


def hexv(v):
    return '0x%x' % (v & M64)


def load(reg, v):
    return f'ldImm64 r{reg}, {hexv(v)}'


def emit_alu(out, rng):
    ops = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh', 'mov']
    for bits in (64, 32):
        for op in ops:
            base = 'div' if op == 'sdiv' else 'mod' if op == 'smod' else op
            off = 1 if op in ('sdiv', 'smod') else 0
            fn = f'{op}{bits}'
            # register operands: a deterministic sample of interesting pairs
            pairs = [(a, b) for a in INTERESTING for b in INTERESTING]
            rng.shuffle(pairs)
            for a, b in pairs[:10]:
                if base in ('lsh', 'rsh', 'arsh'):
                    b = b & 0xff
                r = alu(base, a, b, bits, off)
                out.append(f'== {fn} reg {hexv(a)} {hexv(b)}')
                out.append(load(0, a))
                out.append(load(3, b))
                out.append(f'{fn} r0, r3')
                out.append('exit')
                out.append(f'-- result {hexv(r)}')
            # immediate operands (sign-extended to 64 for ALU64, used as u32 for ALU32)
            for k in range(6):
                a = rng.choice(INTERESTING)
                imm = rng.choice(IMMS)
                if base in ('lsh', 'rsh', 'arsh'):
                    imm = imm & (bits - 1)
                if base in ('div', 'mod') and imm == 0:
                    imm = 3
                x = imm & M64 if bits == 64 else imm & M32
                r = alu(base, a, x, bits, off)
                out.append(f'== {fn} imm {hexv(a)} {imm}')
                out.append(load(0, a))
                out.append(f'{fn} r0, {imm}')
                out.append('exit')
                out.append(f'-- result {hexv(r)}')
        # neg
        for a in INTERESTING[::3]:
            r = (-(a & ((1 << bits) - 1))) & ((1 << bits) - 1)
            out.append(f'== neg{bits} {hexv(a)}')
            out.append(load(0, a))
            out.append(f'neg{bits} r0')
            out.append('exit')
            out.append(f'-- result {hexv(r)}')


def emit_jmp(out, rng):
    ops = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jset', 'jsgt', 'jsge', 'jslt', 'jsle']
    for bits in (64, 32):
        for op in ops:
            fn = op if bits == 64 else op + '32'
            pairs = [(a, b) for a in INTERESTING for b in INTERESTING]
            rng.shuffle(pairs)
            # make sure equal and near-equal pairs are covered
            pairs = [(5, 5), (0xffffffff00000005, 5), (5, 0xffffffff00000005)] + pairs[:7]
            for a, b in pairs:
                t = jmp(op, a, b, bits)
                out.append(f'== {fn} reg {hexv(a)} {hexv(b)}')
                out.append(load(3, a))
                out.append(load(4, b))
                out.append('mov64 r0, 1')
                out.append(f'{fn} r3, r4, yes')
                out.append('mov64 r0, 2')
                out.append('yes:')
                out.append('exit')
                out.append(f'-- result {1 if t else 2}')
            for k in range(5):
                a = rng.choice(INTERESTING)
                imm = rng.choice(IMMS)
                x = imm & M64 if bits == 64 else imm & M32
                t = jmp(op, a, x, bits)
                out.append(f'== {fn} imm {hexv(a)} {imm}')
                out.append(load(3, a))
                out.append('mov64 r0, 1')
                out.append(f'{fn} r3, {imm}, yes')
                out.append('mov64 r0, 2')
                out.append('yes:')
                out.append('exit')
                out.append(f'-- result {1 if t else 2}')


def bswap(v, bits):
    b = (v & ((1 << bits) - 1)).to_bytes(bits // 8, 'little')
    return int.from_bytes(b, 'big')


def emit_v4(out, rng):
    for a in INTERESTING[::2]:
        for bits in (8, 16, 32):
            r = s(a, bits) & M64
            out.append(f'== movsx64 {bits} {hexv(a)}')
            out.append(load(3, a))
            out.append(f'movsx64 r0, r3, {bits}')
            out.append('exit')
            out.append(f'-- result {hexv(r)}')
        for bits in (8, 16):
            r = s(a, bits) & M32
            out.append(f'== movsx32 {bits} {hexv(a)}')
            out.append(load(3, a))
            out.append(f'movsx32 r0, r3, {bits}')
            out.append('exit')
            out.append(f'-- result {hexv(r)}')
        for bits in (16, 32, 64):
            out.append(f'== bswap{bits} {hexv(a)}')
            out.append(load(0, a))
            out.append(f'bswap r0, {bits}')
            out.append('exit')
            out.append(f'-- result {hexv(bswap(a, bits))}')
            out.append(f'== be{bits} {hexv(a)}')
            out.append(load(0, a))
            out.append(f'be r0, {bits}')
            out.append('exit')
            out.append(f'-- result {hexv(bswap(a, bits))}')
            out.append(f'== le{bits} {hexv(a)}')
            out.append(load(0, a))
            out.append(f'le r0, {bits}')
            out.append('exit')
            out.append(f'-- result {hexv(a & ((1 << bits) - 1))}')


def emit_mem(out, rng):
    # stores then loads through the stack, all sizes, signed loads
    for k in range(24):
        v = rng.choice(INTERESTING) ^ rng.getrandbits(64) if k % 2 else rng.choice(INTERESTING)
        v &= M64
        for size, st, ld, ldsx in ((1, 'stxb', 'ldxb', 'ldxsb'), (2, 'stxh', 'ldxh', 'ldxsh'), (4, 'stxw', 'ldxw', 'ldxsw'), (8, 'stxdw', 'ldxdw', None)):
            offs = -8 - 8 * (k % 4)
            mask = (1 << (8 * size)) - 1
            out.append(f'== {st}/{ld} {hexv(v)} at {offs}')
            out.append('stdw r10, %d, 0' % offs)
            out.append(load(3, v))
            out.append(f'{st} r10, {offs}, r3')
            out.append(f'{ld} r0, r10, {offs}')
            out.append('exit')
            out.append(f'-- result {hexv(v & mask)}')
            if ldsx:
                out.append(f'== {st}/{ldsx} {hexv(v)} at {offs}')
                out.append(load(3, v))
                out.append(f'{st} r10, {offs}, r3')
                out.append(f'{ldsx} r0, r10, {offs}')
                out.append('exit')
                out.append(f'-- result {hexv(s(v, 8 * size))}')
    # st imm (sign-extended for dw)
    for imm in IMMS:
        for size, st, ld in ((1, 'stb', 'ldxb'), (2, 'sth', 'ldxh'), (4, 'stw', 'ldxw'), (8, 'stdw', 'ldxdw')):
            out.append(f'== {st} imm {imm}')
            out.append(f'{st} r10, -16, {imm}')
            out.append(f'{ld} r0, r10, -16')
            out.append('exit')
            out.append(f'-- result {hexv(imm & ((1 << (8 * size)) - 1))}')


def atomic(op, old, src, bits):
    m = (1 << bits) - 1
    old &= m
    src &= m
    return {'add': old + src, 'or': old | src, 'and': old & src, 'xor': old ^ src, 'xchg': src}[op] & m


def emit_atomic(out, rng):
    for bits, sfx, st, ld in ((64, '64', 'stxdw', 'ldxdw'), (32, '32', 'stxw', 'ldxw')):
        for op in ('add', 'or', 'and', 'xor'):
            for k in range(4):
                a = rng.choice(INTERESTING)
                b = rng.choice(INTERESTING)
                new = atomic(op, a, b, bits)
                fn = 'atomic' + op.capitalize() + sfx
                out.append(f'== {fn} {hexv(a)} {hexv(b)}')
                out.append(load(3, a))
                out.append(f'{st} r10, -8, r3')
                out.append(load(4, b))
                out.append(f'{fn} r10, -8, r4')
                out.append(f'{ld} r0, r10, -8')
                out.append('exit')
                out.append(f'-- result {hexv(new)}')
                # fetch variant: return old value (zero-extended for 32) xor new memory
                fn = 'fetch' + op.capitalize() + sfx
                old = a & ((1 << bits) - 1)
                out.append(f'== {fn} {hexv(a)} {hexv(b)}')
                out.append(load(3, a))
                out.append(f'{st} r10, -8, r3')
                out.append(load(4, b))
                out.append(f'{fn} r10, -8, r4')
                out.append(f'{ld} r0, r10, -8')
                out.append('lsh64 r0, 1')
                out.append('xor64 r0, r4')
                out.append('exit')
                out.append(f'-- result {hexv(((new << 1) ^ old) & M64)}')
        for k in range(4):
            a = rng.choice(INTERESTING)
            b = rng.choice(INTERESTING)
            out.append(f'== xchg{sfx} {hexv(a)} {hexv(b)}')
            out.append(load(3, a))
            out.append(f'{st} r10, -8, r3')
            out.append(load(4, b))
            out.append(f'xchg{sfx} r10, -8, r4')
            out.append(f'{ld} r0, r10, -8')
            out.append('add64 r0, r4')
            out.append('exit')
            out.append(f'-- result {hexv(((b & ((1 << bits) - 1)) + (a & ((1 << bits) - 1))) & M64)}')
        for k in range(6):
            a = rng.choice(INTERESTING)
            cmp = a if k % 2 == 0 else rng.choice(INTERESTING)
            b = rng.choice(INTERESTING)
            m = (1 << bits) - 1
            eq = (a & m) == (cmp & m)
            newmem = (b & m) if eq else (a & m)
            r0 = a & m
            out.append(f'== cmpxchg{sfx} {hexv(a)} cmp {hexv(cmp)} new {hexv(b)}')
            out.append(load(3, a))
            out.append(f'{st} r10, -8, r3')
            out.append(load(4, b))
            out.append(load(0, cmp))
            out.append(f'cmpxchg{sfx} r10, -8, r4')
            out.append(f'{ld} r5, r10, -8')
            out.append('lsh64 r5, 1')
            out.append('xor64 r0, r5')
            out.append('exit')
            out.append(f'-- result {hexv(r0 ^ ((newmem << 1) & M64))}')


def main():
    rng = random.Random(9669)
    for name, fn in (('gen-alu', emit_alu), ('gen-jmp', emit_jmp), ('gen-v4', emit_v4), ('gen-mem', emit_mem), ('gen-atomic', emit_atomic)):
        out = [f'# generated by gen_corpus.py (expected values computed in Python); do not edit']
        fn(out, rng)
        with open(os.path.join(HERE, name + '.data'), 'w') as f:
            f.write('\n'.join(out) + '\n')


if __name__ == '__main__':
    main()
