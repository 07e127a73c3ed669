import { randomUUID } from 'node:crypto';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  buildEvent,
  decodeEvent,
  encodeEvent,
  partitionOf,
  stableUuid,
  STREAMS,
  subjects,
  type AlertCommandKind,
  type AlertEvent,
  type EventData,
  type Surface,
} from '@oncall/contracts';
import { LIVE_PULL_EXPIRES_MS } from './consumer.js';

/** The alert a command is for, as the read model (or a signed link, a reply code) knows it. */
export type CommandTarget = Readonly<{ alertId: string; serviceId: string; fingerprint: string }>;

/** A person's action on an alert, from any surface. */
export type AlertCommandRequest = Readonly<{
  target: CommandTarget;
  command: AlertCommandKind;
  /** The kneutral-api user id of who acted (null: the pipeline itself). */
  userId: string | null;
  via: Surface;
  note?: string;
  /** snooze: for how long. */
  snoozeSeconds?: number;
  /** unacknowledge: why. */
  reason?: string;
  /**
   * Idempotency: requests with the same key are appended once (within the intake's duplicate
   * window) and get the same answer — a retried HTTP call, Slack's retry of a button press.
   * Without one, each request is a new command.
   */
  key?: string;
}>;

export type Declined = EventData<'AlertCommandDeclined'>;

/** The decider's answer to a command, as recorded in the log. */
export type CommandAnswer =
  | Readonly<{ outcome: 'changed'; event: AlertEvent; seq: number; intakeSeq: number }>
  | Readonly<{
      outcome: 'declined';
      reason: Declined['reason'];
      message: string;
      status: Declined['status'];
      lastChange: Declined['lastChange'];
      seq: number;
      intakeSeq: number;
    }>;

export class CommandNotAppended extends Error {
  override readonly name = 'CommandNotAppended';
}

/**
 * The one path every person's action takes — gRPC, Slack, SMS, voice, e-mail links, the CLI:
 * the command is appended to the alert's intake partition as AlertCommandReceived, the decider
 * (the only place the lifecycle rules live) answers it on the alert's subject with the event it
 * caused or AlertCommandDeclined, and `submit` returns that answer. Surfaces only validate their
 * request and say the answer in their own words.
 */
export class AlertCommandPath {
  private readonly js: JetStreamClient;
  private jsm: JetStreamManager | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: Readonly<{ partitions: number; now?: () => number }>,
  ) {
    this.js = jetstream(nc);
  }

  /** Appends the command; throws CommandNotAppended when the intake stream does not take it. */
  private async append(req: AlertCommandRequest): Promise<{ commandId: string; intakeSeq: number; duplicate: boolean; partition: number }> {
    const now = this.opts.now?.() ?? Date.now();
    const { target } = req;
    const partition = partitionOf(target.serviceId, target.fingerprint, this.opts.partitions);
    const data: EventData<'AlertCommandReceived'> = {
      alertId: target.alertId,
      serviceId: target.serviceId,
      fingerprint: target.fingerprint,
      command: req.command,
      userId: req.userId,
      note: req.note ?? '',
      until: req.command === 'snooze' && req.snoozeSeconds !== undefined ? new Date(now + req.snoozeSeconds * 1000).toISOString() : null,
      reason: req.reason ?? (req.command === 'unacknowledge' ? 'user' : ''),
      via: req.via,
    };
    const id = req.key === undefined ? randomUUID() : stableUuid(`command:${req.key}`);
    const event = buildEvent('AlertCommandReceived', data, {
      id,
      occurredAt: new Date(now).toISOString(),
      causationId: null,
      correlationId: target.alertId,
    });
    try {
      const ack = await this.js.publish(subjects.intake(partition), encodeEvent(event), { msgID: id });
      return { commandId: id, intakeSeq: ack.seq, duplicate: ack.duplicate, partition };
    } catch (cause) {
      throw new CommandNotAppended('the intake stream did not accept the command', { cause });
    }
  }

  /** Appends the command and waits for the decider's answer (until `signal` aborts). */
  async submit(req: AlertCommandRequest, signal: AbortSignal): Promise<CommandAnswer> {
    signal.throwIfAborted();
    const partition = partitionOf(req.target.serviceId, req.target.fingerprint, this.opts.partitions);
    const subject = subjects.alert(partition, req.target.alertId);
    // The subject's end before the append: the answer comes after it (an alert's busy subject is not read again).
    const jsm = (this.jsm ??= await jetstreamManager(this.nc));
    const end = await jsm.streams.getMessage(STREAMS.alerts, { last_by_subj: subject }).then(
      (m) => m?.seq ?? 0,
      () => 0,
    );
    const appended = await this.append(req);
    // A retried command may have been answered long ago: then the subject is read from its start.
    return this.answer(subject, appended.duplicate ? 0 : end, appended.commandId, appended.intakeSeq, signal);
  }

  /** Reads the alert's subject after sequence `after` until the event the command caused. */
  private async answer(subject: string, after: number, commandId: string, intakeSeq: number, signal: AbortSignal): Promise<CommandAnswer> {
    const consumer = await this.js.consumers.get(STREAMS.alerts, {
      filter_subjects: subject,
      ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All }),
    });
    const messages = await consumer.consume({ expires: LIVE_PULL_EXPIRES_MS });
    const stop = (): void => void messages.close();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const m of messages) {
        const event = decodeEvent(m.data, { trusted: true }) as AlertEvent;
        if (event.causationId !== commandId) continue;
        if (event.type !== 'AlertCommandDeclined') return { outcome: 'changed', event, seq: m.seq, intakeSeq };
        const { reason, message, status, lastChange } = event.data;
        return { outcome: 'declined', reason, message, status, lastChange, seq: m.seq, intakeSeq };
      }
      signal.throwIfAborted();
      throw new Error('the alert stream ended before the command was answered');
    } finally {
      signal.removeEventListener('abort', stop);
      await messages.close();
      await consumer.delete().catch(() => undefined);
    }
  }
}
