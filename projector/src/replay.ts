import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { sql, type DatabasePool } from 'slonik';
import type { Projection } from './projections/types.js';
import { applyEvents, decoded, type Rejected } from './adapters/apply.js';
import { applyInBatches } from './adapters/pipeline.js';

export type ReplayProgress = { projection: string; done: number; total: number };
/** A message a replay skipped because it cannot be applied (the live projector parked it). */
export type ReplaySkipped = (projection: string, rejected: Rejected) => void;

/**
 * Events per replay transaction: bench:projector's replay with 250–2000 (docs/performance.md)
 * found no size that beats 500 beyond the noise. (The live projector's 1000 stays: 500 was
 * slower there.)
 */
const BATCH = 500;

/**
 * Applies one projection into `pool`'s schema from the sequence after its checkpoint there (1
 * on a fresh schema) up to the stream's last sequence as of the call, in batches, with an ordered
 * consumer. Stops at that sequence even while new events keep arriving. Returns events applied.
 *
 * On a fresh schema, a projection whose rows never span partitions (`partitionSubject`) with
 * `partitions` > 1 is loaded one consumer per partition, side by side on their own connections,
 * each with a checkpoint of its own (`<name>#p<N>`), up to that same last sequence; then the
 * projection's checkpoint is set to it and the partition checkpoints are removed, in one
 * transaction. (A rebuild that stops midway starts again from an empty schema.)
 */
export async function replayProjection(
  nc: NatsConnection,
  pool: DatabasePool,
  projection: Projection,
  onProgress: (p: ReplayProgress) => void = () => undefined,
  partitions = 1,
  onSkipped: ReplaySkipped = () => undefined,
): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const total = (await jsm.streams.info(projection.stream)).state.last_seq;
  const from =
    Number((await pool.maybeOneFirst(sql.unsafe`SELECT last_seq FROM projection_checkpoints WHERE projection = ${projection.name}`)) ?? 0) +
    1;
  if (from > total) return 0;
  const split = projection.partitionSubject;
  if (split === undefined || partitions <= 1 || from > 1) {
    return replayRange(
      nc,
      pool,
      projection,
      { filter: projection.filterSubject, checkpoint: projection.name, from, total },
      (done) => onProgress({ projection: projection.name, done, total }),
      onSkipped,
    );
  }
  const done = new Array<number>(partitions).fill(0);
  const applied = await Promise.all(
    Array.from({ length: partitions }, (_, p) =>
      replayRange(
        nc,
        pool,
        projection,
        { filter: split(p), checkpoint: `${projection.name}#p${p}`, from: 1, total },
        (_seq, count) => {
          done[p] = count;
          onProgress({ projection: projection.name, done: done.reduce((a, b) => a + b, 0), total });
        },
        onSkipped,
      ),
    ),
  );
  await pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`
      INSERT INTO projection_checkpoints (projection, last_seq, updated_at) VALUES (${projection.name}, ${total}, now())
      ON CONFLICT (projection) DO UPDATE SET last_seq = EXCLUDED.last_seq, updated_at = now()`);
    await tx.query(sql.unsafe`DELETE FROM projection_checkpoints WHERE projection LIKE ${`${projection.name}#p%`}`);
  });
  return applied.reduce((a, b) => a + b, 0);
}

/** Applies the events of `filter` with sequences from `from` through `total` (none after it), advancing `checkpoint`. */
async function replayRange(
  nc: NatsConnection,
  pool: DatabasePool,
  projection: Projection,
  range: { filter: string; checkpoint: string; from: number; total: number },
  onBatch: (lastSeq: number, applied: number) => void,
  onSkipped: ReplaySkipped,
): Promise<number> {
  const consumer = await jetstream(nc).consumers.get(projection.stream, {
    filter_subjects: range.filter,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: range.from,
  });
  const info = await consumer.info();
  if (info.num_pending === 0) return 0;
  const messages = await consumer.consume({ max_messages: BATCH });
  let done = 0;
  try {
    await applyInBatches(
      decoded(messages),
      BATCH,
      projection,
      async (batch, prepared) => {
        // Events after `total` belong to the next replay (or the live projector), not this one.
        const upTo = batch[batch.length - 1]!.at.seq <= range.total ? batch : batch.filter((m) => m.at.seq <= range.total);
        if (upTo.length === 0) return;
        done += await applyEvents(pool, projection, upTo, {
          durable: false,
          prepared: upTo === batch ? prepared : undefined,
          checkpoint: range.checkpoint,
          // Skipped as the live projector parked them, so the rebuilt rows equal the live ones.
          onRejected: async (r) => onSkipped(projection.name, r),
        });
        onBatch(upTo[upTo.length - 1]!.at.seq, done);
      },
      (last) => last.at.seq >= range.total || last.pending === 0,
    );
  } finally {
    await messages.close();
  }
  return done;
}
