import type { DatabaseTransactionConnection } from 'slonik';
import type { DomainEvent } from '@oncall/contracts';

export type Applied = { seq: number; subject: string };

/**
 * A projection turns events of one stream into rows. `apply` runs inside the transaction that
 * also advances the checkpoint; it must not have side effects outside the database.
 */
export type Projection = Readonly<{
  /** Also the durable consumer name and the checkpoint key; carries a version. */
  name: string;
  stream: string;
  filterSubject: string;
  /** Applies a batch in stream order, inside the transaction that advances the checkpoint. */
  applyMany: (tx: DatabaseTransactionConnection, events: ReadonlyArray<{ event: DomainEvent; at: Applied }>) => Promise<void>;
}>;

/** A projection that applies one event at a time. */
export function oneByOne(
  apply: (tx: DatabaseTransactionConnection, event: DomainEvent, at: Applied) => Promise<void>,
): Projection['applyMany'] {
  return async (tx, events) => {
    for (const { event, at } of events) await apply(tx, event, at);
  };
}
