import type { Clock } from '@oncall/shared';
import { fallbackOf } from '../domain/plan.js';
import { newAttempt, type Stage } from './attempt.js';

/**
 * A delivery that failed for good goes on to its fallback (SMS → voice): the rest of the
 * pipeline again, claimed like any delivery. Its attempts count from the delivery at which its
 * primary failed for good.
 */
export function fallback(clock: Clock): Stage {
  return async (a, next) => {
    const o = await next(a);
    const d = o.kind === 'failed' && o.fallback ? fallbackOf(a.notification, a.delivery) : null;
    if (o.kind !== 'failed' || d === null) return o;
    return next(
      newAttempt({
        notification: a.notification,
        delivery: d,
        partition: a.partition,
        try: { delivery: a.try.delivery, base: o.recordedAt ?? a.try.delivery },
        requestedAt: clock.now(),
        mayExpire: false,
        trace: a.trace,
      }),
    );
  };
}
