import { describe, expect, it } from 'vitest';
import { decodeSlackTarget, encodeSlackTarget, snoozeSecondsOf } from './slack-actions.js';

const ID = '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e';

describe('Slack button values', () => {
  it('round-trips a target', () => {
    const t = { alertId: ID, serviceId: 'checkout', fingerprint: 'a"b\\c' };
    expect(decodeSlackTarget(encodeSlackTarget(t) ?? '')).toStrictEqual(t);
  });
  it('gives null past 2000 characters', () => {
    expect(encodeSlackTarget({ alertId: ID, serviceId: 's', fingerprint: 'x'.repeat(1990) })).toBeNull();
  });
  it.each([['not json'], [ID], ['{"a":"x","s":"s","f":"f"}'], ['{"a":"' + ID + '","s":"","f":"f"}'], ['[1]']])('rejects %s', (v) => {
    expect(decodeSlackTarget(v)).toBeNull();
  });
  it.each<[string, number | null]>([
    ['snooze:900', 900],
    ['snooze:86400', 86400],
    ['snooze:60', null],
    ['snooze:-1', null],
    ['900', null],
  ])('snooze option %s → %s', (v, s) => {
    expect(snoozeSecondsOf(v)).toBe(s);
  });
});
