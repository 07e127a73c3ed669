import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import type { DatabasePool } from 'slonik';
import type { Projection } from './projections/types.js';
import { applyBatch } from './adapters/runner.js';

export type ReplayProgress = { projection: string; done: number; total: number };

/**
 * Rebuilds one projection from sequence 1 of its stream into `pool` (a schema that starts
 * empty), with an ordered consumer, in batches. Returns the number of events applied.
 */
export async function replayProjection(
  nc: NatsConnection,
  pool: DatabasePool,
  projection: Projection,
  onProgress: (p: ReplayProgress) => void = () => undefined,
): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const total = (await jsm.streams.info(projection.stream)).state.last_seq;
  if (total === 0) return 0;
  const consumer = await jetstream(nc).consumers.get(projection.stream, {
    filter_subjects: projection.filterSubject,
    deliver_policy: DeliverPolicy.All,
  });
  if ((await consumer.info()).num_pending === 0) return 0;
  const messages = await consumer.consume({ max_messages: 2000 });
  let batch: Array<{ seq: number; subject: string; data: Uint8Array }> = [];
  let done = 0;
  for await (const m of messages) {
    batch.push({ seq: m.seq, subject: m.subject, data: m.data });
    const caughtUp = m.info.pending === 0;
    if (batch.length >= 2000 || caughtUp || messages.getPending() === 0) {
      done += await applyBatch(pool, projection, batch);
      batch = [];
      onProgress({ projection: projection.name, done: m.seq, total });
    }
    if (caughtUp) break;
  }
  await messages.close();
  return done;
}
