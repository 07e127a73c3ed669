import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { sql, type DatabasePool } from 'slonik';
import type { Projection } from './projections/types.js';
import { applyEvents, decoded } from './adapters/runner.js';
import { applyInBatches } from './adapters/pipeline.js';

export type ReplayProgress = { projection: string; done: number; total: number };

const BATCH = 2000;

/**
 * Applies one projection into `pool`'s schema from the sequence after its checkpoint there (1
 * on a fresh schema) up to the stream's last sequence as of the call, in batches, with an ordered
 * consumer. Stops at that sequence even while new events keep arriving. Returns events applied.
 */
export async function replayProjection(
  nc: NatsConnection,
  pool: DatabasePool,
  projection: Projection,
  onProgress: (p: ReplayProgress) => void = () => undefined,
): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const total = (await jsm.streams.info(projection.stream)).state.last_seq;
  const from =
    Number((await pool.maybeOneFirst(sql.unsafe`SELECT last_seq FROM projection_checkpoints WHERE projection = ${projection.name}`)) ?? 0) + 1;
  if (from > total) return 0;
  const consumer = await jetstream(nc).consumers.get(projection.stream, {
    filter_subjects: projection.filterSubject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: from,
  });
  if ((await consumer.info()).num_pending === 0) return 0;
  const messages = await consumer.consume({ max_messages: BATCH });
  let done = 0;
  try {
    await applyInBatches(
      decoded(messages),
      BATCH,
      projection,
      async (batch, prepared) => {
        done += await applyEvents(pool, projection, batch, { durable: false, prepared });
        onProgress({ projection: projection.name, done: batch[batch.length - 1]!.at.seq, total });
      },
      (last) => last.at.seq >= total || last.pending === 0,
    );
  } finally {
    await messages.close();
  }
  return done;
}
