import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { maybeRow, rows } from './db.js';

/** Times come back as epoch ms (slonik's timestamptz parser). */
const time = z.number();

/**
 * A ticket of an alert, or a request the bridge has not turned into a ticket yet (`ticket_key`
 * null): `tickets` joined with `ticket_requests` (the bridge's work per alert and provider).
 */
const TicketRow = z.object({
  alert_id: z.string(),
  provider_id: z.string(),
  provider_type: z.string().nullable(),
  ticket_key: z.string().nullable(),
  url: z.string().nullable(),
  status: z.string(),
  state: z.string().nullable(),
  external_id: z.string().nullable(),
  linked: z.boolean(),
  created_at: time.nullable(),
  updated_at: time,
  sync_status: z.string().nullable(),
  last_error: z.string().nullable(),
  retry_at: time.nullable(),
  attempts: z.number(),
});
export type TicketRow = z.infer<typeof TicketRow>;

const TICKETS = sql.fragment`(
  SELECT t.alert_id::text AS alert_id, t.provider_id, t.ticket_key, t.url, t.status, t.state, t.external_id, t.linked, t.created_at,
    t.updated_at, r.status AS sync_status, r.last_error, r.retry_at, coalesce(r.attempts, 0) AS attempts
  FROM tickets t LEFT JOIN ticket_requests r ON r.alert_id = t.alert_id AND r.provider_id = t.provider_id
  UNION ALL
  SELECT r.alert_id::text, r.provider_id, NULL, NULL, r.status, NULL, NULL, false, r.requested_at, r.updated_at, r.status,
    r.last_error, r.retry_at, r.attempts
  FROM ticket_requests r
  WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.alert_id = r.alert_id AND t.provider_id = r.provider_id)
) x LEFT JOIN ticket_providers p ON p.id = x.provider_id`;

const COLUMNS = sql.fragment`x.alert_id, x.provider_id, p.type AS provider_type, x.ticket_key, x.url, x.status, x.state, x.external_id,
  x.linked, x.created_at, x.updated_at, x.sync_status, x.last_error, x.retry_at, x.attempts`;

/** An alert's tickets and pending requests (of one provider when given): the first created first. */
export async function ticketsOfAlert(db: CommonQueryMethods, alertId: string, providerId: string | null): Promise<readonly TicketRow[]> {
  const provider = providerId === null ? sql.fragment`TRUE` : sql.fragment`x.provider_id = ${providerId}`;
  return rows(
    db,
    sql.type(TicketRow)`SELECT ${COLUMNS} FROM ${TICKETS} WHERE x.alert_id = ${alertId} AND ${provider}
      ORDER BY x.created_at NULLS LAST, x.provider_id, x.ticket_key`,
  );
}

/** The rows of one ticket: a provider's key, on every alert it belongs to. */
export async function ticketByKey(db: CommonQueryMethods, providerId: string, key: string): Promise<readonly TicketRow[]> {
  return rows(
    db,
    sql.type(TicketRow)`SELECT ${COLUMNS} FROM ${TICKETS} WHERE x.provider_id = ${providerId} AND x.ticket_key = ${key}
      ORDER BY x.created_at NULLS LAST, x.alert_id`,
  );
}

const ProviderRow = z.object({
  id: z.string(),
  type: z.string(),
  name: z.string(),
  fields: z.record(z.string(), z.string()),
  resolve_alert_on: z.array(z.string()),
  last_success_at: time.nullable(),
  last_failure_at: time.nullable(),
  last_error: z.string().nullable(),
  failed: z.number(),
  retrying: z.number(),
});
export type ProviderRow = z.infer<typeof ProviderRow>;

const PROVIDERS = sql.fragment`
  SELECT p.id, p.type, p.name, p.fields, coalesce(p.sync -> 'resolveAlertOn', '[]'::jsonb) AS resolve_alert_on,
    s.last_success_at, f.last_failure_at, f.last_error, coalesce(c.failed, 0) AS failed, coalesce(c.retrying, 0) AS retrying
  FROM ticket_providers p
  LEFT JOIN LATERAL (SELECT max(r.last_success_at) AS last_success_at FROM ticket_requests r WHERE r.provider_id = p.id) s ON true
  LEFT JOIN LATERAL (
    SELECT r.last_failure_at, r.last_error FROM ticket_requests r
    WHERE r.provider_id = p.id AND r.last_failure_at IS NOT NULL ORDER BY r.last_failure_at DESC LIMIT 1
  ) f ON true
  LEFT JOIN LATERAL (
    SELECT (count(*) FILTER (WHERE r.status = 'failed'))::int AS failed, (count(*) FILTER (WHERE r.status = 'retrying'))::int AS retrying
    FROM ticket_requests r WHERE r.provider_id = p.id
  ) c ON true`;

/** The configured ticket providers with their health from the tickets read model, by id. */
export async function ticketProviders(db: CommonQueryMethods): Promise<readonly ProviderRow[]> {
  return rows(db, sql.type(ProviderRow)`${PROVIDERS} ORDER BY p.id`);
}

export async function ticketProvider(db: CommonQueryMethods, providerId: string): Promise<ProviderRow | null> {
  return maybeRow(db, sql.type(ProviderRow)`${PROVIDERS} WHERE p.id = ${providerId}`);
}
