import { describe, expect, it } from 'vitest';
import type { EventData } from '@oncall/contracts';
import { onCallAt } from '@oncall/shared';
import { handoffsOf, scheduleTimeline } from './oncall-view.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FROM = Date.parse('2026-03-27T00:00:00Z'); // across the Europe/Berlin DST change of 29 March

const schedule: EventData<'ScheduleConfigured'> = {
  scheduleId: 'noc',
  name: 'NOC',
  timeZone: 'Europe/Berlin',
  rotations: [
    {
      id: 'primary',
      name: 'Primary',
      type: 'daily',
      shiftLength: 1,
      start: '2026-01-05T09:00:00+01:00',
      members: ['alice', 'bob'],
      restrictions: [],
    },
    {
      id: 'office',
      name: 'Office',
      type: 'weekly',
      shiftLength: 1,
      start: '2026-01-05T09:00:00+01:00',
      members: ['carol'],
      restrictions: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
    },
  ],
  overrides: [
    { kind: 'add', userId: 'dave', replaces: null, start: '2026-03-28T10:00:00Z', end: '2026-03-28T12:00:00Z' },
    { kind: 'replace', userId: 'erin', replaces: 'alice', start: '2026-03-20T00:00:00Z', end: '2026-03-27T06:00:00Z' },
  ],
  temporary: [],
};
const names = (id: string) => id.toUpperCase();

describe('the on-call view of a schedule', () => {
  const w = { from: FROM, to: FROM + 5 * DAY, at: FROM + 34 * HOUR };
  const view = scheduleTimeline(schedule, w, names);

  it('says who is on call at `at` exactly as onCallAt (GetOnCallUsers) does', () => {
    expect(view.onCallNow).toStrictEqual(onCallAt(schedule, w.at).map((u) => u.userId));
    expect(view.onCallNow).toContain('dave');
  });

  it('has a final picture that agrees with onCallAt at every hour of the window', () => {
    for (let t = w.from; t < w.to; t += HOUR / 2) {
      const covering = view.final.filter((s) => Date.parse(s.start) <= t && t < Date.parse(s.end)).map((s) => s.userId);
      expect([new Date(t).toISOString(), covering.sort()]).toStrictEqual([
        new Date(t).toISOString(),
        onCallAt(schedule, t)
          .map((u) => u.userId)
          .sort(),
      ]);
    }
  });

  it('shows each layer alone, with names', () => {
    expect(view.layers.map((l) => l.id)).toStrictEqual(['primary', 'office']);
    const primary = view.layers[0]!.segments;
    expect(new Set(primary.map((s) => s.userId))).toStrictEqual(new Set(['alice', 'bob']));
    expect(primary.every((s) => s.userName === s.userId.toUpperCase())).toBe(true);
    // Daily handoffs at 09:00 Berlin: 08:00Z before the change, 07:00Z after it.
    expect(primary.map((s) => s.start)).toContain('2026-03-27T08:00:00.000Z');
    expect(primary.map((s) => s.start)).toContain('2026-03-30T07:00:00.000Z');
    const office = view.layers[1]!.segments;
    expect(office.every((s) => s.userId === 'carol')).toBe(true);
    expect(office.map((s) => s.start)).not.toContain('2026-03-28T08:00:00.000Z'); // Saturday
  });

  it('clips overrides to the window and says what they do', () => {
    expect(view.overrides).toStrictEqual([
      { start: '2026-03-28T10:00:00.000Z', end: '2026-03-28T12:00:00.000Z', userId: 'dave', userName: 'DAVE', kind: 'add', replaces: null },
      {
        start: '2026-03-27T00:00:00.000Z',
        end: '2026-03-27T06:00:00.000Z',
        userId: 'erin',
        userName: 'ERIN',
        kind: 'replace',
        replaces: 'alice',
      },
    ]);
  });

  it('lists the handoffs inside the window, in order', () => {
    expect(view.handoffs.length).toBeGreaterThan(5);
    expect([...view.handoffs].sort()).toStrictEqual(view.handoffs);
    expect(view.handoffs).toContain('2026-03-28T10:00:00.000Z');
    expect(view.handoffs.every((h) => Date.parse(h) > w.from && Date.parse(h) < w.to)).toBe(true);
  });

  it('reports a schedule the calculation cannot use instead of failing the view', () => {
    const broken = scheduleTimeline({ ...schedule, timeZone: 'Mars/Olympus' }, w, names);
    expect(broken.problem).toMatch(/Mars\/Olympus/);
    expect(broken.final).toStrictEqual([]);
  });

  it.each([
    [[{ start: 0, end: 10 }], []],
    [
      [
        { start: 0, end: 4 },
        { start: 4, end: 10 },
      ],
      ['1970-01-01T00:00:00.004Z'],
    ],
    [
      [
        { start: 2, end: 6 },
        { start: 0, end: 10 },
      ],
      ['1970-01-01T00:00:00.002Z', '1970-01-01T00:00:00.006Z'],
    ],
  ])('handoffs of %j', (spans, expected) => {
    expect(handoffsOf(spans, { from: 0, to: 10 })).toStrictEqual(expected);
  });
});
