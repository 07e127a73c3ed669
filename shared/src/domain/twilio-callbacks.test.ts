import { describe, expect, it } from 'vitest';
import { gatherUrl, providerStatusOf, readStatusRef, statusCallbackUrl, type StatusRef } from './twilio-callbacks.js';

const REF: StatusRef = {
  notificationId: '33333333-3333-4333-8333-333333333333',
  alertId: '11111111-1111-4111-8111-111111111111',
  serviceId: 'checkout & co',
  fingerprint: 'fp/1?',
  channel: 'sms',
  destination: '•••••0101',
};

describe('Twilio callback URLs', () => {
  it('a status callback URL carries the delivery it is about, read back as it was', () => {
    const url = new URL(statusCallbackUrl('https://oncall.example.com/', REF));
    expect(url.origin + url.pathname).toBe('https://oncall.example.com/api/v1/twilio/status');
    expect(readStatusRef(Object.fromEntries(url.searchParams))).toStrictEqual(REF);
  });

  it.each([
    ['a missing field', { n: 'x', a: 'y', s: 'z', f: 'f', c: 'sms' }],
    ['an unknown channel', { n: 'x', a: 'y', s: 'z', f: 'f', c: 'fax', d: 'd' }],
    ['a repeated field', { n: ['x', 'y'], a: 'y', s: 'z', f: 'f', c: 'sms', d: 'd' }],
  ])('refuses %s', (_, query) => {
    expect(readStatusRef(query)).toBeNull();
  });

  it('gathers at the voice URL with the code', () => {
    expect(gatherUrl('https://x.example/base/', 12)).toBe('https://x.example/base/api/v1/twilio/voice?code=12');
  });

  it.each([
    ['delivered', 'delivered'],
    ['undelivered', 'undelivered'],
    ['in-progress', 'answered'],
    ['no-answer', 'no-answer'],
    ['busy', 'busy'],
    ['completed', 'completed'],
    ['queued', null],
    ['ringing', null],
    ['accepted', null],
  ])('Twilio status %s is %s', (twilio, ours) => {
    expect(providerStatusOf(twilio)).toBe(ours);
  });
});
