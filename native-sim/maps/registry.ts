/**
 * Process-wide emulator object registry: unique ids for maps, programs and links, and the pin
 * namespace (the emulator's bpffs). Pinned objects stay reachable from any emulator backend in the
 * process until unpinned.
 */
import { ArgumentError, BpfError } from '../../lib/errors.js';

let nextMapId = 1;
let nextProgId = 1;
let nextLinkId = 1;

export function allocMapId(): number {
  return nextMapId++;
}
export function allocProgId(): number {
  return nextProgId++;
}
export function allocLinkId(): number {
  return nextLinkId++;
}

export type PinKind = 'map' | 'program' | 'link';

interface PinEntry {
  kind: PinKind;
  object: unknown;
}

const pins = new Map<string, PinEntry>();

function normalize(path: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new ArgumentError('pin: path must be a non-empty string');
  return path.replace(/\/+/g, '/').replace(/\/$/, '');
}

/** Pin `object` at `path`; fails like bpffs when the path is taken. */
export function pinObject(path: string, kind: PinKind, object: unknown): void {
  const p = normalize(path);
  if (pins.has(p)) {
    throw new BpfError('EEXIST', `pin ${kind} at ${p}: file exists (unpin the existing object first)`);
  }
  pins.set(p, { kind, object });
}

/** Remove a pin; returns whether something was pinned there. */
export function unpin(path: string): boolean {
  return pins.delete(normalize(path));
}

/** Remove every pin that refers to `object`. */
export function unpinObject(object: unknown): void {
  for (const [p, e] of pins) if (e.object === object) pins.delete(p);
}

export function isPinned(object: unknown): boolean {
  for (const e of pins.values()) if (e.object === object) return true;
  return false;
}

/** Look up a pinned object of `kind`; typed error when missing or of another kind. */
export function getPinned<T>(path: string, kind: PinKind): T {
  const p = normalize(path);
  const e = pins.get(p);
  if (!e) throw new BpfError('ENOENT', `open pinned ${kind} ${p}: no such file or directory (nothing is pinned there on the emulator)`);
  if (e.kind !== kind) throw new BpfError('EINVAL', `open pinned ${kind} ${p}: the object pinned there is a ${e.kind}`);
  return e.object as T;
}

/** Paths pinned under `prefix` (for tests and `bpfkit` listings). */
export function pinnedPaths(prefix = '/'): string[] {
  return [...pins.keys()].filter((k) => k.startsWith(prefix)).sort();
}

/** Live emulator objects by id, so that map slots holding ids (prog_array, map-in-map, xskmap) resolve. */
/** Live maps indexed by id: the `lo` of a MAP_TAG handle is the map id. */
export const MAP_TABLE: unknown[] = [undefined];
const livePrograms = new Map<number, unknown>();

export function registerMap(id: number, map: unknown): void {
  MAP_TABLE[id] = map;
}
export function unregisterMap(id: number): void {
  if (id < MAP_TABLE.length) MAP_TABLE[id] = undefined;
}
export function mapById<T>(id: number): T | undefined {
  return MAP_TABLE[id] as T | undefined;
}
export function registerProgram(id: number, prog: unknown): void {
  livePrograms.set(id, prog);
}
export function unregisterProgram(id: number): void {
  livePrograms.delete(id);
}
export function programById<T>(id: number): T | undefined {
  return livePrograms.get(id) as T | undefined;
}
