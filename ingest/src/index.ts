import type { NatsConnection } from '@nats-io/transport-node';
import { StreamAppender, watchConfig, type Logger } from '@oncall/shared';
import { IntakePublisher } from './adapters/intake-publisher.js';
import { HeartbeatPublisher } from './adapters/heartbeat-publisher.js';
import { PartitionDecider } from './adapters/decider.js';
import { buildServer } from './http/server.js';

export { decide, evolve, alertKey, AlertCommandError, type OpenAlert, type AlertCommand, type DecidedEvent } from './domain/alert.js';
export { normaliseSeverity } from './domain/severity.js';
export { loadIngestConfig, loadDeciderConfig, type IngestConfig, type DeciderConfig } from './config.js';

export type Stoppable = { stop: () => Promise<void> };

/** Starts the webhook HTTP server; answers 2xx only after JetStream acknowledged the signals. */
export async function startIngest(opts: {
  nc: NatsConnection;
  partitions: number;
  port: number;
  host: string;
  bodyLimitBytes: number;
  rateLimitPerSecond: number;
  publishTimeoutMs?: number;
  log: Logger;
}): Promise<Stoppable & { url: string }> {
  const config = await watchConfig(opts.nc);
  const appender = new StreamAppender(opts.nc, opts.publishTimeoutMs ?? 5000);
  const publisher = new IntakePublisher(appender, opts.partitions);
  const heartbeats = new HeartbeatPublisher(appender);
  const app = await buildServer({
    config,
    publisher,
    heartbeats,
    log: opts.log,
    bodyLimitBytes: opts.bodyLimitBytes,
    rateLimitPerSecond: opts.rateLimitPerSecond,
  });
  const url = await app.listen({ port: opts.port, host: opts.host });
  opts.log.info({ url }, 'ingest listening');
  return {
    url,
    stop: async () => {
      await app.close();
      await appender.close();
      await config.stop();
    },
  };
}

/** Starts one decider per partition in this process (the single writer of each). */
export async function startDecider(opts: { nc: NatsConnection; partitions: number; log: Logger }): Promise<Stoppable> {
  const deciders = Array.from({ length: opts.partitions }, (_, p) => new PartitionDecider(opts.nc, p, opts.log));
  const runs = deciders.map((d) => d.run());
  opts.log.info({ partitions: opts.partitions }, 'decider running');
  return {
    stop: async () => {
      for (const d of deciders) d.stop();
      await Promise.allSettled(runs);
    },
  };
}
