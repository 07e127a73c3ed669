/**
 * Who is on call: the pure calculation `(schedule, instant) → users`.
 *
 * Rules (docs/schedules.md says the same with examples):
 *
 * - **Handoffs.** Shift k of a rotation starts at handoff k. Handoff 0 is exactly `start`. Handoff k
 *   is the anchor plus k × shiftLength units, always computed from the anchor (never from handoff
 *   k − 1), so a clamped monthly day returns to the anchor's day (Jan 31 → Feb 28 → Mar 31).
 *   - daily, weekly, monthly keep the local wall-clock time of `start` in the schedule's zone, as
 *     luxon's `plus({ days | weeks | months })` does: a 09:00 handoff stays 09:00 across DST, so a
 *     weekly shift over 2026-03-08 in America/New_York lasts 167 h and one over 2026-11-01 169 h.
 *     Months clamp the day to the month's end.
 *   - hourly steps in absolute hours (`plus({ hours })` is absolute in luxon too): a 12-hour
 *     rotation handing off at 08:00/20:00 hands off at 07:00/19:00 local after a fall-back change.
 * - **Nonexistent local times** (spring-forward gap) move forward by the length of the gap, as luxon
 *   does: a 02:30 handoff on 2026-03-08 in New York happens at 03:30 EDT; the next day it is 02:30.
 * - **Ambiguous local times** (fall-back overlap) take the EARLIER occurrence: a 01:30 handoff on
 *   2026-11-01 in New York happens at 01:30 EDT (05:30Z), not 01:30 EST. This is RFC 5545's and
 *   Temporal's `compatible` choice. luxon alone is not consistent here: `plus()` keeps the offset of
 *   the DateTime it steps from (first occurrence from a summer anchor, second from a winter one) and
 *   `fromISO`/`fromObject` without an offset guess with the offset at `Settings.now()`, so the result
 *   would depend on the anchor's season or on the clock. `start` itself is an exact instant and is
 *   used as given, even when it names the second occurrence.
 * - **Members** rotate in order: shift k belongs to `members[k % members.length]`.
 * - **Restrictions** limit a rotation to windows of local time in the schedule's zone. A rotation
 *   covers an instant if it has started, and `restrictions` is empty or any window matches. A window
 *   `from`–`to` with `to <= from` wraps past midnight and belongs to the day it starts
 *   (fri 22:00–06:00 covers Saturday 03:00 but not Friday 03:00); `from == to` is 24 hours. A
 *   restricted rotation does not shift its handoffs: outside the windows nobody of it is on call.
 *   Windows are read on the local clock: one starting in a skipped hour starts when the clocks
 *   jump (02:30 on 2026-03-08 in New York → 03:00 EDT); a repeated hour is covered both times.
 * - **Layers.** `rotations` are layers in list order. At an instant the LAST rotation in the list
 *   that covers it gives the one on-call user; layers below it are hidden (PagerDuty-style: a weekend
 *   layer listed after a 24×7 base layer replaces the base on weekends; listed before it, it is
 *   never seen). Where no layer covers the instant, nobody is on call from rotations.
 * - **Temporary schedules** covering the instant (`start <= t < end`) replace the whole rotation
 *   result with their users; if several cover it, the last listed wins.
 * - **Overrides** covering the instant (`start <= t < end`) are applied after that, in list order:
 *   add appends `userId`; remove drops it; replace puts `userId` where `replaces` is (nothing
 *   happens if `replaces` is not on call).
 * - The result is deduplicated by user id, keeping the first occurrence, in a stable order.
 *
 * Pure: time enters as an argument. Parsed schedules and UTC offsets are memoized per object and
 * per zone (schedules are treated as immutable values), so a lookup is a few arithmetic steps
 * and cache reads, with no loop over the shifts since `start`; handoffs are computed in
 * wall-clock arithmetic equal to luxon's `plus` (tests check them against it) because calling
 * `plus` costs ~7 µs.
 */
import { DateTime, IANAZone, type Zone } from 'luxon';
import type { EventData, Rotation, Weekday } from '@oncall/contracts';

type Schedule = EventData<'ScheduleConfigured'>;

/** One user on call and why: `rotation:<id>`, `temporary`, `override:add` or `override:replace`. */
export type OnCallUser = Readonly<{ userId: string; via: string }>;

/** The shift of a rotation containing an instant; `index` is the member's position, `shift` is k. */
export type RotationShift = Readonly<{ userId: string; index: number; shift: number; shiftStart: number; shiftEnd: number }>;

/** A user's continuous time on call, `start <= t < end` (epoch ms). */
export type UserShift = Readonly<{ userId: string; start: number; end: number }>;

export type ScheduleErrorReason = 'invalid_time_zone' | 'invalid_instant' | 'invalid_time_of_day';

/** A schedule the calculation cannot work with; `validateSchedule` reports the same problems as text. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
  constructor(
    readonly reason: ScheduleErrorReason,
    message: string,
  ) {
    super(message);
  }
}

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;

// ---------------------------------------------------------------------------------------------
// Time zones: UTC offsets memoized per week, so a lookup costs a map read instead of an Intl call.

type Bucket = Readonly<{ offset: number; transitions: readonly (readonly [at: number, offset: number])[] }>;

class ZoneTable {
  private readonly buckets = new Map<number, Bucket>();

  constructor(private readonly zone: Zone) {}

  /** UTC offset in ms at an instant. */
  offset(ts: number): number {
    const bucket = this.bucket(Math.floor(ts / WEEK));
    let offset = bucket.offset;
    for (const [at, next] of bucket.transitions) {
      if (at > ts) break;
      offset = next;
    }
    return offset;
  }

  /** Local wall-clock time of an instant, as ms since 1970-01-01T00:00 local. */
  wall(ts: number): number {
    return ts + this.offset(ts);
  }

  /**
   * The instant of a local wall-clock time: the earlier one if it happens twice; if it does not
   * happen, the wall time read with the offset in force before the gap (it moves forward).
   */
  resolve(wall: number): number {
    const before = this.offset(wall - DAY);
    const ts = wall - before;
    if (this.offset(ts) === before) return ts;
    const after = this.offset(wall + DAY);
    const later = wall - after;
    return this.offset(later) === after ? later : ts;
  }

  /** Every instant with this local wall-clock time: none in a gap, two in an overlap. */
  instantsOf(wall: number): number[] {
    const before = this.offset(wall - DAY);
    const after = this.offset(wall + DAY);
    const out: number[] = [];
    for (const offset of before === after ? [before] : [before, after]) {
      if (this.offset(wall - offset) === offset) out.push(wall - offset);
    }
    return out;
  }

  /** Offset changes in (from, to]. */
  transitionsIn(from: number, to: number): number[] {
    const out: number[] = [];
    for (let b = Math.floor(from / WEEK); b <= Math.floor(to / WEEK); b++) {
      for (const [at] of this.bucket(b).transitions) if (at > from && at <= to) out.push(at);
    }
    return out;
  }

  private raw(ts: number): number {
    return Math.round(this.zone.offset(ts) * MINUTE);
  }

  // Samples every day of the week and bisects to the second where the offset changed. Two
  // changes within one day would be missed; no zone has had them.
  private bucket(index: number): Bucket {
    const cached = this.buckets.get(index);
    if (cached) return cached;
    const start = index * WEEK;
    const transitions: [number, number][] = [];
    let previous = this.raw(start);
    for (let day = 1; day <= 7; day++) {
      const sample = this.raw(start + day * DAY);
      if (sample === previous) continue;
      let lo = start + (day - 1) * DAY;
      let hi = start + day * DAY;
      while (hi - lo > SECOND) {
        const mid = lo + Math.floor((hi - lo) / (2 * SECOND)) * SECOND;
        if (this.raw(mid) === previous) lo = mid;
        else hi = mid;
      }
      transitions.push([hi, this.raw(hi)]);
      previous = sample;
    }
    const bucket = { offset: this.raw(start), transitions };
    this.buckets.set(index, bucket);
    return bucket;
  }
}

const zones = new Map<string, ZoneTable>();

function zoneTable(name: string): ZoneTable {
  const cached = zones.get(name);
  if (cached) return cached;
  // IANA names only, as calendars and routing accept: luxon would also take 'local'/'system' (the
  // host's zone, not a function of the schedule) and fixed offsets such as 'UTC+1'.
  const probe = DateTime.fromMillis(0, { zone: name });
  if (!IANAZone.isValidZone(name) || !probe.isValid) {
    throw new ScheduleError('invalid_time_zone', `unknown time zone "${name}": use an IANA name such as Europe/Berlin`);
  }
  const table = new ZoneTable(probe.zone);
  zones.set(name, table);
  return table;
}

// ---------------------------------------------------------------------------------------------
// Parsing

const WITH_OFFSET = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

function parseInstant(iso: string, path: string): number {
  const dt = DateTime.fromISO(iso, { setZone: true });
  if (!WITH_OFFSET.test(iso) || !dt.isValid) {
    throw new ScheduleError('invalid_instant', `${path}: "${iso}" is not an ISO 8601 date-time with a UTC offset`);
  }
  return dt.toMillis();
}

const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function parseTimeOfDay(value: string, path: string): number {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!match) throw new ScheduleError('invalid_time_of_day', `${path}: "${value}" is not HH:mm (24 h)`);
  return Number(match[1]) * HOUR + Number(match[2]) * MINUTE;
}

/** Day of week of a local wall time, Monday = 0 (1970-01-01 was a Thursday). */
const weekdayOf = (wall: number): number => (((Math.floor(wall / DAY) + 3) % 7) + 7) % 7;

const daysInMonth = (year: number, month: number): number => (Date.UTC(year, month + 1, 1) - Date.UTC(year, month, 1)) / DAY;

type Window = Readonly<{ days: number; from: number; to: number }>;

// ---------------------------------------------------------------------------------------------
// Rotations

class RotationClock {
  readonly anchor: number;
  private readonly anchorWall: number;
  private readonly step: number;
  private readonly year: number;
  private readonly month: number;
  private readonly day: number;
  private readonly timeOfDay: number;
  readonly windows: readonly Window[];
  readonly via: string;

  constructor(
    readonly rotation: Rotation,
    readonly zone: ZoneTable,
  ) {
    this.anchor = parseInstant(rotation.start, `rotation ${rotation.id} start`);
    this.anchorWall = zone.wall(this.anchor);
    const n = rotation.shiftLength;
    this.step = n * { hourly: HOUR, daily: DAY, weekly: WEEK, monthly: 0 }[rotation.type];
    const date = new Date(this.anchorWall);
    this.year = date.getUTCFullYear();
    this.month = date.getUTCMonth();
    this.day = date.getUTCDate();
    this.timeOfDay = this.anchorWall - Date.UTC(this.year, this.month, this.day);
    this.windows = rotation.restrictions.map((w, i) => ({
      days: w.days.reduce((bits, d) => bits | (1 << WEEKDAYS.indexOf(d)), 0),
      from: parseTimeOfDay(w.from, `rotation ${rotation.id} restrictions.${i}.from`),
      to: parseTimeOfDay(w.to, `rotation ${rotation.id} restrictions.${i}.to`),
    }));
    this.via = `rotation:${rotation.id}`;
  }

  /** Instant of handoff k (k >= 0). */
  handoff(k: number): number {
    if (k === 0) return this.anchor;
    switch (this.rotation.type) {
      case 'hourly':
        return this.anchor + k * this.step;
      case 'daily':
      case 'weekly':
        return this.zone.resolve(this.anchorWall + k * this.step);
      case 'monthly': {
        const first = new Date(Date.UTC(this.year, this.month + k * this.rotation.shiftLength, 1));
        const day = Math.min(this.day, daysInMonth(first.getUTCFullYear(), first.getUTCMonth()));
        return this.zone.resolve(first.getTime() + (day - 1) * DAY + this.timeOfDay);
      }
      default: {
        const never: never = this.rotation.type;
        throw new Error(`unknown rotation type ${String(never)}`);
      }
    }
  }

  /** Shift index k with handoff(k) <= t < handoff(k + 1), or null before the anchor. */
  shiftAt(t: number, wall: number): number | null {
    if (t < this.anchor) return null;
    let k: number;
    switch (this.rotation.type) {
      case 'hourly':
        return Math.floor((t - this.anchor) / this.step);
      case 'monthly': {
        const date = new Date(wall);
        const months = (date.getUTCFullYear() - this.year) * 12 + date.getUTCMonth() - this.month;
        k = Math.floor(months / this.rotation.shiftLength);
        break;
      }
      default:
        k = Math.floor((wall - this.anchorWall) / this.step);
    }
    // The estimate is off by at most one shift (offset changes, month lengths); adjust.
    k = Math.max(0, k);
    while (k > 0 && this.handoff(k) > t) k--;
    while (this.handoff(k + 1) <= t) k++;
    return k;
  }

  /** Whether the restrictions let the rotation cover a local wall time. */
  allows(wall: number): boolean {
    if (this.windows.length === 0) return true;
    const weekday = weekdayOf(wall);
    const previous = (weekday + 6) % 7;
    const time = wall - Math.floor(wall / DAY) * DAY;
    for (const w of this.windows) {
      if (w.from < w.to) {
        if (w.days & (1 << weekday) && time >= w.from && time < w.to) return true;
      } else if ((w.days & (1 << weekday) && time >= w.from) || (w.days & (1 << previous) && time < w.to)) {
        return true;
      }
    }
    return false;
  }

  /** Member of shift k; undefined only for a rotation without members (it covers nothing). */
  memberOf(k: number): { userId: string; index: number } | undefined {
    const index = k % this.rotation.members.length;
    const userId = this.rotation.members[index];
    return userId === undefined ? undefined : { userId, index };
  }
}

const clocks = new WeakMap<Rotation, Map<string, RotationClock>>();

function clockOf(rotation: Rotation, timeZone: string): RotationClock {
  let byZone = clocks.get(rotation);
  if (!byZone) {
    byZone = new Map();
    clocks.set(rotation, byZone);
  }
  let clock = byZone.get(timeZone);
  if (!clock) {
    clock = new RotationClock(rotation, zoneTable(timeZone));
    byZone.set(timeZone, clock);
  }
  return clock;
}

function checkInstant(atMs: number): void {
  if (!Number.isFinite(atMs)) throw new ScheduleError('invalid_instant', `instant ${atMs} is not a finite epoch ms`);
}

/**
 * The member on shift at an instant, with the shift's bounds, ignoring restrictions (see
 * `rotationActiveAt`); null before the rotation's start.
 */
export function rotationMemberAt(rotation: Rotation, timeZone: string, atMs: number): RotationShift | null {
  checkInstant(atMs);
  const clock = clockOf(rotation, timeZone);
  const k = clock.shiftAt(atMs, clock.zone.wall(atMs));
  const member = k === null ? undefined : clock.memberOf(k);
  if (k === null || !member) return null;
  return { ...member, shift: k, shiftStart: clock.handoff(k), shiftEnd: clock.handoff(k + 1) };
}

/** Whether a rotation covers an instant: it has started and its restrictions allow the local time. */
export function rotationActiveAt(rotation: Rotation, timeZone: string, atMs: number): boolean {
  checkInstant(atMs);
  const clock = clockOf(rotation, timeZone);
  return atMs >= clock.anchor && clock.rotation.members.length > 0 && clock.allows(clock.zone.wall(atMs));
}

// ---------------------------------------------------------------------------------------------
// Schedules

type Span = Readonly<{ start: number; end: number }>;

type Prepared = Readonly<{
  zone: ZoneTable;
  clocks: readonly RotationClock[];
  temporary: readonly (Span & { users: readonly string[] })[];
  overrides: readonly (Span & Omit<Schedule['overrides'][number], 'start' | 'end'>)[];
  /** Local times of day where some restriction starts or ends, plus midnight. */
  edges: readonly number[];
}>;

const prepared = new WeakMap<Schedule, Prepared>();

function prepare(schedule: Schedule): Prepared {
  const cached = prepared.get(schedule);
  if (cached) return cached;
  const zone = zoneTable(schedule.timeZone);
  const rotationClocks = schedule.rotations.map((r) => clockOf(r, schedule.timeZone));
  const edges = new Set<number>();
  for (const clock of rotationClocks) {
    for (const w of clock.windows) edges.add(w.from).add(w.to).add(0);
  }
  const result: Prepared = {
    zone,
    clocks: rotationClocks,
    temporary: schedule.temporary.map((t, i) => ({
      start: parseInstant(t.start, `temporary.${i}.start`),
      end: parseInstant(t.end, `temporary.${i}.end`),
      users: t.users,
    })),
    overrides: schedule.overrides.map((o, i) => ({
      ...o,
      start: parseInstant(o.start, `overrides.${i}.start`),
      end: parseInstant(o.end, `overrides.${i}.end`),
    })),
    edges: [...edges],
  };
  prepared.set(schedule, result);
  return result;
}

const covers = (span: Span, t: number): boolean => span.start <= t && t < span.end;

/** The users on call at an instant, deduplicated by user id in a stable order (rules at the top). */
export function onCallAt(schedule: Schedule, atMs: number): OnCallUser[] {
  checkInstant(atMs);
  const s = prepare(schedule);
  let users: OnCallUser[] = [];
  const temporary = s.temporary.findLast((t) => covers(t, atMs));
  if (temporary) {
    users = temporary.users.map((userId) => ({ userId, via: 'temporary' }));
  } else {
    const wall = s.zone.wall(atMs);
    for (let i = s.clocks.length - 1; i >= 0; i--) {
      const clock = s.clocks[i];
      if (!clock || atMs < clock.anchor || !clock.allows(wall)) continue;
      const k = clock.shiftAt(atMs, wall);
      const member = k === null ? undefined : clock.memberOf(k);
      if (!member) continue;
      users = [{ userId: member.userId, via: clock.via }];
      break;
    }
  }
  for (const o of s.overrides) {
    if (!covers(o, atMs)) continue;
    switch (o.kind) {
      case 'add':
        users.push({ userId: o.userId, via: 'override:add' });
        break;
      case 'remove':
        users = users.filter((u) => u.userId !== o.userId);
        break;
      case 'replace':
        users = users.map((u) => (u.userId === o.replaces ? { userId: o.userId, via: 'override:replace' } : u));
        break;
      default: {
        const never: never = o.kind;
        throw new Error(`unknown override kind ${String(never)}`);
      }
    }
  }
  const seen = new Set<string>();
  return users.filter((u) => {
    if (seen.has(u.userId)) return false;
    seen.add(u.userId);
    return true;
  });
}

/**
 * The next instant after `atMs` where `onCallAt` may change: handoffs, rotation starts,
 * restriction edges, the zone's offset changes while restrictions exist, and the starts and ends
 * of temporary schedules and overrides. It may name instants where nothing changes, never misses
 * one. Null when nothing can change any more.
 */
export function nextChangeAfter(schedule: Schedule, atMs: number): number | null {
  checkInstant(atMs);
  const s = prepare(schedule);
  let best = Infinity;
  const consider = (candidate: number): void => {
    if (candidate > atMs && candidate < best) best = candidate;
  };
  const wall = s.zone.wall(atMs);
  for (const clock of s.clocks) {
    const k = clock.shiftAt(atMs, wall);
    consider(k === null ? clock.anchor : clock.handoff(k + 1));
  }
  if (s.edges.length > 0) {
    // Coverage is a function of the local time, which only jumps at offset changes; otherwise it
    // can only change where the local time passes an edge. Edges are taken on every day and
    // midnight is one, so the next candidate is at most about a day away: two days ahead suffice.
    const today = Math.floor(wall / DAY);
    for (let day = today - 1; day <= today + 2; day++) {
      for (const edge of s.edges) for (const instant of s.zone.instantsOf(day * DAY + edge)) consider(instant);
    }
    for (const at of s.zone.transitionsIn(atMs, atMs + 3 * DAY)) consider(at);
  }
  for (const span of [...s.temporary, ...s.overrides]) {
    consider(span.start);
    consider(span.end);
  }
  return best === Infinity ? null : best;
}

/**
 * Each user's continuous time on call within [fromMs, toMs), clipped to it, ordered by start
 * (ties in `onCallAt` order). A user stays one entry while on call even if the reason changes.
 * Costs one `onCallAt` per change in the range.
 */
export function shifts(schedule: Schedule, fromMs: number, toMs: number): UserShift[] {
  checkInstant(fromMs);
  checkInstant(toMs);
  const out: { userId: string; start: number; end: number }[] = [];
  if (fromMs >= toMs) return out;
  const open = new Map<string, { userId: string; start: number; end: number }>();
  const enter = (at: number): void => {
    const now = new Set<string>();
    for (const { userId } of onCallAt(schedule, at)) {
      now.add(userId);
      if (open.has(userId)) continue;
      const shift = { userId, start: at, end: toMs };
      open.set(userId, shift);
      out.push(shift);
    }
    for (const [userId, shift] of open) {
      if (now.has(userId)) continue;
      shift.end = at;
      open.delete(userId);
    }
  };
  enter(fromMs);
  for (let at = nextChangeAfter(schedule, fromMs); at !== null && at < toMs; at = nextChangeAfter(schedule, at)) enter(at);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation

/** Longest sensible shift per rotation type: about a year. */
const MAX_SHIFT_LENGTH = { hourly: 24 * 366, daily: 366, weekly: 53, monthly: 12 } as const;

/** Problems as "field.path: message"; empty when the calculation can use the schedule. */
export function validateSchedule(schedule: Schedule): string[] {
  const problems: string[] = [];
  const instant = (iso: string, path: string): number | null => {
    try {
      return parseInstant(iso, path);
    } catch (e) {
      if (!(e instanceof ScheduleError)) throw e;
      problems.push(e.message);
      return null;
    }
  };
  const span = (item: { start: string; end: string }, path: string): void => {
    const start = instant(item.start, `${path}.start`);
    const end = instant(item.end, `${path}.end`);
    if (start !== null && end !== null && end <= start) problems.push(`${path}.end: must be after start`);
  };

  try {
    zoneTable(schedule.timeZone);
  } catch (e) {
    if (!(e instanceof ScheduleError)) throw e;
    problems.push(`timeZone: ${e.message}`);
  }
  const ids = new Set<string>();
  schedule.rotations.forEach((r, i) => {
    const path = `rotations.${i}`;
    if (ids.has(r.id)) problems.push(`${path}.id: duplicate rotation id "${r.id}"`);
    ids.add(r.id);
    instant(r.start, `${path}.start`);
    const max = MAX_SHIFT_LENGTH[r.type];
    if (!Number.isInteger(r.shiftLength) || r.shiftLength < 1 || r.shiftLength > max) {
      problems.push(`${path}.shiftLength: must be a whole number from 1 to ${max} for a ${r.type} rotation`);
    }
    if (r.members.length === 0) problems.push(`${path}.members: needs at least one member`);
    r.restrictions.forEach((w, j) => {
      const at = `${path}.restrictions.${j}`;
      if (w.days.length === 0) problems.push(`${at}.days: must name at least one day`);
      for (const field of ['from', 'to'] as const) {
        try {
          parseTimeOfDay(w[field], `${at}.${field}`);
        } catch (e) {
          if (!(e instanceof ScheduleError)) throw e;
          problems.push(e.message);
        }
      }
    });
  });
  schedule.overrides.forEach((o, i) => {
    const path = `overrides.${i}`;
    span(o, path);
    if (o.kind === 'replace' && !o.replaces) problems.push(`${path}.replaces: a replace override must name the user it replaces`);
    if (o.kind !== 'replace' && o.replaces !== null) problems.push(`${path}.replaces: only a replace override names a user it replaces`);
  });
  schedule.temporary.forEach((t, i) => {
    span(t, `temporary.${i}`);
    if (t.users.length === 0) problems.push(`temporary.${i}.users: needs at least one user`);
  });
  return problems;
}
