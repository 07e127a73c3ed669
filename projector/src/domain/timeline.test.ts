import { describe, expect, it } from 'vitest';
import { makeEvent, type AlertEvent } from '@oncall/contracts';
import { describe as describeEvent } from './timeline.js';

const REF = { alertId: '11111111-1111-4111-8111-111111111111', serviceId: 'svc', fingerprint: 'fp-1' };
const CONTENT = { summary: 'disk full', details: '', severity: 'critical', labels: {}, annotations: {} } as const;
const META = { id: '22222222-2222-4222-8222-222222222222', occurredAt: '2026-01-01T00:00:00Z', causationId: null, correlationId: 'c' };

const resolved = (by: 'user' | 'source', userId: string | null, note: string): AlertEvent =>
  makeEvent('AlertResolved', { ...REF, by, userId, note, endsAt: null }, META);

describe('timeline describe(event)', () => {
  it.each<[string, AlertEvent, string, string]>([
    [
      'triggered',
      makeEvent('AlertTriggered', { ...REF, ...CONTENT, source: 'grafana', startsAt: null, generatorUrl: null }, META),
      'source:grafana',
      'triggered: disk full',
    ],
    ['updated', makeEvent('AlertUpdated', { ...REF, ...CONTENT, changed: ['summary', 'labels'] }, META), 'source', 'updated summary, labels'],
    ['acknowledged with a note', makeEvent('AlertAcknowledged', { ...REF, userId: 'u1', note: 'looking' }, META), 'user:u1', 'acknowledged: looking'],
    ['acknowledged without a note', makeEvent('AlertAcknowledged', { ...REF, userId: 'u2', note: '' }, META), 'user:u2', 'acknowledged'],
    ['resolved by a user with a note', resolved('user', 'u1', 'fixed'), 'user:u1', 'resolved: fixed'],
    ['resolved by a user without a note', resolved('user', 'u1', ''), 'user:u1', 'resolved'],
    ['resolved by an unnamed user', resolved('user', null, ''), 'user:unknown', 'resolved'],
    ['resolved by the source', resolved('source', null, ''), 'source', 'resolved by the source'],
  ])('%s', (_, event, actor, message) => {
    expect(describeEvent(event)).toStrictEqual({ actor, message });
  });
});
