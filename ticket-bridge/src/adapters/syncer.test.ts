import { describe, expect, it } from 'vitest';
import { encodeEvent, makeEvent } from '@oncall/contracts';
import { mayMove } from './syncer.js';

const meta = { id: '0b9c1f3e-59a4-4d61-8f0e-5c1f7e2f9a01', occurredAt: '2026-12-06T03:00:00.000Z', causationId: null, correlationId: 'c' };
const ref = { alertId: '7b0a4c52-8a7c-4a53-9d1e-0f4f0c1e9a11', serviceId: 's', fingerprint: 'f' };

describe('mayMove', () => {
  it.each([
    ['an acknowledgement', encodeEvent(makeEvent('AlertAcknowledged', { ...ref, by: 'user', userId: 'u', note: '' }, meta)), true],
    ['a resolve', encodeEvent(makeEvent('AlertResolved', { ...ref, by: 'source', userId: null, note: '', endsAt: null }, meta)), true],
    ['a reopen', encodeEvent(makeEvent('AlertUnacknowledged', { ...ref, userId: null, reason: 'ack-timeout' }, meta)), true],
    [
      'a repeat',
      encodeEvent(makeEvent('AlertRepeated', { ...ref, repeatCount: 2, seenAt: meta.occurredAt, links: [], custom: {} }, meta)),
      false,
    ],
    ['a message not starting with its type', Buffer.from('{"id":"x","type":"AlertRepeated"}'), true],
    ['not JSON', Buffer.from('garbage'), true],
  ])('%s: %s', (_, data, expected) => {
    expect(mayMove(data)).toBe(expected);
  });
});
