import { sql } from 'slonik';
import { CONSUMERS, STREAMS, subjects } from '@oncall/contracts';
import { insertTimeline, timelineRow } from './escalation-timeline.js';
import { oneByOne, type Projection } from './types.js';

/**
 * `tickets` and `escalation_timeline` rows from the TICKETS stream, one event at a time (tickets
 * are few). A ticket is `created` until the provider reports a status; a status change the log
 * holds without its creation still makes a row (no url, no created_at).
 */
export const ticketsProjection: Projection = {
  name: CONSUMERS.projectorTickets,
  stream: STREAMS.tickets,
  filterSubject: subjects.ticketsAll,
  applyMany: oneByOne(async (tx, event, { seq }) => {
    if (event.type !== 'TicketCreated' && event.type !== 'TicketStatusChanged') return;
    const e = event;
    const d = e.data;
    if (e.type === 'TicketCreated') {
      await tx.query(sql.unsafe`
        INSERT INTO tickets (alert_id, provider_id, ticket_key, service_id, url, status, created_at, updated_at, last_event_seq)
        VALUES (${d.alertId}, ${d.providerId}, ${d.ticketKey}, ${d.serviceId}, ${e.data.url}, 'created', ${e.occurredAt}, ${e.occurredAt}, ${seq})
        ON CONFLICT (alert_id, provider_id, ticket_key) DO UPDATE SET url = EXCLUDED.url, created_at = EXCLUDED.created_at,
          updated_at = EXCLUDED.updated_at, last_event_seq = EXCLUDED.last_event_seq`);
    } else {
      await tx.query(sql.unsafe`
        INSERT INTO tickets (alert_id, provider_id, ticket_key, service_id, url, status, created_at, updated_at, last_event_seq)
        VALUES (${d.alertId}, ${d.providerId}, ${d.ticketKey}, ${d.serviceId}, NULL, ${e.data.status}, NULL, ${e.occurredAt}, ${seq})
        ON CONFLICT (alert_id, provider_id, ticket_key) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at,
          last_event_seq = EXCLUDED.last_event_seq`);
    }
    await insertTimeline(tx, [timelineRow(STREAMS.tickets, e, seq)]);
  }),
};
