import { DeliveryError } from '../notifiers/index.js';
import type { Stage } from './attempt.js';

/**
 * A delivery an earlier try settled, or still works on (another replica, a process that stopped
 * mid-send less than a claim's lifetime ago), is not sent again. A settled one ends with the
 * outcome its record holds, so the record stage writes the event that a process stopped between
 * record and event left unwritten; one still in hand elsewhere is tried again later.
 */
export function dedupe(opts: { retryBaseMs: number }): Stage {
  return async (a, next) => {
    const e = a.earlier;
    if (e === null) return next(a);
    switch (e.state) {
      case 'sending':
        return { kind: 'retry', inMs: opts.retryBaseMs };
      case 'sent':
        return { kind: 'sent', providerMessageId: e.providerMessageId, bundled: 1, recorded: true };
      case 'failed':
        return {
          kind: 'failed',
          reason: e.reason,
          error: new DeliveryError({ channel: a.delivery.channel, reason: 'unknown', retryable: false }),
          fallback: true,
          recordedAt: e.delivery,
        };
    }
  };
}
