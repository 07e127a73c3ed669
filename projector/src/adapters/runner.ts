import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { sql, type DatabasePool } from 'slonik';
import { Counter, Gauge } from 'prom-client';
import { decodeEvent } from '@oncall/contracts';
import { batches, registry, type Logger } from '@oncall/shared';
import type { Projection } from '../projections/types.js';

const applied = new Counter({
  name: 'oncall_projector_events_total',
  help: 'Events applied to the read models',
  labelNames: ['projection'],
  registers: [registry],
});
const checkpointGauge = new Gauge({
  name: 'oncall_projector_checkpoint_sequence',
  help: 'Last stream sequence applied, per projection',
  labelNames: ['projection'],
  registers: [registry],
});

const lagGauge = new Gauge({
  name: 'oncall_projector_lag_events',
  help: 'Events in the stream not yet applied, per projection (as of the last batch)',
  labelNames: ['projection'],
  registers: [registry],
});

const MAX_BATCH = 1000;
const RETRY_DELAY_MS = 1000;
/** NOTIFY channel; the payload is `<schema> <projection> <last_seq>`. */
export const PROJECTION_CHANNEL = 'oncall_projection';

/**
 * Advisory lock that orders live projection batches against a read-model switch-over: live
 * batches take it shared (they never block each other), `oncall replay` takes it exclusive
 * while it renames the rebuilt schema into place.
 */
export const SWITCH_LOCK = 0x6f6e63616c6c; // "oncall"

/**
 * Applies a batch in one transaction: events at or below the checkpoint are skipped (they were
 * applied before a crash that came before the ack), the rest are applied in stream order, and
 * the checkpoint moves to the last sequence. Returns how many events were applied.
 *
 * With `live`, the batch first takes SWITCH_LOCK shared, so it cannot straddle a switch-over;
 * table names resolve after the lock, so a batch that waited lands in the new schema.
 */
export async function applyBatch(
  pool: DatabasePool,
  projection: Projection,
  batch: ReadonlyArray<{ seq: number; subject: string; data: Uint8Array }>,
  opts: { live?: boolean } = {},
): Promise<number> {
  return pool.transaction(async (tx) => {
    if (opts.live) await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock_shared(${SWITCH_LOCK})`);
    const checkpoint = Number(
      (await tx.maybeOneFirst(sql.unsafe`SELECT last_seq FROM projection_checkpoints WHERE projection = ${projection.name} FOR UPDATE`)) ?? 0,
    );
    const fresh = batch.filter((m) => m.seq > checkpoint);
    const count = fresh.length;
    const last = fresh.length ? fresh[fresh.length - 1]!.seq : checkpoint;
    if (count > 0) {
      await projection.applyMany(
        tx,
        fresh.map((m) => ({ event: decodeEvent(m.data, { trusted: true }), at: { seq: m.seq, subject: m.subject } })),
      );
    }
    if (last > checkpoint) {
      await tx.query(sql.unsafe`
        INSERT INTO projection_checkpoints (projection, last_seq, updated_at) VALUES (${projection.name}, ${last}, now())
        ON CONFLICT (projection) DO UPDATE SET last_seq = EXCLUDED.last_seq, updated_at = now()`);
      // Delivered on commit: lets readers wait for their writes without polling.
      await tx.query(sql.unsafe`SELECT pg_notify(${PROJECTION_CHANNEL}, current_schema() || ' ' || ${projection.name} || ' ' || ${last})`);
    }
    return count;
  });
}

/**
 * Runs one projection. Its position is its checkpoint in PostgreSQL, advanced in the same
 * transaction as its rows, so it reads the stream with an ordered consumer from the checkpoint
 * + 1 (in order and gap-free by construction, recreated by the client if it loses one) and
 * needs no acks. Messages are gathered while more are already buffered (up to MAX_BATCH) and
 * applied in one transaction. After any failure it starts again from the checkpoint.
 *
 * (A durable consumer was tried first: after a SIGKILL, and even while a slow batch commits,
 * JetStream redelivers unacknowledged messages behind newer ones, which a checkpoint-skipping
 * projector must then detect; the measured catch-up after a crash waited out ack_wait.)
 */
export class ProjectionRunner {
  private messages: ConsumerMessages | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly pool: DatabasePool,
    private readonly projection: Projection,
    private readonly log: Logger,
  ) {}

  /** Runs until stop() or until the NATS connection is closed; failures restart from the checkpoint. */
  async run(): Promise<void> {
    while (!this.stopped && !this.nc.isClosed()) {
      try {
        const checkpoint = Number(
          (await this.pool.maybeOneFirst(sql.unsafe`SELECT last_seq FROM projection_checkpoints WHERE projection = ${this.projection.name}`)) ?? 0,
        );
        const consumer = await jetstream(this.nc).consumers.get(this.projection.stream, {
          filter_subjects: this.projection.filterSubject,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: checkpoint + 1,
        });
        this.messages = await consumer.consume({ max_messages: MAX_BATCH });
        for await (const batch of batches(this.messages, MAX_BATCH)) await this.flush(batch);
      } catch (err) {
        if (this.stopped || this.nc.isClosed()) return;
        this.log.error({ err, projection: this.projection.name }, 'projection failed; restarting it from its checkpoint');
        await this.messages?.close().catch(() => undefined);
        await sleep(RETRY_DELAY_MS);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
  }

  private async flush(batch: JsMsg[]): Promise<void> {
    const count = await applyBatch(this.pool, this.projection, batch, { live: true });
    const last = batch[batch.length - 1];
    if (last) {
      checkpointGauge.set({ projection: this.projection.name }, last.seq);
      lagGauge.set({ projection: this.projection.name }, last.info.pending);
    }
    applied.inc({ projection: this.projection.name }, count);
  }
}
