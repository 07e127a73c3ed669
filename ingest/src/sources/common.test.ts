import { describe, expect, it } from 'vitest';
import { fingerprintOfLabels, isoOrNull } from './common.js';

describe('fingerprintOfLabels', () => {
  const labels = { alertname: 'DiskFull', host: 'db1', severity: 'page' };

  it('is 16 lower-case hex digits', () => {
    expect(fingerprintOfLabels(labels)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('does not depend on the order of keys', () => {
    expect(fingerprintOfLabels({ severity: 'page', host: 'db1', alertname: 'DiskFull' })).toBe(fingerprintOfLabels(labels));
  });

  it.each<[string, Record<string, string>]>([
    ['another value', { ...labels, host: 'db2' }],
    ['an extra label', { ...labels, dc: 'eu' }],
    ['a missing label', { alertname: 'DiskFull', host: 'db1' }],
    ['a renamed key', { alertname: 'DiskFull', node: 'db1', severity: 'page' }],
    ['no labels', {}],
  ])('differs for %s', (_, other) => {
    expect(fingerprintOfLabels(other)).not.toBe(fingerprintOfLabels(labels));
  });

  it('cannot be made to collide by separator characters inside values', () => {
    expect(fingerprintOfLabels({ a: 'x\u0001b\u0000y' })).not.toBe(fingerprintOfLabels({ a: 'x', b: 'y' }));
    expect(fingerprintOfLabels({ a: 'x","b' })).not.toBe(fingerprintOfLabels({ a: 'x', b: '' }));
  });
});

describe('isoOrNull', () => {
  it.each<[string | undefined, string | null]>([
    [undefined, null],
    ['', null],
    ['0001-01-01T00:00:00Z', null],
    ['2026-11-23T11:38:15Z', '2026-11-23T11:38:15.000Z'],
    ['2026-11-23T13:38:15+02:00', '2026-11-23T11:38:15.000Z'],
    ['2026-12-31T23:59:60Z', '2027-01-01T00:00:00.000Z'],
    ['2026-11-23t10:00:60.5+0100', '2026-11-23T09:01:00.500Z'],
  ])('%j → %j', (input, expected) => {
    expect(isoOrNull(input)).toBe(expected);
  });
});
