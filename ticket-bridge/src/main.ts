import { closeNats, connectNats, serveMetrics } from '@oncall/shared';
import { runUntilSignal } from '@oncall/shared/run';
import { loadTicketBridgeConfig, startTicketBridge } from './index.js';

await runUntilSignal('ticket-bridge', async (log) => {
  const cfg = loadTicketBridgeConfig();
  const nc = await connectNats(cfg.NATS_URL, 'ticket-bridge', log);
  const metrics = await serveMetrics(cfg.METRICS_PORT);
  const bridge = await startTicketBridge({
    nc,
    log,
    partitions: cfg.ONCALL_PARTITIONS,
    port: cfg.TICKET_BRIDGE_PORT,
    host: cfg.TICKET_BRIDGE_HOST,
    owner: cfg.TICKET_BRIDGE_ID,
    replicas: cfg.ONCALL_REPLICAS,
    publicUrl: cfg.ONCALL_PUBLIC_URL ?? null,
    providerTimeoutMs: cfg.TICKET_PROVIDER_TIMEOUT_MS,
    concurrency: cfg.TICKET_PROVIDER_CONCURRENCY,
    retry: { maxAttempts: cfg.TICKET_MAX_ATTEMPTS },
    ackWaitMs: cfg.TICKET_BRIDGE_ACK_WAIT_MS,
  });
  return async () => {
    await bridge.stop();
    metrics.close();
    await closeNats(nc, log);
  };
});
