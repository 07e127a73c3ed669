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
  apply: (tx: DatabaseTransactionConnection, event: DomainEvent, at: Applied) => Promise<void>;
}>;
