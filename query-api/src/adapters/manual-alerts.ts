import { randomUUID } from 'node:crypto';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import {
  buildEvent,
  CONSUMERS,
  decodeEvent,
  encodeEvent,
  partitionOf,
  stableUuid,
  STREAMS,
  subjects,
  type EventData,
  type Signal,
} from '@oncall/contracts';
import { LIVE_PULL } from '@oncall/shared';
import { manualEventKey, type ManualAlert } from '../domain/manual-alert.js';
import { ApiError, DeadlineExceeded, NotFound, Unavailable } from '../errors.js';
import type { CallContext } from '../handlers.js';
import { getAlert, type AlertRow } from '../read-model/alerts.js';
import type { WriteDeps } from './write-deps.js';

export type ManualAlertsDeps = WriteDeps;

/** The decider's answer to a signal: the lifecycle event it caused on the alert. */
type Answer = Readonly<{ alertId: string; seq: number }>;

const ANSWERS = new Set(['AlertTriggered', 'AlertUpdated', 'AlertRepeated']);

/**
 * CreateAlert: a person's alert takes the webhooks' path. One firing signal (source `manual`) is
 * appended to the intake partition of (service, fingerprint) as SignalsReceived, so the decider
 * deduplicates it by fingerprint and the escalator routes and pages it like any other. The answer
 * is the alert the decider's event (caused by the intake event) names, once the alerts
 * projection applied that event (read-your-writes). The decider records every manual signal
 * (never the in-memory RepeatSeen), so there always is such an event.
 */
export class ManualAlerts {
  private readonly js: JetStreamClient;
  private jsm: JetStreamManager | undefined;

  constructor(private readonly deps: ManualAlertsDeps) {
    this.js = jetstream(deps.nc);
  }

  async create(input: ManualAlert, ctx: CallContext): Promise<AlertRow> {
    const { pool, now } = this.deps;
    const jsm = (this.jsm ??= await jetstreamManager(this.deps.nc));
    await this.serviceExists(jsm, input.serviceId);

    const eventId = input.requestId === null ? randomUUID() : stableUuid(manualEventKey(input.serviceId, input.requestId));
    // A retry after the intake's duplicate window: the alert the first request opened answers it.
    const opened = stableUuid(`alert:${eventId}:0`);
    if (input.requestId !== null) {
      const row = await getAlert(pool, opened);
      if (row) return row;
    }

    const fingerprint = input.dedupKey ?? `manual:${eventId}`;
    const partition = partitionOf(input.serviceId, fingerprint, this.deps.partitions);
    const timeout = AbortSignal.timeout(Math.max(0, Math.min(this.deps.timeoutMs, (ctx.deadline ?? Infinity) - now())));
    const signal = AbortSignal.any([ctx.signal, timeout]);
    let intakeSeq: number | null = null;
    try {
      const end = (await jsm.streams.info(STREAMS.alerts)).state.last_seq;
      const appended = await this.append(input, eventId, fingerprint, partition);
      intakeSeq = appended.seq;
      const from = appended.duplicate ? await this.intakeTime(jsm, appended.seq) : end + 1;
      const answer = await this.answer(partition, eventId, from, signal);
      this.deps.log.debug({ alertId: answer.alertId, intakeSeq, seq: answer.seq }, 'manual alert decided');
      await this.deps.feed.waitFor(CONSUMERS.projectorAlerts, answer.seq, signal);
      const row = await getAlert(pool, answer.alertId);
      if (!row) throw new NotFound(`alert ${answer.alertId} not found`);
      return row;
    } catch (err) {
      if (timeout.aborted && !ctx.signal.aborted) {
        const accepted = intakeSeq === null ? 'the alert was submitted' : `the alert was accepted (intake sequence ${intakeSeq})`;
        throw new DeadlineExceeded(`${accepted} but it was not visible within the deadline; it may still appear`, { cause: err });
      }
      if (ctx.signal.aborted || err instanceof ApiError) throw err;
      throw new Unavailable('the alert stream could not be read', { cause: err });
    }
  }

  /** NOT_FOUND unless the configuration's last word on the service is ServiceConfigured. */
  private async serviceExists(jsm: JetStreamManager, serviceId: string): Promise<void> {
    let last: string | null;
    try {
      const m = await jsm.direct.getMessage(STREAMS.config, { last_by_subj: subjects.config('service', serviceId) });
      last = m ? decodeEvent(m.data, { trusted: true }).type : null;
    } catch (cause) {
      throw new Unavailable('the configuration stream could not be read', { cause });
    }
    if (last !== 'ServiceConfigured') throw new NotFound(`service ${serviceId} is not configured`);
  }

  private async append(input: ManualAlert, eventId: string, fingerprint: string, partition: number) {
    const at = new Date(this.deps.now()).toISOString();
    const createdBy = input.createdByUserId === null ? {} : { createdByUserId: input.createdByUserId };
    const s: Signal = {
      fingerprint,
      status: 'firing',
      summary: input.summary,
      details: input.details,
      severity: input.severity,
      labels: { ...input.labels },
      annotations: { ...input.annotations },
      startsAt: at,
      endsAt: null,
      generatorUrl: null,
      links: [],
      custom: createdBy,
    };
    const data: EventData<'SignalsReceived'> = {
      serviceId: input.serviceId,
      source: 'manual',
      requestId: input.requestId ?? eventId,
      signals: [s],
      context: { ...createdBy, via: 'api' },
    };
    const event = buildEvent('SignalsReceived', data, { id: eventId, occurredAt: at, causationId: null, correlationId: data.requestId });
    try {
      return await this.js.publish(subjects.intake(partition), encodeEvent(event), { msgID: eventId });
    } catch (cause) {
      throw new Unavailable('the intake stream did not accept the alert', { cause });
    }
  }

  /** Where a duplicate's answer can be: after the first append's time (its answer came later). */
  private async intakeTime(jsm: JetStreamManager, seq: number): Promise<Date> {
    const m = await jsm.streams.getMessage(STREAMS.intake, { seq }).catch(() => null);
    return m?.time ?? new Date(0);
  }

  /**
   * The first event on the partition's alert subjects caused by `eventId`, read with an ordered
   * consumer from `from` (a sequence, or a time for a duplicate). Only messages holding the id
   * are decoded: a storm on the partition costs a byte search each.
   */
  private async answer(partition: number, eventId: string, from: number | Date, signal: AbortSignal): Promise<Answer> {
    const consumer = await this.js.consumers.get(STREAMS.alerts, {
      filter_subjects: subjects.alertsOfPartition(partition),
      ...(typeof from === 'number'
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.toISOString() }),
    });
    const messages = await consumer.consume(LIVE_PULL);
    const stop = (): void => void messages.close();
    signal.addEventListener('abort', stop, { once: true });
    const needle = Buffer.from(eventId);
    try {
      for await (const m of messages) {
        if (!Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).includes(needle)) continue;
        const event = decodeEvent(m.data, { trusted: true });
        if (event.causationId === eventId && ANSWERS.has(event.type))
          return { alertId: (event.data as { alertId: string }).alertId, seq: m.seq };
      }
      signal.throwIfAborted();
      throw new Error('the alert stream ended before the alert was decided');
    } finally {
      signal.removeEventListener('abort', stop);
      await messages.close();
    }
  }
}
