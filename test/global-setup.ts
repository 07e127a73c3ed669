import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import type { TestProject } from 'vitest/node';
import { ensureDatabase, migrate, startEmbeddedPostgres } from '@oncall/infra';
import { buildServices } from './built-services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    /** A database migrated into the `oncall` schema once, which createTestDatabase copies. */
    pgTemplate: string;
  }
}

/**
 * Starts one throwaway PostgreSQL for the whole run on a free port. If it cannot start, says why
 * in one line on stderr (vitest alone may print nothing after RUN) and leaves no folder behind.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Service processes and `oncall` commands the tests start run this build (see built-services.ts);
  // the test workers, forked after this, inherit the variable.
  const built = await buildServices();
  process.env.ONCALL_BUILT_DIR = built.dir;
  const dir = await mkdtemp(join(tmpdir(), 'oncall-test-pg-'));
  let pg;
  try {
    pg = await startEmbeddedPostgres({ dataDir: dir, port: await getPort() });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    await built.remove();
    process.stderr.write(`\noncall tests: the test PostgreSQL did not start: ${err instanceof Error ? err.message : String(err)}\n\n`);
    throw err;
  }
  const stop = async () => {
    delete process.env.ONCALL_BUILT_DIR;
    await built.remove();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
  project.provide('pgAdminUrl', pg.url('postgres'));
  // Migrated once and copied by each test's CREATE DATABASE … TEMPLATE: 0.25 s a database instead of
  // ~1.1 s of migrations (the suite makes dozens; 2 cores shared by four test files at a time).
  const template = 't_migrated_template';
  try {
    await ensureDatabase(pg.url('postgres'), template);
    await migrate(pg.url(template), 'oncall');
  } catch (err) {
    await stop();
    throw err;
  }
  project.provide('pgTemplate', template);
  return stop;
}
