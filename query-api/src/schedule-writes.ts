import type { NatsConnection } from '@nats-io/transport-node';
import { type EventData, type Weekday } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { knownUsersIn, type Logger, type UserDirectory } from '@oncall/shared';
import { apiActor, ConfigEditError, editConfig, type ConfigEdit, type ConfigFile, type PruneTarget } from '@oncall/shared/config-file';
import { callerOf, type Consistency } from './consistency.js';
import { FailedPrecondition, InvalidArgument, NotFound, Unavailable } from './errors.js';
import { unary, type CallContext } from './handlers.js';
import { OVERRIDE_TYPE, overrideId, ROTATION_TYPE, rowOfEvent, toProtoSchedule, WEEKDAY } from './schedule-service.js';
import { required } from './validate.js';

/**
 * ScheduleService's writes. Each maps the request to a change of the configuration file's
 * schedule and goes through editConfig: the same checks as `oncall apply` (time zones, times,
 * references, users), appended to the CONFIG stream as the API's actor. The answer is built from
 * the appended event; the sequence goes out in `x-oncall-log-sequence` (read-your-writes).
 */

type FileSchedule = ConfigFile['schedules'][number];
type FileRotation = FileSchedule['rotations'][number];
export type ScheduleWriteDeps = {
  nc: NatsConnection | undefined;
  users: UserDirectory | null;
  consistency: Consistency;
  log: Logger;
  now: () => number;
};
type Deps = ScheduleWriteDeps;

/** File fields as the proto names them. */
const PROTO_FIELD: Record<string, string> = {
  timeZone: 'timezone',
  type: 'rotation_type',
  shiftLength: 'shift_length',
  start: 'start_time',
  end: 'end_time',
  members: 'member_user_ids',
  from: 'start_local_time',
  to: 'end_local_time',
  user: 'user_id',
  replaces: 'replaced_user_id',
  kind: 'override_type',
};
const protoPath = (path: ReadonlyArray<string | number>): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${PROTO_FIELD[p] ?? p}`)).join('');

const byId = <T extends { id: string }>(list: T[], id: string): number => list.findIndex((x) => x.id === id);

function scheduleIn(file: ConfigFile, id: string): FileSchedule {
  const s = file.schedules.find((x) => x.id === id);
  if (!s) throw new NotFound(`schedule ${id} not found`);
  return s;
}

/** A proto timestamp as ISO 8601, or the field's error. */
function instant(field: string, t: Date | undefined): string {
  if (!t) throw new InvalidArgument(field, 'is required');
  if (!Number.isFinite(t.getTime())) throw new InvalidArgument(field, 'is not a valid instant');
  return t.toISOString();
}

const WEEKDAY_OF = new Map<alertingV1.Weekday, Weekday>(Object.entries(WEEKDAY).map(([d, w]) => [w, d as Weekday]));
const ROTATION_TYPE_OF = new Map<alertingV1.RotationType, FileRotation['type']>(
  Object.entries(ROTATION_TYPE).map(([t, v]) => [v, t as FileRotation['type']]),
);
const OVERRIDE_KIND_OF = new Map<alertingV1.OverrideType, 'add' | 'remove' | 'replace'>(
  Object.entries(OVERRIDE_TYPE).map(([k, v]) => [v, k as 'add' | 'remove' | 'replace']),
);

/** A proto rotation as the file's; `prefix` names it in errors (`rotation`, `rotations[1]`). */
function rotationOf(r: alertingV1.Rotation | undefined, prefix: string, id: string): FileRotation {
  if (!r) throw new InvalidArgument(prefix, 'is required');
  const type = ROTATION_TYPE_OF.get(r.rotationType);
  if (!type) throw new InvalidArgument(`${prefix}.rotation_type`, 'use HOURLY, DAILY, WEEKLY or MONTHLY');
  return {
    id,
    name: r.name || id,
    type,
    shiftLength: r.shiftLength || 1,
    start: instant(`${prefix}.start_time`, r.startTime),
    members: [...r.memberUserIds],
    restrictions: r.restrictions.map((w, i) => ({
      days: w.days.map((d, j) => {
        const day = WEEKDAY_OF.get(d);
        if (!day) throw new InvalidArgument(`${prefix}.restrictions[${i}].days[${j}]`, 'use MONDAY … SUNDAY');
        return day;
      }),
      from: w.startLocalTime,
      to: w.endLocalTime,
    })),
  };
}

/** An id from a name: `NOC primary` → `noc-primary`, with `-2`, `-3` … when taken. */
function idFrom(name: string, taken: (id: string) => boolean): string {
  const base =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'x';
  let id = base;
  for (let n = 2; taken(id); n++) id = `${base}-${n}`;
  return id;
}

/**
 * Runs an edit of schedule `scheduleId` (found again by id after the edit to place errors) and
 * returns the schedule as appended (as it was when nothing changed) with the stream sequence.
 */
async function writeSchedule(
  deps: Deps,
  ctx: CallContext,
  scheduleId: () => string,
  edit: ConfigEdit,
  prefixOf: (path: ReadonlyArray<string | number>) => string | null,
  prune: PruneTarget[] = [],
): Promise<{ seq: number; schedule: EventData<'ScheduleConfigured'> | null }> {
  if (!deps.nc) throw new Unavailable('configuration writes need NATS');
  let index = -1;
  let before: EventData<'ScheduleConfigured'> | null = null;
  const users = deps.users;
  try {
    const { seq, planned } = await editConfig(
      deps.nc,
      (file, state) => {
        const edited = edit(file, state) ?? file;
        index = byId(edited.schedules, scheduleId());
        before = state.schedules.get(scheduleId()) ?? null;
        return edited;
      },
      {
        actor: apiActor(callerOf(ctx) ?? 'unknown'),
        prune,
        ...(users && {
          knownUsers: knownUsersIn(users),
          usersSource: 'the user directory',
        }),
      },
    );
    deps.consistency.wrote(ctx, seq);
    const event = planned.find((p) => p.type === 'ScheduleConfigured');
    return { seq, schedule: event?.type === 'ScheduleConfigured' ? event.data : before };
  } catch (err) {
    if (!(err instanceof ConfigEditError)) throw err;
    const own = err.issues.filter((i) => i.path[0] === 'schedules' && i.path[1] === index);
    const first = own[0];
    if (first) {
      const field = prefixOf(first.path.slice(2)) ?? protoPath(first.path.slice(2));
      throw new InvalidArgument(field, own.map((i) => i.message).join('; '));
    }
    const unchecked = err.issues.find((i) => i.path.length === 0);
    if (unchecked) throw new Unavailable(unchecked.message, { cause: err });
    const where = err.issues.map((i) => `${i.field}: ${i.message}`).join('; ');
    throw new FailedPrecondition(
      err.issues.some((i) => i.missing) ? `still in use: ${where}` : `the change breaks the configuration: ${where}`,
      { cause: err },
    );
  }
}

/** An override as the console and CreateOverride ask for it (validated fields). */
export type OverrideInput = Readonly<{
  scheduleId: string;
  kind: 'add' | 'remove' | 'replace';
  userId: string;
  replaces: string | null;
  start: string;
  end: string;
}>;

/**
 * Adds an override to a schedule (CreateOverride and the console's `POST /api/schedules/<id>/overrides`):
 * the same edit, checks and errors (fields named as the proto names them); the override as stored.
 */
export async function createOverride(
  deps: Deps,
  ctx: CallContext,
  o: OverrideInput,
): Promise<{ id: string; kind: OverrideInput['kind']; userId: string; replaces: string | null; start: string; end: string }> {
  const { scheduleId, kind, userId: user, replaces, start, end } = o;
  const { schedule } = await writeSchedule(
    deps,
    ctx,
    () => scheduleId,
    (f) => void scheduleIn(f, scheduleId).overrides.push({ kind, user, replaces, start, end }),
    (rest) => (rest[0] === 'overrides' ? protoPath(rest.slice(2)) : null),
  );
  const asked = { kind, userId: user, replaces, start, end };
  const stored = schedule?.overrides.find((x) => overrideId(scheduleId, x) === overrideId(scheduleId, asked)) ?? asked;
  return { id: overrideId(scheduleId, stored), kind, userId: user, replaces, start: stored.start, end: stored.end };
}

export function scheduleWrites(deps: Deps): Partial<alertingV1.ScheduleServiceServer> {
  const { log } = deps;
  const write = (...args: Parameters<typeof writeSchedule> extends [Deps, ...infer Rest] ? Rest : never) => writeSchedule(deps, ...args);

  const schedulePath = (rest: ReadonlyArray<string | number>) => protoPath(rest);

  return {
    createSchedule: unary(log, 'CreateSchedule', async (req: alertingV1.CreateScheduleRequest, ctx) => {
      const name = required('name', req.name);
      const timeZone = required('timezone', req.timezone);
      let id = '';
      const { schedule } = await write(
        ctx,
        () => id,
        (f) => {
          id = idFrom(name, (x) => f.schedules.some((s) => s.id === x));
          const rotations = req.rotations.map((r, i) =>
            rotationOf(r, `rotations[${i}]`, r.id || idFrom(r.name || `r${i + 1}`, () => false)),
          );
          f.schedules.push({ id, name, timeZone, rotations, overrides: [], temporary: [] });
        },
        schedulePath,
      );
      return toProtoSchedule(rowOfEvent(schedule!, deps.now()), deps.now());
    }),

    updateSchedule: unary(log, 'UpdateSchedule', async (req: alertingV1.UpdateScheduleRequest, ctx) => {
      const id = required('id', req.id);
      const { schedule } = await write(
        ctx,
        () => id,
        (f) => {
          const s = scheduleIn(f, id);
          if (req.name) s.name = req.name;
          if (req.timezone) s.timeZone = req.timezone;
        },
        schedulePath,
      );
      return toProtoSchedule(rowOfEvent(schedule!, deps.now()), deps.now());
    }),

    deleteSchedule: unary(log, 'DeleteSchedule', async (req: alertingV1.DeleteScheduleRequest, ctx) => {
      const id = required('id', req.id);
      const { seq } = await write(
        ctx,
        () => id,
        (f) => {
          scheduleIn(f, id);
          f.schedules = f.schedules.filter((s) => s.id !== id);
        },
        schedulePath,
        [{ section: 'schedules', id }],
      );
      return { deleted: true, logSequence: seq };
    }),

    createOverride: unary(log, 'CreateOverride', async (req: alertingV1.CreateOverrideRequest, ctx): Promise<alertingV1.Override> => {
      const scheduleId = required('schedule_id', req.scheduleId);
      const kind = OVERRIDE_KIND_OF.get(req.overrideType);
      if (!kind) throw new InvalidArgument('override_type', 'use ADD, REMOVE or REPLACE');
      const userId = required('user_id', req.userId);
      const start = instant('start_time', req.startTime);
      const end = instant('end_time', req.endTime);
      const replaces = kind === 'replace' ? required('replaced_user_id', req.replacedUserId) : req.replacedUserId || null;
      const stored = await createOverride(deps, ctx, { scheduleId, kind, userId, replaces, start, end });
      return {
        id: stored.id,
        scheduleId,
        overrideType: OVERRIDE_TYPE[kind],
        userId,
        replacedUserId: replaces ?? '',
        startTime: new Date(stored.start),
        endTime: new Date(stored.end),
        createdByUserId: req.createdByUserId,
      };
    }),

    deleteOverride: unary(log, 'DeleteOverride', async (req: alertingV1.DeleteOverrideRequest, ctx) => {
      const scheduleId = required('schedule_id', req.scheduleId);
      const id = required('override_id', req.overrideId);
      const { seq } = await write(
        ctx,
        () => scheduleId,
        (f) => {
          const s = scheduleIn(f, scheduleId);
          const kept = s.overrides.filter((o) => overrideId(scheduleId, { ...o, userId: o.user }) !== id);
          if (kept.length === s.overrides.length) throw new NotFound(`override ${id} not found in schedule ${scheduleId}`);
          s.overrides = kept;
        },
        schedulePath,
      );
      return { deleted: true, logSequence: seq };
    }),

    addRotation: unary(log, 'AddRotation', async (req: alertingV1.AddRotationRequest, ctx) => {
      const scheduleId = required('schedule_id', req.scheduleId);
      let rotationId = '';
      const { schedule } = await write(
        ctx,
        () => scheduleId,
        (f) => {
          const s = scheduleIn(f, scheduleId);
          rotationId = req.rotation?.id || idFrom(req.rotation?.name || 'rotation', (x) => s.rotations.some((r) => r.id === x));
          if (s.rotations.some((r) => r.id === rotationId))
            throw new InvalidArgument('rotation.id', `schedule ${scheduleId} already has rotation ${rotationId}`);
          s.rotations.push(rotationOf(req.rotation, 'rotation', rotationId));
        },
        rotationField,
      );
      return rotationAnswer(scheduleId, rotationId, schedule);
    }),

    updateRotation: unary(log, 'UpdateRotation', async (req: alertingV1.UpdateRotationRequest, ctx) => {
      const scheduleId = required('schedule_id', req.scheduleId);
      const rotationId = required('rotation.id', req.rotation?.id ?? '');
      const { schedule } = await write(
        ctx,
        () => scheduleId,
        (f) => {
          const s = scheduleIn(f, scheduleId);
          const at = byId(s.rotations, rotationId);
          if (at < 0) throw new NotFound(`rotation ${rotationId} not found in schedule ${scheduleId}`);
          s.rotations[at] = rotationOf(req.rotation, 'rotation', rotationId);
        },
        rotationField,
      );
      return rotationAnswer(scheduleId, rotationId, schedule);
    }),

    removeRotation: unary(log, 'RemoveRotation', async (req: alertingV1.RemoveRotationRequest, ctx) => {
      const scheduleId = required('schedule_id', req.scheduleId);
      const rotationId = required('rotation_id', req.rotationId);
      const { seq } = await write(
        ctx,
        () => scheduleId,
        (f) => {
          const s = scheduleIn(f, scheduleId);
          if (byId(s.rotations, rotationId) < 0) throw new NotFound(`rotation ${rotationId} not found in schedule ${scheduleId}`);
          s.rotations = s.rotations.filter((r) => r.id !== rotationId);
        },
        schedulePath,
      );
      return { removed: true, logSequence: seq };
    }),
  };

  function rotationAnswer(scheduleId: string, rotationId: string, schedule: EventData<'ScheduleConfigured'> | null): alertingV1.Rotation {
    const rotation = schedule && toProtoSchedule(rowOfEvent(schedule, deps.now()), deps.now()).rotations.find((r) => r.id === rotationId);
    if (!rotation) throw new NotFound(`rotation ${rotationId} not found in schedule ${scheduleId}`);
    return rotation;
  }
}

/** `rotations[j].members[0]` → `rotation.member_user_ids[0]`. */
function rotationField(rest: ReadonlyArray<string | number>): string | null {
  return rest[0] === 'rotations' && rest.length > 2 ? `rotation.${protoPath(rest.slice(2))}` : null;
}
