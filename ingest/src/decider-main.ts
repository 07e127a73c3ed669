import { closeNats, connectNats, ensureTopology, serveMetrics } from '@oncall/shared';
import { runUntilSignal } from '@oncall/shared/run';
import { loadDeciderConfig, startDecider } from './index.js';

await runUntilSignal('decider', async (log) => {
  const cfg = loadDeciderConfig();
  const nc = await connectNats(cfg.NATS_URL, 'decider', log);
  const { partitions } = await ensureTopology(nc, { partitions: cfg.ONCALL_PARTITIONS, replicas: cfg.ONCALL_REPLICAS }, log);
  const metrics = await serveMetrics(cfg.METRICS_PORT);
  const decider = await startDecider({ nc, partitions, log, owner: cfg.DECIDER_ID, replicas: cfg.ONCALL_REPLICAS });
  return async () => {
    await decider.stop();
    metrics.close();
    await closeNats(nc, log);
  };
});
