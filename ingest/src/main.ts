import { closeNats, connectNats, createReadModelPool, ensureTopology, userDirectory } from '@oncall/shared';
import { loadIngestConfig, startIngest } from './index.js';
import { runUntilSignal } from '@oncall/shared/run';

await runUntilSignal('ingest', async (log) => {
  const cfg = loadIngestConfig();
  const nc = await connectNats(cfg.NATS_URL, 'ingest', log);
  const { partitions } = await ensureTopology(nc, { partitions: cfg.ONCALL_PARTITIONS, replicas: cfg.ONCALL_REPLICAS }, log);
  const directory = cfg.USER_SERVICE_URL ? userDirectory(cfg.USER_SERVICE_URL) : null;
  const pool = cfg.DATABASE_URL ? await createReadModelPool(cfg.DATABASE_URL, cfg.READ_MODEL_SCHEMA, 2) : null;
  if (cfg.SLACK_SIGNING_SECRET && !directory) log.warn('USER_SERVICE_URL is not set: no Slack member can act on alerts');
  const ingest = await startIngest({
    nc,
    partitions,
    port: cfg.INGEST_PORT,
    host: cfg.INGEST_HOST,
    bodyLimitBytes: cfg.INGEST_BODY_LIMIT_BYTES,
    rateLimitPerSecond: cfg.INGEST_RATE_LIMIT_PER_SECOND,
    publicUrl: cfg.ONCALL_PUBLIC_URL ?? null,
    twilioAuthToken: cfg.TWILIO_AUTH_TOKEN ?? null,
    replicas: cfg.ONCALL_REPLICAS,
    actionSecrets: [cfg.ONCALL_ACTION_SECRET, cfg.ONCALL_ACTION_SECRET_PREVIOUS].filter((s) => s !== undefined),
    slack: { signingSecret: cfg.SLACK_SIGNING_SECRET ?? null, directory, pool },
    log,
  });
  return async () => {
    await ingest.stop();
    directory?.close();
    await pool?.end();
    await closeNats(nc, log);
  };
});
