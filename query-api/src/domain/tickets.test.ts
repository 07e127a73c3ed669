import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../errors.js';
import type { ProviderRow, TicketRow } from '../read-model/tickets.js';
import { parseTicketId, ticketStateOf, ticketUrlOf, toProvider, toTicket } from './tickets.js';

function problem(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof InvalidArgument) return err.message;
    throw err;
  }
  return 'ok';
}

describe('ticket ids, states and urls', () => {
  it.each([
    ['jira:OPS-1', { providerId: 'jira', key: 'OPS-1' }],
    ['sn:INC0010001', { providerId: 'sn', key: 'INC0010001' }],
    ['webhook:a:b', { providerId: 'webhook', key: 'a:b' }],
  ])('%s parses', (id, ref) => expect(parseTicketId('ticket_id', id)).toStrictEqual(ref));

  it.each([
    ['', 'ticket_id: is required'],
    ['OPS-1', 'ticket_id: must be "<provider_id>:<key>", e.g. "jira:OPS-123"'],
    [':OPS-1', 'ticket_id: must be "<provider_id>:<key>", e.g. "jira:OPS-123"'],
    ['Jira:OPS-1', 'ticket_id: must be a ticket provider id (lower-case letters, digits, - and _)'],
    ['jira:', 'ticket_id: is required'],
    ['jira:a\nb', 'ticket_id: must be one line'],
    [`jira:${'x'.repeat(257)}`, 'ticket_id: must be at most 256 characters'],
  ])('%j is refused: %s', (id, message) => expect(problem(() => parseTicketId('ticket_id', id))).toBe(message));

  it.each([
    ['', null],
    ['open', 'open'],
    ['closed', 'closed'],
    ['done', 'state: must be one of open, in_progress, resolved, closed'],
  ])('state %j', (value, expected) => {
    if (expected === null || !expected.startsWith('state:')) expect(ticketStateOf('state', value)).toBe(expected);
    else expect(problem(() => ticketStateOf('state', value))).toBe(expected);
  });

  it.each([
    ['', null],
    ['https://jira.example.com/browse/OPS-1', 'https://jira.example.com/browse/OPS-1'],
    ['ftp://x', 'url: must be an http or https URL'],
    ['not a url', 'url: must be an http or https URL'],
  ])('url %j', (value, expected) => {
    if (expected === null || expected.startsWith('http')) expect(ticketUrlOf('url', value)).toBe(expected);
    else expect(problem(() => ticketUrlOf('url', value))).toBe(expected);
  });
});

const row = (over: Partial<TicketRow>): TicketRow => ({
  alert_id: 'a1',
  provider_id: 'jira',
  provider_type: 'jira',
  ticket_key: 'OPS-1',
  url: null,
  status: 'created',
  state: 'open',
  external_id: null,
  linked: false,
  created_at: 1000,
  updated_at: 2000,
  sync_status: 'created',
  last_error: null,
  retry_at: null,
  attempts: 0,
  ...over,
});

describe('toTicket', () => {
  it.each([
    ['a created ticket', row({}), { ticketId: 'jira:OPS-1', closed: false, syncStatus: 'created' }],
    ['a resolved one is closed', row({ state: 'resolved', status: 'Done' }), { closed: true, status: 'Done' }],
    [
      'a request the bridge retries has no id yet',
      row({ ticket_key: null, state: null, status: 'retrying', sync_status: 'retrying', retry_at: 5000, attempts: 2, last_error: '429' }),
      { ticketId: '', key: '', state: '', syncStatus: 'retrying', retryAt: new Date(5000), attempts: 2, lastError: '429' },
    ],
    ['a linked one has no sync status', row({ linked: true, sync_status: null }), { linked: true, syncStatus: '' }],
  ])('%s', (_name, r, expected) => expect(toTicket(r)).toMatchObject(expected));
});

const provider = (over: Partial<ProviderRow>): ProviderRow => ({
  id: 'jira',
  type: 'jira',
  name: 'Jira',
  fields: { summary: 'alert.summary', priority: '"High"' },
  resolve_alert_on: ['resolved'],
  last_success_at: null,
  last_failure_at: null,
  last_error: null,
  failed: 0,
  retrying: 0,
  ...over,
});

describe('toProvider: health', () => {
  it.each([
    ['no call yet', provider({}), 'unknown'],
    ['a success', provider({ last_success_at: 10 }), 'ok'],
    ['a failure, no success', provider({ last_failure_at: 10, last_error: 'HTTP 401' }), 'failing'],
    ['a failure after the last success', provider({ last_success_at: 10, last_failure_at: 20 }), 'failing'],
    ['a success after the last failure', provider({ last_success_at: 30, last_failure_at: 20 }), 'ok'],
  ])('%s: %s', (_name, p, status) => {
    const out = toProvider(p);
    expect(out.health?.status).toBe(status);
    expect(out.fields).toStrictEqual(['summary', 'priority']);
  });
});
