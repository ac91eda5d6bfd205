// The hash maps' program-side index (open addressing by key hash, keys over 2 bytes) against the
// user-space view of the same map, under random inserts, replacements, deletes and LRU evictions.
import { describe, expect, it } from 'vitest';
import type { MapSpec, MapType } from '../../lib/spec/index.js';
import { HashMap, createSimMap } from '../../native-sim/maps/index.js';
import { prng } from '../elf/util.js';

function mapSpec(type: MapType, keySize: number, valueSize: number, maxEntries: number): MapSpec {
  return {
    name: `m_${type}`, type, keySize, valueSize, maxEntries, flags: 0, pinning: 'none', section: '.maps',
    keyTypeId: 0, valueTypeId: 0, contents: [], freeze: false, globalData: false,
  };
}

/** test/elf/util.ts's xorshift32 as u32 values (its fractions times 2^32 are exact). */
function rng(seed: number): () => number {
  const next = prng(seed);
  return () => next() * 4294967296;
}

describe('hash map program-side index', () => {
  for (const type of ['hash', 'lru_hash', 'percpu_hash'] as const) {
    for (const [keySize, maxEntries] of [[3, 300], [4, 300], [6, 300], [8, 300], [20, 300], [40, 300], [20, 6], [4, 5]] as const) {
      it(`${type}, ${keySize}-byte keys, ${maxEntries} entries: program lookups agree with user-space lookups`, () => {
        const r = rng(keySize * 7919 + maxEntries + type.length);
        const m = createSimMap(mapSpec(type, keySize, 8, maxEntries), { nCpus: 2 }) as HashMap;
        // a small key universe (many collisions of probe runs, deletes inside runs), keys that
        // differ in one byte only, and the same words in swapped positions
        const universe: Uint8Array[] = [];
        for (let i = 0; i < Math.min(500, maxEntries * 3); i++) {
          const k = new Uint8Array(keySize);
          if (i % 3 === 0) k[(i >> 2) % keySize] = i & 0xff;
          else for (let j = 0; j < keySize; j++) k[j] = r() & 0xff;
          universe.push(k);
        }
        const val = new Uint8Array(type === 'percpu_hash' ? 16 : 8);
        const buf = new Uint8Array(keySize + 5);
        for (let step = 0; step < 6000; step++) {
          const k = universe[r() % universe.length]!;
          const op = r() % 10;
          if (op < 5) {
            val[0] = step & 0xff;
            try {
              m.update(k, val, 0);
            } catch {
              // full (plain hash): fine
            }
          } else if (op < 8) {
            try {
              m.delete(k);
            } catch {
              // absent: fine
            }
          }
          // the key at an odd offset inside a larger buffer, as keys on a program's stack are
          buf.set(k, 5);
          const want = m.lookup(k) !== undefined;
          const got = m.progLookup(buf, 5, 0) !== null;
          expect(got, `step ${step}`).toBe(want);
          if (step % 500 === 0) {
            for (const u of universe) {
              buf.set(u, 5);
              expect(m.progLookup(buf, 5, 1) !== null).toBe(m.lookup(u) !== undefined);
            }
          }
        }
      });
    }
  }
});
