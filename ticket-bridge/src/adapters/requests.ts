import type { JsMsg } from '@nats-io/jetstream';
import { CONSUMERS, decodeEvent, partitionOfSubject, STREAMS, type DomainEvent } from '@oncall/contracts';
import { requestOf } from '../domain/rules.js';
import { traceOf } from '@oncall/shared';
import { appendTicketEvent, type Deps } from './deps.js';

export const REQUESTS_CONSUMER = CONSUMERS.ticketBridgeRequests;

/**
 * Routing decisions (`escalations.>`) that ask for a ticket become TicketRequested on the alert's
 * ticket subject, one per routing decision and provider (the id is derived from the AlertRouted
 * event's id, so a redelivery appends nothing new).
 */
export async function handleEscalation(d: Deps, m: JsMsg): Promise<void> {
  let event: DomainEvent;
  try {
    event = decodeEvent(m.data, { trusted: true });
  } catch (err) {
    await d.parking.park(
      REQUESTS_CONSUMER,
      { stream: STREAMS.escalations, seq: m.seq, subject: m.subject, data: m.data },
      'undecodable',
      err,
    );
    m.ack();
    return;
  }
  if (event.type === 'AlertRouted') {
    const request = requestOf(event.id, event.data);
    if (request) {
      await appendTicketEvent(d, 'TicketRequested', request, {
        partition: partitionOfSubject(m.subject),
        idKey: `ticket-requested:${event.id}:${request.providerId}`,
        causationId: event.id,
        // The routing decision's trace goes on: the ticket's span is its child.
        trace: traceOf(m),
      });
      d.log.info({ alertId: request.alertId, providerId: request.providerId }, 'ticket requested by a routing rule');
    }
  }
  m.ack();
}
