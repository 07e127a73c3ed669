import { DateTime, IANAZone } from 'luxon';
import type { TimeWindow, Weekday } from '@oncall/contracts';
import type { Calendar } from './config.js';

/**
 * Wall-clock helpers in IANA time zones. luxon's `Settings.throwOnInvalid` is left alone (other
 * code shares the process), so every zone is checked with `IANAZone.isValidZone` first: an invalid
 * zone would otherwise give an invalid DateTime whose fields are NaN.
 */

const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Whether `zone` names an IANA time zone this runtime knows (`Europe/Berlin`, `UTC`). */
export function isValidTimeZone(zone: string): boolean {
  return zone.length > 0 && IANAZone.isValidZone(zone);
}

/** Minutes after local midnight of an "HH:mm" time of day. */
const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Whether a local instant (weekday index 0 = mon, minutes after midnight) lies inside any of the
 * windows. A window whose `to` is at or before its `from` wraps past midnight: 22:00–06:00 on mon
 * covers mon 22:00 to tue 06:00, and from == to covers 24 hours.
 */
export function inTimeWindows(windows: readonly TimeWindow[], weekday: number, minute: number): boolean {
  const today = WEEKDAYS[weekday];
  const yesterday = WEEKDAYS[(weekday + 6) % 7];
  if (today === undefined || yesterday === undefined) return false;
  for (const w of windows) {
    const from = minutesOf(w.from);
    const to = minutesOf(w.to);
    if (to > from) {
      if (minute >= from && minute < to && w.days.includes(today)) return true;
    } else {
      if (minute >= from && w.days.includes(today)) return true;
      if (minute < to && w.days.includes(yesterday)) return true;
    }
  }
  return false;
}

/**
 * Whether `epochMs` falls inside the calendar's business hours, in the calendar's zone, on a day
 * that is not one of its holidays. A calendar with an invalid zone is never inside its hours.
 */
export function inBusinessHours(calendar: Pick<Calendar, 'timeZone' | 'hours' | 'holidays'>, epochMs: number): boolean {
  if (!isValidTimeZone(calendar.timeZone)) return false;
  const local = DateTime.fromMillis(epochMs, { zone: calendar.timeZone });
  if (calendar.holidays.length > 0 && calendar.holidays.includes(local.toISODate() ?? '')) return false;
  return inTimeWindows(calendar.hours, local.weekday - 1, local.hour * 60 + local.minute);
}

export type LocalTimeResult = { ok: true; iso: string } | { ok: false; message: string };

const LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads a time written either with an offset (`2026-01-05T09:00:00+01:00`, `…Z`) or as local
 * wall-clock time (`2026-01-05T09:00`) in `zone`, and returns it as ISO 8601 with the zone's
 * offset at that instant, without milliseconds. A local time that does not exist in the zone
 * (skipped by a daylight-saving change) is an error rather than silently moved.
 */
export function toZonedIso(text: string, zone: string): LocalTimeResult {
  if (!isValidTimeZone(zone)) return { ok: false, message: `unknown time zone "${zone}"` };
  if (WITH_OFFSET.test(text)) {
    const dt = DateTime.fromISO(text, { setZone: true });
    if (!dt.isValid) return { ok: false, message: `not a valid time: ${dt.invalidExplanation ?? text}` };
    return { ok: true, iso: dt.setZone(zone).toISO({ suppressMilliseconds: true }) ?? text };
  }
  if (!LOCAL.test(text))
    return { ok: false, message: 'use ISO 8601 with an offset (2026-01-05T09:00:00+01:00) or local time (2026-01-05T09:00)' };
  const wall = DateTime.fromISO(text, { zone: 'UTC' });
  if (!wall.isValid) return { ok: false, message: `not a valid time: ${wall.invalidExplanation ?? text}` };
  const instant = localInstant(wall.toMillis(), zone);
  if (instant === null) return { ok: false, message: `${text} does not exist in ${zone} (the clocks skip it)` };
  return { ok: true, iso: DateTime.fromMillis(instant, { zone }).toISO({ suppressMilliseconds: true }) ?? text };
}

/**
 * The instant at which the zone's clocks show a wall-clock time (given as if it were UTC), or null
 * when they skip it. An ambiguous time (clocks falling back) takes the earlier occurrence, as
 * docs/schedules.md does. luxon's own `fromISO(local, { zone })` guesses with the offset at the
 * current date, so the same file would give different instants in summer and in winter.
 */
function localInstant(wallMs: number, zone: string): number | null {
  const z = IANAZone.create(zone);
  const day = 86_400_000;
  const offsets = new Set([z.offset(wallMs - day), z.offset(wallMs), z.offset(wallMs + day)]);
  const candidates = [...offsets].map((o) => wallMs - o * 60_000).filter((t) => wallMs - z.offset(t) * 60_000 === t);
  return candidates.length === 0 ? null : Math.min(...candidates);
}

/** Whether `date` (YYYY-MM-DD) is a real calendar date. */
export function isValidDate(date: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(date) && DateTime.fromISO(date, { zone: 'UTC' }).isValid;
}
