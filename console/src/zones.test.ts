import { describe, expect, it } from 'vitest';
import { fromLocalInput, midnights, offsetAt, toLocalInput } from './zones';

const ms = (iso: string) => Date.parse(iso);

describe('wall clocks in a time zone', () => {
  const cases: [string, string, string, string | null][] = [
    ['UTC', 'UTC', '2026-12-06T14:05', '2026-12-06T14:05:00.000Z'],
    ['Amsterdam in winter', 'Europe/Amsterdam', '2026-12-06T14:05', '2026-12-06T13:05:00.000Z'],
    ['Amsterdam in summer', 'Europe/Amsterdam', '2026-07-01T09:00', '2026-07-01T07:00:00.000Z'],
    ['spring-forward gap: read with the offset before', 'Europe/Amsterdam', '2026-03-29T02:30', '2026-03-29T01:30:00.000Z'],
    ['fall-back overlap: the earlier instant', 'Europe/Amsterdam', '2026-10-25T02:30', '2026-10-25T00:30:00.000Z'],
    ['half-hour zone', 'Asia/Kolkata', '2026-12-06T09:00', '2026-12-06T03:30:00.000Z'],
    ['not a time', 'UTC', '2026-12-06 14:05', null],
  ];
  it.each(cases)('%s', (_name, zone, local, iso) => {
    const got = fromLocalInput(local, zone);
    expect(got === null ? null : new Date(got).toISOString()).toBe(iso);
  });

  it('round-trips outside gaps and knows the offset', () => {
    expect(toLocalInput(ms('2026-12-06T13:05:00Z'), 'Europe/Amsterdam')).toBe('2026-12-06T14:05');
    expect(offsetAt(ms('2026-07-01T00:00:00Z'), 'America/New_York')).toBe(-4 * 3600_000);
  });

  it('finds local midnights, 23 and 25 hours apart across DST', () => {
    const m = midnights(ms('2026-03-27T12:00:00Z'), ms('2026-03-31T00:00:00Z'), 'Europe/Amsterdam');
    expect(m.map((t) => new Date(t).toISOString())).toEqual([
      '2026-03-27T23:00:00.000Z',
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
      '2026-03-30T22:00:00.000Z',
    ]);
  });
});
