import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '@oncall/contracts';
import { alertView, type AlertView } from './alert-view.js';

const ref = { alertId: '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e', serviceId: 'checkout', fingerprint: 'fp' };
let n = 0;
const ev = (type: string, data: Record<string, unknown>): DomainEvent =>
  ({
    id: String((n += 1)),
    type,
    v: 1,
    occurredAt: `2026-01-01T00:0${n % 10}:00Z`,
    causationId: null,
    correlationId: 'c',
    data: { ...ref, ...data },
  }) as unknown as DomainEvent;
const triggered = ev('AlertTriggered', { summary: 'disk full', severity: 'critical' });

describe('alertView', () => {
  it('is null before the alert triggered', () => {
    expect(alertView([ev('AlertAcknowledged', { userId: 'u1', via: 'sms' })])).toBeNull();
  });

  it.each<[string, DomainEvent[], Partial<AlertView>]>([
    ['triggered', [triggered], { status: 'triggered', change: null, summary: 'disk full' }],
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
        change: expect.objectContaining({ action: 'acknowledged', userId: 'u1', via: 'sms', until: null }) as AlertView['change'],
      },
    ],
    [
      'snoozed',
      [triggered, ev('AlertSnoozed', { userId: 'u2', via: 'slack', until: '2026-01-01T05:00:00Z' })],
      { status: 'snoozed', change: expect.objectContaining({ action: 'snoozed', until: '2026-01-01T05:00:00Z' }) as AlertView['change'] },
    ],
    [
      'escalated keeps the status',
      [triggered, ev('AlertAcknowledged', { userId: 'u1' }), ev('AlertEscalated', { userId: 'u1', via: 'api' })],
      { status: 'acknowledged', change: expect.objectContaining({ action: 'escalated', via: 'api' }) as AlertView['change'] },
    ],
    [
      'reopened by the ack timeout',
      [triggered, ev('AlertAcknowledged', { userId: 'u1' }), ev('AlertUnacknowledged', { userId: null, reason: 'ack-timeout' })],
      {
        status: 'triggered',
        change: expect.objectContaining({ action: 'reopened', userId: null, via: 'ack-timeout' }) as AlertView['change'],
      },
    ],
    [
      'resolved by the source',
      [triggered, ev('AlertResolved', { by: 'source', userId: null })],
      { status: 'resolved', change: expect.objectContaining({ action: 'resolved', userId: null, via: null }) as AlertView['change'] },
    ],
  ])('%s', (_name, events, expected) => {
    expect(alertView(events)).toMatchObject(expected);
  });
});
