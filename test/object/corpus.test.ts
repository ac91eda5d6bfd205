// Every map of every test program, loaded through the public API on each backend: a typed value
// written through the BTF codecs reads back equal, and the raw bytes the backend stored are what
// the codec encoded. Covers the codecs against every key/value type in the corpus.
import { describe, expect, it } from 'vitest';
import { BpfMap, decode, encode, load, openObject } from '../../lib/index.js';
import type { Codec } from '../../lib/index.js';
import { kernelLoadable } from '../helpers/kernel-features.js';
import { allProgs } from '../helpers/progs.js';

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;
const BACKENDS = (isRootLinux ? ['kernel', 'emulator'] : ['emulator']) as ('kernel' | 'emulator')[];

/** Map types whose values user space can write with arbitrary bytes. */
const WRITABLE = new Set(['hash', 'array', 'percpu_hash', 'percpu_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie']);

/** A non-zero sample value for a codec: decode a patterned buffer, re-encode it. */
function sample(c: Codec, seed: number): unknown {
  const bytes = new Uint8Array(c.size);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (seed * 31 + i * 7) & 0x7f;
  return decode(c, bytes);
}

describe.each(BACKENDS)('typed round trip of every corpus map on the %s backend', (backend) => {
  it('writes and reads back every writable map with its BTF codecs', async () => {
    let checked = 0;
    for (const p of await allProgs()) {
      if (p.name === 'pinned' || p.name === 'legacy_maps') continue; // pinning by name / no BTF: covered elsewhere
      const spec = openObject(p.path);
      // on the kernel: not the programs calling a helper it does not offer (features.test.ts)
      const programs = backend === 'kernel' ? await kernelLoadable(spec) : undefined;
      using obj = await load(spec, { backend, ...(programs ? { programs } : {}) });
      for (const [name, m] of Object.entries(obj.maps) as [string, BpfMap<unknown, unknown>][]) {
        if (!WRITABLE.has(m.type) || m.spec?.freeze) continue;
        let key = sample(m.keyCodec, 1);
        if (m.type === 'array' || m.type === 'percpu_array') key = 0;
        if (m.type === 'lpm_trie') key = { ...(key as object), prefixlen: 8 * (m.keySize - 4) };
        const one = sample(m.valueCodec, 2);
        const value = m.perCpu ? Array.from({ length: obj.backend.possibleCpus }, () => one) : one;
        m.update(key, value);
        expect(m.lookup(key), `${p.name}/${name}`).toEqual(value);
        // the raw bytes stored are the codec's encoding
        const raw = m.raw.lookup(encode(m.keyCodec, key, 'key'));
        const want = encode(m.valueCodec, one, 'value');
        if (m.perCpu) for (const r of raw as unknown as Uint8Array[]) expect(r, `${p.name}/${name}`).toEqual(want);
        else expect(raw, `${p.name}/${name}`).toEqual(want);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(25);
  });
});
