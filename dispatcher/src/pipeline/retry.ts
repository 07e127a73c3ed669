import type { Logger } from '@oncall/shared';
import { retryDelay } from '../domain/limits.js';
import { deliveriesTotal } from '../metrics.js';
import { attemptOf, type Stage } from './attempt.js';

export type RetryOptions = Readonly<{ maxAttempts: number; retryBaseMs: number; retryMaxMs: number }>;

/**
 * A retryable failure (5xx, 429, network, timeout) before the last attempt is tried again after
 * `min(retryMaxMs, retryBaseMs × 2^(attempt−1))` with jitter, or the provider's Retry-After when
 * longer: the message is handed back to JetStream with that delay. Anything else is final.
 */
export function retry(opts: RetryOptions, log: Logger, random: () => number = Math.random): Stage {
  return async (a, next) => {
    const o = await next(a);
    if (o.kind !== 'failed' || o.recordedAt !== null || !o.error.retryable) return o;
    const attempt = attemptOf(a.try);
    if (attempt >= opts.maxAttempts) return o;
    deliveriesTotal.inc({ channel: a.delivery.channel, outcome: 'retry', reason: o.reason });
    log.warn({ alertId: a.notification.alertId, channel: a.delivery.channel, reason: o.reason, attempt }, 'delivery failed; will retry');
    const inMs = retryDelay(attempt, random(), { baseMs: opts.retryBaseMs, maxMs: opts.retryMaxMs, retryAfterMs: o.error.retryAfterMs });
    return { kind: 'retry', inMs };
  };
}
