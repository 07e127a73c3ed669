// Types only: the values of nats' policy enums are their strings, so contracts load no NATS client.
import type { ConsumerConfig, StreamConfig } from '@nats-io/jetstream';
import { STREAMS, subjects } from './subjects.js';

const NS_PER_MS = 1_000_000;
/** Retried webhooks and republished decisions inside this window append nothing. */
export const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/**
 * How much the streams may hold. Every stream has a byte limit (a share of `maxBytes`) and refuses
 * new messages when it is full (`discard: new`): an accepted alert is never dropped to make room;
 * ingest answers 503 before INTAKE is full. Ages: INTAKE forgets decided input after
 * `intakeMaxAgeMs` (the decisions are in ALERTS); the decision streams keep everything unless
 * `logMaxAgeMs` is set (then the read models' archive keeps what they had). 0 = no age limit.
 */
export type StreamLimits = Readonly<{ maxBytes: number; intakeMaxAgeMs: number; logMaxAgeMs: number }>;

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxBytes: 16 * 1024 ** 3,
  intakeMaxAgeMs: 30 * 24 * 3600_000,
  logMaxAgeMs: 0,
};

/** Each stream's share of `maxBytes`. */
export const STREAM_SHARES: Readonly<Record<(typeof STREAMS)[keyof typeof STREAMS], number>> = {
  INTAKE: 0.3,
  ALERTS: 0.3,
  ESCALATIONS: 0.15,
  DELIVERIES: 0.1,
  TICKETS: 0.04,
  CONFIG: 0.02,
  HEARTBEATS: 0.05,
  PARKED: 0.04,
};

/**
 * Stream configurations, on file storage; `replicas` is 1 on the embedded default and 3 on a
 * cluster. See StreamLimits for what they keep.
 */
export function streamConfigs(
  replicas: number,
  limits: StreamLimits = DEFAULT_STREAM_LIMITS,
): Array<Partial<StreamConfig> & { name: string }> {
  const base = {
    retention: 'limits' as const,
    storage: 'file' as const,
    discard: 'new' as const,
    num_replicas: replicas,
    duplicate_window: DUPLICATE_WINDOW_MS * NS_PER_MS,
    allow_direct: true,
  };
  const stream = (name: (typeof STREAMS)[keyof typeof STREAMS], subject: string, description: string, maxAgeMs = 0) => ({
    ...base,
    name,
    subjects: [subject],
    description,
    max_bytes: Math.floor(limits.maxBytes * STREAM_SHARES[name]),
    max_age: maxAgeMs * NS_PER_MS,
  });
  return [
    stream(STREAMS.intake, subjects.intakeAll, 'decider inputs: signal batches and alert commands', limits.intakeMaxAgeMs),
    stream(STREAMS.alerts, subjects.alertsAll, 'alert lifecycle events, one subject per alert', limits.logMaxAgeMs),
    // Never by age: the configuration is folded from its first event.
    stream(STREAMS.config, subjects.configAll, 'configuration events'),
    // The one stream that forgets by count: a monitor beating every 30 s forever would grow without
    // end, and only recent beats matter (the last one decides health). Old beats make room for new.
    {
      ...stream(STREAMS.heartbeats, subjects.heartbeatsAll, 'heartbeat beats, the last 1000 per monitor'),
      discard: 'old' as const,
      max_msgs_per_subject: 1000,
    },
    stream(STREAMS.escalations, subjects.escalationsAll, 'escalator decisions: routing, steps, notification requests', limits.logMaxAgeMs),
    stream(STREAMS.deliveries, subjects.deliveriesAll, 'notification outcomes', limits.logMaxAgeMs),
    stream(STREAMS.tickets, subjects.ticketsAll, 'ticket events', limits.logMaxAgeMs),
    stream(STREAMS.parked, subjects.parkedAll, 'messages consumers could not apply, and their retries'),
  ];
}

/**
 * Consumer and projection names carry a version. Deciders use durable consumers of these names;
 * projections use them as their checkpoint key (they read with ordered consumers from it).
 */
export const CONSUMERS = {
  decider: (partition: number): string => `decider-p${partition}-v1`,
  projectorAlerts: 'projector-alerts-v1',
  projectorConfig: 'projector-config-v1',
  projectorHeartbeats: 'projector-heartbeats-v1',
  /** The escalator reads each alert partition with its own durable consumer. */
  escalator: (partition: number): string => `escalator-p${partition}-v1`,
  /** Dispatcher replicas share one durable consumer of the escalations stream. */
  dispatcher: 'dispatcher-v1',
  /** The dispatcher's editor of Slack messages: lifecycle events (ALERTS) and Slack deliveries (DELIVERIES). */
  slackUpdatesAlerts: 'dispatcher-slack-updates-alerts-v1',
  slackUpdatesDeliveries: 'dispatcher-slack-updates-deliveries-v1',
  /** The dispatcher's sender of shift handoff summaries (escalations.handoffs.>). */
  dispatcherHandoffs: 'dispatcher-handoffs-v1',
  /** The dispatcher's sender of contact verification codes (config.contact.>). */
  dispatcherVerifications: 'dispatcher-verifications-v1',
  projectorEscalations: 'projector-escalations-v1',
  projectorDeliveries: 'projector-deliveries-v1',
  projectorTickets: 'projector-tickets-v1',
  projectorParked: 'projector-parked-v1',
  /** The ticket bridge's consumers, shared by its replicas: routing decisions (escalations.>), ticket requests (tickets.>), alert lifecycle (alerts.>). */
  ticketBridgeRequests: 'ticket-bridge-requests-v1',
  ticketBridgeTickets: 'ticket-bridge-tickets-v1',
  ticketBridgeAlerts: 'ticket-bridge-alerts-v1',
} as const;

/** KV bucket of partition leases (`<role>.p<N>` → owner id), expiring unless refreshed. */
export const LEASE_BUCKET = 'oncall-leases';

/**
 * Pull consumer reading one filter subject from the first message. `ack: 'all'` is for readers
 * that finish messages in stream order: one ack then covers every message before it.
 */
export function durableConsumer(
  name: string,
  filterSubject: string,
  maxAckPending: number,
  ack: 'explicit' | 'all' = 'explicit',
): Partial<ConsumerConfig> {
  return {
    durable_name: name,
    filter_subject: filterSubject,
    ack_policy: ack === 'all' ? 'all' : 'explicit',
    deliver_policy: 'all',
    ack_wait: 30_000 * NS_PER_MS,
    max_ack_pending: maxAckPending,
    max_deliver: -1,
  };
}

/** Name of the KV bucket holding topology facts fixed at creation (the partition count). */
export const META_BUCKET = 'oncall-meta';

/**
 * PostgreSQL NOTIFY channel of the projector's commits: the payload is `<schema> <projection>
 * <last_seq>`. Readers (query-api's read-your-writes, benchmarks) LISTEN on it.
 */
export const PROJECTION_CHANNEL = 'oncall_projection';
