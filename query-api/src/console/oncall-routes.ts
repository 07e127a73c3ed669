import type { FastifyInstance } from 'fastify';
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { OverrideRequest, type OnCallView, type OverrideView } from '@oncall/contracts';
import type { Logger, UserDirectory } from '@oncall/shared';
import type { Consistency } from '../consistency.js';
import type { CallContext } from '../handlers.js';
import { listSchedules, toScheduleConfig } from '../read-model/schedules.js';
import { createOverride, type ScheduleWriteDeps } from '../schedule-writes.js';
import type { ConsoleAuth } from './auth.js';
import { HttpError, parsed, toHttpError } from './http-errors.js';
import { DEFAULT_DAYS, MAX_DAYS, scheduleTimeline } from './oncall-view.js';
import { mayAct, type ConsoleCaller } from './session.js';

/** Schedules one view shows at most. */
const MAX_SCHEDULES = 500;

const OnCallQuery = z
  .object({
    from: z.string().datetime({ offset: true }).optional(),
    days: z.coerce.number().int().min(1).max(MAX_DAYS).optional(),
    at: z.string().datetime({ offset: true }).optional(),
  })
  .strict();

/** The gRPC-side names of override fields, as the console's request names them. */
const OVERRIDE_FIELDS = {
  user_id: 'userId',
  replaced_user_id: 'replaceUserId',
  start_time: 'start',
  end_time: 'end',
  override_type: 'replaceUserId',
  schedule_id: 'id',
};

export type OnCallRouteDeps = Readonly<{
  auth: ConsoleAuth;
  pool: DatabasePool;
  users: UserDirectory | null;
  consistency: Consistency;
  writes: ScheduleWriteDeps;
  log: Logger;
  now: () => number;
}>;

/** A request as the command and read-your-writes code knows a call: the caller's token names "its own writes". */
function contextOf(caller: ConsoleCaller, signal: AbortSignal): CallContext {
  return { signal, deadline: null, caller: { tokenId: caller.tokenId, userId: caller.userId, scopes: caller.scopes } };
}

/** `GET /api/oncall` and `POST /api/schedules/<id>/overrides`. */
export function registerOnCallRoutes(app: FastifyInstance, deps: OnCallRouteDeps): void {
  const { auth, pool } = deps;

  app.get('/api/oncall', async (req, reply): Promise<OnCallView> => {
    const caller = await auth.require(req, reply, 'read');
    const q = parsed(OnCallQuery, req.query);
    const now = deps.now();
    const from = q.from === undefined ? now : Date.parse(q.from);
    const to = from + (q.days ?? DEFAULT_DAYS) * 86_400_000;
    const at = q.at === undefined ? now : Date.parse(q.at);
    // A caller's own override shows in the view that follows it.
    await deps.consistency.before(contextOf(caller, AbortSignal.timeout(5_000)));
    const rows = await listSchedules(pool, null, MAX_SCHEDULES);
    const schedules = rows.map(toScheduleConfig);
    const names = await namesOf(
      deps,
      schedules.flatMap((s) => [...s.rotations.flatMap((r) => r.members), ...s.overrides.map((o) => o.userId)]),
    );
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      at: new Date(at).toISOString(),
      schedules: schedules.map((s) => scheduleTimeline(s, { from, to, at }, (id) => names.get(id) ?? id)),
    };
  });

  app.post<{ Params: { id: string } }>('/api/schedules/:id/overrides', async (req, reply): Promise<OverrideView> => {
    const caller = await auth.require(req, reply, 'read');
    const body = parsed(OverrideRequest, req.body);
    const allowed = mayAct(caller, 'write');
    if (!allowed.ok) throw new HttpError(allowed.status, allowed.error);
    if (Date.parse(body.end) <= Date.parse(body.start)) throw new HttpError(400, 'end: must be after start', 'end');
    const kind = body.replaceUserId === undefined ? 'add' : 'replace';
    try {
      const stored = await createOverride(deps.writes, contextOf(caller, AbortSignal.timeout(30_000)), {
        scheduleId: req.params.id,
        kind,
        userId: body.userId,
        replaces: body.replaceUserId ?? null,
        start: new Date(body.start).toISOString(),
        end: new Date(body.end).toISOString(),
      });
      deps.log.info({ scheduleId: req.params.id, overrideId: stored.id, by: allowed.userId }, 'override created from the console');
      return {
        id: stored.id,
        scheduleId: req.params.id,
        kind,
        userId: stored.userId,
        replaces: stored.replaces,
        // As stored: in the schedule's zone; the console speaks UTC.
        start: new Date(stored.start).toISOString(),
        end: new Date(stored.end).toISOString(),
      };
    } catch (err) {
      throw toHttpError(err, OVERRIDE_FIELDS);
    }
  });
}

/** Display names from the UserService; ids stand in when it has none or cannot be asked. */
async function namesOf(deps: OnCallRouteDeps, ids: readonly string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if (!deps.users || ids.length === 0) return names;
  try {
    const { users } = await deps.users.getUsers([...new Set(ids)]);
    for (const [id, u] of users) names.set(id, u.name);
  } catch (err) {
    deps.log.warn({ err }, 'user names unavailable for the on-call view');
  }
  return names;
}
