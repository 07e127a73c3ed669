import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeEvent, partitionOf, STREAMS, subjects, type AlertEvent } from '@oncall/contracts';
import type { CommandTarget, Declined } from '@oncall/shared';

/**
 * Who resolved an alert, read from its subject in the ALERTS stream: the decider forgets a closed
 * alert, so its decline of a late command cannot say. An alert has few lifecycle events.
 */
export async function resolutionOf(nc: NatsConnection, partitions: number, target: CommandTarget): Promise<Declined['lastChange']> {
  const subject = subjects.alert(partitionOf(target.serviceId, target.fingerprint, partitions), target.alertId);
  const consumer = await jetstream(nc).consumers.get(STREAMS.alerts, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
  let found: Declined['lastChange'] = null;
  try {
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 1000 });
      let pending = 0;
      let seen = 0;
      for await (const m of batch) {
        seen += 1;
        pending = m.info.pending;
        const event = decodeEvent(m.data, { trusted: true }) as AlertEvent;
        if (event.type === 'AlertResolved')
          found = { action: 'resolved', userId: event.data.userId, ...(event.data.via && { via: event.data.via }) };
      }
      if (seen === 0 || pending === 0) return found;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}
