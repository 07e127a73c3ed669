import { describe, expect, it } from 'vitest';
import { ManualClock } from '@oncall/shared';
import type { Outcome } from './attempt.js';
import { fallback } from './fallback.js';
import { attempt, failed, recordingNext, sent, smsDelivery } from './testing.js';

describe('fallback', () => {
  const clock = new ManualClock(5_000_000);
  const sms = attempt({ delivery: smsDelivery, try: { delivery: 2, base: 1 } });

  it('an SMS that failed for good goes on to the call, counted from where it failed', async () => {
    const next = recordingNext((a) => (a.delivery.channel === 'sms' ? failed() : sent));
    expect(await fallback(clock)(sms, next)).toBe(sent);
    expect(next.calls.map((a) => a.delivery)).toStrictEqual([
      smsDelivery,
      { channel: 'voice', address: '+15550199', idempotencyKey: `${sms.notification.notificationId}:voice`, fallback: null },
    ]);
    expect(next.calls[1]).toMatchObject({ try: { delivery: 2, base: 2 }, requestedAt: 5_000_000, mayExpire: false, earlier: null });
  });

  it('a failure an earlier try recorded counts from the delivery it recorded', async () => {
    const recorded: Outcome = { ...(failed() as Extract<Outcome, { kind: 'failed' }>), recordedAt: 1 };
    const next = recordingNext((a) => (a.delivery.channel === 'sms' ? recorded : sent));
    await fallback(clock)(sms, next);
    expect(next.calls[1]?.try).toStrictEqual({ delivery: 2, base: 1 });
  });

  it.each<[string, Outcome, typeof smsDelivery]>([
    ['a send', sent, smsDelivery],
    ['a retry', { kind: 'retry', inMs: 10 }, smsDelivery],
    ['an expired page', { ...(failed() as Extract<Outcome, { kind: 'failed' }>), fallback: false }, smsDelivery],
    ['a delivery without fallback', failed(), { ...smsDelivery, fallback: null }],
  ])('%s ends there', async (_, outcome, delivery) => {
    const next = recordingNext(outcome);
    expect(await fallback(clock)(attempt({ delivery }), next)).toBe(outcome);
    expect(next.calls).toHaveLength(1);
  });
});
