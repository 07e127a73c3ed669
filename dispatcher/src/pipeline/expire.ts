import type { Clock } from '@oncall/shared';
import { DeliveryError } from '../notifiers/index.js';
import type { Stage } from './attempt.js';

/**
 * A page older than `staleAfterMs` when first tried (the dispatcher was down) is not worth
 * sending: it fails as `expired`, and no fallback is tried either.
 */
export function expire(clock: Clock, opts: { staleAfterMs: number }): Stage {
  return async (a, next) => {
    if (!a.mayExpire || clock.now() - a.requestedAt <= opts.staleAfterMs) return next(a);
    const error = new DeliveryError({ channel: a.delivery.channel, reason: 'unknown', retryable: false });
    return { kind: 'failed', reason: 'expired', error, fallback: false, recordedAt: null };
  };
}
