import { TicketState } from '@oncall/contracts';
import { type alertingV1, type ticketingV1 } from '@oncall/contracts/grpc';
import { InvalidArgument } from '../errors.js';
import type { ProviderRow, TicketRow } from '../read-model/tickets.js';

/**
 * Ticket requests of the API, checked and mapped: pure. A ticket's id is `<providerId>:<key>`
 * (a key is unique within its provider); an alert's ticket of a provider that is only requested
 * has no id yet.
 */

const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const MAX_KEY = 256;

export type TicketRef = Readonly<{ providerId: string; key: string }>;

export const ticketIdOf = (providerId: string, key: string | null): string => (key === null ? '' : `${providerId}:${key}`);

/** A provider id as the configuration writes it; throws InvalidArgument naming `field`. */
export function providerIdOf(field: string, value: string): string {
  if (value === '') throw new InvalidArgument(field, 'is required');
  if (!PROVIDER_ID.test(value)) throw new InvalidArgument(field, 'must be a ticket provider id (lower-case letters, digits, - and _)');
  return value;
}

/** A provider's key: required, one line, at most 256 characters. */
export function ticketKeyOf(field: string, value: string): string {
  if (value.trim() === '') throw new InvalidArgument(field, 'is required');
  if (value.length > MAX_KEY) throw new InvalidArgument(field, `must be at most ${MAX_KEY} characters`);
  if (/[\r\n]/.test(value)) throw new InvalidArgument(field, 'must be one line');
  return value;
}

/** `<providerId>:<key>`; throws InvalidArgument naming `field`. */
export function parseTicketId(field: string, value: string): TicketRef {
  const colon = value.indexOf(':');
  if (value === '') throw new InvalidArgument(field, 'is required');
  if (colon <= 0) throw new InvalidArgument(field, 'must be "<provider_id>:<key>", e.g. "jira:OPS-123"');
  return { providerId: providerIdOf(field, value.slice(0, colon)), key: ticketKeyOf(field, value.slice(colon + 1)) };
}

/** Our state word, or null when empty. */
export function ticketStateOf(field: string, value: string): TicketState | null {
  if (value === '') return null;
  const parsed = TicketState.safeParse(value);
  if (!parsed.success) throw new InvalidArgument(field, `must be one of ${TicketState.options.join(', ')}`);
  return parsed.data;
}

/** An http(s) URL or empty (null). */
export function ticketUrlOf(field: string, value: string): string | null {
  if (value === '') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgument(field, 'must be an http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgument(field, 'must be an http or https URL');
  if (value.length > 2048) throw new InvalidArgument(field, 'must be at most 2048 characters');
  return value;
}

/** The provider type a caller named must be the configured provider's. */
export function checkProviderType(field: string, given: string, provider: { id: string; type: string }): void {
  if (given !== '' && given !== provider.type)
    throw new InvalidArgument(field, `provider ${provider.id} is of type ${provider.type}, not ${given}`);
}

const closed = (r: TicketRow): boolean => r.state === 'resolved' || r.state === 'closed';
const date = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));

export function toTicket(r: TicketRow): ticketingV1.Ticket {
  return {
    ticketId: ticketIdOf(r.provider_id, r.ticket_key),
    alertId: r.alert_id,
    providerId: r.provider_id,
    providerType: r.provider_type ?? '',
    key: r.ticket_key ?? '',
    externalId: r.external_id ?? '',
    url: r.url ?? '',
    status: r.status,
    state: r.state ?? '',
    closed: closed(r),
    linked: r.linked,
    syncStatus: r.sync_status ?? '',
    lastError: r.last_error ?? '',
    retryAt: date(r.retry_at),
    attempts: r.attempts,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

export function toTicketStatus(r: TicketRow): alertingV1.TicketStatus {
  return {
    ticketId: ticketIdOf(r.provider_id, r.ticket_key),
    alertId: r.alert_id,
    providerType: r.provider_type ?? '',
    externalTicketId: r.ticket_key ?? '',
    externalUrl: r.url ?? '',
    status: r.status,
    closed: closed(r),
    updatedAt: date(r.updated_at),
    providerId: r.provider_id,
    state: r.state ?? '',
    syncStatus: r.sync_status ?? '',
    lastError: r.last_error ?? '',
    retryAt: date(r.retry_at),
    attempts: r.attempts,
  };
}

/** Health: `failing` when the latest call failed (no success since), `ok` after a success, `unknown` before any call. */
export function toProvider(p: ProviderRow): ticketingV1.Provider {
  const status =
    p.last_failure_at === null && p.last_success_at === null
      ? 'unknown'
      : p.last_failure_at !== null && (p.last_success_at === null || p.last_failure_at > p.last_success_at)
        ? 'failing'
        : 'ok';
  return {
    providerId: p.id,
    type: p.type,
    name: p.name,
    fields: Object.keys(p.fields),
    resolveAlertOn: p.resolve_alert_on,
    health: {
      lastSuccessAt: date(p.last_success_at),
      lastFailureAt: date(p.last_failure_at),
      lastError: p.last_error ?? '',
      failed: p.failed,
      retrying: p.retrying,
      status,
    },
  };
}
