import { describe, expect, it } from 'vitest';
import type { EventData, TicketSync } from '@oncall/contracts';
import {
  DEFAULT_RETRY,
  inboundAction,
  isEcho,
  rateLimitDecision,
  requestOf,
  resumeDelayMs,
  retryDecision,
  syncActionFor,
  type AlertMove,
} from './rules.js';

const SYNC: TicketSync = {
  onAcknowledge: { transition: null, comment: true },
  onResolve: { transition: 'Done', comment: false },
  onReopen: { transition: 'Reopen', comment: true },
  resolveAlertOn: ['resolved', 'closed'],
  mirrorComments: false,
  pollSeconds: null,
};
const NOW = Date.parse('2026-12-06T03:00:00Z');
const ALERT = '7b0a4c52-8a7c-4a53-9d1e-0f4f0c1e9a11';

describe('requestOf', () => {
  const routed = { alertId: ALERT, serviceId: 'checkout', ticket: 'jira' } as EventData<'AlertRouted'>;
  it('asks for a ticket when the rule named a provider, with the routing event as the request id', () => {
    expect(requestOf('ev-1', routed)).toEqual({
      alertId: ALERT,
      serviceId: 'checkout',
      providerId: 'jira',
      requestedBy: 'rule',
      userId: null,
      requestId: 'ev-1',
    });
  });
  it('asks for nothing without a ticket action', () => {
    expect(requestOf('ev-1', { ...routed, ticket: null })).toBeNull();
  });
});

describe('syncActionFor', () => {
  const move = (type: AlertMove['type'], via: string | null = 'slack'): AlertMove => ({ type, via, userId: 'alice', note: '' });
  it.each([
    [
      'acknowledge: comment only',
      move('AlertAcknowledged'),
      { kind: 'acknowledged', transition: null, comment: 'Alert acknowledged by alice (via slack)', state: null },
    ],
    ['resolve: transition only', move('AlertResolved'), { kind: 'resolved', transition: 'Done', comment: null, state: 'resolved' }],
    [
      'reopen: transition and comment',
      move('AlertUnacknowledged', null),
      { kind: 'reopened', transition: 'Reopen', comment: 'Alert reopened by alice', state: 'open' },
    ],
    ['a resolve that came from the ticket is not pushed back', move('AlertResolved', 'ticket'), null],
  ])('%s', (_, m, expected) => {
    expect(syncActionFor(m, SYNC)).toEqual(expected);
  });
  it('does nothing when neither a transition nor a comment is configured', () => {
    expect(syncActionFor(move('AlertAcknowledged'), { ...SYNC, onAcknowledge: { transition: null, comment: false } })).toBeNull();
  });
});

describe('retryDecision', () => {
  const policy = { ...DEFAULT_RETRY, maxAttempts: 3, baseMs: 1000, maxMs: 60_000 };
  it.each([
    ['a 5xx on attempt 1: back-off between half and all of the base', { retryable: true, retryAfterMs: null }, 1, 0.5, 'retry', 750],
    ['attempt 2 doubles the ceiling', { retryable: true, retryAfterMs: null }, 2, 0, 'retry', 1000],
    ['a 429 with Retry-After 7 s waits exactly that', { retryable: true, retryAfterMs: 7000 }, 1, 0.9, 'retry', 7000],
    ['Retry-After beyond the cap is capped', { retryable: true, retryAfterMs: 3_600_000 }, 1, 0, 'retry', 60_000],
    ['bad credentials are not retried', { retryable: false, retryAfterMs: null }, 1, 0, 'give-up', null],
    ['attempts used up', { retryable: true, retryAfterMs: null }, 3, 0, 'give-up', null],
  ] as const)('%s', (_, failure, attempt, random, kind, delayMs) => {
    const d = retryDecision(failure, attempt, policy, NOW, random);
    expect(d.kind).toBe(kind);
    if (d.kind === 'retry') {
      expect(d.delayMs).toBe(delayMs);
      expect(d.retryAt).toBe(new Date(NOW + d.delayMs).toISOString());
    }
  });
});

describe('echo and inbound actions', () => {
  const set = (state: 'resolved' | 'in_progress', agoMs: number) => ({ state, at: NOW - agoMs });
  it.each([
    ['the state the bridge set a minute ago comes back: echo', 'resolved', set('resolved', 60_000), true],
    ['another state: not an echo', 'closed', set('resolved', 60_000), false],
    ['the same state long after: a person did it again', 'resolved', set('resolved', 3_600_000), false],
    ['the bridge never set a state', 'resolved', null, false],
  ] as const)('%s', (_, state, lastSet, echo) => {
    expect(isEcho(state, lastSet, NOW)).toBe(echo);
  });
  it.each([
    ['closed by a person resolves the alert', 'closed', null, { echo: false, resolveAlert: true }],
    ['our own resolve echoing back does nothing', 'resolved', set('resolved', 1000), { echo: true, resolveAlert: false }],
    ['in progress is recorded only', 'in_progress', null, { echo: false, resolveAlert: false }],
  ] as const)('%s', (_, state, lastSet, expected) => {
    expect(inboundAction(state, lastSet, SYNC, NOW)).toEqual(expected);
  });
  it('resolves nothing when resolveAlertOn is empty', () => {
    expect(inboundAction('closed', null, { ...SYNC, resolveAlertOn: [] }, NOW)).toEqual({ echo: false, resolveAlert: false });
  });
});

describe('rateLimitDecision', () => {
  const policy = { maxAttempts: 8, baseMs: 1000, maxMs: 60_000 };
  it.each([
    [
      '429 with Retry-After: pause that long',
      { retryable: true, httpStatus: 429, retryAfterMs: 3000 },
      { pauseMs: 3000, until: NOW + 3000 },
    ],
    [
      '429 without Retry-After: the base back-off',
      { retryable: true, httpStatus: 429, retryAfterMs: null },
      { pauseMs: 1000, until: NOW + 1000 },
    ],
    [
      '429 asking for an hour: capped',
      { retryable: true, httpStatus: 429, retryAfterMs: 3_600_000 },
      { pauseMs: 60_000, until: NOW + 60_000 },
    ],
    ['429 with Retry-After 0: at least 1 ms', { retryable: true, httpStatus: 429, retryAfterMs: 0 }, { pauseMs: 1, until: NOW + 1 }],
  ])('%s', (_, failure, want) => {
    expect(rateLimitDecision(failure, policy, NOW)).toEqual({ kind: 'rate-limited', ...want });
  });
  it.each([
    ['503 with Retry-After', { retryable: true, httpStatus: 503, retryAfterMs: 3000 }],
    ['a timeout', { retryable: true, httpStatus: null, retryAfterMs: null }],
    ['401', { retryable: false, httpStatus: 401, retryAfterMs: null }],
  ])('%s is not a rate limit (the retry rule decides)', (_, failure) => {
    expect(rateLimitDecision(failure, policy, NOW)).toBeNull();
  });
});

describe('resumeDelayMs', () => {
  it.each([
    ['paused 2 s more, no spread drawn', NOW + 2000, 0, 2000],
    ['paused 2 s more, half the spread', NOW + 2000, 0.5, 2500],
    ['pause over: only the spread', NOW - 5000, 0.5, 500],
  ])('%s', (_, until, random, want) => {
    expect(resumeDelayMs(until, NOW, 1000, random)).toBe(want);
  });
});
