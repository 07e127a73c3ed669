import { closeNats, connectNats, ensureTopology, serveMetrics, userDirectory } from '@oncall/shared';
import { runUntilSignal } from '@oncall/shared/run';
import { loadEscalatorConfig, startEscalator } from './index.js';

await runUntilSignal('escalator', async (log) => {
  const cfg = loadEscalatorConfig();
  const nc = await connectNats(cfg.NATS_URL, 'escalator', log);
  const { partitions } = await ensureTopology(nc, { partitions: cfg.ONCALL_PARTITIONS, replicas: cfg.ONCALL_REPLICAS }, log);
  const metrics = await serveMetrics(cfg.METRICS_PORT);
  const users = userDirectory(cfg.USER_SERVICE_URL);
  const escalator = await startEscalator({
    nc,
    partitions,
    users,
    log,
    owner: cfg.ESCALATOR_ID,
    replicas: cfg.ONCALL_REPLICAS,
    requireVerified: cfg.ONCALL_REQUIRE_VERIFIED,
  });
  return async () => {
    await escalator.stop();
    users.close();
    metrics.close();
    await closeNats(nc, log);
  };
});
