import pg from 'pg';
import type { CommonQueryMethods, DatabasePool, QuerySqlToken } from 'slonik';
import type { Logger } from '@oncall/shared';
import type { z, ZodTypeAny } from 'zod';

/**
 * Rows checked and converted by the query's zod schema. The pool has no result-parser
 * interceptor, so without this an int8 arrives as a bigint whatever the type says.
 */
export async function rows<T extends ZodTypeAny>(db: CommonQueryMethods, query: QuerySqlToken<T>): Promise<z.infer<T>[]> {
  return (await db.any(query)).map((r) => query.parser.parse(r) as z.infer<T>);
}

/** The one row of the query, checked and converted, or null. */
export async function maybeRow<T extends ZodTypeAny>(db: CommonQueryMethods, query: QuerySqlToken<T>): Promise<z.infer<T> | null> {
  const row = await db.maybeOne(query);
  return row === null ? null : (query.parser.parse(row) as z.infer<T>);
}

/**
 * A plain pg pool on the slonik pool's database (its connection URI, search path included) and
 * size, for reads whose rows are converted by hand (`alertsAfter`). Idle connections close.
 */
export function createListPool(pool: DatabasePool, log: Logger): pg.Pool {
  const list = new pg.Pool({
    connectionString: pool.configuration.connectionUri,
    max: pool.configuration.maximumPoolSize,
    idleTimeoutMillis: 60_000,
    allowExitOnIdle: true,
  });
  list.on('error', (err) => log.warn({ err }, 'an idle read-model connection failed'));
  return list;
}
