import type { ConsumerConfig, StreamConfig } from '@nats-io/jetstream';
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { STREAMS, subjects } from './subjects.js';

const NS_PER_MS = 1_000_000;
/** Retried webhooks and republished decisions inside this window append nothing. */
export const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/**
 * Stream configurations. The log is the source of truth, so nothing expires by age or size:
 * retention is `limits` with no limits, on file storage. `replicas` is 1 on the embedded
 * default and 3 on a cluster.
 */
export function streamConfigs(replicas: number): Array<Partial<StreamConfig> & { name: string }> {
  const common = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    duplicate_window: DUPLICATE_WINDOW_MS * NS_PER_MS,
    allow_direct: true,
  };
  return [
    { ...common, name: STREAMS.intake, subjects: [subjects.intakeAll], description: 'decider inputs: signal batches and alert commands' },
    { ...common, name: STREAMS.alerts, subjects: [subjects.alertsAll], description: 'alert lifecycle events, one subject per alert' },
    { ...common, name: STREAMS.config, subjects: [subjects.configAll], description: 'configuration events' },
    // The one stream that forgets: a monitor beating every 30 s forever would grow without end,
    // and only recent beats matter (the last one decides health).
    {
      ...common,
      name: STREAMS.heartbeats,
      subjects: [subjects.heartbeatsAll],
      description: 'heartbeat beats, the last 1000 per monitor',
      max_msgs_per_subject: 1000,
    },
    {
      ...common,
      name: STREAMS.escalations,
      subjects: [subjects.escalationsAll],
      description: 'escalator decisions: routing, steps, notification requests',
    },
    { ...common, name: STREAMS.deliveries, subjects: [subjects.deliveriesAll], description: 'notification outcomes' },
    { ...common, name: STREAMS.tickets, subjects: [subjects.ticketsAll], description: 'ticket events' },
    {
      ...common,
      name: STREAMS.parked,
      subjects: [subjects.parkedAll],
      description: 'messages consumers could not apply, and their retries',
    },
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
  projectorEscalations: 'projector-escalations-v1',
  projectorDeliveries: 'projector-deliveries-v1',
  projectorTickets: 'projector-tickets-v1',
  projectorParked: 'projector-parked-v1',
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
    ack_policy: ack === 'all' ? AckPolicy.All : AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: 30_000 * NS_PER_MS,
    max_ack_pending: maxAckPending,
    max_deliver: -1,
  };
}

/** Name of the KV bucket holding topology facts fixed at creation (the partition count). */
export const META_BUCKET = 'oncall-meta';
