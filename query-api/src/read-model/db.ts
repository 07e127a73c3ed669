import type { CommonQueryMethods, QuerySqlToken } from 'slonik';
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
