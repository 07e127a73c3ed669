import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '@oncall/shared';

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/**
 * Brings the read-model schema up to date with node-pg-migrate. Concurrent callers wait on
 * its advisory lock, so every service may call this at start.
 */
export async function migrate(databaseUrl: string, schema: string, log?: Logger): Promise<void> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    schema,
    createSchema: true,
    checkOrder: true,
    advisoryLockMode: 'wait',
    log: (msg: string) => log?.debug({ schema }, msg),
  });
  if (applied.length > 0) log?.info({ schema, migrations: applied.map((m) => m.name) }, 'migrations applied');
}
