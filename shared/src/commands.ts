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
import { LIVE_PULL } from './consumer.js';

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

/** How often a command waiting for its answer reads the subject without being woken (a missed message). */
const POLL_MS = 1000;

/** The decider's answer in the event it appended (`seq`) for the command. */
function answerOf(event: AlertEvent, seq: number, intakeSeq: number): CommandAnswer {
  if (event.type !== 'AlertCommandDeclined') return { outcome: 'changed', event, seq, intakeSeq };
  const { reason, message, status, lastChange } = event.data;
  return { outcome: 'declined', reason, message, status, lastChange, seq, intakeSeq };
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

  /** Appends the command as event `id`; throws CommandNotAppended when the intake stream does not take it. */
  private async append(req: AlertCommandRequest, id: string, partition: number): Promise<{ intakeSeq: number; duplicate: boolean }> {
    const now = this.opts.now?.() ?? Date.now();
    const { target } = req;
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
    const event = buildEvent('AlertCommandReceived', data, {
      id,
      occurredAt: new Date(now).toISOString(),
      causationId: null,
      correlationId: target.alertId,
    });
    try {
      const ack = await this.js.publish(subjects.intake(partition), encodeEvent(event), { msgID: id });
      return { intakeSeq: ack.seq, duplicate: ack.duplicate };
    } catch (cause) {
      throw new CommandNotAppended('the intake stream did not accept the command', { cause });
    }
  }

  /**
   * Appends the command and waits for the decider's answer (until `signal` aborts).
   *
   * The answer is the first event after the subject's end (before the append) caused by the
   * command, read from the stream with direct gets. What says when to read is a core
   * subscription to the alert's subject, made before the append: the decider's append reaches
   * it as it reaches the stream, and only an event naming the command as its cause triggers a
   * read (a message a subscription missed, e.g. across a reconnect, is caught by a read every
   * second). No consumer is created per command; a retried command (duplicate) is read from the
   * subject's start with a consumer, as it may have been answered long ago.
   */
  async submit(req: AlertCommandRequest, signal: AbortSignal): Promise<CommandAnswer> {
    signal.throwIfAborted();
    const partition = partitionOf(req.target.serviceId, req.target.fingerprint, this.opts.partitions);
    const subject = subjects.alert(partition, req.target.alertId);
    const commandId = req.key === undefined ? randomUUID() : stableUuid(`command:${req.key}`);
    let pinged = false;
    let wake: (() => void) | undefined;
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (!err) {
          try {
            if (decodeEvent(msg.data, { trusted: true }).causationId !== commandId) return;
          } catch {
            // not an event we can read here: the stream read decides
          }
        }
        pinged = true;
        wake?.();
      },
    });
    try {
      const jsm = (this.jsm ??= await jetstreamManager(this.nc));
      // The subject's end before the append: the answer comes after it (an alert's busy subject is not read again).
      const end = await jsm.direct.getMessage(STREAMS.alerts, { last_by_subj: subject }).then(
        (m) => m?.seq ?? 0,
        () => null,
      );
      const appended = await this.append(req, commandId, partition);
      // A retried command may have been answered long ago: then the subject is read from its start.
      if (appended.duplicate || end === null) {
        sub.unsubscribe();
        return await this.answer(subject, 0, commandId, appended.intakeSeq, signal);
      }
      let from = end + 1;
      for (;;) {
        if (pinged) {
          pinged = false;
          try {
            for (let m = await jsm.direct.getMessage(STREAMS.alerts, { seq: from, next_by_subj: subject }); m !== null;) {
              from = m.seq + 1;
              const event = decodeEvent(m.data, { trusted: true }) as AlertEvent;
              if (event.causationId === commandId) return answerOf(event, m.seq, appended.intakeSeq);
              m = await jsm.direct.getMessage(STREAMS.alerts, { seq: from, next_by_subj: subject });
            }
          } catch (err) {
            signal.throwIfAborted();
            if (!(err instanceof Error)) throw err;
            // a slow or failed read: read again at the next wake-up
          }
        }
        signal.throwIfAborted();
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            wake = undefined;
            resolve();
          };
          const timer = setTimeout(() => {
            pinged = true;
            done();
          }, POLL_MS);
          signal.addEventListener('abort', done, { once: true });
          wake = done;
          if (pinged || signal.aborted) done();
        });
        signal.throwIfAborted();
      }
    } finally {
      if (!sub.isClosed()) sub.unsubscribe();
    }
  }

  /** Reads the alert's subject after sequence `after` until the event the command caused. */
  private async answer(subject: string, after: number, commandId: string, intakeSeq: number, signal: AbortSignal): Promise<CommandAnswer> {
    const consumer = await this.js.consumers.get(STREAMS.alerts, {
      filter_subjects: subject,
      ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All }),
    });
    const messages = await consumer.consume(LIVE_PULL);
    const stop = (): void => void messages.close();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const m of messages) {
        const event = decodeEvent(m.data, { trusted: true }) as AlertEvent;
        if (event.causationId === commandId) return answerOf(event, m.seq, intakeSeq);
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
