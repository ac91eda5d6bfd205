/**
 * Helpers for the kernel backend's own tests: root/Linux gate, a per-file bpffs directory,
 * bpftool as an independent oracle, and loading a whole object through a LoadSession.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import type { BackendMap, BackendProgram, LoadSessionOptions } from '../../lib/backend.js';
import { parseObject } from '../../lib/elf/index.js';
import { createKernelBackend } from '../../lib/kernel/index.js';
import { isBpffs } from '../../lib/kernel/sys.js';
import type { MapSpec, ObjectSpec, ProgramSpec } from '../../lib/spec/index.js';

/** Why kernel tests cannot run here, or undefined when they can (root on Linux). */
export const kernelSkipReason: string | undefined =
  process.platform !== 'linux'
    ? `kernel tests need Linux (this is ${process.platform})`
    : typeof process.getuid === 'function' && process.getuid() !== 0
      ? 'kernel tests need root (bpf(2), bpffs pins)'
      : undefined;

export const BPFFS = '/sys/fs/bpf';

/** A unique bpffs directory for one test file (mounting bpffs when needed). */
export function pinDir(tag: string): string {
  if (!isBpffs(BPFFS)) {
    if (!existsSync(BPFFS)) mkdirSync(BPFFS);
    execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS]);
  }
  const dir = `${BPFFS}/bpfkit_${tag}_${process.pid}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  return dir;
}

export function removePinDir(dir: string): void {
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

/** bpftool ... -j, parsed. */
export function bpftool(...args: string[]): unknown {
  const out = execFileSync('bpftool', [...args, '-j'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return JSON.parse(out);
}

export interface DumpEntry {
  key: number[];
  value?: number[];
  values?: { cpu: number; value: number[] }[];
  formatted?: { key: unknown; value: unknown };
}

const hexBytes = (a: unknown): number[] => (Array.isArray(a) ? a.map((x) => Number(x)) : []);

/** `bpftool map dump pinned PATH -j`, with byte arrays as numbers. */
export function bpftoolDump(path: string): DumpEntry[] {
  const raw = bpftool('map', 'dump', 'pinned', path) as Record<string, unknown>[];
  return raw.map((e) => {
    const out: DumpEntry = { key: hexBytes(e.key) };
    // empty devmap/cpumap slots come back as { error: ... }: no value
    if (Array.isArray(e.value)) out.value = hexBytes(e.value);
    if (Array.isArray(e.values)) {
      out.values = (e.values as { cpu: number; value: unknown }[]).map((v) => ({ cpu: v.cpu, value: hexBytes(v.value) }));
    }
    if (e.formatted !== undefined) out.formatted = e.formatted as DumpEntry['formatted'];
    return out;
  });
}

export interface LoadedObject {
  spec: ObjectSpec;
  maps: Map<string, BackendMap>;
  progs: Map<string, BackendProgram>;
  close(): void;
}

/** Parse an object file and load it through a kernel LoadSession (maps, then programs). */
export function loadObjectFile(path: string, opts: LoadSessionOptions & { programs?: string[]; logLevel?: number } = {}): LoadedObject {
  const spec = parseObject(readFileSync(path), path);
  return loadSpec(spec, opts);
}

export function loadSpec(spec: ObjectSpec, opts: LoadSessionOptions & { programs?: string[]; logLevel?: number } = {}): LoadedObject {
  const backend = createKernelBackend();
  const session = backend.openSession(spec, opts);
  const maps = new Map<string, BackendMap>();
  const progs = new Map<string, BackendProgram>();
  const close = () => {
    for (const p of progs.values()) p.close();
    for (const m of maps.values()) m.close();
    progs.clear();
    maps.clear();
  };
  try {
    for (const m of spec.maps) maps.set(m.name, session.createMap(m));
    for (const p of spec.programs) {
      if (opts.programs && !opts.programs.includes(p.name)) continue;
      const loadOpts = opts.logLevel !== undefined ? { maps, logLevel: opts.logLevel } : { maps };
      progs.set(p.name, session.loadProgram(p, loadOpts));
    }
  } catch (e) {
    close();
    throw e;
  } finally {
    session.close();
  }
  return { spec, maps, progs, close };
}

/** A plain map spec for tests. */
export function mapSpec(over: Partial<MapSpec> & Pick<MapSpec, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries'>): MapSpec {
  return {
    flags: 0,
    pinning: 'none',
    section: '.maps',
    keyTypeId: 0,
    valueTypeId: 0,
    contents: [],
    freeze: false,
    globalData: false,
    ...over,
  };
}

/** A hand-made program spec from raw instruction bytes. */
export function progSpec(name: string, type: ProgramSpec['type'], insns: Uint8Array, over: Partial<ProgramSpec> = {}): ProgramSpec {
  return {
    name,
    section: type,
    type,
    flags: 0,
    sleepable: false,
    instructions: insns,
    subprograms: [],
    functionStarts: [{ name, insn: 0 }],
    mapReferences: [],
    externReferences: [],
    license: 'GPL',
    kernelVersion: 0,
    funcInfo: [],
    lineInfo: [],
    coreRelocs: [],
    ...over,
  };
}

/** Encode one instruction. */
export function insn(code: number, dst: number, src: number, off: number, imm: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint8(0, code);
  v.setUint8(1, (src << 4) | dst);
  v.setInt16(2, off, true);
  v.setInt32(4, imm, true);
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `r0 = imm; exit` */
export function retImm(imm: number): Uint8Array {
  return concat(insn(0xb7, 0, 0, 0, imm), insn(0x95, 0, 0, 0, 0));
}

export const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n >>> 0]).buffer);
export const u64 = (n: bigint | number): Uint8Array => new Uint8Array(new BigUint64Array([BigInt(n)]).buffer);
export const readU32 = (b: Uint8Array, off = 0): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
export const readU64 = (b: Uint8Array, off = 0): bigint => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
