import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { sql, type DatabasePool } from 'slonik';
import { Counter, Gauge } from 'prom-client';
import { decodeEvent, type DomainEvent } from '@oncall/contracts';
import { registry, type Logger } from '@oncall/shared';
import type { Applied, Prepared, Projection } from '../projections/types.js';
import { applyInBatches } from './pipeline.js';

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

/** A stream message decoded into its event (decoded as it arrives, while the previous batch commits). */
export type DecodedMessage = Readonly<{ event: DomainEvent; at: Applied; pending: number }>;

/** Decodes messages as they arrive, so decoding overlaps the database work of the batch before. */
export async function* decoded(messages: AsyncIterable<JsMsg>): AsyncGenerator<DecodedMessage> {
  for await (const m of messages) {
    yield { event: decodeEvent(m.data, { trusted: true }), at: { seq: m.seq, subject: m.subject }, pending: m.info.pending };
  }
}

export type ApplyOptions = {
  /** The batch prepared ahead (`projection.prepare`); used when every event of it is fresh. */
  prepared?: Prepared;
  /** Take SWITCH_LOCK shared first (the live projector), so a batch cannot straddle a switch-over. */
  live?: boolean;
  /**
   * `false` commits with `synchronous_commit = off`: the commit returns before its WAL is flushed.
   * A PostgreSQL crash can then lose the last commits (at most about three `wal_writer_delay`s),
   * rows and checkpoint together, since they are one transaction; the projection then simply
   * applies those events again from the older checkpoint. Used by replays (restartable anyway).
   */
  durable?: boolean;
  /** The checkpoint row to read and advance; default the projection's name. */
  checkpoint?: string;
};

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
  opts: ApplyOptions = {},
): Promise<number> {
  const events = batch.map((m) => ({ event: decodeEvent(m.data, { trusted: true }), at: { seq: m.seq, subject: m.subject } }));
  return applyEvents(pool, projection, events, opts);
}

/** applyBatch for events decoded already (see `decoded`). */
export async function applyEvents(
  pool: DatabasePool,
  projection: Projection,
  batch: ReadonlyArray<{ event: DomainEvent; at: Applied }>,
  opts: ApplyOptions = {},
): Promise<number> {
  return pool.transaction(async (tx) => {
    if (opts.live) await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock_shared(${SWITCH_LOCK})`);
    if (opts.durable === false) await tx.query(sql.unsafe`SET LOCAL synchronous_commit = off`);
    // A statement of its own, after the lock: its table name resolves in the schema in place now.
    const name = opts.checkpoint ?? projection.name;
    const checkpoint = Number(
      (await tx.maybeOneFirst(sql.unsafe`SELECT last_seq FROM projection_checkpoints WHERE projection = ${name} FOR UPDATE`)) ?? 0,
    );
    const fresh = batch.filter((m) => m.at.seq > checkpoint);
    const count = fresh.length;
    const last = fresh.length ? fresh[fresh.length - 1]!.at.seq : checkpoint;
    if (count > 0 && count === batch.length && opts.prepared) await opts.prepared(tx);
    else if (count > 0) await projection.applyMany(tx, fresh);
    if (last > checkpoint) {
      // The checkpoint and the NOTIFY (delivered on commit: readers wait for their writes without polling) in one round trip.
      await tx.query(sql.unsafe`
        WITH c AS (
          INSERT INTO projection_checkpoints (projection, last_seq, updated_at) VALUES (${name}, ${last}, now())
          ON CONFLICT (projection) DO UPDATE SET last_seq = EXCLUDED.last_seq, updated_at = now()
          RETURNING last_seq
        )
        SELECT pg_notify(${PROJECTION_CHANNEL}, current_schema() || ' ' || ${name} || ' ' || c.last_seq) FROM c`);
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
          (await this.pool.maybeOneFirst(
            sql.unsafe`SELECT last_seq FROM projection_checkpoints WHERE projection = ${this.projection.name}`,
          )) ?? 0,
        );
        const consumer = await jetstream(this.nc).consumers.get(this.projection.stream, {
          filter_subjects: this.projection.filterSubject,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: checkpoint + 1,
        });
        this.messages = await consumer.consume({ max_messages: MAX_BATCH });
        await applyInBatches(decoded(this.messages), MAX_BATCH, this.projection, (batch, prepared) => this.flush(batch, prepared));
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

  private async flush(batch: readonly DecodedMessage[], prepared: Prepared | undefined): Promise<void> {
    const count = await applyEvents(this.pool, this.projection, batch, { live: true, prepared });
    const last = batch[batch.length - 1];
    if (last) {
      checkpointGauge.set({ projection: this.projection.name }, last.at.seq);
      lagGauge.set({ projection: this.projection.name }, last.pending);
    }
    applied.inc({ projection: this.projection.name }, count);
  }
}
