import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileExample, exampleSources, objectPathFor } from './build.js';

describe('committed example objects', () => {
  const sources = exampleSources();
  it('has at least the port filter and the load balancer', () => {
    const names = sources.map((s) => s.split('/').slice(-2).join('/'));
    expect(names).toContain('port-filter/port_filter.bpf.c');
    expect(names).toContain('load-balancer/lb.bpf.c');
  });
  for (const src of sources) {
    it(`${src.split('/').slice(-2).join('/')} matches a fresh compile`, () => {
      const obj = objectPathFor(src);
      expect(existsSync(obj), `${obj} is committed (run npx tsx examples/build.ts)`).toBe(true);
      expect(Buffer.compare(Buffer.from(readFileSync(obj)), Buffer.from(compileExample(src)))).toBe(0);
    });
  }
});
