/**
 * Map details the bpftool/readelf comparison in objects.test.ts does not cover: BTF map flags,
 * pinning, NUMA node, map_extra, inner-map templates, `values = { ... }` slots of prog arrays
 * and map-in-map, global-data map flags and contents, legacy maps. Expected values come from the
 * fixture sources (test/elf/fixtures/maps_all.bpf.c, basic.bpf.c).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseObject } from '../../lib/elf/index.js';
import { MapFlag, type MapSpec } from '../../lib/spec/index.js';
import { fixture, readelfSections } from './util.js';

async function maps(name: string): Promise<Map<string, MapSpec>> {
  const path = await fixture(name);
  const spec = parseObject(new Uint8Array(readFileSync(path)), path);
  return new Map(spec.maps.map((m) => [m.name, m]));
}

describe('BTF-defined map attributes', () => {
  it('flags, pinning, numa_node, map_extra, key/value types', async () => {
    const m = await maps('maps_all');
    expect(m.get('pinned_hash')).toMatchObject({ type: 'hash', keySize: 4, valueSize: 16, maxEntries: 1024, flags: MapFlag.NoPrealloc, pinning: 'by_name' });
    expect(m.get('pinned_hash')!.keyTypeId).toBeGreaterThan(0);
    expect(m.get('pinned_hash')!.valueTypeId).toBeGreaterThan(0);
    expect(m.get('sized_lru')).toMatchObject({ type: 'lru_percpu_hash', keySize: 8, valueSize: 16, maxEntries: 64, numaNode: 0, keyTypeId: 0, valueTypeId: 0 });
    expect(m.get('lpm')).toMatchObject({ type: 'lpm_trie', keySize: 8, valueSize: 4, flags: MapFlag.NoPrealloc });
    expect(m.get('bloom')).toMatchObject({ type: 'bloom_filter', keySize: 0, valueSize: 4, maxEntries: 100, mapExtra: 3n });
    expect(m.get('perf')).toMatchObject({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 0 });
    expect(m.get('devs')).toMatchObject({ type: 'devmap', keySize: 4, valueSize: 4, maxEntries: 8 });
    for (const x of m.values()) expect(x).toMatchObject({ section: '.maps', globalData: false, freeze: false });
  });

  it('map-in-map: inner template and initial slots', async () => {
    const m = await maps('maps_all');
    const outer = m.get('outer')!;
    expect(outer).toMatchObject({ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(outer.innerMap).toMatchObject({ name: 'outer.inner', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(outer.contents).toEqual([{ key: 0, value: 'inner_a' }, { key: 3, value: 'inner_b' }]);
  });

  it('prog_array: initial slots name programs', async () => {
    const m = await maps('maps_all');
    const jumps = m.get('jumps')!;
    expect(jumps).toMatchObject({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 8 });
    expect(jumps.innerMap).toBeUndefined();
    expect(jumps.contents).toEqual([{ key: 1, value: 'tail_a' }, { key: 5, value: 'tail_b' }]);
  });
});

describe('global data maps', () => {
  it('.data/.rodata/.bss: 1-entry arrays named by section, .rodata frozen and read-only for programs', async () => {
    const path = await fixture('basic');
    const spec = parseObject(new Uint8Array(readFileSync(path)), path);
    const secs = readelfSections(path);
    const byName = new Map(spec.maps.map((x) => [x.name, x]));
    for (const name of ['.data', '.rodata', '.bss']) {
      const mm = byName.get(name)!;
      const sec = secs.find((s) => s.name === name)!;
      expect(mm).toMatchObject({ type: 'array', keySize: 4, valueSize: sec.size, maxEntries: 1, globalData: true, section: name, freeze: name === '.rodata' });
      expect(mm.flags & MapFlag.Mmapable).toBe(MapFlag.Mmapable);
      expect((mm.flags & MapFlag.RdonlyProg) !== 0).toBe(name === '.rodata');
      expect(spec.btf!.types[mm.valueTypeId]!.name).toBe(name);
    }
    // int global_counter = 1; const volatile int cfg = 7;
    expect([...byName.get('.data')!.initialData!]).toEqual([1, 0, 0, 0]);
    expect([...byName.get('.rodata')!.initialData!]).toEqual([7, 0, 0, 0]);
    expect(byName.get('.bss')!.initialData).toBeUndefined();
    // global_counter++ and cfg loads are MAP_VALUE references into these maps.
    const refs = spec.programs.flatMap((p) => p.mapReferences.map((r) => r.map));
    expect(refs).toEqual(expect.arrayContaining(['counts', '.data', '.bss', '.rodata']));
  });
});
