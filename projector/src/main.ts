import { sql } from 'slonik';
import { closeNats, connectNats, createReadModelPool, ensureTopology, serveMetrics } from '@oncall/shared';
import { runUntilSignal } from '@oncall/shared/run';
import { ensureArchive, loadProjectorConfig, startArchiver, startProjector } from './index.js';

await runUntilSignal('projector', async (log) => {
  const cfg = loadProjectorConfig();
  const nc = await connectNats(cfg.NATS_URL, 'projector', log);
  await ensureTopology(nc, { partitions: cfg.ONCALL_PARTITIONS, replicas: cfg.ONCALL_REPLICAS }, log);
  const pool = await createReadModelPool(cfg.DATABASE_URL, cfg.READ_MODEL_SCHEMA);
  // Migrations belong to infra (`oncall migrate`, run by `oncall up`); a schema without them is a clear start-up error.
  if ((await pool.oneFirst(sql.unsafe`SELECT to_regclass('projection_checkpoints') IS NOT NULL`)) !== true) {
    throw new Error(`read-model schema "${cfg.READ_MODEL_SCHEMA}" has no tables: run \`npx oncall migrate\` first (oncall up does)`);
  }
  const metrics = await serveMetrics(cfg.METRICS_PORT);
  await ensureArchive(pool, cfg.READ_MODEL_SCHEMA);
  const projector = await startProjector({ nc, pool, log });
  const stopArchiver = startArchiver({
    pool,
    schema: cfg.READ_MODEL_SCHEMA,
    afterMs: cfg.ONCALL_ARCHIVE_AFTER,
    everyMs: cfg.ONCALL_ARCHIVE_EVERY,
    log,
  });
  return async () => {
    stopArchiver();
    await projector.stop();
    metrics.close();
    await pool.end();
    await closeNats(nc, log);
  };
});
