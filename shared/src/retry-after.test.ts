import { describe, expect, it } from 'vitest';
import { retryAfterMs } from './retry-after.js';

const NOW = Date.parse('2026-12-06T10:00:00Z');

describe('Retry-After', () => {
  it.each([
    ['seconds', '30', 30_000],
    ['zero', '0', 0],
    ['a decimal fraction', '1.5', 1500],
    ['spaces around', ' 7 ', 7000],
    ['an HTTP date ahead', 'Sun, 06 Dec 2026 10:00:42 GMT', 42_000],
    ['an HTTP date passed', 'Sun, 06 Dec 2026 09:59:00 GMT', 0],
    ['absent', null, null],
    ['undefined', undefined, null],
    ['empty', '', null],
    ['negative', '-5', null],
    ['not a number or date', 'soon', null],
    ['a loose date Date.parse would take', '2026-12-06', null],
    ['an exponent', '1e3', null],
  ])('%s', (_name, header, expected) => {
    expect(retryAfterMs(header, NOW)).toBe(expected);
    expect(retryAfterMs(header, new Date(NOW))).toBe(expected);
  });
});
