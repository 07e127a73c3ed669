import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { META_BUCKET, streamConfigs, type StreamLimits } from '@oncall/contracts';
import { parseEnv, StreamLimitsEnv } from './env.js';
import type { Logger } from './logger.js';

export async function connectNats(url: string, name: string, log: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: false,
    // Otherwise every request (each JetStream publish) builds an Error to keep the caller's
    // stack: measured at ~14% of the decider's CPU.
    noAsyncTraces: true,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') log.warn({ nats: s.type }, 'nats connection status');
    }
  })();
  return nc;
}

/**
 * Drains the connection (subscriptions finish what they hold, publishes are flushed) and closes
 * it; if the drain fails or has not finished within `timeoutMs` (a server that is gone: the
 * drain's flush would wait for a reconnect that may never come), closes it without draining.
 */
export async function closeNats(nc: NatsConnection, log: Logger, timeoutMs = 1000): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const drained = await Promise.race([
    nc.drain().then(
      () => 'drained' as const,
      (err: unknown) => err,
    ),
    timeout,
  ]);
  clearTimeout(timer);
  if (drained === 'drained') return;
  log.warn({ err: drained === 'timeout' ? undefined : drained, timeoutMs }, 'nats connection not drained; closing it');
  if (!nc.isClosed()) await nc.close();
}

export type Topology = { partitions: number };

/**
 * Creates the streams (or brings their configuration up to date) and fixes the partition count.
 * The count is written once to a KV bucket: alerts are mapped to partitions by it, so a later
 * change of ONCALL_PARTITIONS must not silently re-map them; the stored value wins.
 */
export async function ensureTopology(
  nc: NatsConnection,
  opts: { partitions: number; replicas: number; limits?: StreamLimits },
  log: Logger,
): Promise<Topology> {
  const jsm = await jetstreamManager(nc);
  for (const cfg of streamConfigs(opts.replicas, opts.limits ?? streamLimitsFromEnv())) await upsertStream(jsm, cfg);
  const kv = await new Kvm(nc).create(META_BUCKET, { history: 1, replicas: opts.replicas });
  try {
    await kv.create('partitions', String(opts.partitions));
  } catch {
    // already fixed by an earlier start; read it below
  }
  const entry = await kv.get('partitions');
  const partitions = Number(entry?.string());
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`bad partition count in ${META_BUCKET}: ${entry?.string()}`);
  if (partitions !== opts.partitions) {
    log.warn(
      { stored: partitions, requested: opts.partitions },
      'ONCALL_PARTITIONS differs from the count fixed at creation; using the stored count',
    );
  }
  return { partitions };
}

/** The partition count fixed at creation (see ensureTopology); 1 when none was fixed yet. */
export async function partitionCount(nc: NatsConnection): Promise<number> {
  const kv = await new Kvm(nc).open(META_BUCKET);
  const partitions = Number((await kv.get('partitions').catch(() => null))?.string());
  return Number.isInteger(partitions) && partitions >= 1 ? partitions : 1;
}

async function upsertStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(cfg.name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
    await jsm.streams.add(cfg);
    return;
  }
  await jsm.streams.update(cfg.name, cfg);
}

/**
 * Stream limits from ONCALL_STREAM_MAX_BYTES, ONCALL_INTAKE_RETENTION and ONCALL_LOG_RETENTION
 * (read here, since every service that creates the topology must apply the same ones).
 */
export function streamLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): StreamLimits {
  const e = parseEnv(StreamLimitsEnv, env);
  return { maxBytes: e.ONCALL_STREAM_MAX_BYTES, intakeMaxAgeMs: e.ONCALL_INTAKE_RETENTION, logMaxAgeMs: e.ONCALL_LOG_RETENTION };
}
