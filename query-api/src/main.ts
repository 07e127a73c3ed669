import { closeNats, connectNats, createReadModelPool, ensureTopology, serveMetrics, userDirectory } from '@oncall/shared';
import { runUntilSignal } from '@oncall/shared/run';
import { loadQueryApiConfig, startGrpcServer } from './index.js';

await runUntilSignal('query-api', async (log) => {
  const cfg = loadQueryApiConfig();
  const pool = await createReadModelPool(cfg.DATABASE_URL, cfg.READ_MODEL_SCHEMA);
  const nc = await connectNats(cfg.NATS_URL, 'query-api', log);
  const { partitions } = await ensureTopology(nc, { partitions: cfg.ONCALL_PARTITIONS, replicas: cfg.ONCALL_REPLICAS }, log);
  const metrics = await serveMetrics(cfg.METRICS_PORT);
  const users = cfg.USER_SERVICE_URL ? userDirectory(cfg.USER_SERVICE_URL) : null;
  const grpc = await startGrpcServer({
    pool,
    port: cfg.GRPC_PORT,
    host: cfg.GRPC_HOST,
    log,
    nc,
    partitions,
    databaseUrl: cfg.DATABASE_URL,
    schema: cfg.READ_MODEL_SCHEMA,
    commandTimeoutMs: cfg.COMMAND_TIMEOUT_MS,
    ...(users && { knownUsers: async (ids: string[]) => new Set((await users.getUsers(ids)).users.keys()) }),
  });
  return async () => {
    await grpc.stop();
    users?.close();
    metrics.close();
    await closeNats(nc, log);
    await pool.end();
  };
});
