import { sql } from 'slonik';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/harness.js';
import { createReadModelPool } from './db.js';

describe('read-model pool', () => {
  it('hands a connection back without DISCARD ALL: the session (search path, plans) stays as it was', async () => {
    const db = await createTestDatabase();
    const pool = await createReadModelPool(db.url, db.schema, 1);
    try {
      // A session setting that DISCARD ALL (RESET ALL) would undo between two queries on the one connection.
      await pool.query(sql.unsafe`SELECT set_config('application_name', 'kept', false)`);
      expect(await pool.oneFirst(sql.unsafe`SELECT current_setting('application_name')`)).toBe('kept');
      expect(await pool.oneFirst(sql.unsafe`SELECT current_schema()`)).toBe(db.schema);
    } finally {
      await pool.end();
    }
  });
});
