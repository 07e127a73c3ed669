import type { NatsConnection } from '@nats-io/transport-node';
import { foldAlert, type CommandTarget, type Declined } from '@oncall/shared';
import { alertEventsReader } from '../../adapters/alert-log.js';

/**
 * Who resolved an alert, read from its subject in the ALERTS stream: the decider forgets a closed
 * alert, so its decline of a late command cannot say. An alert has few lifecycle events.
 */
export async function resolutionOf(nc: NatsConnection, partitions: number, target: CommandTarget): Promise<Declined['lastChange']> {
  const view = foldAlert(await alertEventsReader(nc, partitions)(target));
  const c = view?.status === 'resolved' ? view.lastChange : null;
  return c && { action: c.action, userId: c.userId, ...(c.via && { via: c.via }) };
}
