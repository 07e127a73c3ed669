import { closeNats, connectNats, createReadModelPool, ensureTopology, serveMetrics } from '@oncall/shared';
import { runUntilSignal } from '@oncall/shared/run';
import { migrate } from '@oncall/infra/migrate';
import { loadProjectorConfig, startProjector } from './index.js';

await runUntilSignal('projector', async (log) => {
  const cfg = loadProjectorConfig();
  await migrate(cfg.DATABASE_URL, cfg.READ_MODEL_SCHEMA, log);
  const nc = await connectNats(cfg.NATS_URL, 'projector', log);
  await ensureTopology(nc, { partitions: cfg.ONCALL_PARTITIONS, replicas: cfg.ONCALL_REPLICAS }, log);
  const pool = await createReadModelPool(cfg.DATABASE_URL, cfg.READ_MODEL_SCHEMA);
  const metrics = await serveMetrics(cfg.METRICS_PORT);
  const projector = await startProjector({ nc, pool, log });
  return async () => {
    await projector.stop();
    metrics.close();
    await pool.end();
    await closeNats(nc, log);
  };
});
