/**
 * bpfkit's public entry: load clang-built eBPF objects and use their maps, programs and links on
 * the Linux kernel (bpf(2)) or on the emulator, with one API.
 *
 *   import { load } from 'bpfkit';
 *   await using obj = await load('prog.bpf.o');            // backend: 'auto'
 *   obj.maps.port_policy.update(443, { action: 1, flags: 0 });
 *   const link = obj.programs.port_filter.attachXdp('eth0');
 *
 * Importing this module registers both backends lazily: nothing backend-specific is loaded until
 * a `load()`/`openPinned()` asks for it, and a backend that is missing or fails to load only
 * matters when it is selected (`auto` then falls back to the emulator and says why).
 */
import type { Backend } from './backend.js';
import { registerBackend, type BackendFactory, type BackendProbe } from './object/registry.js';

export * from './object/index.js';
export * from './errors.js';
export { openXskSocket, type XskSocket, type XskSocketOptions, type XskTarget } from './xsk.js';
export type { TypedMap } from './gen/typed.js';
export type * from './spec/index.js';
export { PROG_TYPES, MAP_TYPES, ATTACH_TYPES } from './spec/index.js';
export type {
  Backend, BackendKind, BackendMap, BackendProgram, BackendLink, BackendEventReader, LoadSession, MapInfo,
  LinkInfo, RunOptions, RunResult, AttachRequest, XdpMode,
} from './backend.js';

export type { HelperSupport } from './kernel/features.js';

/**
 * Whether the running kernel lets programs of `progType` call `helper` (a name such as
 * `bpf_xdp_adjust_meta`, or an id), like libbpf's `libbpf_probe_bpf_helper`. Loads a tiny probe
 * program through the kernel backend, so it needs Linux and the rights to load programs.
 */
export async function probeHelper(progType: import('./spec/index.js').ProgType, helper: number | string): Promise<import('./kernel/features.js').HelperSupport> {
  const features = await import('./kernel/features.js');
  return features.probeHelper(progType, helper);
}

type AnyModule = Record<string, unknown>;

function pick<T>(mod: AnyModule, names: string[]): T | undefined {
  for (const n of names) if (typeof mod[n] === 'function') return mod[n] as T;
  return undefined;
}

/** Build a factory from a backend module's exports (`create*Backend(reason)`, `probe*()`). */
function factoryFrom(mod: AnyModule, kind: 'kernel' | 'emulator'): BackendFactory {
  const cap = kind === 'kernel' ? 'Kernel' : 'Emulator';
  const create = pick<(reason: string) => Backend>(mod, [`create${cap}Backend`, 'createBackend']);
  if (!create) throw new Error(`the ${kind} backend module exports no create${cap}Backend()`);
  const probe = pick<() => BackendProbe>(mod, [`probe${cap}`, 'probe']);
  return { create, probe: probe ?? (() => ({ ok: true, reason: `${kind} backend available` })) };
}

registerBackend('kernel', async () => factoryFrom((await import('./kernel/index.js')) as unknown as AnyModule, 'kernel'));
registerBackend('emulator', async () => factoryFrom((await import('../native-sim/index.js')) as unknown as AnyModule, 'emulator'));
