import { readFileSync } from 'node:fs';
import { closeNats, connectNats, createReadModelPool, ensureTopology, serveMetrics, userDirectory } from '@oncall/shared';
import { runUntilSignal } from '@oncall/shared/run';
import { loadQueryApiConfig, openQueryApiDeps, startConsoleServer, startGrpcServer } from './index.js';

await runUntilSignal('query-api', async (log) => {
  const cfg = loadQueryApiConfig();
  const pool = await createReadModelPool(cfg.DATABASE_URL, cfg.READ_MODEL_SCHEMA);
  const nc = await connectNats(cfg.NATS_URL, 'query-api', log);
  const { partitions } = await ensureTopology(nc, { partitions: cfg.ONCALL_PARTITIONS, replicas: cfg.ONCALL_REPLICAS }, log);
  const metrics = await serveMetrics(cfg.METRICS_PORT);
  const users = cfg.USER_SERVICE_URL ? userDirectory(cfg.USER_SERVICE_URL) : undefined;
  if (!users) log.warn('USER_SERVICE_URL is not set: alert commands and configuration writes do not check that the acting user exists');
  // One pool, LISTEN connection, command path and token view for both servers.
  const shared = await openQueryApiDeps({
    pool,
    log,
    nc,
    partitions,
    databaseUrl: cfg.DATABASE_URL,
    schema: cfg.READ_MODEL_SCHEMA,
    commandTimeoutMs: cfg.COMMAND_TIMEOUT_MS,
    ...(users && { users }),
  });
  const grpc = await startGrpcServer({
    shared,
    pool,
    port: cfg.GRPC_PORT,
    host: cfg.GRPC_HOST,
    log,
    reflection: cfg.GRPC_REFLECTION,
    authFailureLimit: { max: cfg.GRPC_AUTH_MAX_FAILURES, windowMs: 60_000 },
    ...(cfg.GRPC_TLS_CERT &&
      cfg.GRPC_TLS_KEY && {
        tls: {
          cert: readFileSync(cfg.GRPC_TLS_CERT),
          key: readFileSync(cfg.GRPC_TLS_KEY),
          ...(cfg.GRPC_TLS_CLIENT_CA && { clientCa: readFileSync(cfg.GRPC_TLS_CLIENT_CA) }),
        },
      }),
  });
  const consoleServer = await startConsoleServer({
    shared,
    port: cfg.CONSOLE_PORT,
    host: cfg.CONSOLE_HOST,
    ...(cfg.CONSOLE_DIST && { dist: cfg.CONSOLE_DIST }),
    consoleUrl: cfg.ONCALL_CONSOLE_URL ?? null,
    traceUrl: cfg.ONCALL_TRACE_URL ?? null,
    replicas: cfg.ONCALL_REPLICAS,
    loginFailureLimit: { max: cfg.GRPC_AUTH_MAX_FAILURES, windowMs: 60_000 },
  });
  return async () => {
    await consoleServer.stop();
    await grpc.stop();
    await shared.close();
    users?.close();
    metrics.close();
    await closeNats(nc, log);
    await pool.end();
  };
});
