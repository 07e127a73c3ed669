import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { partitionOf, STREAMS, subjects } from '@oncall/contracts';
import { readExisting, type CommandTarget, type Declined } from '@oncall/shared';

/**
 * Who resolved an alert, read from its subject in the ALERTS stream: the decider forgets a closed
 * alert, so its decline of a late command cannot say. An alert has few lifecycle events.
 */
export async function resolutionOf(nc: NatsConnection, partitions: number, target: CommandTarget): Promise<Declined['lastChange']> {
  const subject = subjects.alert(partitionOf(target.serviceId, target.fingerprint, partitions), target.alertId);
  let found: Declined['lastChange'] = null;
  await readExisting(nc, jetstream(nc), STREAMS.alerts, subject, (event) => {
    if (event.type !== 'AlertResolved') return;
    const d = event.data;
    found = { action: 'resolved', userId: d.userId, ...(d.via && { via: d.via }) };
  });
  return found;
}
