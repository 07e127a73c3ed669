import { describe, expect, it } from 'vitest';
import { makeEvent, type EventData, type TicketEvent } from '@oncall/contracts';
import { describeTicket } from './ticket-timeline.js';

const ref = { alertId: '6f1d8a3e-0000-4000-8000-000000000000', serviceId: 'checkout', providerId: 'jira' };
const meta = { id: '6f1d8a3e-0000-4000-8000-000000000001', occurredAt: '2026-12-06T03:00:00.000Z', causationId: null, correlationId: 't' };
const ev = <T extends TicketEvent['type']>(type: T, data: Omit<EventData<T>, keyof typeof ref>): TicketEvent =>
  makeEvent(type, { ...ref, ...data } as EventData<T>, meta);

describe('describeTicket', () => {
  it.each<[string, TicketEvent, string, string]>([
    [
      'a rule asks',
      ev('TicketRequested', { requestedBy: 'rule', userId: null, requestId: 'r' }),
      'escalator',
      'ticket requested from jira by a routing rule',
    ],
    [
      'a person asks',
      ev('TicketRequested', { requestedBy: 'api', userId: 'alice', requestId: 'r' }),
      'user:alice',
      'ticket requested from jira',
    ],
    [
      'created',
      ev('TicketCreated', { ticketKey: 'OPS-1', url: 'https://j/OPS-1' }),
      'ticket:jira',
      'ticket OPS-1 created (https://j/OPS-1)',
    ],
    [
      'found by the lookup',
      ev('TicketCreated', { ticketKey: 'OPS-1', url: null, found: true }),
      'ticket:jira',
      'ticket OPS-1 created (found: an earlier attempt had created it)',
    ],
    [
      'moved',
      ev('TicketUpdated', { ticketKey: 'OPS-1', change: 'acknowledged', state: 'in_progress', cause: 'c' }),
      'ticket:jira',
      'ticket OPS-1 moved to in_progress (alert acknowledged)',
    ],
    [
      'commented',
      ev('TicketUpdated', { ticketKey: 'OPS-1', change: 'comment', state: null, cause: 'c' }),
      'ticket:jira',
      'ticket OPS-1 commented (alert comment)',
    ],
    [
      'a retried failure',
      ev('TicketSyncFailed', {
        ticketKey: null,
        operation: 'create',
        error: 'rate limited',
        httpStatus: 429,
        attempt: 2,
        permanent: false,
        retryAt: '2026-12-06T03:01:00.000Z',
      }),
      'ticket:jira',
      'ticket create failed (HTTP 429), attempt 2: rate limited; retry at 2026-12-06T03:01:00.000Z',
    ],
    [
      'a permanent failure of an update',
      ev('TicketSyncFailed', {
        ticketKey: 'OPS-1',
        operation: 'update',
        error: 'no such transition',
        httpStatus: null,
        attempt: 1,
        permanent: true,
        retryAt: null,
      }),
      'ticket:jira',
      'ticket update of OPS-1 failed, attempt 1: no such transition; not retried',
    ],
    ['linked', ev('TicketLinked', { ticketKey: 'OPS-9', url: null, userId: 'bob' }), 'user:bob', 'linked to ticket OPS-9 in jira'],
    ['a status', ev('TicketStatusChanged', { ticketKey: 'OPS-1', status: 'Done' }), 'ticket:jira', 'ticket OPS-1 is now Done'],
    [
      'an echo',
      ev('TicketStatusChanged', { ticketKey: 'OPS-1', status: 'In Progress', actor: 'bot', echo: true }),
      'ticket:jira',
      'ticket OPS-1 is now In Progress by bot (our own change, echoed)',
    ],
    [
      'a mirrored comment',
      ev('TicketStatusChanged', { ticketKey: 'OPS-1', status: 'In Progress', actor: 'Jane', comment: 'rebooting the router' }),
      'ticket:jira',
      'ticket OPS-1 is now In Progress by Jane; comment: rebooting the router',
    ],
  ])('%s', (_name, event, actor, message) => expect(describeTicket(event)).toStrictEqual({ actor, message }));
});
