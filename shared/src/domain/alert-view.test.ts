import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '@oncall/contracts';
import { foldAlert, type AlertView } from './alert-view.js';

const ref = { alertId: '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e', serviceId: 'checkout', fingerprint: 'fp' };
let n = 0;
const ev = (type: string, data: Record<string, unknown>): AlertEvent =>
  ({
    id: String((n += 1)),
    type,
    v: 1,
    occurredAt: `2026-01-01T00:0${n % 10}:00Z`,
    causationId: null,
    correlationId: 'c',
    data: { ...ref, ...data },
  }) as unknown as AlertEvent;
const triggered = ev('AlertTriggered', { summary: 'disk full', severity: 'critical' });

describe('foldAlert', () => {
  it('continues from a view: folding in parts is folding at once (the Slack editor keeps the first part)', () => {
    const rest = [
      ev('AlertUpdated', { summary: 'disk very full', severity: 'error' }),
      ev('AlertAcknowledged', { userId: 'u1', via: 'sms', by: 'user' }),
      ev('AlertEscalated', { userId: 'u2', via: 'api' }),
    ];
    const whole = foldAlert([triggered, ...rest]);
    for (let cut = 0; cut <= rest.length; cut++)
      expect(foldAlert(rest.slice(cut), foldAlert([triggered, ...rest.slice(0, cut)]))).toStrictEqual(whole);
    expect(foldAlert([], null)).toBeNull();
  });

  it('is null before the alert triggered', () => {
    expect(foldAlert([ev('AlertAcknowledged', { userId: 'u1', via: 'sms' })])).toBeNull();
  });

  it.each<[string, AlertEvent[], Partial<AlertView>]>([
    ['triggered', [triggered], { status: 'triggered', lastChange: null, summary: 'disk full' }],
    [
      'updated summary',
      [triggered, ev('AlertUpdated', { summary: 'disk very full', severity: 'error' })],
      { summary: 'disk very full', severity: 'error' },
    ],
    [
      'acked by sms',
      [triggered, ev('AlertAcknowledged', { userId: 'u1', via: 'sms', by: 'user' })],
      {
        status: 'acknowledged',
        lastChange: expect.objectContaining({ action: 'acknowledged', userId: 'u1', via: 'sms', until: null }) as AlertView['lastChange'],
      },
    ],
    [
      'snoozed',
      [triggered, ev('AlertSnoozed', { userId: 'u2', via: 'slack', until: '2026-01-01T05:00:00Z' })],
      {
        status: 'snoozed',
        lastChange: expect.objectContaining({ action: 'snoozed', until: '2026-01-01T05:00:00Z' }) as AlertView['lastChange'],
      },
    ],
    [
      'escalated keeps the status',
      [triggered, ev('AlertAcknowledged', { userId: 'u1' }), ev('AlertEscalated', { userId: 'u1', via: 'api' })],
      { status: 'acknowledged', lastChange: expect.objectContaining({ action: 'escalated', via: 'api' }) as AlertView['lastChange'] },
    ],
    [
      'reopened by the ack timeout',
      [triggered, ev('AlertAcknowledged', { userId: 'u1' }), ev('AlertUnacknowledged', { userId: null, reason: 'ack-timeout' })],
      {
        status: 'triggered',
        lastChange: expect.objectContaining({
          action: 'reopened',
          userId: null,
          via: null,
          reason: 'ack-timeout',
        }) as AlertView['lastChange'],
      },
    ],
    [
      'resolved by the source',
      [triggered, ev('AlertResolved', { by: 'source', userId: null })],
      {
        status: 'resolved',
        lastChange: expect.objectContaining({ action: 'resolved', userId: null, via: null }) as AlertView['lastChange'],
      },
    ],
  ])('%s', (_name, events, expected) => {
    expect(foldAlert(events)).toMatchObject(expected);
  });
});
