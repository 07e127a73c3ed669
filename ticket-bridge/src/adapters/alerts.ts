import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { partitionOf, STREAMS, subjects, type AlertEvent } from '@oncall/contracts';
import { readExisting, type ConfigView } from '@oncall/shared';
import { foldTicketAlert } from '../domain/alert.js';

export type LoadedAlert = NonNullable<ReturnType<typeof foldTicketAlert>> & { partition: number };

/** The alert as its history on the ALERTS stream tells it now (null: no such alert). */
export async function loadAlert(
  nc: NatsConnection,
  js: JetStreamClient,
  config: ConfigView,
  opts: { alertId: string; publicUrl: string | null; partitions: number },
): Promise<LoadedAlert | null> {
  const events: AlertEvent[] = [];
  await readExisting(nc, js, STREAMS.alerts, subjects.alertHistory(opts.alertId), (e) => void events.push(e as AlertEvent));
  const first = events[0];
  if (!first) return null;
  const alert = foldTicketAlert(events, config.state().services.get(first.data.serviceId) ?? null, opts.publicUrl);
  return alert && { ...alert, partition: partitionOf(alert.serviceId, alert.fingerprint, opts.partitions) };
}
