import { describe, expect, it } from 'vitest';
import { makeEvent, type AlertEvent, type EventData } from '@oncall/contracts';
import { incidentCommand } from './incident-commands.js';

const REF = { alertId: '7f1c2a4e-1111-4c6b-9d7e-0a1b2c3d4e5f', serviceId: 'core', fingerprint: 'fp' };
const META = { id: '00000000-0000-4000-8000-000000000001', occurredAt: '2026-12-05T10:00:00.000Z', causationId: null, correlationId: 'c' };
const event = <T extends AlertEvent['type']>(type: T, data: Omit<EventData<T>, 'alertId' | 'serviceId' | 'fingerprint'>): AlertEvent =>
  makeEvent(type, { ...REF, ...data } as EventData<T>, META);

describe('incidentCommand: what a person’s answer on an incident’s first alert asks of its other alerts', () => {
  it.each<[string, AlertEvent, ReturnType<typeof incidentCommand>]>([
    [
      'a person acknowledges',
      event('AlertAcknowledged', { by: 'user', userId: 'alice', note: '', via: 'slack' }),
      { command: 'acknowledge', until: null },
    ],
    [
      'a person resolves',
      event('AlertResolved', { by: 'user', userId: 'alice', note: '', endsAt: null }),
      { command: 'resolve', until: null },
    ],
    [
      'a person snoozes',
      event('AlertSnoozed', { userId: 'alice', note: '', until: '2026-12-05T11:00:00.000Z' }),
      { command: 'snooze', until: '2026-12-05T11:00:00.000Z' },
    ],
    [
      'the source acknowledges: each alert’s source speaks for it',
      event('AlertAcknowledged', { by: 'source', userId: null, note: '' }),
      null,
    ],
    ['the source resolves', event('AlertResolved', { by: 'source', userId: null, note: '', endsAt: null }), null],
    ['an escalation is the first alert’s own', event('AlertEscalated', { userId: 'alice', note: '' }), null],
  ])('%s', (_, e, expected) => {
    expect(incidentCommand(e)).toStrictEqual(expected);
  });
});
