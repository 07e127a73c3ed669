import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { decodeEvent, STREAMS, subjects, type AlertEvent } from '@oncall/contracts';

/**
 * One alert's whole history read from the ALERTS stream itself (its subject), not from a read
 * model: what an auditor trusts. With `asOf`, only what had happened by then.
 */
export async function alertHistory(nc: NatsConnection, alertId: string, asOf?: Date): Promise<AlertEvent[]> {
  const filter = subjects.alertHistory(alertId);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(STREAMS.alerts, { subjects_filter: filter });
  if (!info.state.subjects || Object.keys(info.state.subjects).length === 0) return [];
  const consumer = await jetstream(nc).consumers.get(STREAMS.alerts, { filter_subjects: filter, deliver_policy: DeliverPolicy.All });
  const events: AlertEvent[] = [];
  const messages = await consumer.consume();
  for await (const m of messages) {
    const event = decodeEvent(m.data) as AlertEvent;
    if (asOf && Date.parse(event.occurredAt) > asOf.getTime()) break;
    events.push(event);
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return events;
}
