import type { FastifyInstance } from 'fastify';
import type { DatabasePool } from 'slonik';
import { ActionRequest, type ActionResult } from '@oncall/contracts';
import type { AlertCommands } from '../adapters/alert-commands.js';
import { FailedPrecondition, NotFound } from '../errors.js';
import { alertIdOf, commandOf, doneMessage } from './actions.js';
import { readAlertPage } from './alert-page.js';
import type { ConsoleAuth } from './auth.js';
import { HttpError, parsed, toHttpError } from './http-errors.js';
import { mayAct } from './session.js';

/** `GET /api/alerts/<id>` and `POST /api/alerts/<id>/actions`. */
export function registerAlertRoutes(
  app: FastifyInstance,
  deps: { auth: ConsoleAuth; pool: DatabasePool; commands: AlertCommands | null; traceUrl: string | null },
): void {
  const { auth, pool } = deps;

  app.get<{ Params: { id: string } }>('/api/alerts/:id', async (req, reply) => {
    const caller = await auth.require(req, reply, 'read');
    return readAlertPage(pool, alertIdOf(req.params.id), caller, deps.traceUrl);
  });

  app.post<{ Params: { id: string } }>('/api/alerts/:id/actions', async (req, reply): Promise<ActionResult> => {
    const caller = await auth.require(req, reply, 'read');
    const alertId = alertIdOf(req.params.id);
    const body = parsed(ActionRequest, req.body);
    const allowed = mayAct(caller, 'respond');
    if (!allowed.ok) throw new HttpError(allowed.status, allowed.error);
    if (!deps.commands) throw new HttpError(503, 'alert commands need NATS and the projection feed, which this server was started without');
    const input = commandOf(alertId, body, allowed.userId);
    const abort = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    try {
      const row = await deps.commands.run(input, { signal: abort.signal, deadline: null });
      return { outcome: 'applied', status: row.status, message: doneMessage(body.action, row.status) };
    } catch (err) {
      if (err instanceof NotFound)
        throw new HttpError(404, err.message, undefined, { outcome: 'not_found', status: null, message: err.message });
      if (err instanceof FailedPrecondition)
        throw new HttpError(409, err.message, undefined, { outcome: 'already_resolved', status: 'resolved', message: err.message });
      throw toHttpError(err, { user_id: 'actAs', duration: 'minutes', note: 'note' });
    }
  });
}
