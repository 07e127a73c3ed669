import { describe, expect, it } from 'vitest';
import { makeEvent, type AlertEvent } from '@oncall/contracts';
import { escalation, eventFactory, user } from '../../../test/projection-events.js';
import { describe as describeEvent, describeOther } from './timeline.js';

const REF = { alertId: '11111111-1111-4111-8111-111111111111', serviceId: 'svc', fingerprint: 'fp-1' };
const CONTENT = { summary: 'disk full', details: '', severity: 'critical', labels: {}, annotations: {}, links: [], custom: {} } as const;
const SEEN_AT = '2026-01-01T00:01:00Z';
const META = { id: '22222222-2222-4222-8222-222222222222', occurredAt: '2026-01-01T00:00:00Z', causationId: null, correlationId: 'c' };

const acknowledged = (by: 'user' | 'source', userId: string | null, note: string): AlertEvent =>
  makeEvent('AlertAcknowledged', { ...REF, by, userId, note }, META);
const repeated = (repeatCount: number): AlertEvent =>
  makeEvent('AlertRepeated', { ...REF, repeatCount, seenAt: SEEN_AT, links: [], custom: {} }, META);
const resolved = (by: 'user' | 'source', userId: string | null, note: string): AlertEvent =>
  makeEvent('AlertResolved', { ...REF, by, userId, note, endsAt: null }, META);

describe('timeline describe(event)', () => {
  it.each<[string, AlertEvent, string, string]>([
    [
      'triggered',
      makeEvent(
        'AlertTriggered',
        { ...REF, ...CONTENT, links: [], source: 'grafana', startsAt: null, generatorUrl: null, seenAt: SEEN_AT },
        META,
      ),
      'source:grafana',
      'triggered: disk full',
    ],
    [
      'updated',
      makeEvent('AlertUpdated', { ...REF, ...CONTENT, links: [], changed: ['summary', 'labels'], repeatCount: 3, seenAt: SEEN_AT }, META),
      'source',
      'updated summary, labels',
    ],
    [
      'updated links and custom',
      makeEvent('AlertUpdated', { ...REF, ...CONTENT, links: [], changed: ['links', 'custom'], repeatCount: 0, seenAt: SEEN_AT }, META),
      'source',
      'updated links, custom',
    ],
    ['repeated once', repeated(1), 'source', 'repeated (1 repeat so far)'],
    ['repeated many times', repeated(42), 'source', 'repeated (42 repeats so far)'],
    ['acknowledged with a note', acknowledged('user', 'u1', 'looking'), 'user:u1', 'acknowledged: looking'],
    ['acknowledged without a note', acknowledged('user', 'u2', ''), 'user:u2', 'acknowledged'],
    ['acknowledged by an unnamed user', acknowledged('user', null, ''), 'user:unknown', 'acknowledged'],
    ['acknowledged by the source', acknowledged('source', null, ''), 'source', 'acknowledged by the source'],
    ['acknowledged by the source with a note', acknowledged('source', null, 'ignored'), 'source', 'acknowledged by the source'],
    ['resolved by a user with a note', resolved('user', 'u1', 'fixed'), 'user:u1', 'resolved: fixed'],
    ['resolved by a user without a note', resolved('user', 'u1', ''), 'user:u1', 'resolved'],
    ['resolved by an unnamed user', resolved('user', null, ''), 'user:unknown', 'resolved'],
    ['resolved by the source', resolved('source', null, ''), 'source', 'resolved by the source'],
    [
      'snoozed with a note',
      makeEvent('AlertSnoozed', { ...REF, userId: 'u1', until: '2026-01-01T02:00:00Z', note: 'tonight' }, META),
      'user:u1',
      'snoozed until 2026-01-01T02:00:00Z: tonight',
    ],
    [
      'snoozed without a note',
      makeEvent('AlertSnoozed', { ...REF, userId: 'u1', until: '2026-01-01T02:00:00Z', note: '' }, META),
      'user:u1',
      'snoozed until 2026-01-01T02:00:00Z',
    ],
    [
      'escalated by a user',
      makeEvent('AlertEscalated', { ...REF, userId: 'u2', note: 'need help' }, META),
      'user:u2',
      'escalated to the next step: need help',
    ],
    [
      'escalated by an unnamed user',
      makeEvent('AlertEscalated', { ...REF, userId: null, note: '' }, META),
      'user:unknown',
      'escalated to the next step',
    ],
    [
      'reopened by the escalator',
      makeEvent('AlertUnacknowledged', { ...REF, userId: null, reason: 'ack-timeout' }, META),
      'escalator',
      'reopened (ack-timeout)',
    ],
    ['reopened by a user', makeEvent('AlertUnacknowledged', { ...REF, userId: 'u3', reason: 'user' }, META), 'user:u3', 'reopened (user)'],
  ])('%s', (_, event, actor, message) => {
    expect(describeEvent(event)).toStrictEqual({ actor, message });
  });
});

/** A NotificationRequested with notification-rule fields added. */
const withRules = <E extends { type: string; data: object }>(e: E, extra: Record<string, unknown>): E => ({
  ...e,
  data: { ...e.data, ...extra },
});

describe('timeline describeOther(event): escalator, dispatcher and ticket events', () => {
  const f = eventFactory();
  const a = escalation(f, 'x');
  it.each<[string, Parameters<typeof describeOther>[0], string, string]>([
    ['routed by the defaults', a.routed(), 'escalator', 'routed by service defaults: policy primary, template default v1'],
    [
      'routed by rules into a maintenance window',
      a.routed({
        rules: ['db', 'night'],
        policyId: null,
        templateVersion: null,
        suppressed: { by: 'maintenance', windowId: 'fra1', until: '2026-11-24T02:00:00Z' },
        maintenance: ['ams1'],
      }),
      'escalator',
      'routed by rules db, night: policy (none), template default; suppressed by maintenance window fra1 until 2026-11-24T02:00:00Z; in maintenance ams1',
    ],
    [
      'suppressed by a rule',
      a.routed({ suppressed: { by: 'rule', windowId: null, until: null } }),
      'escalator',
      'routed by service defaults: policy primary, template default v1; suppressed by a rule',
    ],
    [
      'a step with its users',
      a.step(
        1,
        0,
        [user('alice'), { type: 'slack', channel: '#ops' }, { type: 'webhook', url: 'https://hooks.example.com/secret-token' }],
        { nextInMinutes: null },
      ),
      'escalator',
      'step 2 (round 1) reached (timeout): paging user:alice (schedule:primary), slack:#ops, webhook; last step',
    ],
    [
      'a re-page',
      a.step(0, 1, [user('bob', '')], { page: 2, reason: 'repage', nextInMinutes: null }),
      'escalator',
      'step 1 (round 2, re-page 2) reached (repage): paging user:bob; last step',
    ],
    [
      'a page requested',
      a.requested('k', user('alice'), { channels: ['sms', 'voice'] }),
      'escalator',
      'critical page requested for user:alice (schedule:primary) via sms, voice',
    ],
    [
      'a page under notification rules, with a skipped method and a later rule',
      withRules(a.requested('k', user('alice'), { channels: ['slack'] }), {
        rules: { indexes: [0], later: [{ index: 1, channel: 'voice', at: '2026-11-23T10:05:00.000Z' }] },
        skipped: [{ channel: 'sms', address: '+15555550101', reason: 'unverified' }],
      }),
      'escalator',
      'critical page requested for user:alice (schedule:primary) via slack; skipped sms (unverified); then voice at 2026-11-23T10:05:00.000Z unless acknowledged',
    ],
    [
      'a later notification rule',
      withRules(a.requested('k', user('alice'), { channels: ['voice'] }), { rules: { indexes: [1], later: [] } }),
      'escalator',
      'critical page requested for user:alice (schedule:primary) via voice (rule 2)',
    ],
    [
      'a resolution notice',
      a.requested('r', { type: 'slack', channel: '#ops' }, { kind: 'resolved' }),
      'escalator',
      'resolution notice requested for slack:#ops',
    ],
    ['stopped by an acknowledgement', a.stopped('acknowledged', 'alice'), 'escalator', 'escalation stopped: acknowledged by alice'],
    ['reopen requested', a.reopenRequested('snooze-ended'), 'escalator', 'reopen requested (snooze-ended)'],
    ['delivered', a.delivered('k', 'sms', 1), 'dispatcher', 'sms delivered to ***sms (1 attempt)'],
    [
      'failed with a fallback',
      a.failed('k', 'sms', 'voice', 3),
      'dispatcher',
      'sms to ***sms failed: provider_unavailable (3 attempts, retryable); trying voice',
    ],
    ['ticket created', a.ticketCreated('OPS-1'), 'ticket:jira', 'ticket OPS-1 created (https://jira.example.com/OPS-1)'],
    ['ticket status', a.ticketStatus('OPS-1', 'Done'), 'ticket:jira', 'ticket OPS-1 is now Done'],
  ])('%s', (_, event, actor, message) => {
    expect(describeOther(event)).toStrictEqual({ actor, message });
  });

  it('a stop with a reopen time says when', () => {
    const e = a.stopped('snoozed', 'carol', 30);
    expect(describeOther(e).message).toBe(`escalation stopped: snoozed by carol; reopens at ${e.data.reopenAt}`);
  });
});
