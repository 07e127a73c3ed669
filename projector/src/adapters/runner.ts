import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { sql, type DatabasePool } from 'slonik';
import { Counter, Gauge } from 'prom-client';
import { registry, superviseLoop, type Logger, type Parking, LIVE_PULL } from '@oncall/shared';
import type { Prepared, Projection } from '../projections/types.js';
import { applyEvents, decoded, type DecodedMessage, type Rejected } from './apply.js';
import { failureKind } from './failures.js';
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

/**
 * Runs one projection. Its position is its checkpoint in PostgreSQL, advanced in the same
 * transaction as its rows, so it reads the stream with an ordered consumer from the checkpoint
 * + 1 (in order and gap-free by construction, recreated by the client if it loses one) and
 * needs no acks. Messages are gathered while more are already buffered (up to MAX_BATCH) and
 * applied in one transaction. After any failure it starts again from the checkpoint, after a
 * back-off with jitter (a PostgreSQL restart, a dropped connection); an event PostgreSQL refuses
 * or nobody can decode is parked and skipped, so it never stops the projection (invariant 7).
 *
 * (A durable consumer was tried first: after a SIGKILL, and even while a slow batch commits,
 * JetStream redelivers unacknowledged messages behind newer ones, which a checkpoint-skipping
 * projector must then detect; the measured catch-up after a crash waited out ack_wait.)
 */
export class ProjectionRunner {
  private messages: ConsumerMessages | undefined;
  private readonly stopped = new AbortController();

  constructor(
    private readonly nc: NatsConnection,
    private readonly pool: DatabasePool,
    private readonly projection: Projection,
    private readonly parking: Parking,
    private readonly log: Logger,
  ) {}

  /** Runs until stop() or until the NATS connection is closed. */
  async run(): Promise<void> {
    await superviseLoop({ name: this.projection.name, log: this.log, stop: this.stopped.signal }, async () => {
      if (this.nc.isClosed()) {
        this.stopped.abort();
        return;
      }
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
        this.messages = await consumer.consume({ ...LIVE_PULL, max_messages: MAX_BATCH });
        await applyInBatches(decoded(this.messages), MAX_BATCH, this.projection, (batch, prepared) => this.flush(batch, prepared));
      } finally {
        await this.messages?.close().catch(() => undefined);
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.messages?.close();
  }

  private async flush(batch: readonly DecodedMessage[], prepared: Prepared | undefined): Promise<void> {
    const count = await applyEvents(this.pool, this.projection, batch, { live: true, prepared, onRejected: (r) => this.park(r) });
    const last = batch[batch.length - 1];
    if (last) {
      checkpointGauge.set({ projection: this.projection.name }, last.at.seq);
      lagGauge.set({ projection: this.projection.name }, last.pending);
    }
    applied.inc({ projection: this.projection.name }, count);
  }

  private park(r: Rejected): Promise<void> {
    const reason = r.undecodable || failureKind(r.error) !== 'rejected' || !hasSqlState(r.error) ? 'undecodable' : 'rejected-by-database';
    return this.parking.park(this.projection.name, { stream: this.projection.stream, ...r.at, data: r.data }, reason, r.error);
  }
}

/** Whether PostgreSQL itself refused it (an error with a SQLSTATE somewhere in its causes). */
function hasSqlState(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return true;
  }
  return false;
}
