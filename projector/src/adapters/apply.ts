import type { JsMsg } from '@nats-io/jetstream';
import { sql, type DatabasePool, type DatabaseTransactionConnection } from 'slonik';
import { decodeEvent, PROJECTION_CHANNEL, type DomainEvent } from '@oncall/contracts';
import { traceIdOf } from '@oncall/shared';
import type { Applied, Prepared, Projection } from '../projections/types.js';
import { failureKind } from './failures.js';

/**
 * Advisory lock that orders live projection batches against a read-model switch-over: live
 * batches take it shared (they never block each other), `oncall replay` takes it exclusive
 * while it renames the rebuilt schema into place.
 */
export const SWITCH_LOCK = 0x6f6e63616c6c; // "oncall"

/**
 * A stream message, decoded as it arrives (while the previous batch commits). `event` is null
 * when it cannot be decoded (`error` says why); such a message is never applied, only rejected.
 */
export type DecodedMessage = Readonly<{ at: Applied; pending: number; data: Uint8Array }> &
  ({ readonly event: DomainEvent } | { readonly event: null; readonly error: unknown });

/** What a projection could not apply: the message, and why. */
export type Rejected = Readonly<{ at: Applied; data: Uint8Array; error: unknown; undecodable: boolean }>;

export function decodeMessage(
  m: { seq: number; subject: string; data: Uint8Array; headers?: { get(key: string): string } | undefined },
  pending = 0,
): DecodedMessage {
  const at: Applied = { seq: m.seq, subject: m.subject };
  try {
    const event = decodeEvent(m.data, { trusted: true });
    // Only an alert's trigger needs its trace id (alerts.trace_id); the headers of other messages
    // (the decider's expected sequence, msgIDs) are not parsed.
    if (event.type === 'AlertTriggered' && m.headers) at.traceId = traceIdOf(m.headers.get('traceparent'));
    return { at, pending, data: m.data, event };
  } catch (error) {
    return { at, pending, data: m.data, event: null, error };
  }
}

/** Decodes messages as they arrive, so decoding overlaps the database work of the batch before. */
export async function* decoded(messages: AsyncIterable<JsMsg>): AsyncGenerator<DecodedMessage> {
  for await (const m of messages) yield decodeMessage(m, m.info.pending);
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
  /**
   * Called, inside the transaction and before it commits, for each message that cannot be applied
   * (undecodable, or refused in a way no retry mends: see failures.ts); the batch then commits
   * without it and the checkpoint moves past it. The live projector parks them (invariant 7), a
   * replay skips them as the live projector did. Without it such a batch fails.
   */
  onRejected?: (rejected: Rejected) => Promise<void>;
};

/**
 * Applies a batch in one transaction: events at or below the checkpoint are skipped (they were
 * applied before a crash that came before the ack), the rest are applied in stream order, and
 * the checkpoint moves to the last sequence. Returns how many events were applied.
 *
 * With `live`, the batch first takes SWITCH_LOCK shared, so it cannot straddle a switch-over;
 * table names resolve after the lock, so a batch that waited lands in the new schema.
 *
 * With `onRejected`, a batch PostgreSQL refuses is applied again in a new transaction one event
 * at a time, each in a savepoint: the events it refuses are rejected, the others applied.
 */
export async function applyEvents(
  pool: DatabasePool,
  projection: Projection,
  batch: readonly DecodedMessage[],
  opts: ApplyOptions = {},
): Promise<number> {
  try {
    return await applyInTransaction(pool, projection, batch, opts, false);
  } catch (err) {
    if (!opts.onRejected || failureKind(err) === 'transient') throw err;
    return applyInTransaction(pool, projection, batch, opts, true);
  }
}

/** applyEvents over stored messages (decoded here). */
export async function applyBatch(
  pool: DatabasePool,
  projection: Projection,
  batch: ReadonlyArray<{ seq: number; subject: string; data: Uint8Array }>,
  opts: ApplyOptions = {},
): Promise<number> {
  return applyEvents(
    pool,
    projection,
    batch.map((m) => decodeMessage(m)),
    opts,
  );
}

/** Applies one stored message again outside the checkpoint (a retry of a parked one); throws when it fails again. */
export async function applyOne(
  pool: DatabasePool,
  projection: Projection,
  m: { seq: number; subject: string; data: Uint8Array },
): Promise<void> {
  const d = decodeMessage(m);
  if (d.event === null) throw d.error;
  const event = d.event;
  await pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock_shared(${SWITCH_LOCK})`);
    await projection.applyMany(tx, [{ event, at: d.at }]);
  });
}

async function applyInTransaction(
  pool: DatabasePool,
  projection: Projection,
  batch: readonly DecodedMessage[],
  opts: ApplyOptions,
  isolate: boolean,
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
    const last = fresh.length ? fresh[fresh.length - 1]!.at.seq : checkpoint;
    const rejected: Rejected[] = [];
    const events: Array<{ event: DomainEvent; at: Applied }> = [];
    for (const m of fresh) {
      if (m.event !== null) events.push({ event: m.event, at: m.at });
      else if (opts.onRejected) rejected.push({ at: m.at, data: m.data, error: m.error, undecodable: true });
      else throw m.error;
    }
    let count = events.length;
    if (isolate) count = await applyEachInSavepoint(tx, projection, fresh, rejected);
    else if (count > 0 && count === batch.length && opts.prepared) await opts.prepared(tx);
    else if (count > 0) await projection.applyMany(tx, events);
    for (const r of rejected) await opts.onRejected!(r);
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

/** One event at a time, each in a savepoint; refused ones go to `rejected`. Returns how many were applied. */
async function applyEachInSavepoint(
  tx: DatabaseTransactionConnection,
  projection: Projection,
  fresh: readonly DecodedMessage[],
  rejected: Rejected[],
): Promise<number> {
  let count = 0;
  for (const m of fresh) {
    const event = m.event;
    if (event === null) continue;
    try {
      await tx.transaction(async (savepoint) => projection.applyMany(savepoint, [{ event, at: m.at }]));
      count++;
    } catch (error) {
      if (failureKind(error) === 'transient') throw error;
      rejected.push({ at: m.at, data: m.data, error, undecodable: false });
    }
  }
  return count;
}
