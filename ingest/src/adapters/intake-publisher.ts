import { randomUUID } from 'node:crypto';
import { buildEvent, encodeEvent, partitionOf, stableUuid, subjects, type AlertSource, type Signal } from '@oncall/contracts';
import type { StreamAppender, TraceHeaders } from '@oncall/shared';

/** NATS did not confirm the append: nothing may be acknowledged to the sender. */
export class IntakeUnavailableError extends Error {
  override readonly name = 'IntakeUnavailableError';
}

export type SignalBatch = {
  serviceId: string;
  source: AlertSource;
  /** Derived from the request (service, source, and the body or the caller's idempotency key). */
  requestId: string;
  /** A true retry is recognised by its id (the caller sent an idempotency key): append it once. */
  dedupe: boolean;
  signals: Signal[];
  context: Record<string, unknown>;
};

export type AppendResult = { messages: number; duplicate: boolean };

/**
 * Appends one SignalsReceived message per partition touched by the request, all in flight at
 * once, and returns only when JetStream acknowledged every one. With `dedupe` (the caller sent
 * an idempotency key) the msgID is `<requestId>:<partition>`, so a retry after a partial failure
 * appends just what is missing. Without it there is no msgID: the same body sent again after
 * the alert changed (trigger → resolve → trigger) is a new fact the decider must see.
 * Appends go through the shared StreamAppender: `jetstream().publish()` is a request per
 * message, with a timer, a promise race and an error object with a stack trace each (its
 * RequestError alone was 2% of ingest's CPU in a storm profile).
 */
export class IntakePublisher {
  constructor(
    private readonly appender: StreamAppender,
    private readonly partitions: number,
  ) {}

  /** `trace`: the request's span context, carried in each message's headers (tracing on). */
  async append(batch: SignalBatch, now: Date, trace?: TraceHeaders): Promise<AppendResult> {
    const byPartition = new Map<number, Signal[]>();
    for (const s of batch.signals) {
      const p = partitionOf(batch.serviceId, s.fingerprint, this.partitions);
      const list = byPartition.get(p);
      if (list) list.push(s);
      else byPartition.set(p, [s]);
    }
    const occurredAt = now.toISOString();
    const acks = [...byPartition].map(([p, signals]) => {
      const msgID = `${batch.requestId}:${p}`;
      const event = buildEvent(
        'SignalsReceived',
        { serviceId: batch.serviceId, source: batch.source, requestId: batch.requestId, signals, context: batch.context },
        // Decisions derive their ids from this one: a message appended again (no idempotency key) needs its own.
        { id: batch.dedupe ? stableUuid(msgID) : randomUUID(), occurredAt, causationId: null, correlationId: batch.requestId },
      );
      const opts = batch.dedupe ? { msgID, trace } : trace ? { trace } : {};
      return this.appender.append(subjects.intake(p), encodeEvent(event), opts);
    });
    const settled = await Promise.allSettled(acks);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new IntakeUnavailableError('JetStream did not acknowledge the signals', { cause: failed.reason });
    const duplicate = settled.every((r) => r.status === 'fulfilled' && r.value.duplicate);
    return { messages: settled.length, duplicate: settled.length > 0 && duplicate };
  }
}
