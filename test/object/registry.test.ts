// Backend selection: 'auto' prefers the kernel when its probe says it works, falls back to the
// emulator with the reason recorded; BPFKIT_BACKEND forces one; unavailable backends give
// NotSupportedError naming why.
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../lib/backend.js';
import { ArgumentError, NotSupportedError } from '../../lib/errors.js';
import { registerBackend, resetBackends, resolveBackend } from '../../lib/object/index.js';
import { FakeBackend } from './fake-backend.js';

class KindedFake extends FakeBackend {
  constructor(k: 'kernel' | 'emulator', reason: string) {
    super(reason);
    (this as { kind: string }).kind = k;
  }
}

function factory(kind: 'kernel' | 'emulator', ok: boolean, why = ok ? 'works' : 'no addon') {
  let created = 0;
  return {
    f: { probe: () => ({ ok, reason: why }), create: (reason: string): Backend => (created++, new KindedFake(kind, reason)) },
    created: () => created,
  };
}

const savedEnv = process.env.BPFKIT_BACKEND;
afterEach(() => {
  if (savedEnv === undefined) delete process.env.BPFKIT_BACKEND;
  else process.env.BPFKIT_BACKEND = savedEnv;
  resetBackends();
});

describe('resolveBackend', () => {
  it("'auto' picks the kernel when it works and says why", async () => {
    delete process.env.BPFKIT_BACKEND;
    registerBackend('kernel', factory('kernel', true, 'addon loaded, bpf(2) works').f);
    registerBackend('emulator', factory('emulator', true).f);
    const b = await resolveBackend('auto');
    expect(b.kind).toBe('kernel');
    expect(b.reason).toBe('auto: addon loaded, bpf(2) works');
    expect(await resolveBackend()).toBe(b);
  });

  it("'auto' falls back to the emulator with the kernel's reason", async () => {
    delete process.env.BPFKIT_BACKEND;
    registerBackend('kernel', factory('kernel', false, 'cannot load bpf_sys.node (tried: a, b)').f);
    registerBackend('emulator', factory('emulator', true).f);
    const b = await resolveBackend('auto');
    expect(b.kind).toBe('emulator');
    expect(b.reason).toBe('auto: kernel backend unavailable (cannot load bpf_sys.node (tried: a, b))');
  });

  it("'auto' falls back when the kernel module itself fails to import", async () => {
    delete process.env.BPFKIT_BACKEND;
    registerBackend('kernel', async () => {
      throw new Error('Cannot find module lib/kernel/index.js');
    });
    registerBackend('emulator', async () => factory('emulator', true).f);
    const b = await resolveBackend('auto');
    expect(b.kind).toBe('emulator');
    expect(b.reason).toMatch(/Cannot find module/);
  });

  it('an explicit kind that cannot work is a NotSupportedError naming the cause', async () => {
    registerBackend('kernel', factory('kernel', false, 'not Linux').f);
    await expect(resolveBackend('kernel')).rejects.toThrow(NotSupportedError);
    await expect(resolveBackend('kernel')).rejects.toThrow(/the kernel backend cannot work here: not Linux/);
    registerBackend('emulator', async () => {
      throw new Error('native-sim failed to import');
    });
    await expect(resolveBackend('emulator')).rejects.toThrow(/the emulator backend is unavailable: native-sim failed to import/);
  });

  it('BPFKIT_BACKEND overrides auto but not an explicit choice, and is validated', async () => {
    registerBackend('kernel', factory('kernel', true).f);
    registerBackend('emulator', factory('emulator', true).f);
    process.env.BPFKIT_BACKEND = 'emulator';
    const b = await resolveBackend('auto');
    expect(b.kind).toBe('emulator');
    expect(b.reason).toBe('BPFKIT_BACKEND=emulator');
    expect((await resolveBackend('kernel')).kind).toBe('kernel');
    process.env.BPFKIT_BACKEND = 'gpu';
    resetBackends();
    await expect(resolveBackend()).rejects.toThrow(ArgumentError);
    await expect(resolveBackend()).rejects.toThrow(/BPFKIT_BACKEND="gpu" is not one of auto, kernel, emulator/);
  });

  it('one instance per kind; a Backend instance is used as is', async () => {
    const k = factory('kernel', true);
    registerBackend('kernel', k.f);
    const a = await resolveBackend('kernel');
    const b = await resolveBackend('kernel');
    expect(a).toBe(b);
    expect(k.created()).toBe(1);
    const mine = new FakeBackend();
    expect(await resolveBackend(mine)).toBe(mine);
    await expect(resolveBackend(42 as unknown as 'auto')).rejects.toThrow(ArgumentError);
  });
});

describe('lib/index.ts registration', () => {
  it('registers the real kernel backend; auto picks it here when bpf(2) works', async () => {
    delete process.env.BPFKIT_BACKEND;
    const idx = await import('../../lib/index.js');
    expect(idx.registeredBackends().sort()).toEqual(['emulator', 'kernel']);
    const { probeKernel } = await import('../../lib/kernel/index.js');
    const p = probeKernel();
    if (p.ok) {
      const b = await idx.resolveBackend('auto');
      expect(b.kind).toBe('kernel');
      expect(b.reason).toMatch(/^auto: /);
    } else {
      // not root / not Linux: the emulator is chosen and the kernel's reason is kept
      const b = await idx.resolveBackend('auto').catch((e: unknown) => e);
      expect(String((b as { reason?: string }).reason ?? b)).toContain(p.reason);
    }
  });
});
