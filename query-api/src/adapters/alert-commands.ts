import { LIVE_PULL_EXPIRES_MS } from '@oncall/shared';
import { DeliverPolicy, jetstream, type ConsumerMessages, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DatabasePool } from 'slonik';
import {
  buildEvent,
  CONSUMERS,
  decodeEvent,
  encodeEvent,
  partitionOf,
  stableUuid,
  STREAMS,
  subjects,
  type AlertEvent,
  type EventData,
} from '@oncall/contracts';
import type { Logger } from '@oncall/shared';
import { afterForeignEvent, commandKey, expectedOutcome, type CommandKind, type Outcome } from '../domain/commands.js';
import { DeadlineExceeded, FailedPrecondition, NotFound, Unavailable } from '../errors.js';
import type { CallContext } from '../handlers.js';
import { acknowledgedSinceOpen, getAlert, type AlertRow } from '../read-model/alerts.js';
import type { ProjectionFeed } from './projection-feed.js';

/** A validated alert command from the API. */
export type AlertCommandInput = Readonly<{
  alertId: string;
  command: CommandKind;
  userId: string;
  note: string;
  /** The client's idempotency key, or ''. */
  requestId: string;
  /** snooze: for how long. */
  snoozeSeconds: number | null;
}>;

export type AlertCommandsDeps = Readonly<{
  nc: NatsConnection;
  partitions: number;
  pool: DatabasePool;
  feed: ProjectionFeed;
  log: Logger;
  /** Longest a command waits for its outcome to be visible, unless the client's deadline is sooner. */
  timeoutMs: number;
  now: () => number;
}>;

/**
 * Runs alert commands with read-your-writes: the command is appended to the alert's intake
 * partition as an AlertCommandReceived, the decider turns it into a lifecycle event on the
 * alert's ALERTS subject, and the answer is the alert row once the alerts projection has applied
 * that event. Waiting is event-driven throughout: an ordered consumer on the alert's subject
 * delivers the decision, the projection feed (LISTEN/NOTIFY) the commit.
 */
export class AlertCommands {
  private readonly js: JetStreamClient;

  constructor(private readonly deps: AlertCommandsDeps) {
    this.js = jetstream(deps.nc);
  }

  async run(input: AlertCommandInput, ctx: CallContext): Promise<AlertRow> {
    const { pool } = this.deps;
    const row = await getAlert(pool, input.alertId);
    if (!row) throw new NotFound(`alert ${input.alertId} not found`);
    const acked = row.status === 'acknowledged' && input.command === 'acknowledge' ? await acknowledgedSinceOpen(pool, row.id) : [];
    const outcome = expectedOutcome(input.command, input.userId, { status: row.status, acknowledgedSinceOpen: acked });
    if (outcome === 'rejected') throw new FailedPrecondition(`alert ${row.id} is resolved`);
    // Nothing would change: the decider would record no event to wait for.
    if (outcome === 'unchanged') return row;

    const timeout = AbortSignal.timeout(Math.max(0, Math.min(this.deps.timeoutMs, (ctx.deadline ?? Infinity) - this.deps.now())));
    const signal = AbortSignal.any([ctx.signal, timeout]);
    const partition = partitionOf(row.service_id, row.fingerprint, this.deps.partitions);
    const event = this.commandEvent(input, row);
    let intake: { seq: number; duplicate: boolean };
    try {
      intake = await this.js.publish(subjects.intake(partition), encodeEvent(event), { msgID: event.id });
    } catch (cause) {
      throw new Unavailable('the intake stream did not accept the command', { cause });
    }
    this.deps.log.debug(
      { alertId: row.id, command: input.command, intakeSeq: intake.seq, duplicate: intake.duplicate },
      'alert command appended',
    );

    try {
      const decided = await this.decision(partition, row, input, event.id, intake.duplicate, signal);
      if (decided.outcome === 'rejected') throw new FailedPrecondition(`alert ${row.id} was resolved before the command was decided`);
      await this.deps.feed.waitFor(CONSUMERS.projectorAlerts, decided.seq, signal);
    } catch (err) {
      if (timeout.aborted && !ctx.signal.aborted) {
        throw new DeadlineExceeded(
          `the command was accepted (intake sequence ${intake.seq}) but its outcome was not visible within the deadline; it may still apply`,
          { cause: err },
        );
      }
      throw err;
    }
    const updated = await getAlert(pool, row.id);
    if (!updated) throw new NotFound(`alert ${row.id} not found`);
    return updated;
  }

  private commandEvent(input: AlertCommandInput, row: AlertRow) {
    const now = this.deps.now();
    const key = commandKey({ ...input, lastEventSeq: row.last_event_seq });
    const data: EventData<'AlertCommandReceived'> = {
      alertId: row.id,
      serviceId: row.service_id,
      fingerprint: row.fingerprint,
      command: input.command,
      userId: input.userId,
      note: input.note,
      until: input.snoozeSeconds === null ? null : new Date(now + input.snoozeSeconds * 1000).toISOString(),
      reason: input.command === 'unacknowledge' ? 'user' : '',
    };
    return buildEvent('AlertCommandReceived', data, {
      id: stableUuid(key),
      occurredAt: new Date(now).toISOString(),
      causationId: null,
      correlationId: row.id,
    });
  }

  /**
   * Reads the alert's subject after the row's last projected event until the decider's answer to
   * the command (an event it caused), or a foreign event that settles it (see afterForeignEvent).
   * A duplicate append (a retried request) may have been decided before the row was read, so
   * it reads the subject from its start, judging only later events as foreign.
   */
  private async decision(
    partition: number,
    row: AlertRow,
    input: AlertCommandInput,
    commandId: string,
    duplicate: boolean,
    signal: AbortSignal,
  ): Promise<{ outcome: Outcome; seq: number }> {
    signal.throwIfAborted();
    const consumer = await this.js.consumers.get(STREAMS.alerts, {
      filter_subjects: subjects.alert(partition, row.id),
      ...(duplicate
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: row.last_event_seq + 1 }),
    });
    const messages: ConsumerMessages = await consumer.consume({ expires: LIVE_PULL_EXPIRES_MS });
    const stop = (): void => void messages.close();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const m of messages) {
        const event = decodeEvent(m.data, { trusted: true }) as AlertEvent;
        if (event.causationId === commandId) return { outcome: 'change', seq: m.seq };
        if (m.seq <= row.last_event_seq) continue;
        const userId = 'userId' in event.data ? event.data.userId : null;
        const settled = afterForeignEvent(input.command, input.userId, { type: event.type, userId });
        if (settled !== 'pending') return { outcome: settled, seq: m.seq };
      }
      signal.throwIfAborted();
      throw new Unavailable('the alert stream ended before the command was decided');
    } finally {
      signal.removeEventListener('abort', stop);
      await messages.close();
      await consumer.delete().catch(() => undefined);
    }
  }
}
