import { createLogger } from '@oncall/shared';
import type { Delivery, NotificationRequested } from '../domain/plan.js';
import { DeliveryError } from '../notifiers/index.js';
import { notificationRequested } from '@oncall/shared/render/testing';
import { newAttempt, type DeliveryAttempt, type Next, type Outcome } from './attempt.js';

/** Helpers for the stage tests: an attempt, a `next` that records what reached it, outcomes. */

export const silent = createLogger('test', 'silent');

export const slackDelivery: Delivery = { channel: 'slack', address: 'U0ADA', idempotencyKey: 'n-1:slack', fallback: null };
export const smsDelivery: Delivery = {
  channel: 'sms',
  address: '+15550100',
  idempotencyKey: 'n-1:sms',
  fallback: { channel: 'voice', address: '+15550199' },
};

export function attempt(
  over: Partial<DeliveryAttempt> & { notification?: NotificationRequested } = {},
  n: Partial<NotificationRequested> = {},
): DeliveryAttempt {
  const notification = over.notification ?? notificationRequested(n);
  const base = newAttempt({
    notification,
    delivery: slackDelivery,
    partition: 0,
    try: { delivery: 1, base: 1 },
    requestedAt: 1_000_000,
    mayExpire: true,
  });
  return { ...base, ...over };
}

export const sent: Outcome = { kind: 'sent', providerMessageId: 'C1/1.0001', bundled: 1, recorded: false };
export const failed = (reason = 'invalid_destination', retryable = false, retryAfterMs: number | null = null): Outcome => ({
  kind: 'failed',
  reason,
  error: new DeliveryError({
    channel: 'slack',
    reason: retryable ? 'provider_unavailable' : 'invalid_destination',
    retryable,
    retryAfterMs,
  }),
  fallback: true,
  recordedAt: null,
});

/** A `next` answering `outcome` (or what `answer` returns) and keeping every attempt it got. */
export function recordingNext(answer: Outcome | ((a: DeliveryAttempt) => Outcome | Promise<Outcome>) = sent): Next & {
  calls: DeliveryAttempt[];
} {
  const calls: DeliveryAttempt[] = [];
  const next = async (a: DeliveryAttempt) => {
    calls.push(a);
    return typeof answer === 'function' ? answer(a) : answer;
  };
  return Object.assign(next, { calls });
}
