import type { NatsConnection } from '@nats-io/transport-node';
import { hostname } from 'node:os';
import { CONSUMERS } from '@oncall/contracts';
import {
  AlertCommandPath,
  holdLease,
  leaseBucket,
  Parking,
  serveParkedRetries,
  SnapshotStore,
  StreamAppender,
  systemClock,
  watchConfig,
  type Logger,
  type UserDirectory,
} from '@oncall/shared';
import type { DatabasePool } from 'slonik';
import { IntakePublisher } from './adapters/intake-publisher.js';
import { HeartbeatPublisher } from './adapters/heartbeat-publisher.js';
import { StreamCapacity } from './adapters/stream-capacity.js';
import { PartitionDecider, type SnapshotPolicy } from './adapters/decider.js';
import { buildServer } from './http/server.js';
import { twilioDeps } from './responders/twilio-deps.js';
import { alertEventsReader, alertRouteReader } from './adapters/alert-log.js';
import { OpenAlerts, resolutionOf, SlackUsers } from './responders/slack.js';

export { decide, evolve, alertKey, type OpenAlert, type AlertCommand, type DecidedEvent } from './domain/alert.js';
export { normaliseSeverity } from './domain/severity.js';
export { loadIngestConfig, loadDeciderConfig, type IngestConfig, type DeciderConfig } from './config.js';
export { deciderConsumers, recoverState, snapshotName, SNAPSHOT_FORMAT, type SnapshotBody } from './adapters/decider-recovery.js';
export { PartitionDecider, type SnapshotPolicy } from './adapters/decider.js';

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
  /** ONCALL_PUBLIC_URL: the base of the links people get and Twilio signs against. */
  publicUrl?: string | null;
  /** TWILIO_AUTH_TOKEN: with it (and a public URL) ingest takes Twilio's SMS, voice and status requests. */
  twilioAuthToken?: string | null;
  replicas?: number;
  /** ONCALL_ACTION_SECRET (then the previous one): action links are checked against these. */
  actionSecrets?: readonly string[];
  /** Slack interactivity and `/oncall` (docs/responders.md#answering-pages-from-slack); absent: those routes answer 503. */
  slack?: Readonly<{
    signingSecret: string | null;
    /** Who a Slack member is; null: nobody is linked. */
    directory: UserDirectory | null;
    /** The read model for `/oncall alerts|ack|resolve`; null: not available. */
    pool: DatabasePool | null;
    answerTimeoutMs?: number;
  }>;
  log: Logger;
}): Promise<Stoppable & { url: string }> {
  const config = await watchConfig(opts.nc);
  const appender = new StreamAppender(opts.nc, opts.publishTimeoutMs ?? 5000);
  const publisher = new IntakePublisher(appender, opts.partitions);
  const heartbeats = new HeartbeatPublisher(appender);
  const capacity = new StreamCapacity(opts.nc, opts.log);
  await capacity.start();
  const twilio = opts.twilioAuthToken ? await twilioDeps(opts.nc, opts.twilioAuthToken, appender, opts.partitions, opts.replicas) : null;
  // An alert's events from the log: the action page and the Slack answers read them.
  const alertEvents = alertEventsReader(opts.nc, opts.partitions);
  const app = await buildServer({
    capacity,
    config,
    publisher,
    heartbeats,
    log: opts.log,
    bodyLimitBytes: opts.bodyLimitBytes,
    rateLimitPerSecond: opts.rateLimitPerSecond,
    responders: {
      commands: new AlertCommandPath(opts.nc, { partitions: opts.partitions }),
      config,
      log: opts.log,
      publicUrl: opts.publicUrl ?? null,
      now: Date.now,
      twilio,
      actionSecrets: opts.actionSecrets ?? [],
      alertEvents,
      alertRoute: alertRouteReader(opts.nc, opts.partitions),
      slack: {
        signingSecret: opts.slack?.signingSecret ?? null,
        users: opts.slack?.directory ? new SlackUsers(opts.slack.directory, config.state, opts.log, Date.now) : null,
        alerts: opts.slack?.pool ? new OpenAlerts(opts.slack.pool) : null,
        resolution: (target) => resolutionOf(alertEvents, target),
        ...(opts.slack?.answerTimeoutMs !== undefined && { answerTimeoutMs: opts.slack.answerTimeoutMs }),
      },
    },
  });
  const url = await app.listen({ port: opts.port, host: opts.host });
  opts.log.info({ url }, 'ingest listening');
  return {
    url,
    stop: async () => {
      await app.close();
      capacity.stop();
      await appender.close();
      await config.stop();
    },
  };
}

/**
 * Starts a decider for every partition whose lease this process can take (`decider.p<N>` in the
 * lease bucket): one writer per partition across replicas. A replica that dies loses its leases
 * when they expire, and another takes its partitions over from their snapshots and the log.
 */
export async function startDecider(opts: {
  nc: NatsConnection;
  partitions: number;
  log: Logger;
  /** Names this replica in the leases; replicas need different ids. */
  owner?: string;
  replicas?: number;
  snapshotPolicy?: SnapshotPolicy;
}): Promise<Stoppable> {
  const owner = opts.owner ?? `${hostname()}:decider`;
  const kv = await leaseBucket(opts.nc, opts.replicas);
  const snapshots = await SnapshotStore.open(opts.nc, opts.replicas);
  const appender = new StreamAppender(opts.nc);
  const parking = new Parking(appender, opts.log);
  const stop = new AbortController();
  const leaseOpts = { clock: systemClock, log: opts.log, stop: stop.signal };
  // A parked intake message is taken again by appending it to its partition anew: it is decided in order after what came since.
  const retries = Array.from({ length: opts.partitions }, (_, partition) =>
    serveParkedRetries(opts.nc, CONSUMERS.decider(partition), appender, opts.log, async (m) => {
      await appender.append(m.subject, m.data);
    }),
  );
  const runs = Array.from({ length: opts.partitions }, (_, partition) => {
    return holdLease(
      kv,
      `decider.p${partition}`,
      owner,
      (lost, lease) =>
        new PartitionDecider({
          nc: opts.nc,
          partition,
          log: opts.log,
          parking,
          snapshots,
          stillOwner: lease.held,
          snapshotPolicy: opts.snapshotPolicy,
        }).run(lost),
      leaseOpts,
    );
  });
  opts.log.info({ partitions: opts.partitions, owner }, 'decider running');
  return {
    stop: async () => {
      for (const r of retries) r.unsubscribe();
      stop.abort();
      await Promise.allSettled(runs);
      await appender.close();
    },
  };
}
