import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { EventData, Override, Rotation, TemporarySchedule, TimeWindow } from '@oncall/contracts';
import {
  nextChangeAfter,
  onCallAt,
  rotationActiveAt,
  rotationMemberAt,
  ScheduleError,
  shifts,
  validateSchedule,
  type OnCallUser,
} from './oncall.js';

type Schedule = EventData<'ScheduleConfigured'>;

const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';
const SYDNEY = 'Australia/Sydney';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** An instant from a local wall time without offset (never used for ambiguous times: luxon would guess). */
const local = (zone: string, wall: string): number => {
  const dt = DateTime.fromISO(wall, { zone });
  if (!dt.isValid) throw new Error(`bad test time ${wall}`);
  return dt.toMillis();
};
/** ISO with offset, as a schedule stores it. */
const isoIn = (zone: string, ms: number): string => {
  const iso = DateTime.fromMillis(ms, { zone }).toISO();
  if (iso === null) throw new Error(`bad test instant ${ms}`);
  return iso;
};
const startAt = (zone: string, wall: string): string => isoIn(zone, local(zone, wall));
/** Local wall time of an instant, yyyy-MM-ddTHH:mm. */
const wallOf = (zone: string, ms: number): string => DateTime.fromMillis(ms, { zone }).toFormat("yyyy-MM-dd'T'HH:mm");
const utc = (iso: string): number => Date.parse(iso);

const rotation = (over: Partial<Rotation> = {}): Rotation => ({
  id: 'base',
  name: 'Base',
  type: 'daily',
  shiftLength: 1,
  start: '2026-01-05T09:00:00-05:00',
  members: ['ann', 'bob', 'cem'],
  restrictions: [],
  ...over,
});
const schedule = (over: Partial<Schedule> = {}): Schedule => ({
  scheduleId: 'sched',
  name: 'Sched',
  timeZone: NY,
  rotations: [rotation()],
  overrides: [],
  temporary: [],
  ...over,
});
const override = (kind: Override['kind'], userId: string, replaces: string | null, start: string, end: string): Override => ({
  kind,
  userId,
  replaces,
  start,
  end,
});
const users = (list: OnCallUser[]): string[] => list.map((u) => u.userId);

/** given a rotation, when asked at an instant, then the shift's local bounds. */
const shiftAt = (r: Rotation, zone: string, at: number) => {
  const shift = rotationMemberAt(r, zone, at);
  if (!shift) throw new Error('expected a shift');
  return {
    ...shift,
    from: wallOf(zone, shift.shiftStart),
    to: wallOf(zone, shift.shiftEnd),
    hours: (shift.shiftEnd - shift.shiftStart) / HOUR,
  };
};

describe('rotation handoffs across DST', () => {
  it.each<[string, string, number]>([
    [NY, '2026-03-08', 23],
    [NY, '2026-11-01', 25],
    [BERLIN, '2026-03-29', 23],
    [BERLIN, '2026-10-25', 25],
    [SYDNEY, '2026-04-05', 25],
    [SYDNEY, '2026-10-04', 23],
  ])('a daily 09:00 handoff in %s stays at 09:00 local for 10 days around %s', (zone, change, hoursOverChange) => {
    const changeDay = DateTime.fromISO(change, { zone });
    const r = rotation({ start: startAt(zone, changeDay.minus({ days: 20 }).toFormat("yyyy-MM-dd'T09:00'")) });
    for (let d = -5; d <= 5; d++) {
      const day = changeDay.plus({ days: d });
      const shift = shiftAt(r, zone, local(zone, day.toFormat("yyyy-MM-dd'T'12:00")));
      expect(shift.from).toBe(day.toFormat("yyyy-MM-dd'T09:00'"));
      expect(shift.to).toBe(day.plus({ days: 1 }).toFormat("yyyy-MM-dd'T09:00'"));
      expect(shift.hours).toBe(d === -1 ? hoursOverChange : 24);
      expect(shift.userId).toBe(r.members[(20 + d) % 3]);
    }
  });

  it.each<[string, string, string, number]>([
    ['across the March change', '2026-03-02T09:00', '2026-03-09T09:00', 167],
    ['across the November change', '2026-10-26T09:00', '2026-11-02T09:00', 169],
    ['in a week without a change', '2026-03-09T09:00', '2026-03-16T09:00', 168],
  ])('a weekly New York shift %s keeps Monday 09:00', (_, from, to, hours) => {
    const r = rotation({ type: 'weekly', start: startAt(NY, '2026-02-02T09:00') });
    const shift = shiftAt(r, NY, local(NY, from) + HOUR);
    expect([shift.from, shift.to, shift.hours]).toStrictEqual([from, to, hours]);
  });

  it('steps hourly rotations in absolute hours, so local handoff times move by the change', () => {
    const r = rotation({ type: 'hourly', shiftLength: 12, start: startAt(NY, '2026-10-30T08:00') });
    expect(shiftAt(r, NY, local(NY, '2026-10-31T12:00'))).toMatchObject({ from: '2026-10-31T08:00', to: '2026-10-31T20:00', hours: 12 });
    expect(shiftAt(r, NY, local(NY, '2026-11-01T12:00'))).toMatchObject({ from: '2026-11-01T07:00', to: '2026-11-01T19:00', hours: 12 });
  });

  it('moves a nonexistent 02:30 handoff (New York, 2026-03-08) forward by the gap, to 03:30 EDT, and back to 02:30 the next day', () => {
    const r = rotation({ start: '2026-03-01T02:30:00-05:00' });
    expect(shiftAt(r, NY, local(NY, '2026-03-07T12:00'))).toMatchObject({ from: '2026-03-07T02:30', to: '2026-03-08T03:30', hours: 24 });
    expect(shiftAt(r, NY, local(NY, '2026-03-08T12:00'))).toMatchObject({ from: '2026-03-08T03:30', to: '2026-03-09T02:30', hours: 23 });
    expect(rotationMemberAt(r, NY, utc('2026-03-08T07:29:59Z'))?.shift).toBe(6);
    expect(rotationMemberAt(r, NY, utc('2026-03-08T07:30:00Z'))?.shift).toBe(7);
  });

  it.each<[string, string, string]>([
    ['an anchor in summer (EDT)', '2026-10-01T01:30:00-04:00', NY],
    ['an anchor in winter (EST)', '2026-01-01T01:30:00-05:00', NY],
    ['an anchor a year earlier', '2025-11-01T01:30:00-04:00', NY],
  ])('takes the earlier occurrence of an ambiguous 01:30 handoff (New York, 2026-11-01) from %s', (_, start) => {
    const r = rotation({ start });
    const shift = shiftAt(r, NY, utc('2026-11-01T12:00:00Z'));
    expect(shift.shiftStart).toBe(utc('2026-11-01T05:30:00Z'));
    expect(shift.hours).toBe(25);
    expect(shiftAt(r, NY, utc('2026-11-01T05:00:00Z')).hours).toBe(24);
  });

  it('takes the earlier occurrence in Berlin too (02:30 on 2026-10-25 is 02:30 CEST)', () => {
    const r = rotation({ start: '2026-10-01T02:30:00+02:00' });
    expect(shiftAt(r, BERLIN, utc('2026-10-25T12:00:00Z')).shiftStart).toBe(utc('2026-10-25T00:30:00Z'));
  });

  it('needs that rule: luxon alone takes the occurrence with the offset of the DateTime it steps from', () => {
    const fromSummer = DateTime.fromISO('2026-10-01T01:30:00-04:00', { zone: NY }).plus({ days: 31 });
    const fromWinter = DateTime.fromISO('2026-01-01T01:30:00-05:00', { zone: NY }).plus({ days: 304 });
    expect([fromSummer.toISO(), fromWinter.toISO()]).toStrictEqual(['2026-11-01T01:30:00.000-04:00', '2026-11-01T01:30:00.000-05:00']);
  });

  it('uses a start in the second occurrence as given, and keeps its wall time afterwards', () => {
    const r = rotation({ start: '2026-11-01T01:30:00-05:00' });
    expect(rotationMemberAt(r, NY, utc('2026-11-01T06:29:59Z'))).toBeNull();
    expect(shiftAt(r, NY, utc('2026-11-01T06:30:00Z'))).toMatchObject({
      shift: 0,
      shiftStart: utc('2026-11-01T06:30:00Z'),
      to: '2026-11-02T01:30',
      hours: 24,
    });
  });

  it.each<[string, string, string, number, string[]]>([
    [
      'clamps Jan 31 to the end of shorter months and returns to 31',
      BERLIN,
      '2026-01-31T09:00',
      1,
      ['2026-01-31T09:00', '2026-02-28T09:00', '2026-03-31T09:00', '2026-04-30T09:00', '2026-05-31T09:00'],
    ],
    [
      'clamps to Feb 29 in a leap year',
      NY,
      '2027-12-31T18:00',
      2,
      ['2027-12-31T18:00', '2028-02-29T18:00', '2028-04-30T18:00', '2028-06-30T18:00'],
    ],
    ['keeps the day across a DST change', SYDNEY, '2026-09-15T08:00', 1, ['2026-09-15T08:00', '2026-10-15T08:00', '2026-11-15T08:00']],
  ])('monthly rotation %s', (_, zone, start, n, handoffs) => {
    const r = rotation({ type: 'monthly', shiftLength: n, start: startAt(zone, start) });
    handoffs.forEach((handoff, k) => {
      const shift = shiftAt(r, zone, local(zone, handoff) + HOUR);
      expect([shift.shift, shift.from, shift.userId]).toStrictEqual([k, handoff, r.members[k % 3]]);
    });
  });

  it('lands handoff k on the wall time of luxon plus(k × shiftLength units) from the anchor, for every type and zone', () => {
    const units = { hourly: 'hours', daily: 'days', weekly: 'weeks', monthly: 'months' } as const;
    fc.assert(
      fc.property(
        fc.constantFrom(NY, BERLIN, SYDNEY),
        fc.constantFrom(...(['hourly', 'daily', 'weekly', 'monthly'] as const)),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: utc('2024-01-01T00:00:00Z'), max: utc('2027-01-01T00:00:00Z') }),
        fc.integer({ min: 0, max: 400 }),
        (zone, type, n, anchor, k) => {
          const r = rotation({ type, shiftLength: n, start: isoIn(zone, anchor) });
          const expected = DateTime.fromMillis(anchor, { zone }).plus({ [units[type]]: k * n });
          const shift = rotationMemberAt(r, zone, expected.toMillis());
          expect(shift?.shift).toBe(k);
          expect(shift?.index).toBe(k % 3);
          if (!shift) return;
          expect(wallOf(zone, shift.shiftStart)).toBe(wallOf(zone, expected.toMillis()));
          if (type === 'hourly') expect(shift.shiftStart).toBe(expected.toMillis());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('finds the shift far from the start without walking the shifts', () => {
    const r = rotation({ type: 'hourly', start: '2026-01-01T00:00:00Z' });
    const at = utc('2126-01-01T00:30:00Z');
    const k = Math.floor((at - utc('2026-01-01T00:00:00Z')) / HOUR);
    expect(rotationMemberAt(r, NY, at)).toMatchObject({ shift: k, index: k % 3 });
    const s = schedule({ rotations: [rotation({ start: '2026-01-01T09:00:00-05:00' })] });
    const began = performance.now();
    for (let i = 0; i < 10_000; i++) onCallAt(s, utc('2076-01-01T00:00:00Z') + i * 7 * HOUR);
    // ~0.3 s here; walking 50 years of weekly shifts for each lookup would take minutes. The margin
    // is for the unit files sharing 2 busy cores with the integration suite (1.4 s seen there).
    expect(performance.now() - began).toBeLessThan(10_000);
  });

  it('covers nothing before the rotation starts', () => {
    const r = rotation({ start: '2026-03-01T09:00:00-05:00' });
    expect(rotationMemberAt(r, NY, utc('2026-03-01T13:59:59.999Z'))).toBeNull();
    expect(rotationMemberAt(r, NY, utc('2026-03-01T14:00:00Z'))).toMatchObject({ userId: 'ann', shift: 0 });
    expect(onCallAt(schedule({ rotations: [r] }), utc('2026-02-01T00:00:00Z'))).toStrictEqual([]);
  });
});

describe('restrictions', () => {
  // 2026-06-01 is a Monday; Berlin.
  const weekdays: TimeWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' };
  const fridayNight: TimeWindow = { days: ['fri'], from: '22:00', to: '06:00' };
  const sundayNight: TimeWindow = { days: ['sun'], from: '22:00', to: '06:00' };
  const saturday: TimeWindow = { days: ['sat'], from: '00:00', to: '00:00' };

  it.each<[string, TimeWindow[], string, boolean]>([
    ['office hours, before', [weekdays], '2026-06-01T08:59', false],
    ['office hours, from', [weekdays], '2026-06-01T09:00', true],
    ['office hours, Friday last minute', [weekdays], '2026-06-05T16:59', true],
    ['office hours, to is exclusive', [weekdays], '2026-06-05T17:00', false],
    ['office hours, Saturday', [weekdays], '2026-06-06T10:00', false],
    ['wrap, Friday before', [fridayNight], '2026-06-05T21:59', false],
    ['wrap, Friday from', [fridayNight], '2026-06-05T22:00', true],
    ['wrap, belongs to Friday: Saturday 03:00', [fridayNight], '2026-06-06T03:00', true],
    ['wrap, Saturday 05:59', [fridayNight], '2026-06-06T05:59', true],
    ['wrap, Saturday to is exclusive', [fridayNight], '2026-06-06T06:00', false],
    ['wrap, Friday 03:00 would belong to Thursday', [fridayNight], '2026-06-05T03:00', false],
    ['wrap, Saturday 22:30 is not Friday', [fridayNight], '2026-06-06T22:30', false],
    ['wrap across the week boundary: Monday 01:00', [sundayNight], '2026-06-08T01:00', true],
    ['wrap across the week boundary: Sunday 01:00', [sundayNight], '2026-06-07T01:00', false],
    ['from == to is the whole day: Saturday 00:00', [saturday], '2026-06-06T00:00', true],
    ['from == to is the whole day: Saturday 23:59', [saturday], '2026-06-06T23:59', true],
    ['from == to is the whole day: Sunday 00:00', [saturday], '2026-06-07T00:00', false],
    ['from == to is the whole day: Friday 23:59', [saturday], '2026-06-05T23:59', false],
    ['any window may match', [weekdays, saturday], '2026-06-06T12:00', true],
    ['no restrictions: always', [], '2026-06-07T03:00', true],
  ])('%s', (_, restrictions, wall, covered) => {
    const r = rotation({ restrictions, start: '2026-05-01T09:00:00+02:00' });
    const at = local(BERLIN, wall);
    expect(rotationActiveAt(r, BERLIN, at)).toBe(covered);
    expect(users(onCallAt(schedule({ timeZone: BERLIN, rotations: [r] }), at)).length).toBe(covered ? 1 : 0);
    // Restrictions do not move handoffs: the member is the shift's member either way.
    expect(rotationMemberAt(r, BERLIN, at)).not.toBeNull();
  });

  it('is not active before the rotation starts, even inside a window', () => {
    const r = rotation({ restrictions: [weekdays], start: '2026-06-02T09:00:00+02:00' });
    expect(rotationActiveAt(r, BERLIN, local(BERLIN, '2026-06-01T10:00'))).toBe(false);
  });

  it('starts a 02:30 window at the spring-forward jump (New York, 03:00 EDT) and reports that instant as the next change', () => {
    const r = rotation({ restrictions: [{ days: ['sun'], from: '02:30', to: '04:00' }], start: '2026-03-01T09:00:00-05:00' });
    const s = schedule({ rotations: [r] });
    expect(onCallAt(s, utc('2026-03-08T06:59:59Z'))).toStrictEqual([]);
    expect(nextChangeAfter(s, utc('2026-03-08T06:00:00Z'))).toBe(utc('2026-03-08T07:00:00Z'));
    expect(users(onCallAt(s, utc('2026-03-08T07:00:00Z')))).toStrictEqual(['ann']);
    expect(nextChangeAfter(s, utc('2026-03-08T07:00:00Z'))).toBe(utc('2026-03-08T08:00:00Z'));
  });

  it('covers a window over an ambiguous hour twice (New York, 01:00–02:00 on 2026-11-01)', () => {
    const r = rotation({ restrictions: [{ days: ['sun'], from: '01:00', to: '02:00' }], start: '2026-10-01T09:00:00-04:00' });
    const s = schedule({ rotations: [r] });
    const covered = ['04:59', '05:00', '05:59', '06:00', '06:59', '07:00'].map(
      (t) => users(onCallAt(s, utc(`2026-11-01T${t}:00Z`))).length,
    );
    expect(covered).toStrictEqual([0, 1, 1, 1, 1, 0]);
  });
});

describe('layers', () => {
  const base = rotation({ id: 'base', members: ['ann', 'bob'], start: '2026-06-01T09:00:00+02:00' });
  const weekend = rotation({
    id: 'weekend',
    members: ['wes'],
    restrictions: [{ days: ['sat', 'sun'], from: '00:00', to: '00:00' }],
    start: '2026-06-01T00:00:00+02:00',
  });
  const nights = rotation({
    id: 'nights',
    members: ['nia'],
    restrictions: [{ days: ['sat'], from: '22:00', to: '06:00' }],
    start: '2026-06-01T00:00:00+02:00',
  });
  const later = rotation({ id: 'later', members: ['lee'], start: '2026-07-01T00:00:00+02:00' });

  it.each<[string, Rotation[], string, OnCallUser[]]>([
    ['the base layer alone', [base], '2026-06-03T12:00', [{ userId: 'ann', via: 'rotation:base' }]],
    ['a weekend layer after the base wins on Saturday', [base, weekend], '2026-06-06T12:00', [{ userId: 'wes', via: 'rotation:weekend' }]],
    [
      'a weekend layer after the base leaves weekdays to it',
      [base, weekend],
      '2026-06-03T12:00',
      [{ userId: 'ann', via: 'rotation:base' }],
    ],
    ['a weekend layer before the base is hidden', [weekend, base], '2026-06-06T12:00', [{ userId: 'bob', via: 'rotation:base' }]],
    [
      'the top of three layers wins where it covers',
      [base, weekend, nights],
      '2026-06-07T01:00',
      [{ userId: 'nia', via: 'rotation:nights' }],
    ],
    [
      'the middle layer shows where the top does not',
      [base, weekend, nights],
      '2026-06-07T12:00',
      [{ userId: 'wes', via: 'rotation:weekend' }],
    ],
    ['a layer that has not started covers nothing', [base, later], '2026-06-03T12:00', [{ userId: 'ann', via: 'rotation:base' }]],
    ['nobody where no layer covers', [weekend], '2026-06-03T12:00', []],
  ])('%s', (_, rotations, wall, expected) => {
    // Base hands off daily at 09:00: ann on 2026-06-03 (shift 2), bob on Saturday 2026-06-06 (shift 5).
    expect(onCallAt(schedule({ timeZone: BERLIN, rotations }), local(BERLIN, wall))).toStrictEqual(expected);
  });
});

describe('temporary schedules and overrides', () => {
  // Base: daily New York 09:00 handoff; 2026-06-10T12:00 EDT is shift 156 → ann (156 % 3 = 0).
  const AT = '2026-06-10T16:00:00Z';
  const around = (userId: string, kind: Override['kind'], replaces: string | null = null): Override =>
    override(kind, userId, replaces, '2026-06-10T15:00:00Z', '2026-06-10T17:00:00Z');
  const temp = (...users: string[]): TemporarySchedule => ({ start: '2026-06-10T00:00:00Z', end: '2026-06-11T00:00:00Z', users });

  it.each<[string, Override[], TemporarySchedule[], string, OnCallUser[]]>([
    ['nothing: the rotation', [], [], AT, [{ userId: 'ann', via: 'rotation:base' }]],
    [
      'add appends',
      [around('zed', 'add')],
      [],
      AT,
      [
        { userId: 'ann', via: 'rotation:base' },
        { userId: 'zed', via: 'override:add' },
      ],
    ],
    ['add of someone on call changes nothing', [around('ann', 'add')], [], AT, [{ userId: 'ann', via: 'rotation:base' }]],
    ['remove drops', [around('ann', 'remove')], [], AT, []],
    ['remove of someone not on call changes nothing', [around('bob', 'remove')], [], AT, [{ userId: 'ann', via: 'rotation:base' }]],
    ['replace takes the place of the replaced', [around('zed', 'replace', 'ann')], [], AT, [{ userId: 'zed', via: 'override:replace' }]],
    ['replace of someone not on call does nothing', [around('zed', 'replace', 'bob')], [], AT, [{ userId: 'ann', via: 'rotation:base' }]],
    ['replace without replaces does nothing', [around('zed', 'replace')], [], AT, [{ userId: 'ann', via: 'rotation:base' }]],
    ['in list order: add then remove', [around('zed', 'add'), around('zed', 'remove')], [], AT, [{ userId: 'ann', via: 'rotation:base' }]],
    ['in list order: remove then add', [around('ann', 'remove'), around('ann', 'add')], [], AT, [{ userId: 'ann', via: 'override:add' }]],
    [
      'in list order: replace then add the replaced',
      [around('zed', 'replace', 'ann'), around('ann', 'add')],
      [],
      AT,
      [
        { userId: 'zed', via: 'override:replace' },
        { userId: 'ann', via: 'override:add' },
      ],
    ],
    [
      'replace by someone already on call deduplicates',
      [around('zed', 'add'), around('zed', 'replace', 'ann')],
      [],
      AT,
      [{ userId: 'zed', via: 'override:replace' }],
    ],
    [
      'start is inclusive',
      [around('zed', 'add')],
      [],
      '2026-06-10T15:00:00Z',
      [
        { userId: 'ann', via: 'rotation:base' },
        { userId: 'zed', via: 'override:add' },
      ],
    ],
    ['end is exclusive', [around('zed', 'add')], [], '2026-06-10T17:00:00Z', [{ userId: 'ann', via: 'rotation:base' }]],
    [
      'a temporary schedule replaces the rotation',
      [],
      [temp('tia', 'tom')],
      AT,
      [
        { userId: 'tia', via: 'temporary' },
        { userId: 'tom', via: 'temporary' },
      ],
    ],
    ['a temporary schedule deduplicates its users', [], [temp('tia', 'tia')], AT, [{ userId: 'tia', via: 'temporary' }]],
    [
      'overrides apply on top of a temporary schedule',
      [around('tia', 'remove'), around('zed', 'replace', 'tom')],
      [temp('tia', 'tom')],
      AT,
      [{ userId: 'zed', via: 'override:replace' }],
    ],
    ['of overlapping temporary schedules the last listed wins', [], [temp('tia'), temp('tom')], AT, [{ userId: 'tom', via: 'temporary' }]],
    [
      'outside the temporary schedule the rotation is back',
      [],
      [temp('tia')],
      '2026-06-11T00:00:00Z',
      [{ userId: 'ann', via: 'rotation:base' }],
    ],
  ])('%s', (_, overrides, temporary, at, expected) => {
    expect(onCallAt(schedule({ overrides, temporary }), utc(at))).toStrictEqual(expected);
  });

  it('applies overrides when no rotation covers the instant', () => {
    const s = schedule({ rotations: [], overrides: [around('zed', 'add')] });
    expect(onCallAt(s, utc(AT))).toStrictEqual([{ userId: 'zed', via: 'override:add' }]);
  });
});

/** The reason of the ScheduleError a call throws, or 'no error'. */
const reasonOf = (call: () => unknown): string => {
  try {
    call();
  } catch (e) {
    if (e instanceof ScheduleError) return e.reason;
    throw e;
  }
  return 'no error';
};

describe('errors', () => {
  it.each(['Mars/Olympus_Mons', 'local', 'system', 'UTC+1', ''])('rejects the time zone "%s" with a ScheduleError', (timeZone) => {
    const s = schedule({ timeZone });
    expect(() => onCallAt(s, 0)).toThrow(ScheduleError);
    expect(() => onCallAt(s, 0)).toThrow(/time zone/);
    expect(reasonOf(() => rotationMemberAt(rotation(), timeZone, 0))).toBe('invalid_time_zone');
  });

  it('accepts UTC, which has no changes', () => {
    expect(rotationMemberAt(rotation({ start: '2026-03-01T09:00:00Z' }), 'UTC', utc('2026-03-08T12:00:00Z'))).toMatchObject({
      shift: 7,
      shiftStart: utc('2026-03-08T09:00:00Z'),
    });
  });

  it('names the zone it rejects', () => {
    expect(() => nextChangeAfter(schedule({ timeZone: 'Mars/Olympus_Mons' }), 0)).toThrow('unknown time zone "Mars/Olympus_Mons"');
  });

  it.each<[string, Schedule]>([
    ['a rotation start without offset', schedule({ rotations: [rotation({ start: '2026-01-05T09:00:00' })] })],
    ['an unparsable override end', schedule({ overrides: [override('add', 'x', null, '2026-01-05T09:00:00Z', 'tomorrow')] })],
  ])('rejects %s with invalid_instant', (_, s) => {
    expect(reasonOf(() => onCallAt(s, 0))).toBe('invalid_instant');
  });

  it('rejects a non-finite instant', () => {
    expect(reasonOf(() => onCallAt(schedule(), Number.NaN))).toBe('invalid_instant');
  });
});

describe('validateSchedule', () => {
  const O1 = '2026-06-10T15:00:00Z';
  const O2 = '2026-06-10T17:00:00Z';
  it.each<[string, Partial<Schedule>, string[]]>([
    [
      'a good schedule',
      { overrides: [override('replace', 'zed', 'ann', O1, O2)], temporary: [{ start: O1, end: O2, users: ['tia'] }] },
      [],
    ],
    ['an unknown zone', { timeZone: 'Mars/Olympus_Mons' }, ['timeZone: unknown time zone "Mars/Olympus_Mons"']],
    ['an override ending at its start', { overrides: [override('add', 'zed', null, O1, O1)] }, ['overrides.0.end: must be after start']],
    [
      'an override ending before its start',
      { overrides: [override('add', 'zed', null, O2, O1)] },
      ['overrides.0.end: must be after start'],
    ],
    [
      'a temporary schedule ending before it starts',
      { temporary: [{ start: O2, end: O1, users: ['tia'] }] },
      ['temporary.0.end: must be after start'],
    ],
    [
      'a temporary schedule without users',
      { temporary: [{ start: O1, end: O2, users: [] }] },
      ['temporary.0.users: needs at least one user'],
    ],
    [
      'replace without replaces',
      { overrides: [override('replace', 'zed', null, O1, O2)] },
      ['overrides.0.replaces: a replace override must name the user it replaces'],
    ],
    [
      'add with replaces',
      { overrides: [override('add', 'zed', 'ann', O1, O2)] },
      ['overrides.0.replaces: only a replace override names a user it replaces'],
    ],
    [
      'an override time without offset',
      { overrides: [override('add', 'zed', null, '2026-06-10T15:00', O2)] },
      ['overrides.0.start: "2026-06-10T15:00" is not an ISO 8601 date-time with a UTC offset'],
    ],
    [
      'restriction days empty',
      { rotations: [rotation({ restrictions: [{ days: [], from: '09:00', to: '17:00' }] })] },
      ['rotations.0.restrictions.0.days: must name at least one day'],
    ],
    [
      'a restriction time that is not HH:mm',
      { rotations: [rotation({ restrictions: [{ days: ['mon'], from: '9:00', to: '24:00' }] })] },
      ['rotations.0.restrictions.0.from: "9:00" is not HH:mm (24 h)', 'rotations.0.restrictions.0.to: "24:00" is not HH:mm (24 h)'],
    ],
    [
      'shiftLength 0',
      { rotations: [rotation({ shiftLength: 0 })] },
      ['rotations.0.shiftLength: must be a whole number from 1 to 366 for a daily rotation'],
    ],
    [
      'shiftLength absurd for hourly',
      { rotations: [rotation({ type: 'hourly', shiftLength: 100_000 })] },
      ['rotations.0.shiftLength: must be a whole number from 1 to 8784 for a hourly rotation'],
    ],
    [
      'shiftLength absurd for monthly',
      { rotations: [rotation({ type: 'monthly', shiftLength: 13 })] },
      ['rotations.0.shiftLength: must be a whole number from 1 to 12 for a monthly rotation'],
    ],
    [
      'a fractional shiftLength',
      { rotations: [rotation({ type: 'weekly', shiftLength: 1.5 })] },
      ['rotations.0.shiftLength: must be a whole number from 1 to 53 for a weekly rotation'],
    ],
    ['a rotation without members', { rotations: [rotation({ members: [] })] }, ['rotations.0.members: needs at least one member']],
    [
      'a rotation start that is not a date',
      { rotations: [rotation({ start: 'soon' })] },
      ['rotations.0.start: "soon" is not an ISO 8601 date-time with a UTC offset'],
    ],
    ['duplicate rotation ids', { rotations: [rotation(), rotation()] }, ['rotations.1.id: duplicate rotation id "base"']],
    [
      'several problems together',
      { timeZone: 'Nowhere', overrides: [override('replace', 'zed', null, O2, O1)] },
      [
        'timeZone: unknown time zone "Nowhere"',
        'overrides.0.end: must be after start',
        'overrides.0.replaces: a replace override must name the user it replaces',
      ],
    ],
  ])('%s', (_, over, expected) => {
    const problems = validateSchedule(schedule(over));
    expect(problems.length).toBe(expected.length);
    expected.forEach((p, i) => expect(problems[i]).toContain(p));
  });
});

describe('nextChangeAfter', () => {
  const weekend = rotation({
    id: 'weekend',
    members: ['wes'],
    restrictions: [{ days: ['sat'], from: '10:00', to: '18:00' }],
    start: '2026-06-01T00:00:00-04:00',
  });
  it.each<[string, Partial<Schedule>, string, string | null]>([
    ['the next handoff', {}, '2026-06-10T16:00:00Z', '2026-06-11T13:00:00Z'],
    [
      'the start of a rotation that has not started',
      { rotations: [rotation({ start: '2026-07-01T09:00:00-04:00' })] },
      '2026-06-10T16:00:00Z',
      '2026-07-01T13:00:00Z',
    ],
    ['a restriction edge before the handoff', { rotations: [rotation(), weekend] }, '2026-06-13T13:30:00Z', '2026-06-13T14:00:00Z'],
    [
      'an override start',
      { overrides: [override('add', 'zed', null, '2026-06-10T17:00:00Z', '2026-06-10T18:00:00Z')] },
      '2026-06-10T16:00:00Z',
      '2026-06-10T17:00:00Z',
    ],
    [
      'an override end',
      { overrides: [override('add', 'zed', null, '2026-06-10T15:00:00Z', '2026-06-10T18:00:00Z')] },
      '2026-06-10T16:00:00Z',
      '2026-06-10T18:00:00Z',
    ],
    [
      'a temporary end',
      { temporary: [{ start: '2026-06-10T00:00:00Z', end: '2026-06-10T20:00:00Z', users: ['tia'] }] },
      '2026-06-10T16:00:00Z',
      '2026-06-10T20:00:00Z',
    ],
    ['strictly after: at a handoff, the following one', {}, '2026-06-11T13:00:00Z', '2026-06-12T13:00:00Z'],
    [
      'null when nothing is left to change',
      { rotations: [], overrides: [override('add', 'zed', null, '2026-06-10T15:00:00Z', '2026-06-10T18:00:00Z')] },
      '2026-06-10T18:00:00Z',
      null,
    ],
  ])('%s', (_, over, at, expected) => {
    expect(nextChangeAfter(schedule(over), utc(at))).toBe(expected === null ? null : utc(expected));
  });
});

describe('shifts', () => {
  const base = rotation({ id: 'base', members: ['ann', 'bob'], start: '2026-03-02T09:00:00-05:00' });
  const weekend = rotation({
    id: 'weekend',
    members: ['wes'],
    restrictions: [{ days: ['sat', 'sun'], from: '00:00', to: '00:00' }],
    start: '2026-03-01T00:00:00-05:00',
  });
  const s = schedule({
    rotations: [base, weekend],
    overrides: [override('add', 'zed', null, '2026-03-09T16:00:00Z', '2026-03-09T18:00:00Z')],
  });

  it('lists each user once per continuous stretch, across the New York spring change', () => {
    const listed = shifts(s, local(NY, '2026-03-06T00:00'), local(NY, '2026-03-10T00:00')).map((x) => [
      x.userId,
      wallOf(NY, x.start),
      wallOf(NY, x.end),
    ]);
    expect(listed).toStrictEqual([
      ['bob', '2026-03-06T00:00', '2026-03-06T09:00'],
      ['ann', '2026-03-06T09:00', '2026-03-07T00:00'],
      ['wes', '2026-03-07T00:00', '2026-03-09T00:00'],
      ['ann', '2026-03-09T00:00', '2026-03-09T09:00'],
      ['bob', '2026-03-09T09:00', '2026-03-10T00:00'],
      ['zed', '2026-03-09T12:00', '2026-03-09T14:00'],
    ]);
  });

  it('lists nothing for an empty range', () => {
    expect(shifts(s, utc('2026-03-09T00:00:00Z'), utc('2026-03-09T00:00:00Z'))).toStrictEqual([]);
  });

  it('agrees with onCallAt at every instant, for random schedules and instants (property)', () => {
    const people = ['ann', 'bob', 'cem', 'dan'];
    const time = fc.integer({ min: 0, max: 47 }).map((h) => `${String(Math.floor(h / 2)).padStart(2, '0')}:${h % 2 ? '30' : '00'}`);
    const window = fc.record({
      days: fc.subarray(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const, { minLength: 1 }),
      from: time,
      to: time,
    });
    const YEAR_START = utc('2026-01-01T00:00:00Z');
    const instant = fc.integer({ min: YEAR_START, max: utc('2026-12-31T00:00:00Z') });
    const arbitrary = fc
      .record({
        zone: fc.constantFrom(NY, BERLIN, SYDNEY),
        rotations: fc.array(
          fc.record({
            type: fc.constantFrom(...(['hourly', 'daily', 'weekly', 'monthly'] as const)),
            shiftLength: fc.integer({ min: 1, max: 3 }),
            start: fc.integer({ min: YEAR_START - 60 * DAY, max: utc('2026-12-31T00:00:00Z') }),
            members: fc.subarray(people, { minLength: 1 }),
            restrictions: fc.array(window, { maxLength: 2 }),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        overrides: fc.array(
          fc.record({
            kind: fc.constantFrom(...(['add', 'remove', 'replace'] as const)),
            userId: fc.constantFrom(...people),
            replaces: fc.constantFrom(...people),
            start: instant,
            hours: fc.integer({ min: 1, max: 72 }),
          }),
          { maxLength: 3 },
        ),
        temporary: fc.array(
          fc.record({ start: instant, hours: fc.integer({ min: 1, max: 72 }), users: fc.subarray(people, { minLength: 1 }) }),
          { maxLength: 1 },
        ),
        from: instant,
        days: fc.integer({ min: 1, max: 14 }),
        samples: fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 20, maxLength: 20 }),
      })
      .map((g) => {
        const iso = (ms: number): string => isoIn(g.zone, ms);
        const sched = schedule({
          timeZone: g.zone,
          rotations: g.rotations.map((r, i) => rotation({ ...r, id: `r${i}`, start: iso(r.start) })),
          overrides: g.overrides.map((o) =>
            override(o.kind, o.userId, o.kind === 'replace' ? o.replaces : null, iso(o.start), iso(o.start + o.hours * HOUR)),
          ),
          temporary: g.temporary.map((t) => ({ start: iso(t.start), end: iso(t.start + t.hours * HOUR), users: t.users })),
        });
        return { sched, from: g.from, to: g.from + g.days * DAY, samples: g.samples };
      });

    fc.assert(
      fc.property(arbitrary, ({ sched, from, to, samples }) => {
        expect(validateSchedule(sched)).toStrictEqual([]);
        const listed = shifts(sched, from, to);
        const instants = [
          from,
          to - 1,
          ...samples.map((f) => from + Math.floor(f * (to - from))),
          ...listed.flatMap((x) => [x.start, x.end - 1]),
        ];
        for (const at of instants) {
          const expected = users(onCallAt(sched, at)).sort();
          const fromShifts = listed
            .filter((x) => x.start <= at && at < x.end)
            .map((x) => x.userId)
            .sort();
          expect(fromShifts, `at ${new Date(at).toISOString()}`).toStrictEqual(expected);
        }
        // One entry per continuous stretch: a user's entries neither overlap nor touch.
        for (const userId of people) {
          const mine = listed.filter((x) => x.userId === userId);
          mine.slice(1).forEach((x, i) => expect(x.start).toBeGreaterThan(mine[i]?.end ?? -Infinity));
        }
      }),
      { numRuns: 150 },
    );
  });
});
