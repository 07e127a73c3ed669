import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { timestampMs } from './pg-text.js';

/** What slonik's timestamptz parser makes of PostgreSQL's text. */
const slonik = (text: string): number => (text === 'infinity' ? Infinity : text === '-infinity' ? -Infinity : Date.parse(text));

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** An instant as PostgreSQL writes it (DateStyle ISO) at an offset: fraction without trailing zeros, offset minutes only when not whole hours. */
function pgText(ms: number, micros: number, offsetMinutes: number): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  const us = (ms % 1000) * 1000 + micros;
  const fraction = us === 0 ? '' : `.${pad(us, 6).replace(/0+$/, '')}`;
  const abs = Math.abs(offsetMinutes);
  const offset = `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}${abs % 60 ? `:${pad(abs % 60, 2)}` : ''}`;
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
  return `${date} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}${fraction}${offset}`;
}

describe('timestampMs', () => {
  it.each([
    '2026-10-01 00:00:02.5+00',
    '2026-10-01 00:00:02+00',
    '2026-10-01 00:00:02.123456+00',
    '2026-10-01 00:00:02.999999-03',
    '2026-10-01 05:30:02.1+05:30',
    '2026-10-01 00:00:02.5-09:30',
    '1970-01-01 00:00:00+00',
    '1970-01-01 00:00:00+01',
    '9999-12-31 23:59:59.999999+00',
    '1969-12-31 23:59:59.999+00',
    '0099-10-01 00:00:02+00',
    '2026-10-01 00:00:02+05:30:15',
    '2026-10-01 00:00:02.5+00 BC',
    '12026-10-01 00:00:02+00',
    '2026-10-01T00:00:02.5+00:00',
    'infinity',
    '-infinity',
    'not a time',
  ])('reads %s as Date.parse does', (text) => {
    expect(timestampMs(text)).toBe(slonik(text));
  });

  it('reads any instant from 1970 on, at any offset, as Date.parse does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 253402300799999 - 14 * 3_600_000 }),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (ms, micros, offset) => {
          const text = pgText(ms, micros, offset);
          expect(timestampMs(text)).toBe(slonik(text));
          expect(timestampMs(text)).toBe(ms);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
