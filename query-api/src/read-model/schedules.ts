import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { maybeRow, rows } from './db.js';
import { TimeWindow, type EventData } from '@oncall/contracts';

const ScheduleRow = z.object({
  id: z.string(),
  name: z.string(),
  time_zone: z.string(),
  configured_at: z.number(),
  rotations: z.array(
    z.object({
      position: z.number(),
      rotation_id: z.string(),
      name: z.string(),
      type: z.enum(['hourly', 'daily', 'weekly', 'monthly']),
      shift_length: z.number(),
      starts_at: z.string(),
      members: z.array(z.string()),
      restrictions: z.array(TimeWindow),
    }),
  ),
  overrides: z.array(
    z.object({
      position: z.number(),
      kind: z.enum(['add', 'remove', 'replace']),
      user_id: z.string(),
      replaces: z.string().nullable(),
      starts_at: z.string(),
      ends_at: z.string(),
    }),
  ),
  temporary: z.array(z.object({ position: z.number(), starts_at: z.string(), ends_at: z.string(), users: z.array(z.string()) })),
});
export type ScheduleRow = z.infer<typeof ScheduleRow>;

// Children as JSON: times render as ISO strings there (not through slonik's parsers).
const SELECT = sql.fragment`
  SELECT s.id, s.name, s.time_zone, s.configured_at,
    COALESCE((SELECT jsonb_agg(to_jsonb(r) - 'schedule_id' ORDER BY r.position) FROM schedule_rotations r WHERE r.schedule_id = s.id), '[]') AS rotations,
    COALESCE((SELECT jsonb_agg(to_jsonb(o) - 'schedule_id' ORDER BY o.position) FROM schedule_overrides o WHERE o.schedule_id = s.id), '[]') AS overrides,
    COALESCE((SELECT jsonb_agg(to_jsonb(t) - 'schedule_id' ORDER BY t.position) FROM schedule_temporary t WHERE t.schedule_id = s.id), '[]') AS temporary
  FROM schedules s`;

export async function getSchedule(pool: DatabasePool, id: string): Promise<ScheduleRow | null> {
  return maybeRow(pool, sql.type(ScheduleRow)`${SELECT} WHERE s.id = ${id}`);
}

/** Up to `limit` schedules after `afterId`, by id. */
export async function listSchedules(pool: DatabasePool, afterId: string | null, limit: number): Promise<readonly ScheduleRow[]> {
  const after = afterId === null ? sql.fragment`TRUE` : sql.fragment`s.id > ${afterId}`;
  return rows(pool, sql.type(ScheduleRow)`${SELECT} WHERE ${after} ORDER BY s.id LIMIT ${limit}`);
}

/**
 * The schedule as its ScheduleConfigured event had it (rows keep list order in `position`, and
 * times as instants: the calculation reads local times in the schedule's zone, not the offset
 * the file was written with).
 */
export function toScheduleConfig(s: ScheduleRow): EventData<'ScheduleConfigured'> {
  return {
    scheduleId: s.id,
    name: s.name,
    timeZone: s.time_zone,
    rotations: s.rotations.map((r) => ({
      id: r.rotation_id,
      name: r.name,
      type: r.type,
      shiftLength: r.shift_length,
      start: r.starts_at,
      members: r.members,
      restrictions: r.restrictions,
    })),
    overrides: s.overrides.map((o) => ({ kind: o.kind, userId: o.user_id, replaces: o.replaces, start: o.starts_at, end: o.ends_at })),
    temporary: s.temporary.map((t) => ({ start: t.starts_at, end: t.ends_at, users: t.users })),
  };
}
