/**
 * Backend registry. `lib/object` never imports a backend: `lib/index.ts` registers a factory per
 * kind (`kernel` → lib/kernel, `emulator` → native-sim), and `load()` resolves the `backend`
 * option through here. A factory is loaded lazily and may be missing or fail to load; that only
 * matters when its backend is actually asked for.
 *
 * Selection (`resolveBackend`):
 * - a `Backend` instance is used as is;
 * - `'kernel'` / `'emulator'` create that backend (error if it cannot work here);
 * - `'auto'` (the default) uses the kernel when its factory says the addon loads and bpf(2)
 *   works, else the emulator; `backend.reason` records why;
 * - the `BPFKIT_BACKEND` environment variable (`kernel` | `emulator` | `auto`) overrides
 *   `'auto'` and the default (an explicit kind or instance passed in code wins).
 */
import type { Backend, BackendKind } from '../backend.js';
import { ArgumentError, BpfError, NotSupportedError } from '../errors.js';
import { describeValue } from './codec.js';

export interface BackendProbe {
  ok: boolean;
  reason: string;
}

export interface BackendFactory {
  /** Can this backend work here? Cheap, cached by the factory; never throws. */
  probe(): BackendProbe;
  /** Create the backend; `reason` ends up as `backend.reason`. */
  create(reason: string): Backend;
}

export type BackendOption = 'auto' | BackendKind | Backend;

type FactorySource = BackendFactory | (() => BackendFactory | Promise<BackendFactory>);

const sources = new Map<BackendKind, FactorySource>();
const resolved = new Map<BackendKind, Promise<BackendFactory | Error>>();
const instances = new Map<BackendKind, Backend>();

/** Register (or replace) the factory for `kind`. A function is called lazily, at most once. */
export function registerBackend(kind: BackendKind, factory: FactorySource): void {
  sources.set(kind, factory);
  resolved.delete(kind);
  instances.delete(kind);
}

/** Kinds with a registered factory. */
export function registeredBackends(): BackendKind[] {
  return [...sources.keys()];
}

async function factoryFor(kind: BackendKind): Promise<BackendFactory | Error> {
  let p = resolved.get(kind);
  if (!p) {
    const src = sources.get(kind);
    p = (async () => {
      if (!src) return new Error(`no ${kind} backend is registered (import bpfkit's main entry, lib/index.js)`);
      try {
        return typeof src === 'function' ? await src() : src;
      } catch (e) {
        return e instanceof Error ? e : new Error(String(e));
      }
    })();
    resolved.set(kind, p);
  }
  return p;
}

function isBackend(x: unknown): x is Backend {
  return typeof x === 'object' && x !== null && typeof (x as Backend).openSession === 'function' && typeof (x as Backend).kind === 'string';
}

async function create(kind: BackendKind, reason: string): Promise<Backend> {
  const cached = instances.get(kind);
  if (cached) return cached;
  const f = await factoryFor(kind);
  if (f instanceof Error) {
    throw new NotSupportedError(`${kind} backend`, `select backend: the ${kind} backend is unavailable: ${f.message}`, { cause: f });
  }
  const probe = safeProbe(f);
  if (!probe.ok) {
    throw new NotSupportedError(`${kind} backend`, `select backend: the ${kind} backend cannot work here: ${probe.reason}`, {
      hint: kind === 'kernel' ? "use backend: 'emulator' or 'auto'" : undefined,
    });
  }
  let b: Backend;
  try {
    b = f.create(reason);
  } catch (e) {
    if (e instanceof BpfError) throw e;
    throw new NotSupportedError(`${kind} backend`, `select backend: creating the ${kind} backend failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  instances.set(kind, b);
  return b;
}

function safeProbe(f: BackendFactory): BackendProbe {
  try {
    return f.probe();
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

function envChoice(): 'auto' | BackendKind | undefined {
  const v = process.env.BPFKIT_BACKEND?.trim();
  if (!v) return undefined;
  if (v === 'auto' || v === 'kernel' || v === 'emulator') return v;
  throw new ArgumentError(`select backend: BPFKIT_BACKEND=${JSON.stringify(v)} is not one of auto, kernel, emulator`);
}

/** Resolve a `backend` option to a live Backend (one shared instance per kind). */
export async function resolveBackend(option: BackendOption | undefined = 'auto'): Promise<Backend> {
  if (isBackend(option)) return option;
  if (option !== 'auto' && option !== 'kernel' && option !== 'emulator') {
    throw new ArgumentError(`select backend: ${describeValue(option)} is not 'auto', 'kernel', 'emulator' or a Backend`);
  }
  let choice: 'auto' | BackendKind = option;
  let via = '';
  if (option === 'auto') {
    const env = envChoice();
    if (env) {
      choice = env;
      via = `BPFKIT_BACKEND=${env}`;
    }
  }
  if (choice !== 'auto') return create(choice, via ? `${via}` : `requested ${choice}`);
  const kf = await factoryFor('kernel');
  let why: string;
  if (kf instanceof Error) why = kf.message;
  else {
    const p = safeProbe(kf);
    if (p.ok) return create('kernel', `auto: ${p.reason || 'addon loaded, bpf(2) works'}`);
    why = p.reason;
  }
  return create('emulator', `auto: kernel backend unavailable (${why})`);
}

/** Forget created backend instances (tests). Factories stay registered. */
export function resetBackends(): void {
  instances.clear();
  resolved.clear();
}
