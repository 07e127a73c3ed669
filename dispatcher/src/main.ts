import { closeNats, connectNats, serveMetrics, userDirectory } from '@oncall/shared';
import { runUntilSignal } from '@oncall/shared/run';
import { loadDispatcherConfig, notifiersFrom, providerLimits, publicUrlOf, slackMessageEditor, startDispatcher } from './index.js';

await runUntilSignal('dispatcher', async (log) => {
  const cfg = loadDispatcherConfig();
  const nc = await connectNats(cfg.NATS_URL, 'dispatcher', log);
  const metrics = await serveMetrics(cfg.METRICS_PORT);
  if (cfg.ONCALL_ACTION_SECRET && !publicUrlOf(cfg))
    log.warn('ONCALL_ACTION_SECRET is set but ONCALL_PUBLIC_URL is not: messages carry no action link');
  const users = cfg.SLACK_TOKEN && cfg.USER_SERVICE_URL ? userDirectory(cfg.USER_SERVICE_URL) : null;
  const dispatcher = await startDispatcher({
    nc,
    notifiers: notifiersFrom(cfg),
    log,
    replicas: cfg.ONCALL_REPLICAS,
    ...(cfg.SLACK_TOKEN && {
      slackUpdates: {
        editor: slackMessageEditor({ token: cfg.SLACK_TOKEN, apiUrl: cfg.SLACK_API_URL, timeoutMs: cfg.NOTIFIER_TIMEOUT_MS }),
        users,
      },
    }),
    options: {
      publicUrl: publicUrlOf(cfg),
      actionSecret: cfg.ONCALL_ACTION_SECRET ?? null,
      consoleUrl: cfg.ONCALL_CONSOLE_URL ?? null,
      consoleChannel: cfg.ONCALL_CONSOLE_CHANNEL,
      ackWaitMs: cfg.DISPATCHER_ACK_WAIT_MS,
      claimStaleMs: cfg.DISPATCHER_CLAIM_STALE_MS,
      perProvider: providerLimits(cfg),
    },
  });
  return async () => {
    await dispatcher.stop();
    users?.close();
    metrics.close();
    await closeNats(nc, log);
  };
});
