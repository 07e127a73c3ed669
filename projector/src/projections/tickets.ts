import { sql, type DatabaseTransactionConnection } from 'slonik';
import { CONSUMERS, STREAMS, subjects, type EventOf, type TicketEvent } from '@oncall/contracts';
import { insertTimeline, timelineRow } from './escalation-timeline.js';
import { oneByOne, type Projection } from './types.js';

/**
 * `tickets`, `ticket_requests` and `escalation_timeline` rows from the TICKETS stream, one event
 * at a time (tickets are few). `ticket_requests` holds the bridge's work per alert and provider
 * (requested, created, retrying, failed; the last error); `tickets` one row per ticket, created by
 * the bridge or linked by a person. A ticket is `created` until the provider reports a status; a
 * status change the log holds without its creation still makes a row (no url, no created_at).
 */
export const ticketsProjection: Projection = {
  name: CONSUMERS.projectorTickets,
  stream: STREAMS.tickets,
  filterSubject: subjects.ticketsAll,
  applyMany: oneByOne(async (tx, event, { seq }) => {
    const e = event as TicketEvent;
    switch (e.type) {
      case 'TicketRequested':
        await requested(tx, e, seq);
        break;
      case 'TicketCreated':
        await created(tx, e, seq);
        break;
      case 'TicketUpdated':
        await updated(tx, e, seq);
        break;
      case 'TicketSyncFailed':
        await syncFailed(tx, e, seq);
        break;
      case 'TicketLinked':
        await linked(tx, e, seq);
        break;
      case 'TicketStatusChanged':
        await statusChanged(tx, e, seq);
        break;
      default: {
        const _never: never = e;
        return _never;
      }
    }
    await insertTimeline(tx, [timelineRow(STREAMS.tickets, e, seq)]);
  }),
};

type Tx = DatabaseTransactionConnection;

/** The first request is kept: a repeated one (another caller, a retry) changes nothing. */
async function requested(tx: Tx, e: EventOf<'TicketRequested'>, seq: number): Promise<void> {
  const d = e.data;
  await tx.query(sql.unsafe`
    INSERT INTO ticket_requests (alert_id, provider_id, service_id, status, requested_at, requested_by, requested_user, request_id,
      updated_at, last_event_seq)
    VALUES (${d.alertId}, ${d.providerId}, ${d.serviceId}, 'requested', ${e.occurredAt}, ${d.requestedBy}, ${d.userId}, ${d.requestId},
      ${e.occurredAt}, ${seq})
    ON CONFLICT (alert_id, provider_id) DO UPDATE SET
      requested_at = coalesce(ticket_requests.requested_at, EXCLUDED.requested_at),
      requested_by = coalesce(ticket_requests.requested_by, EXCLUDED.requested_by),
      requested_user = CASE WHEN ticket_requests.requested_at IS NULL THEN EXCLUDED.requested_user ELSE ticket_requests.requested_user END,
      request_id = coalesce(ticket_requests.request_id, EXCLUDED.request_id),
      last_event_seq = EXCLUDED.last_event_seq`);
}

/** A success: the request is done, a retry no longer pending. */
async function succeeded(
  tx: Tx,
  d: { alertId: string; providerId: string; serviceId: string; ticketKey: string },
  at: string,
  seq: number,
) {
  await tx.query(sql.unsafe`
    INSERT INTO ticket_requests (alert_id, provider_id, service_id, status, ticket_key, last_success_at, updated_at, last_event_seq)
    VALUES (${d.alertId}, ${d.providerId}, ${d.serviceId}, 'created', ${d.ticketKey}, ${at}, ${at}, ${seq})
    ON CONFLICT (alert_id, provider_id) DO UPDATE SET status = 'created',
      ticket_key = coalesce(ticket_requests.ticket_key, EXCLUDED.ticket_key), retry_at = NULL,
      last_success_at = EXCLUDED.last_success_at, updated_at = EXCLUDED.updated_at, last_event_seq = EXCLUDED.last_event_seq`);
}

async function created(tx: Tx, e: EventOf<'TicketCreated'>, seq: number): Promise<void> {
  const d = e.data;
  await tx.query(sql.unsafe`
    INSERT INTO tickets (alert_id, provider_id, ticket_key, service_id, url, status, state, external_id, found, created_at, updated_at,
      last_event_seq)
    VALUES (${d.alertId}, ${d.providerId}, ${d.ticketKey}, ${d.serviceId}, ${d.url}, 'created', 'open', ${d.externalId ?? null},
      ${d.found ?? false}, ${e.occurredAt}, ${e.occurredAt}, ${seq})
    ON CONFLICT (alert_id, provider_id, ticket_key) DO UPDATE SET url = EXCLUDED.url, created_at = EXCLUDED.created_at,
      state = coalesce(tickets.state, EXCLUDED.state), external_id = EXCLUDED.external_id, found = EXCLUDED.found,
      updated_at = EXCLUDED.updated_at, last_event_seq = EXCLUDED.last_event_seq`);
  await succeeded(tx, d, e.occurredAt, seq);
}

async function updated(tx: Tx, e: EventOf<'TicketUpdated'>, seq: number): Promise<void> {
  const d = e.data;
  await tx.query(sql.unsafe`
    UPDATE tickets SET state = coalesce(${d.state}, state), last_change = ${d.change}, updated_at = ${e.occurredAt}, last_event_seq = ${seq}
    WHERE alert_id = ${d.alertId} AND provider_id = ${d.providerId} AND ticket_key = ${d.ticketKey}`);
  await succeeded(tx, d, e.occurredAt, seq);
}

/** The last error is recorded; a failed create decides the request's status, a failed update leaves it `created`. */
async function syncFailed(tx: Tx, e: EventOf<'TicketSyncFailed'>, seq: number): Promise<void> {
  const d = e.data;
  const status = d.permanent ? 'failed' : 'retrying';
  await tx.query(sql.unsafe`
    INSERT INTO ticket_requests (alert_id, provider_id, service_id, status, ticket_key, attempts, last_error, last_error_status,
      last_error_operation, last_error_permanent, last_failure_at, retry_at, updated_at, last_event_seq)
    VALUES (${d.alertId}, ${d.providerId}, ${d.serviceId}, ${d.ticketKey === null ? status : 'created'}, ${d.ticketKey}, ${d.attempt},
      ${d.error}, ${d.httpStatus}, ${d.operation}, ${d.permanent}, ${e.occurredAt}, ${d.retryAt}, ${e.occurredAt}, ${seq})
    ON CONFLICT (alert_id, provider_id) DO UPDATE SET
      status = CASE WHEN ticket_requests.status = 'created' OR EXCLUDED.ticket_key IS NOT NULL THEN 'created' ELSE ${status} END,
      ticket_key = coalesce(ticket_requests.ticket_key, EXCLUDED.ticket_key), attempts = EXCLUDED.attempts,
      last_error = EXCLUDED.last_error, last_error_status = EXCLUDED.last_error_status,
      last_error_operation = EXCLUDED.last_error_operation, last_error_permanent = EXCLUDED.last_error_permanent,
      last_failure_at = EXCLUDED.last_failure_at, retry_at = EXCLUDED.retry_at, updated_at = EXCLUDED.updated_at,
      last_event_seq = EXCLUDED.last_event_seq`);
}

async function linked(tx: Tx, e: EventOf<'TicketLinked'>, seq: number): Promise<void> {
  const d = e.data;
  await tx.query(sql.unsafe`
    INSERT INTO tickets (alert_id, provider_id, ticket_key, service_id, url, status, state, linked, linked_by, created_at, updated_at,
      last_event_seq)
    VALUES (${d.alertId}, ${d.providerId}, ${d.ticketKey}, ${d.serviceId}, ${d.url}, 'linked', 'open', true, ${d.userId}, ${e.occurredAt},
      ${e.occurredAt}, ${seq})
    ON CONFLICT (alert_id, provider_id, ticket_key) DO UPDATE SET url = coalesce(EXCLUDED.url, tickets.url),
      created_at = coalesce(tickets.created_at, EXCLUDED.created_at), linked = true, linked_by = EXCLUDED.linked_by,
      updated_at = EXCLUDED.updated_at, last_event_seq = EXCLUDED.last_event_seq`);
}

async function statusChanged(tx: Tx, e: EventOf<'TicketStatusChanged'>, seq: number): Promise<void> {
  const d = e.data;
  await tx.query(sql.unsafe`
    INSERT INTO tickets (alert_id, provider_id, ticket_key, service_id, url, status, state, status_actor, status_echo, created_at,
      updated_at, last_event_seq)
    VALUES (${d.alertId}, ${d.providerId}, ${d.ticketKey}, ${d.serviceId}, NULL, ${d.status}, ${d.state ?? null}, ${d.actor ?? null},
      ${d.echo ?? false}, NULL, ${e.occurredAt}, ${seq})
    ON CONFLICT (alert_id, provider_id, ticket_key) DO UPDATE SET status = EXCLUDED.status,
      state = coalesce(EXCLUDED.state, tickets.state), status_actor = EXCLUDED.status_actor, status_echo = EXCLUDED.status_echo,
      updated_at = EXCLUDED.updated_at, last_event_seq = EXCLUDED.last_event_seq`);
}
