import { describe, expect, it } from 'vitest';
import { makeEvent, type AlertEvent } from '@oncall/contracts';
import { describe as describeEvent } from './timeline.js';

const REF = { alertId: '11111111-1111-4111-8111-111111111111', serviceId: 'svc', fingerprint: 'fp-1' };
const CONTENT = { summary: 'disk full', details: '', severity: 'critical', labels: {}, annotations: {}, links: [], custom: {} } as const;
const SEEN_AT = '2026-01-01T00:01:00Z';
const META = { id: '22222222-2222-4222-8222-222222222222', occurredAt: '2026-01-01T00:00:00Z', causationId: null, correlationId: 'c' };

const acknowledged = (by: 'user' | 'source', userId: string | null, note: string): AlertEvent =>
  makeEvent('AlertAcknowledged', { ...REF, by, userId, note }, META);
const repeated = (repeatCount: number): AlertEvent => makeEvent('AlertRepeated', { ...REF, repeatCount, seenAt: SEEN_AT, links: [], custom: {} }, META);
const resolved = (by: 'user' | 'source', userId: string | null, note: string): AlertEvent =>
  makeEvent('AlertResolved', { ...REF, by, userId, note, endsAt: null }, META);

describe('timeline describe(event)', () => {
  it.each<[string, AlertEvent, string, string]>([
    [
      'triggered',
      makeEvent('AlertTriggered', { ...REF, ...CONTENT, links: [], source: 'grafana', startsAt: null, generatorUrl: null, seenAt: SEEN_AT }, META),
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
    ['snoozed with a note', makeEvent('AlertSnoozed', { ...REF, userId: 'u1', until: '2026-01-01T02:00:00Z', note: 'tonight' }, META), 'user:u1', 'snoozed until 2026-01-01T02:00:00Z: tonight'],
    ['snoozed without a note', makeEvent('AlertSnoozed', { ...REF, userId: 'u1', until: '2026-01-01T02:00:00Z', note: '' }, META), 'user:u1', 'snoozed until 2026-01-01T02:00:00Z'],
    ['escalated by a user', makeEvent('AlertEscalated', { ...REF, userId: 'u2', note: 'need help' }, META), 'user:u2', 'escalated to the next step: need help'],
    ['escalated by an unnamed user', makeEvent('AlertEscalated', { ...REF, userId: null, note: '' }, META), 'user:unknown', 'escalated to the next step'],
    ['reopened by the escalator', makeEvent('AlertUnacknowledged', { ...REF, userId: null, reason: 'ack-timeout' }, META), 'escalator', 'reopened (ack-timeout)'],
    ['reopened by a user', makeEvent('AlertUnacknowledged', { ...REF, userId: 'u3', reason: 'user' }, META), 'user:u3', 'reopened (user)'],
  ])('%s', (_, event, actor, message) => {
    expect(describeEvent(event)).toStrictEqual({ actor, message });
  });
});
