import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { durableConsumer, STREAMS, subjects, type TicketProviderType } from '@oncall/contracts';
import { AlertCommandPath, consumeInHand, ensureConsumer, Parking, StreamAppender, watchConfig, type Logger } from '@oncall/shared';
import { handleTicketMessage, TICKETS_CONSUMER } from './adapters/creator.js';
import type { Deps } from './adapters/deps.js';
import { serveInbound } from './adapters/inbound.js';
import { Holding, ProviderLanes } from './adapters/lanes.js';
import { held } from './adapters/metrics.js';
import { runPolling } from './adapters/poller.js';
import { ConfiguredProviders } from './adapters/providers.js';
import { TicketRecords } from './adapters/records.js';
import { handleEscalation, REQUESTS_CONSUMER } from './adapters/requests.js';
import { ALERTS_CONSUMER, handleAlertEvent, perAlertOrder } from './adapters/syncer.js';
import { runSubscriptions } from './adapters/subscriptions.js';
import { serveTests } from './adapters/tester.js';
import { DEFAULT_RETRY, type RetryPolicy } from './domain/rules.js';
import type { TicketProvider } from './providers/types.js';

export { loadTicketBridgeConfig, type TicketBridgeConfig } from './config.js';
export { TICKET_BUCKET } from './adapters/records.js';
export { TICKET_TEST_SUBJECT } from './adapters/tester.js';
export { REQUESTS_CONSUMER, TICKETS_CONSUMER, ALERTS_CONSUMER };
export { PROVIDERS } from './providers/index.js';
export { webhookProvider } from './providers/webhook/index.js';
export type { TicketProvider, InboundChange, ProviderContext } from './providers/types.js';
export { startWebhookStandIn, type WebhookStandIn } from './providers/webhook/stand-in.js';

const NS_PER_MS = 1_000_000;
/**
 * TicketRequested held in hand while their provider's lane is full or paused (instead of handed
 * back to come again in 1–2 s: docs/performance.md, bench:tickets), per provider and in all; the
 * tickets consumer takes up to TICKET_WORKERS at once, so at least 1,024 slots stay free for
 * providers that are not held up. A held message costs a working() every 10 s and ~2 KB.
 */
const HELD_CREATES_PER_PROVIDER = 1024;
const HELD_CREATES = 3072;
const TICKET_WORKERS = 4096;
/** The same for alert lifecycle updates (their loop: ALERT_WORKERS). */
const HELD_UPDATES_PER_PROVIDER = 32;
const HELD_UPDATES = 128;
const ALERT_WORKERS = 256;

export type TicketBridgeOptions = Readonly<{
  nc: NatsConnection;
  log: Logger;
  partitions: number;
  /** Inbound HTTP (0: a free port). */
  port: number;
  host?: string;
  owner: string;
  replicas?: number;
  publicUrl?: string | null;
  providerTimeoutMs?: number;
  /** Calls in flight per provider. */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  /** Redelivery of a message whose process died (and the claim stale time: twice it). */
  ackWaitMs?: number;
  fetch?: typeof fetch;
  /** The provider implementations by type (default: PROVIDERS). */
  providers?: Readonly<Partial<Record<TicketProviderType, TicketProvider>>>;
  now?: () => number;
  random?: () => number;
}>;

export type TicketBridge = { url: string; stop: () => Promise<void> };

/**
 * Starts the ticket bridge (docs/tickets.md#how-the-bridge-works): three durable consumers shared
 * by every replica (routing decisions → TicketRequested; TicketRequested → tickets; alert
 * lifecycle → ticket updates), the inbound HTTP endpoint, push subscriptions (Salesforce Pub/Sub),
 * fallback polling and the TestProvider responder.
 */
export async function startTicketBridge(opts: TicketBridgeOptions): Promise<TicketBridge> {
  const { nc, log } = opts;
  const now = opts.now ?? Date.now;
  const config = await watchConfig(nc);
  const appender = new StreamAppender(nc);
  const ackWaitMs = opts.ackWaitMs ?? 30_000;
  const timeoutMs = opts.providerTimeoutMs ?? 10_000;
  const concurrency = opts.concurrency ?? 4;
  const d: Deps = {
    nc,
    js: jetstream(nc),
    log,
    config,
    providers: new ConfiguredProviders(config, {
      fetch: opts.fetch ?? fetch,
      timeoutMs,
      now: () => new Date(now()),
      log,
      ...(opts.providers && { registry: opts.providers }),
    }),
    records: await TicketRecords.open(nc, { replicas: opts.replicas ?? 1, log }),
    lanes: new ProviderLanes(concurrency, now),
    holding: {
      creates: new Holding(HELD_CREATES_PER_PROVIDER, HELD_CREATES, (provider, n) => held.set({ provider, work: 'create' }, n)),
      updates: new Holding(HELD_UPDATES_PER_PROVIDER, HELD_UPDATES, (provider, n) => held.set({ provider, work: 'update' }, n)),
    },
    appender,
    parking: new Parking(appender, log),
    commands: new AlertCommandPath(nc, { partitions: opts.partitions }),
    owner: opts.owner,
    partitions: opts.partitions,
    publicUrl: opts.publicUrl ?? null,
    retry: { ...DEFAULT_RETRY, ...opts.retry },
    // A claim outlives the slowest call by far: only a dead process's claim goes stale.
    claimStaleMs: Math.max(2 * ackWaitMs, 3 * timeoutMs),
    now,
    random: opts.random ?? Math.random,
  };
  for (const id of d.providers.ids()) d.providers.get(id);
  const stop = new AbortController();
  const jsm = await jetstreamManager(nc);
  // Durable consumers shared by every replica (consumeInHand: messages in hand, working() while a call is slow).
  const consumer = (stream: string, name: string, filter: string, workers: number, handle: (m: JsMsg) => Promise<void>) =>
    consumeInHand({
      js: d.js,
      log,
      stop: stop.signal,
      stream,
      consumer: name,
      concurrency: workers,
      ensure: async () => {
        // Many messages may wait for a retry (nak with delay) at once: they must not hold the consumer up.
        const config = { ...durableConsumer(name, filter, 20_000), ack_wait: ackWaitMs * NS_PER_MS };
        await ensureConsumer(jsm, stream, { ...config, durable_name: name });
        return ackWaitMs;
      },
      handle,
    });
  const ordered = perAlertOrder();
  // Each loop's concurrency exceeds what its Holding lets wait in the lanes: work for other providers always finds a slot.
  const loops = [
    consumer(STREAMS.escalations, REQUESTS_CONSUMER, subjects.escalationsAll, 64, (m) => handleEscalation(d, m)),
    consumer(STREAMS.tickets, TICKETS_CONSUMER, subjects.ticketsAll, TICKET_WORKERS, (m) => handleTicketMessage(d, m)),
    consumer(STREAMS.alerts, ALERTS_CONSUMER, subjects.alertsAll, ALERT_WORKERS, (m) => handleAlertEvent(d, m, ordered)),
    runPolling(d, stop.signal),
    runSubscriptions(d, stop.signal),
  ];
  for (const l of loops) l.catch((err: unknown) => log.error({ err }, 'a ticket bridge loop stopped'));
  const inbound = await serveInbound(d, opts.port, opts.host ?? '127.0.0.1');
  const tests = serveTests(d);
  log.info({ inbound: inbound.url, providers: d.providers.ids() }, 'ticket-bridge running');
  return {
    url: inbound.url,
    stop: async () => {
      stop.abort();
      // Work waiting in a lane (maybe for a pause of minutes) goes back to JetStream now: another replica takes it.
      d.lanes.close();
      tests.unsubscribe();
      await new Promise<void>((resolve) => inbound.server.close(() => resolve()));
      inbound.server.closeAllConnections();
      await Promise.allSettled(loops);
      d.records.stop();
      await appender.close();
      await config.stop();
    },
  };
}
