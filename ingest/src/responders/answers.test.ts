import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '@oncall/contracts';
import { foldAlert, type CommandAnswer } from '@oncall/shared';
import { answerText } from './answers.js';

const ref = { alertId: 'a1', serviceId: 'checkout', fingerprint: 'fp' };
let n = 0;
const ev = (type: AlertEvent['type'], data: Record<string, unknown>): AlertEvent =>
  ({
    id: `e${++n}`,
    type,
    v: 1,
    occurredAt: `2026-02-03T10:0${n % 10}:00.000Z`,
    causationId: null,
    correlationId: 'a1',
    data: { ...ref, ...data },
  }) as unknown as AlertEvent;
const triggered = ev('AlertTriggered', { summary: 'Disk full', details: 'd', severity: 'critical', startsAt: '2026-02-03T09:00:00Z' });

describe('the alert as its log tells it', () => {
  it.each<[string, AlertEvent[], Record<string, unknown> | null]>([
    ['no events', [], null],
    ['triggered', [triggered], { status: 'triggered', summary: 'Disk full', triggeredAt: '2026-02-03T09:00:00Z', lastChange: null }],
    [
      'acknowledged by alice on slack',
      [triggered, ev('AlertAcknowledged', { by: 'user', userId: 'alice', note: '', via: 'slack' })],
      { status: 'acknowledged', lastChange: expect.objectContaining({ action: 'acknowledged', userId: 'alice', via: 'slack' }) as unknown },
    ],
    [
      'snoozed then reopened by the pipeline',
      [
        triggered,
        ev('AlertSnoozed', { userId: 'bob', until: '2026-02-03T11:00:00Z', note: '' }),
        ev('AlertUnacknowledged', { userId: null, reason: 'snooze-ended', via: 'system' }),
      ],
      { status: 'triggered', snoozedUntil: null, lastChange: expect.objectContaining({ action: 'reopened', userId: null }) as unknown },
    ],
    [
      'updated, repeated, declined, resolved',
      [
        triggered,
        ev('AlertUpdated', { summary: 'Disk 99% full', details: 'd2', severity: 'error' }),
        ev('AlertRepeated', { repeatCount: 3 }),
        ev('AlertResolved', { by: 'source', userId: null, note: '', endsAt: null }),
      ],
      { status: 'resolved', summary: 'Disk 99% full', severity: 'error' },
    ],
  ])('%s', (_name, events, expected) => {
    const view = foldAlert(events);
    if (expected === null) expect(view).toBeNull();
    else expect(view).toMatchObject(expected);
  });
});

describe('answers in words', () => {
  const changed = (type: AlertEvent['type'], data: Record<string, unknown> = {}): CommandAnswer => ({
    outcome: 'changed',
    event: ev(type, data),
    seq: 1,
    intakeSeq: 1,
  });
  const declined = (reason: 'closed' | 'unchanged' | 'invalid', extra: Partial<CommandAnswer> = {}): CommandAnswer =>
    ({
      outcome: 'declined',
      reason,
      message: 'the snooze ends in the past',
      status: 'acknowledged',
      lastChange: null,
      seq: 1,
      intakeSeq: 1,
      ...extra,
    }) as CommandAnswer;
  const resolvedView = foldAlert([triggered, ev('AlertResolved', { by: 'user', userId: 'bob', note: '', endsAt: null, via: 'sms' })]);

  it.each<[string, ReturnType<typeof answerText>]>([
    ['ack', answerText('acknowledge', changed('AlertAcknowledged'))],
    ['snooze', answerText('snooze', changed('AlertSnoozed', { until: '2026-02-03T11:00:00Z' }))],
    ['escalate', answerText('escalate', changed('AlertEscalated'))],
    [
      'repeat ack',
      answerText('acknowledge', declined('unchanged', { lastChange: { action: 'acknowledged', userId: 'alice', via: 'slack' } })),
    ],
    ['closed, resolver from the log', answerText('acknowledge', declined('closed', { status: 'resolved' }), resolvedView)],
    [
      'closed by the source',
      answerText(
        'resolve',
        declined('closed', { status: 'resolved' }),
        foldAlert([triggered, ev('AlertResolved', { by: 'source', userId: null, note: '', endsAt: null })]),
      ),
    ],
    ['invalid', answerText('snooze', declined('invalid'))],
  ])('%s', (_name, text) => {
    expect(text).toMatchSnapshot();
  });
});
