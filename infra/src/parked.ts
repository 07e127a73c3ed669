import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { decodeEvent, STREAMS, subjects, type EventData, type ParkingEvent } from '@oncall/contracts';
import { parkedDigest, type RetryAnswer } from '@oncall/shared';

/** A parked message as `oncall parked` shows it: where it is, why, and its latest retry. */
export type ParkedRecord = EventData<'MessageParked'> & {
  retries: number;
  lastRetry: EventData<'ParkedMessageRetried'> | null;
};

/** Whether a retry applied it (then it is no longer waiting for anyone). */
export const isSettled = (r: ParkedRecord): boolean => r.lastRetry?.outcome === 'applied';

/**
 * Every parked message, read from the PARKED stream itself (not the read model, which the
 * projector keeps: this works while the projector is the part in trouble), by consumer and position.
 */
export async function listParked(nc: NatsConnection): Promise<ParkedRecord[]> {
  const jsm = await jetstreamManager(nc);
  if ((await jsm.streams.info(STREAMS.parked)).state.messages === 0) return [];
  const consumer = await jetstream(nc).consumers.get(STREAMS.parked, {
    filter_subjects: subjects.parkedAll,
    deliver_policy: DeliverPolicy.All,
  });
  const records = new Map<string, ParkedRecord>();
  const key = (d: { consumer: string; stream: string; seq: number }) => `${d.consumer}\n${d.stream}\n${d.seq}`;
  const messages = await consumer.consume();
  for await (const m of messages) {
    const e = decodeEvent(m.data) as ParkingEvent;
    if (e.type === 'MessageParked') {
      if (!records.has(key(e.data))) records.set(key(e.data), { ...e.data, retries: 0, lastRetry: null });
    } else {
      const r = records.get(key(e.data));
      if (r) {
        r.retries++;
        r.lastRetry = e.data;
      }
    }
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return [...records.values()].sort((a, b) => a.consumer.localeCompare(b.consumer) || a.stream.localeCompare(b.stream) || a.seq - b.seq);
}

export class RetryUnavailableError extends Error {
  override readonly name = 'RetryUnavailableError';
}

/** Asks the running consumer that parked a message to take it again, and returns its answer. */
export async function retryParked(
  nc: NatsConnection,
  r: Pick<ParkedRecord, 'consumer' | 'stream' | 'seq'> & Partial<Pick<ParkedRecord, 'data'>>,
  timeoutMs = 30_000,
): Promise<RetryAnswer> {
  try {
    const digest = r.data === undefined ? undefined : parkedDigest(Buffer.from(r.data, 'base64'));
    const answer = await nc.request(subjects.parkedRetry(r.consumer), JSON.stringify({ stream: r.stream, seq: r.seq, digest }), {
      timeout: timeoutMs,
    });
    return JSON.parse(answer.string()) as RetryAnswer;
  } catch (err) {
    throw new RetryUnavailableError(`no running ${r.consumer} answered (${(err as Error).message}): start it, then retry`, { cause: err });
  }
}

/** One line per parked message, for the terminal. */
export function formatParked(r: ParkedRecord): string {
  const state = r.lastRetry
    ? `retried ×${r.retries}: ${r.lastRetry.outcome}${r.lastRetry.error ? ` (${r.lastRetry.error})` : ''}`
    : 'waiting';
  return `${r.parkedAt}  ${r.consumer}  ${r.stream}#${r.seq}  ${r.reason}  ${state}\n    ${r.error}`;
}
