import { createReadModelPool, serveMetrics } from '@oncall/shared';
import { runUntilSignal } from '@oncall/shared/run';
import { loadQueryApiConfig, startGrpcServer } from './index.js';

await runUntilSignal('query-api', async (log) => {
  const cfg = loadQueryApiConfig();
  const pool = await createReadModelPool(cfg.DATABASE_URL, cfg.READ_MODEL_SCHEMA);
  const metrics = await serveMetrics(cfg.METRICS_PORT);
  const grpc = await startGrpcServer({ pool, port: cfg.GRPC_PORT, host: cfg.GRPC_HOST, log });
  return async () => {
    await grpc.stop();
    metrics.close();
    await pool.end();
  };
});
