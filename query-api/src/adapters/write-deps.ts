import type { NatsConnection } from '@nats-io/transport-node';
import type { DatabasePool } from 'slonik';
import type { Logger } from '@oncall/shared';
import type { ProjectionFeed } from './projection-feed.js';

/**
 * What an API write that appends to the log and answers from the read model needs (manual alerts,
 * ad-hoc notifications, ticket commands): the log, the read model, the projections' progress.
 */
export type WriteDeps = Readonly<{
  nc: NatsConnection;
  partitions: number;
  pool: DatabasePool;
  feed: ProjectionFeed;
  log: Logger;
  /** Longest a write waits for its event to be in the read model, unless the client's deadline is sooner. */
  timeoutMs: number;
  now: () => number;
}>;
