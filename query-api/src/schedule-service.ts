import type { DatabasePool } from 'slonik';
import { type EventData, type Override, type Weekday } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { nextChangeAfter, onCallAt, ScheduleError, sha256Hex, type Logger } from '@oncall/shared';
import type { Consistency } from './consistency.js';
import { FailedPrecondition, InvalidArgument, NotFound } from './errors.js';
import { serverStream, unary } from './handlers.js';
import { getSchedule, listSchedules, toScheduleConfig, type ScheduleRow } from './read-model/schedules.js';
import { streamPage } from './list-page.js';
import { idPage } from './page-token.js';
import { required } from './validate.js';

const { RotationType, OverrideType, Weekday: ProtoWeekday } = alertingV1;

export const ROTATION_TYPE = {
  hourly: RotationType.ROTATION_TYPE_HOURLY,
  daily: RotationType.ROTATION_TYPE_DAILY,
  weekly: RotationType.ROTATION_TYPE_WEEKLY,
  monthly: RotationType.ROTATION_TYPE_MONTHLY,
} as const;
export const OVERRIDE_TYPE = {
  add: OverrideType.OVERRIDE_TYPE_ADD,
  remove: OverrideType.OVERRIDE_TYPE_REMOVE,
  replace: OverrideType.OVERRIDE_TYPE_REPLACE,
} as const;
export const WEEKDAY: Readonly<Record<Weekday, alertingV1.Weekday>> = {
  mon: ProtoWeekday.WEEKDAY_MONDAY,
  tue: ProtoWeekday.WEEKDAY_TUESDAY,
  wed: ProtoWeekday.WEEKDAY_WEDNESDAY,
  thu: ProtoWeekday.WEEKDAY_THURSDAY,
  fri: ProtoWeekday.WEEKDAY_FRIDAY,
  sat: ProtoWeekday.WEEKDAY_SATURDAY,
  sun: ProtoWeekday.WEEKDAY_SUNDAY,
};

/** "HH:MM" of an instant on the schedule's local clock (the rotation's handoff time). */
function localTime(iso: string, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
  } catch {
    return '';
  }
}

/**
 * An override's id: `<schedule>/<hash of its content>`, the same for the event and the read-model
 * row (times compared as instants), so DeleteOverride finds it whatever was written around it.
 * Two identical overrides share an id (deleting it deletes both).
 */
export function overrideId(scheduleId: string, o: Pick<Override, 'kind' | 'userId' | 'replaces' | 'start' | 'end'>): string {
  const content = JSON.stringify([o.kind, o.userId, o.replaces ?? '', Date.parse(o.start), Date.parse(o.end)]);
  return `${scheduleId}/${sha256Hex(content).slice(0, 16)}`;
}

/** A schedule event as the read model's row, to answer a write before the projector has run. */
export function rowOfEvent(s: EventData<'ScheduleConfigured'>, configuredAt: number): ScheduleRow {
  return {
    id: s.scheduleId,
    name: s.name,
    time_zone: s.timeZone,
    configured_at: configuredAt,
    rotations: s.rotations.map((r, position) => ({
      position,
      rotation_id: r.id,
      name: r.name,
      type: r.type,
      shift_length: r.shiftLength,
      starts_at: r.start,
      members: r.members,
      restrictions: r.restrictions,
    })),
    overrides: s.overrides.map((o, position) => ({
      position,
      kind: o.kind,
      user_id: o.userId,
      replaces: o.replaces,
      starts_at: o.start,
      ends_at: o.end,
    })),
    temporary: s.temporary.map((t, position) => ({ position, starts_at: t.start, ends_at: t.end, users: t.users })),
  };
}

/** A schedule as configured; `active_overrides` are the overrides not yet ended at `now`. */
export function toProtoSchedule(s: ScheduleRow, now: number): alertingV1.Schedule {
  return {
    id: s.id,
    name: s.name,
    description: '',
    timezone: s.time_zone,
    rotations: s.rotations.map((r) => ({
      id: r.rotation_id,
      scheduleId: s.id,
      name: r.name,
      rotationType: ROTATION_TYPE[r.type],
      shiftLength: r.shift_length,
      startTime: new Date(r.starts_at),
      handoffTime: localTime(r.starts_at, s.time_zone),
      memberUserIds: r.members,
      restrictions: r.restrictions.map((w) => ({ days: w.days.map((d) => WEEKDAY[d]), startLocalTime: w.from, endLocalTime: w.to })),
      layer: r.position,
    })),
    activeOverrides: s.overrides
      .filter((o) => Date.parse(o.ends_at) > now)
      .map((o) => ({
        id: overrideId(s.id, { kind: o.kind, userId: o.user_id, replaces: o.replaces, start: o.starts_at, end: o.ends_at }),
        scheduleId: s.id,
        overrideType: OVERRIDE_TYPE[o.kind],
        userId: o.user_id,
        replacedUserId: o.replaces ?? '',
        startTime: new Date(o.starts_at),
        endTime: new Date(o.ends_at),
        createdByUserId: '',
      })),
    createdAt: new Date(s.configured_at),
    updatedAt: new Date(s.configured_at),
  };
}

/**
 * ScheduleService's reads: schedules from the read model (`schedules` and their rotations,
 * overrides and temporary schedules); who is on call computed from the same rows by `onCallAt`,
 * the escalator's calculation. Each read first waits for the caller's own configuration writes
 * (consistency.ts). The writes are in schedule-writes.ts.
 */
export function scheduleService(
  pool: DatabasePool,
  log: Logger,
  now: () => number,
  consistency: Consistency,
): Partial<alertingV1.ScheduleServiceServer> {
  return {
    getSchedule: unary(
      log,
      'GetSchedule',
      consistency.read(async (req: alertingV1.GetScheduleRequest) => {
        const id = required('id', req.id);
        const row = await getSchedule(pool, id);
        if (!row) throw new NotFound(`schedule ${id} not found`);
        return toProtoSchedule(row, now());
      }),
    ),
    listSchedules: serverStream(log, 'ListSchedules', async (req: alertingV1.ListSchedulesRequest, write, ctx) => {
      await consistency.before(ctx);
      const page = idPage('schedules', req);
      const at = now();
      return streamPage({
        pageSize: page.pageSize,
        batch: page.pageSize,
        after: page.afterId,
        fetch: (after, limit) => listSchedules(pool, after, limit),
        keyOf: (row) => row.id,
        token: page.token,
        write: (row) => write(toProtoSchedule(row, at)),
        signal: ctx.signal,
      });
    }),
    getOnCallUsers: unary(
      log,
      'GetOnCallUsers',
      consistency.read(async (req: alertingV1.OnCallRequest): Promise<alertingV1.OnCallResponse> => {
        const id = required('schedule_id', req.scheduleId);
        const at = req.at ? req.at.getTime() : now();
        if (!Number.isFinite(at)) throw new InvalidArgument('at', 'is not a valid instant');
        const row = await getSchedule(pool, id);
        if (!row) throw new NotFound(`schedule ${id} not found`);
        const schedule = toScheduleConfig(row);
        try {
          const users = onCallAt(schedule, at);
          const next = nextChangeAfter(schedule, at);
          return {
            scheduleId: id,
            userIds: users.map((u) => u.userId),
            users: users.map((u) => ({ userId: u.userId, via: u.via })),
            validUntil: next === null ? undefined : new Date(next),
          };
        } catch (err) {
          if (!(err instanceof ScheduleError)) throw err;
          throw new FailedPrecondition(`schedule ${id} cannot be evaluated: ${err.message}`, { cause: err });
        }
      }),
    ),
  };
}
