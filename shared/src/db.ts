import { createPool, type DatabasePool } from 'slonik';

/** A connection string whose sessions use `schema` as their search path. */
export function withSearchPath(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/**
 * Slonik sends `DISCARD ALL` every time a connection goes back to its pool: one more round trip
 * per query or transaction, and the server's cached plans thrown away. Our sessions keep no state
 * to discard: the search path is set when the connection opens (options), advisory locks are
 * transaction-scoped (`pg_advisory_xact_lock*`), the one temporary table drops on commit, `SET`
 * is only `SET LOCAL`, and LISTEN runs on pg clients of its own. (Measured: docs/performance.md,
 * "Settings measured".)
 */
const keepSession = async (): Promise<void> => {};

/** A slonik pool whose queries resolve unqualified table names in the read-model schema. */
export async function createReadModelPool(databaseUrl: string, schema: string, maximumPoolSize = 10): Promise<DatabasePool> {
  return createPool(withSearchPath(databaseUrl, schema), { maximumPoolSize, captureStackTrace: false, resetConnection: keepSession });
}
