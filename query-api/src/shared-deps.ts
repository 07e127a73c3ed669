import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import type { DatabasePool } from 'slonik';
import { watchConfig, type ConfigView, type Logger, type UserDirectory } from '@oncall/shared';
import { AlertCommands } from './adapters/alert-commands.js';
import { ProjectionFeed } from './adapters/projection-feed.js';
import type { WriteDeps } from './adapters/write-deps.js';
import { ConfigWriter } from './config-writes.js';
import { Consistency } from './consistency.js';
import type { StoredToken } from './domain/auth.js';
import { createListPool } from './read-model/db.js';

export type QueryApiDepsOptions = {
  pool: DatabasePool;
  log: Logger;
  /** NATS: alert commands append to INTAKE. Without it (or without `partitions`) they answer UNAVAILABLE. */
  nc?: NatsConnection;
  /** The partition count fixed at stream creation (ensureTopology). */
  partitions?: number;
  /** The read-model database and schema for LISTEN (ProjectionFeed); without them commands and live streams are unavailable. */
  databaseUrl?: string;
  schema?: string;
  /** Longest a command or configuration write waits for its outcome to be visible (default 10 s). */
  commandTimeoutMs?: number;
  /** kneutral-api's UserService; without it, users are not checked. */
  users?: UserDirectory;
  /** API tokens by id. Default: the CONFIG stream's, followed through `nc`. */
  tokens?: (tokenId: string) => StoredToken | undefined;
};

/**
 * What the gRPC server and the console's HTTP server share, so both read the same tokens, wait on
 * one LISTEN connection and send commands down one path: built once by main.ts (or by
 * startGrpcServer alone when it is given none), closed once by whoever built it.
 */
export type QueryApiDeps = Readonly<{
  pool: DatabasePool;
  /** A plain pg pool for reads converted by hand (alertsAfter, the console's board). */
  listPool: pg.Pool;
  log: Logger;
  nc: NatsConnection | null;
  partitions: number | null;
  users: UserDirectory | null;
  feed: ProjectionFeed | null;
  commands: AlertCommands | null;
  writeDeps: WriteDeps | null;
  consistency: Consistency;
  writer: ConfigWriter | null;
  tokens: (tokenId: string) => StoredToken | undefined;
  timeoutMs: number;
  now: () => number;
  close: () => Promise<void>;
}>;

export async function openQueryApiDeps(opts: QueryApiDepsOptions): Promise<QueryApiDeps> {
  const { pool, log } = opts;
  const now = (): number => Date.now();
  const timeoutMs = opts.commandTimeoutMs ?? 10_000;
  const config: ConfigView | null = !opts.tokens && opts.nc ? await watchConfig(opts.nc) : null;
  let feed: ProjectionFeed | null = null;
  try {
    feed =
      opts.databaseUrl && opts.schema
        ? await ProjectionFeed.start({ databaseUrl: opts.databaseUrl, schema: opts.schema, pool, log })
        : null;
  } catch (err) {
    await config?.stop();
    throw err;
  }
  const users = opts.users ?? null;
  const commands =
    opts.nc && opts.partitions && feed
      ? new AlertCommands({ nc: opts.nc, partitions: opts.partitions, pool, feed, users, log, timeoutMs, now })
      : null;
  const writeDeps =
    opts.nc && opts.partitions && feed ? { nc: opts.nc, partitions: opts.partitions, pool, feed, log, timeoutMs, now } : null;
  const consistency = new Consistency(feed, log);
  const writer = opts.nc && feed ? new ConfigWriter({ nc: opts.nc, feed, users, consistency, timeoutMs, now }) : null;
  const listPool = createListPool(pool, log);
  const tokens = opts.tokens ?? ((id: string) => config?.state().apiTokens.get(id));
  return {
    pool,
    listPool,
    log,
    nc: opts.nc ?? null,
    partitions: opts.partitions ?? null,
    users,
    feed,
    commands,
    writeDeps,
    consistency,
    writer,
    tokens,
    timeoutMs,
    now,
    close: async () => {
      await feed?.stop();
      await config?.stop();
      await listPool.end();
    },
  };
}
