import { jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { Counter } from 'prom-client';
import { buildEvent, encodeEvent, stableUuid, storableText, subjects, type EventData, type ParkReason } from '@oncall/contracts';
import type { StreamAppender } from './append.js';
import { sha256Hex } from './hash.js';
import type { Logger } from './logger.js';
import { registry } from './metrics.js';

const parkedTotal = new Counter({
  name: 'oncall_parked_messages_total',
  help: 'Messages a consumer could not apply and parked (invariant 7), by consumer and reason',
  labelNames: ['consumer', 'reason'],
  registers: [registry],
});
const retriedTotal = new Counter({
  name: 'oncall_parked_retries_total',
  help: 'Parked messages taken again on request, by consumer and outcome',
  labelNames: ['consumer', 'outcome'],
  registers: [registry],
});

/** Where a message is stored, and its bytes. */
export type Parkable = Readonly<{ stream: string; seq: number; subject: string; data: Uint8Array }>;

const MAX_DATA_BYTES = 256 * 1024;
const MAX_ERROR_CHARS = 2000;

/** An error as recorded: its message, storable, cut to 2000 characters. */
export const errorText = (err: unknown): string =>
  storableText(err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, MAX_ERROR_CHARS);

/**
 * Parks messages a consumer cannot apply, so one bad message never stops a stream (invariant 7):
 * `MessageParked` on `parked.<consumer>` with the reason, the error and the message's bytes,
 * counted and logged once; the consumer then goes on. Idempotent: parking the same message again
 * (a crash before the ack) is the same event id and message id.
 */
export class Parking {
  constructor(
    private readonly appender: StreamAppender,
    private readonly log: Logger,
  ) {}

  async park(consumer: string, msg: Parkable, reason: ParkReason, err: unknown, now = new Date()): Promise<void> {
    const id = stableUuid(`parked:${consumer}:${msg.stream}:${msg.seq}`);
    const truncated = msg.data.length > MAX_DATA_BYTES;
    const data: EventData<'MessageParked'> = {
      consumer,
      stream: msg.stream,
      seq: msg.seq,
      subject: storableText(msg.subject),
      reason,
      error: errorText(err),
      data: Buffer.from(msg.data.subarray(0, MAX_DATA_BYTES)).toString('base64'),
      truncated,
      parkedAt: now.toISOString(),
    };
    const event = buildEvent('MessageParked', data, { id, occurredAt: data.parkedAt, causationId: null, correlationId: id });
    await this.appender.append(subjects.parked(consumer), encodeEvent(event), { msgID: id });
    parkedTotal.inc({ consumer, reason });
    this.log.error(
      { consumer, stream: msg.stream, seq: msg.seq, subject: msg.subject, reason, err },
      'message parked; the consumer goes on',
    );
  }
}

/**
 * A request to retry one parked message, and its answer. `digest` (of the bytes the parked record
 * kept) makes sure the stream still holds that message at that sequence (a stream deleted and
 * created again numbers its messages anew).
 */
export type RetryRequest = Readonly<{ stream: string; seq: number; digest?: string }>;

/** The digest a retry request carries: SHA-256 of the message's first 256 KiB (what a parked record keeps). */
export const parkedDigest = (data: Uint8Array): string => sha256Hex(Buffer.from(data.subarray(0, MAX_DATA_BYTES)));
export type RetryAnswer = Readonly<{ outcome: 'applied' | 'failed'; error: string | null }>;

/**
 * Answers `oncall parked retry` for one consumer: fetches the parked message from its stream by
 * sequence, hands it to `handler` (which throws when it fails again), records the outcome as
 * `ParkedMessageRetried` and answers it. Replicas share the subject in a queue group: one answers.
 */
export function serveParkedRetries(
  nc: NatsConnection,
  consumer: string,
  appender: StreamAppender,
  log: Logger,
  handler: (msg: Parkable) => Promise<void>,
): Subscription {
  return nc.subscribe(subjects.parkedRetry(consumer), {
    queue: consumer,
    callback: (err, m) => {
      if (err) return;
      void (async () => {
        let answer: RetryAnswer;
        let request: RetryRequest | undefined;
        try {
          request = parseRetryRequest(m.data);
          const stored: StoredMsg | null = await (await jetstreamManager(nc)).streams.getMessage(request.stream, { seq: request.seq });
          if (!stored) throw new Error(`${request.stream} holds no message ${request.seq}`);
          if (request.digest !== undefined && parkedDigest(stored.data) !== request.digest) {
            throw new Error(`${request.stream} #${request.seq} is no longer the message that was parked (the stream was re-created?)`);
          }
          await handler({ stream: request.stream, seq: stored.seq, subject: stored.subject, data: stored.data });
          answer = { outcome: 'applied', error: null };
        } catch (failure) {
          answer = { outcome: 'failed', error: errorText(failure) };
        }
        if (request) {
          const retriedAt = new Date().toISOString();
          const event = buildEvent(
            'ParkedMessageRetried',
            { consumer, stream: request.stream, seq: request.seq, ...answer, retriedAt },
            {
              id: stableUuid(`retried:${consumer}:${request.stream}:${request.seq}:${retriedAt}`),
              occurredAt: retriedAt,
              causationId: null,
              correlationId: consumer,
            },
          );
          await appender
            .append(subjects.parked(consumer), encodeEvent(event))
            .catch((e: unknown) => log.warn({ err: e }, 'could not record a retry'));
        }
        retriedTotal.inc({ consumer, outcome: answer.outcome });
        log.info({ consumer, ...request, ...answer }, 'parked message retried');
        m.respond(JSON.stringify(answer));
      })();
    },
  });
}

function parseRetryRequest(data: Uint8Array): RetryRequest {
  const r = JSON.parse(Buffer.from(data).toString('utf8')) as Partial<RetryRequest>;
  if (typeof r.stream !== 'string' || !Number.isInteger(r.seq) || (r.seq ?? 0) < 1)
    throw new Error('a retry request names { stream, seq }');
  return { stream: r.stream, seq: r.seq!, ...(typeof r.digest === 'string' && { digest: r.digest }) };
}
