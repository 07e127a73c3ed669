import type { NatsConnection } from '@nats-io/transport-node';
import type { DatabasePool } from 'slonik';
import { CONSUMERS, type AlertCommandKind, type Surface } from '@oncall/contracts';
import { AlertCommandPath, CommandNotAppended, UserDirectoryError, type Logger, type UserDirectory } from '@oncall/shared';
import { commandKey } from '../domain/commands.js';
import { DeadlineExceeded, FailedPrecondition, InvalidArgument, NotFound, Unavailable } from '../errors.js';
import type { CallContext } from '../handlers.js';
import { getAlert, type AlertRow } from '../read-model/alerts.js';
import type { ProjectionFeed } from './projection-feed.js';

/** A validated alert command from the API. */
export type AlertCommandInput = Readonly<{
  alertId: string;
  command: AlertCommandKind;
  userId: string;
  note: string;
  /** The client's idempotency key, or ''. */
  requestId: string;
  /** snooze: for how long. */
  snoozeSeconds: number | null;
  /** Where the person acted: the API, or the CLI and console that call it. */
  via?: Surface;
}>;

export type AlertCommandsDeps = Readonly<{
  nc: NatsConnection;
  partitions: number;
  pool: DatabasePool;
  feed: ProjectionFeed;
  /** Who may act: kneutral-api's UserService. Without it the acting user is not checked. */
  users: UserDirectory | null;
  log: Logger;
  /** Longest a command waits for its outcome to be visible, unless the client's deadline is sooner. */
  timeoutMs: number;
  now: () => number;
}>;

/**
 * Alert commands with read-your-writes, on the one command path (shared/commands.ts): the decider
 * answers, and the answer is the alert row once the alerts projection has applied the answer's
 * event. A command that changed nothing because the alert already is as asked (a repeated ack)
 * answers with the row; one for a closed alert is FAILED_PRECONDITION naming what happened. A user
 * the UserService does not know is INVALID_ARGUMENT on `user_id`, and nothing is appended.
 */
export class AlertCommands {
  private readonly path: AlertCommandPath;

  constructor(private readonly deps: AlertCommandsDeps) {
    this.path = new AlertCommandPath(deps.nc, { partitions: deps.partitions, now: deps.now });
  }

  async run(input: AlertCommandInput, ctx: CallContext): Promise<AlertRow> {
    const { pool } = this.deps;
    const row = await getAlert(pool, input.alertId);
    if (!row) throw new NotFound(`alert ${input.alertId} not found`);
    if (row.status === 'resolved') throw new FailedPrecondition(`alert ${row.id} is resolved`);
    await this.checkUser(input.userId);

    const timeout = AbortSignal.timeout(Math.max(0, Math.min(this.deps.timeoutMs, (ctx.deadline ?? Infinity) - this.deps.now())));
    const signal = AbortSignal.any([ctx.signal, timeout]);
    let intakeSeq: number | null = null;
    try {
      const answer = await this.path.submit(
        {
          target: { alertId: row.id, serviceId: row.service_id, fingerprint: row.fingerprint },
          command: input.command,
          userId: input.userId,
          via: input.via ?? 'api',
          note: input.note,
          ...(input.snoozeSeconds !== null && { snoozeSeconds: input.snoozeSeconds }),
          key: commandKey({ ...input, lastEventSeq: row.last_event_seq }),
        },
        signal,
      );
      intakeSeq = answer.intakeSeq;
      this.deps.log.debug({ alertId: row.id, command: input.command, intakeSeq, outcome: answer.outcome }, 'alert command answered');
      if (answer.outcome === 'declined' && answer.reason === 'closed') throw new FailedPrecondition(`alert ${row.id} is resolved`);
      if (answer.outcome === 'declined' && answer.reason === 'invalid') throw new InvalidArgument('duration', answer.message);
      await this.deps.feed.waitFor(CONSUMERS.projectorAlerts, answer.seq, signal);
    } catch (err) {
      if (err instanceof CommandNotAppended) throw new Unavailable(err.message, { cause: err });
      if (timeout.aborted && !ctx.signal.aborted) {
        const accepted = intakeSeq === null ? 'the command was appended' : `the command was accepted (intake sequence ${intakeSeq})`;
        throw new DeadlineExceeded(`${accepted} but its outcome was not visible within the deadline; it may still apply`, { cause: err });
      }
      throw err;
    }
    const updated = await getAlert(pool, row.id);
    if (!updated) throw new NotFound(`alert ${row.id} not found`);
    return updated;
  }

  /** The acting user exists (UserService); UNAVAILABLE when that cannot be told. */
  private async checkUser(userId: string): Promise<void> {
    const { users } = this.deps;
    if (!users) return;
    let missing: string[];
    try {
      ({ missing } = await users.getUsers([userId]));
    } catch (err) {
      if (err instanceof UserDirectoryError) throw new Unavailable(`cannot check user_id: ${err.message}`, { cause: err });
      throw err;
    }
    if (missing.includes(userId)) throw new InvalidArgument('user_id', `user ${userId} does not exist`);
  }
}
