import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '@oncall/infra';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

/**
 * Starts one throwaway PostgreSQL for the whole run on a free port. If it cannot start, says why
 * in one line on stderr (vitest alone may print nothing after RUN) and leaves no folder behind.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'oncall-test-pg-'));
  let pg;
  try {
    pg = await startEmbeddedPostgres({ dataDir: dir, port: await getPort() });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    process.stderr.write(`\noncall tests: the test PostgreSQL did not start: ${err instanceof Error ? err.message : String(err)}\n\n`);
    throw err;
  }
  project.provide('pgAdminUrl', pg.url('postgres'));
  return async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
