import type { DatabasePool } from 'slonik';
import { alertingV1, type Weekday } from '@oncall/contracts';
import { nextChangeAfter, onCallAt, ScheduleError, type Logger } from '@oncall/shared';
import { FailedPrecondition, InvalidArgument, NotFound } from './errors.js';
import { serverStream, unary } from './handlers.js';
import { getSchedule, listSchedules, toScheduleConfig, type ScheduleRow } from './read-model/schedules.js';
import { streamPage } from './list-page.js';
import { idPage } from './page-token.js';
import { required } from './validate.js';

const { RotationType, OverrideType, Weekday: ProtoWeekday } = alertingV1;

const ROTATION_TYPE = {
  hourly: RotationType.ROTATION_TYPE_HOURLY,
  daily: RotationType.ROTATION_TYPE_DAILY,
  weekly: RotationType.ROTATION_TYPE_WEEKLY,
  monthly: RotationType.ROTATION_TYPE_MONTHLY,
} as const;
const OVERRIDE_TYPE = {
  add: OverrideType.OVERRIDE_TYPE_ADD,
  remove: OverrideType.OVERRIDE_TYPE_REMOVE,
  replace: OverrideType.OVERRIDE_TYPE_REPLACE,
} as const;
const WEEKDAY: Readonly<Record<Weekday, alertingV1.Weekday>> = {
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
        id: `${s.id}/${o.position}`,
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
 * ScheduleService: schedules from the read model (`schedules` and their rotations, overrides and
 * temporary schedules); who is on call computed from the same rows by `onCallAt`, the escalator's
 * calculation. Schedules are written by `oncall apply`: the write RPCs stay UNIMPLEMENTED.
 */
export function scheduleService(pool: DatabasePool, log: Logger, now: () => number): Partial<alertingV1.ScheduleServiceServer> {
  return {
    getSchedule: unary(log, 'GetSchedule', async (req: alertingV1.GetScheduleRequest) => {
      const id = required('id', req.id);
      const row = await getSchedule(pool, id);
      if (!row) throw new NotFound(`schedule ${id} not found`);
      return toProtoSchedule(row, now());
    }),
    listSchedules: serverStream(log, 'ListSchedules', async (req: alertingV1.ListSchedulesRequest, write, ctx) => {
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
    getOnCallUsers: unary(log, 'GetOnCallUsers', async (req: alertingV1.OnCallRequest): Promise<alertingV1.OnCallResponse> => {
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
  };
}
