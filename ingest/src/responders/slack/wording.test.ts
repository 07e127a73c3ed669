import { describe, expect, it } from 'vitest';
import { buildEvent, type AlertEvent } from '@oncall/contracts';
import type { CommandAnswer } from '@oncall/shared';
import { answerText } from './wording.js';

const TARGET = { alertId: '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e', serviceId: 'checkout', fingerprint: 'fp-1' };
const ref = { alertId: TARGET.alertId, serviceId: 'checkout', fingerprint: 'fp-1' };
const META = { id: '11111111-1111-4111-8111-111111111111', occurredAt: '2026-01-01T00:00:00Z', causationId: null, correlationId: 'c' };
const names: Record<string, string> = { u1: 'alice', u2: 'bob' };
const nameOf = (id: string) => names[id] ?? id;
const changed = (event: AlertEvent): CommandAnswer => ({ outcome: 'changed', event, seq: 1, intakeSeq: 1 });
const declined = (
  reason: 'closed' | 'unchanged' | 'invalid',
  status: 'triggered' | 'acknowledged' | 'snoozed' | 'resolved',
  lastChange: { action: string; userId: string | null; via?: 'sms' | 'slack' } | null,
  message = 'm',
): CommandAnswer => ({
  outcome: 'declined',
  reason,
  message,
  status,
  lastChange,
  seq: 1,
  intakeSeq: 1,
});

describe('answerText', () => {
  it.each<[string, 'acknowledge' | 'resolve' | 'snooze' | 'escalate', CommandAnswer, string]>([
    [
      'ack done',
      'acknowledge',
      changed(buildEvent('AlertAcknowledged', { ...ref, by: 'user', userId: 'u1', note: '', via: 'slack' }, META)),
      'You acknowledged alert `0f0e5b8e`.',
    ],
    [
      'resolve done',
      'resolve',
      changed(buildEvent('AlertResolved', { ...ref, by: 'user', userId: 'u1', note: '', endsAt: null, via: 'slack' }, META)),
      'You resolved alert `0f0e5b8e`.',
    ],
    [
      'snooze done',
      'snooze',
      changed(buildEvent('AlertSnoozed', { ...ref, userId: 'u1', until: '2026-01-01T01:00:00Z', note: '', via: 'slack' }, META)),
      'You snoozed alert `0f0e5b8e` until <!date^1767229200^{date_short_pretty} {time}|2026-01-01T01:00:00Z>.',
    ],
    [
      'escalate done',
      'escalate',
      changed(buildEvent('AlertEscalated', { ...ref, userId: 'u1', note: '', via: 'slack' }, META)),
      'You escalated alert `0f0e5b8e`: the next step is being paged.',
    ],
    [
      'resolved by someone by sms',
      'acknowledge',
      declined('closed', 'resolved', { action: 'resolved', userId: 'u1', via: 'sms' }),
      'Already resolved by alice (sms).',
    ],
    [
      'resolved by the source',
      'acknowledge',
      declined('closed', 'resolved', { action: 'resolved', userId: null }),
      'Already resolved by the source.',
    ],
    ['closed, nobody known', 'resolve', declined('closed', 'resolved', null), 'Already resolved: alert `0f0e5b8e` is closed.'],
    [
      'acked by bob on slack',
      'acknowledge',
      declined('unchanged', 'acknowledged', { action: 'acknowledged', userId: 'u2', via: 'slack' }),
      'Already acknowledged by bob (slack).',
    ],
    [
      'unchanged, nobody known',
      'acknowledge',
      declined('unchanged', 'acknowledged', null),
      'Nothing changed: alert `0f0e5b8e` is already acknowledged.',
    ],
    [
      'invalid',
      'snooze',
      declined('invalid', 'triggered', null, 'snooze needs a time in the future'),
      'Could not snooze alert `0f0e5b8e`: snooze needs a time in the future',
    ],
  ])('%s', (_name, command, answer, text) => {
    expect(answerText({ command, target: TARGET }, answer, nameOf)).toBe(text);
  });
});
