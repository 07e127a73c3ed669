import type { AlertEvent } from '@oncall/contracts';
import { foldAlert, type CommandTarget, type Declined } from '@oncall/shared';

/**
 * Who resolved an alert, read from its subject in the ALERTS stream: the decider forgets a closed
 * alert, so its decline of a late command cannot say. An alert has few lifecycle events.
 */
export async function resolutionOf(
  alertEvents: (target: CommandTarget) => Promise<AlertEvent[]>,
  target: CommandTarget,
): Promise<Declined['lastChange']> {
  const view = foldAlert(await alertEvents(target));
  const c = view?.status === 'resolved' ? view.lastChange : null;
  return c && { action: c.action, userId: c.userId, ...(c.via && { via: c.via }) };
}
