import { describe, expect, it } from 'vitest';
import { atOrAfter, formatCursor, laterOf, parseCursor } from './cursor.js';

describe('board cursor', () => {
  it.each([
    ['12.7', { alerts: 12, escalations: 7 }],
    ['0.0', { alerts: 0, escalations: 0 }],
    [' 3.4 ', { alerts: 3, escalations: 4 }],
    ['12', null],
    ['12.', null],
    ['a.b', null],
    ['-1.2', null],
    ['1.2.3', null],
    ['1e3.2', null],
    ['1234567890123456.1', null],
    ['', null],
  ])('parses %j', (text, cursor) => {
    expect(parseCursor(text)).toStrictEqual(cursor);
  });

  it('round-trips', () => {
    expect(parseCursor(formatCursor({ alerts: 981, escalations: 33 }))).toStrictEqual({ alerts: 981, escalations: 33 });
    expect(parseCursor(undefined)).toBeNull();
  });

  it.each([
    [{ alerts: 2, escalations: 2 }, { alerts: 1, escalations: 2 }, true],
    [{ alerts: 2, escalations: 2 }, { alerts: 2, escalations: 2 }, true],
    [{ alerts: 3, escalations: 1 }, { alerts: 2, escalations: 2 }, false],
    [{ alerts: 1, escalations: 3 }, { alerts: 2, escalations: 2 }, false],
  ])('%j at or after %j: %s', (a, b, expected) => {
    expect(atOrAfter(a, b)).toBe(expected);
  });

  it('takes the later of each sequence', () => {
    expect(laterOf({ alerts: 3, escalations: 1 }, { alerts: 2, escalations: 5 })).toStrictEqual({ alerts: 3, escalations: 5 });
  });
});
