import { createPool, type DatabasePool } from 'slonik';

/** A connection string whose sessions use `schema` as their search path. */
export function withSearchPath(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** A slonik pool whose queries resolve unqualified table names in the read-model schema. */
export async function createReadModelPool(databaseUrl: string, schema: string, maximumPoolSize = 10): Promise<DatabasePool> {
  return createPool(withSearchPath(databaseUrl, schema), { maximumPoolSize, captureStackTrace: false });
}
