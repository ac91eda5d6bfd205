import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../lib/errors.js';
import { validateConfig } from './config.js';

const base = { gatewayMac: '02:00:00:00:00:fe', vips: [{ address: '10.0.0.10', port: 80, protocol: 'tcp', backends: ['10.1.0.1', { address: '10.1.0.2', weight: 3 }] }] };

describe('lb config', () => {
  it('fills defaults', () => {
    const c = validateConfig(base);
    expect(c.ringSize).toBe(65537);
    expect(c.vips[0]!.backends).toEqual([{ address: '10.1.0.1', weight: 1 }, { address: '10.1.0.2', weight: 3 }]);
    expect(c.vips[0]!.flags).toEqual([]);
  });

  const bad: [string, unknown, RegExp][] = [
    ['non-prime ring', { ...base, ringSize: 1000 }, /ringSize: 1000 is not prime/],
    ['bad mac', { ...base, gatewayMac: 'zz' }, /gatewayMac: mac "zz"/],
    ['bad vip address', { ...base, vips: [{ address: '10.0.0', backends: [] }] }, /vips\[0\]\.address: address "10\.0\.0"/],
    ['bad port', { ...base, vips: [{ address: '10.0.0.1', port: 70000 }] }, /vips\[0\]\.port: expected an integer in 0\.\.65535/],
    ['bad flag', { ...base, vips: [{ address: '10.0.0.1', flags: ['sticky'] }] }, /vips\[0\]\.flags\[0\]: unknown flag "sticky"/],
    ['v6 vip to v4 backend', { ...base, vips: [{ address: 'fc00::1', backends: ['10.0.0.2'] }] }, /vips\[0\]\.backends\[0\]\.address: an IPv6 VIP cannot/],
    ['duplicate vip', { ...base, vips: [{ address: '10.0.0.1', port: 1 }, { address: '10.0.0.1', port: 1 }] }, /vips\[1\]: duplicate VIP tcp\/10\.0\.0\.1:1/],
    ['unknown field', { ...base, extra: 1 }, /extra: unknown field/],
    ['negative weight', { ...base, vips: [{ address: '10.0.0.1', backends: [{ address: '10.0.0.2', weight: -1 }] }] }, /weight: expected an integer/],
  ];
  for (const [name, doc, re] of bad) {
    it(`rejects ${name} naming the field`, () => {
      let err: unknown;
      try {
        validateConfig(doc, 'lb.yaml');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as Error).message).toMatch(/^lb\.yaml: /);
      expect((err as Error).message).toMatch(re);
    });
  }
});
