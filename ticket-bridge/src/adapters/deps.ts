import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { encodeEvent, makeEvent, stableUuid, subjects, type EventData } from '@oncall/contracts';
import type { AlertCommandPath, ConfigView, Logger, Parking, StreamAppender, TraceHeaders } from '@oncall/shared';
import type { RetryPolicy } from '../domain/rules.js';
import type { ConfiguredProviders } from './providers.js';
import type { Holding, ProviderLanes } from './lanes.js';
import type { TicketRecords } from './records.js';

/** What the bridge's workers share. */
export type Deps = Readonly<{
  nc: NatsConnection;
  js: JetStreamClient;
  log: Logger;
  config: ConfigView;
  providers: ConfiguredProviders;
  records: TicketRecords;
  lanes: ProviderLanes;
  /** How much work each consumer may hold waiting in the lanes (TicketRequested; alert lifecycle updates). */
  holding: Readonly<{ creates: Holding; updates: Holding }>;
  appender: StreamAppender;
  parking: Parking;
  commands: AlertCommandPath;
  owner: string;
  partitions: number;
  publicUrl: string | null;
  retry: RetryPolicy;
  /** A claim not settled for this long belongs to a process that died mid-call and is taken over. */
  claimStaleMs: number;
  now: () => number;
  random: () => number;
}>;

type TicketEventType = 'TicketRequested' | 'TicketCreated' | 'TicketUpdated' | 'TicketSyncFailed' | 'TicketStatusChanged';

/**
 * Appends a ticket event on `tickets.<p>.<alertId>`. Its id is derived from `idKey`, and the same
 * id is the JetStream msgID: a retry after a crash appends nothing new within the duplicate
 * window, and after it the repeat has the same event id (readers fold by id). `trace`: the span
 * context it carries (tracing on).
 */
export async function appendTicketEvent<T extends TicketEventType>(
  d: Deps,
  type: T,
  data: EventData<T>,
  at: Readonly<{ partition: number; idKey: string; causationId: string | null; trace?: TraceHeaders | undefined }>,
): Promise<void> {
  const id = stableUuid(at.idKey);
  const event = makeEvent(type, data, {
    id,
    occurredAt: new Date(d.now()).toISOString(),
    causationId: at.causationId,
    correlationId: data.alertId,
  });
  await d.appender.append(
    subjects.ticket(at.partition, data.alertId),
    encodeEvent(event),
    at.trace ? { msgID: id, trace: at.trace } : { msgID: id },
  );
}
