import type { UserDirectory } from '@oncall/shared';
import { openQueryApiDeps, startConsoleServer, type ConsoleServer } from '@oncall/query-api';
import { testLog } from './harness.js';
import type { TestPipeline } from './pipeline.js';

/**
 * The console's HTTP server (query-api's, as `main.ts` starts it) on the test pipeline's NATS and
 * PostgreSQL, on a free port, serving `dist` (a real build or a stand-in). Its sessions, tokens and
 * commands are the pipeline's: sign in with tokens made by `createApiToken(p.admin, …)`.
 */
export async function startTestConsole(
  p: TestPipeline,
  opts: { dist: string; users?: UserDirectory; deltaIntervalMs?: number },
): Promise<ConsoleServer> {
  const shared = await openQueryApiDeps({
    pool: p.pool,
    log: testLog,
    nc: await p.nats.connect('console'),
    partitions: p.partitions,
    databaseUrl: p.db.url,
    schema: p.db.schema,
    ...(opts.users && { users: opts.users }),
  });
  const server = await startConsoleServer({
    shared,
    port: 0,
    host: '127.0.0.1',
    dist: opts.dist,
    ...(opts.deltaIntervalMs !== undefined && { deltaIntervalMs: opts.deltaIntervalMs }),
  });
  return {
    ...server,
    stop: async () => {
      await server.stop();
      await shared.close();
    },
  };
}
