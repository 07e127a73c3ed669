import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { partitionOf, STREAMS, subjects, type AlertEvent, type EventData } from '@oncall/contracts';
import { readExisting, type CommandTarget } from '@oncall/shared';

/** An alert's events as the log has them now, read from its subject `alerts.<p>.<alertId>` (a few events). */
export function alertEventsReader(nc: NatsConnection, partitions: number): (target: CommandTarget) => Promise<AlertEvent[]> {
  const js = jetstream(nc);
  return async (target) => {
    const events: AlertEvent[] = [];
    const subject = subjects.alert(partitionOf(target.serviceId, target.fingerprint, partitions), target.alertId);
    await readExisting(nc, js, STREAMS.alerts, subject, (e) => events.push(e as AlertEvent));
    return events;
  };
}

/**
 * An alert's latest routing decision (`AlertRouted` on `escalations.<p>.<alertId>`), null before
 * it is routed: what the effective severity depends on (docs/routing.md, "Effective severity").
 */
export function alertRouteReader(
  nc: NatsConnection,
  partitions: number,
): (target: CommandTarget) => Promise<EventData<'AlertRouted'> | null> {
  const js = jetstream(nc);
  return async (target) => {
    let routed: EventData<'AlertRouted'> | null = null;
    const subject = subjects.escalation(partitionOf(target.serviceId, target.fingerprint, partitions), target.alertId);
    await readExisting(nc, js, STREAMS.escalations, subject, (e) => {
      if (e.type === 'AlertRouted') routed = e.data;
    });
    return routed;
  };
}
