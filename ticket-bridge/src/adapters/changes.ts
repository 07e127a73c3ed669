import { CommandNotAppended } from '@oncall/shared';
import { inboundAction } from '../domain/rules.js';
import type { InboundChange } from '../providers/types.js';
import { appendTicketEvent, type Deps } from './deps.js';
import type { Configured } from './providers.js';
import type { TicketIndex } from './records.js';

/** How long an inbound call waits for the decider's answer to the resolve it asked for (it is appended either way). */
const ANSWER_WAIT_MS = 5000;

/** The alerts the changes are about; null for a ticket the bridge does not know (nothing is then applied). */
export async function locate(d: Deps, providerId: string, changes: readonly InboundChange[]): Promise<TicketIndex[] | { unknown: string }> {
  const found: TicketIndex[] = [];
  for (const ch of changes) {
    const index = await d.records.ticket(providerId, ch.ticketKey);
    if (!index || (ch.alertId !== null && ch.alertId !== index.alertId)) return { unknown: ch.ticketKey };
    found.push(index);
  }
  return found;
}

/**
 * A change the provider reported (webhook or poll): recorded as TicketStatusChanged (`echo` when
 * it reports the state the bridge set, recently); a state in `sync.resolveAlertOn` that is not an
 * echo resolves the alert through the one command path (AlertCommandReceived, via `ticket`, the
 * provider user named in the note). Both are idempotent by the provider's change id: a change id
 * already on the ticket's record (a redelivered webhook, a replayed Pub/Sub event) appends nothing.
 */
export async function applyChange(
  d: Deps,
  c: Configured,
  change: InboundChange,
  index: TicketIndex,
): Promise<{ echo: boolean; resolved: boolean; duplicate: boolean }> {
  const { providerId } = c.config;
  const got = await d.records.get(providerId, index.alertId);
  if (got?.record.state === 'created' && got.record.changes?.includes(change.changeId)) {
    d.log.debug({ alertId: index.alertId, providerId, changeId: change.changeId }, 'ticket change already applied');
    return { echo: false, resolved: false, duplicate: true };
  }
  const lastSet = got?.record.state === 'created' ? got.record.lastSet : null;
  const action = inboundAction(change.state, lastSet, c.config.sync, d.now());
  await appendTicketEvent(
    d,
    'TicketStatusChanged',
    {
      alertId: index.alertId,
      serviceId: index.serviceId,
      providerId,
      ticketKey: change.ticketKey,
      status: change.status,
      state: change.state,
      actor: change.actor,
      echo: action.echo,
      // Provider comments reach the alert's timeline only where the provider's sync says so.
      comment: c.config.sync.mirrorComments ? change.comment : null,
      changeId: change.changeId,
    },
    { partition: index.partition, idKey: `ticket-status:${providerId}:${change.changeId}`, causationId: null },
  );
  const log = d.log.child({ alertId: index.alertId, providerId, ticketKey: change.ticketKey });
  log.info({ status: change.status, state: change.state, echo: action.echo }, 'ticket changed at the provider');
  if (!action.resolveAlert) {
    await d.records.changeApplied(providerId, index.alertId, change.changeId);
    return { echo: action.echo, resolved: false, duplicate: false };
  }
  const note = `Ticket ${change.ticketKey} ${change.status} in ${c.config.name || providerId}${change.actor ? ` by ${change.actor}` : ''}`;
  try {
    const answer = await d.commands.submit(
      {
        target: { alertId: index.alertId, serviceId: index.serviceId, fingerprint: index.fingerprint },
        command: 'resolve',
        userId: null,
        via: 'ticket',
        note,
        key: `ticket:${providerId}:${change.changeId}`,
      },
      AbortSignal.timeout(ANSWER_WAIT_MS),
    );
    log.info({ outcome: answer.outcome }, 'alert resolve asked by the ticket');
  } catch (err) {
    if (err instanceof CommandNotAppended) throw err;
    // Appended, and the decider has not answered yet: it will.
    log.warn({ err }, 'the resolve asked by the ticket is not answered yet');
  }
  await d.records.changeApplied(providerId, index.alertId, change.changeId);
  return { echo: false, resolved: true, duplicate: false };
}
