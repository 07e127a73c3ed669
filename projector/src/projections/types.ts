import type { DatabaseTransactionConnection } from 'slonik';
import type { DomainEvent } from '@oncall/contracts';

/**
 * Where an event is in its stream; `traceId`: the trace id of the `traceparent` header its message
 * carries (tracing on where it was appended), stored with the message, so a replay has it too.
 */
export type Applied = { seq: number; subject: string; traceId?: string | null };

/** What applies a prepared batch, inside the transaction that advances the checkpoint. */
export type Prepared = (tx: DatabaseTransactionConnection) => Promise<void>;

/**
 * A projection turns events of one stream into rows. `apply` runs inside the transaction that
 * also advances the checkpoint; it must not have side effects outside the database.
 */
export type Projection = Readonly<{
  /** Also the durable consumer name and the checkpoint key; carries a version. */
  name: string;
  stream: string;
  filterSubject: string;
  /**
   * Optional: the filter subject of one partition, when the projection's rows never span
   * partitions (each row belongs to one alert, and an alert to one partition), or where a row
   * spans them, is a merge that does not depend on the order of its events (`incidents`). A
   * replay into a fresh schema then loads the partitions side by side.
   */
  partitionSubject?: (partition: number) => string;
  /** Applies a batch in stream order, inside the transaction that advances the checkpoint. */
  applyMany: (tx: DatabaseTransactionConnection, events: ReadonlyArray<{ event: DomainEvent; at: Applied }>) => Promise<void>;
  /**
   * Optional: the part of applyMany that needs no database (folding, building the statements'
   * parameters), so that the runner can prepare a batch while the batch before it commits.
   * `prepare(events)(tx)` does exactly what `applyMany(tx, events)` does.
   */
  prepare?: (events: ReadonlyArray<{ event: DomainEvent; at: Applied }>) => Prepared;
}>;

/** A projection that applies one event at a time. */
export function oneByOne(
  apply: (tx: DatabaseTransactionConnection, event: DomainEvent, at: Applied) => Promise<void>,
): Projection['applyMany'] {
  return async (tx, events) => {
    for (const { event, at } of events) await apply(tx, event, at);
  };
}
