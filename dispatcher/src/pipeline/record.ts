import type { Logger } from '@oncall/shared';
import { deliveriesTotal } from '../metrics.js';
import { attemptOf, type DeliveryAttempt, type Outcome, type Stage } from './attempt.js';

export type Sent = Extract<Outcome, { kind: 'sent' }>;
export type Failed = Extract<Outcome, { kind: 'failed' }>;

/** Where outcomes are told: NotificationDelivered / NotificationFailed (adapters/events.ts). */
export interface DeliveryEvents {
  delivered(a: DeliveryAttempt, o: Sent, attempts: number): Promise<void>;
  failed(a: DeliveryAttempt, o: Failed, attempts: number): Promise<void>;
}

/**
 * Records what the stages after it decided: the delivery's record first (the claim is settled),
 * then its event, so a process stopped between the two leaves a record without its event, which
 * the dedupe stage of the next try turns into the event (the same event id: JetStream's
 * duplicate window drops a second copy). An outcome an earlier try recorded gets its event only;
 * its attempts are then approximate (the delivery before this one, or the one it failed at).
 */
export function record(events: DeliveryEvents, log: Logger): Stage {
  return async (a, next) => {
    const o = await next(a);
    const channel = a.delivery.channel;
    switch (o.kind) {
      case 'retry':
        return o;
      case 'sent':
        if (!o.recorded) {
          await held(a).settle({ state: 'sent', providerMessageId: o.providerMessageId });
          deliveriesTotal.inc({ channel, outcome: 'delivered', reason: '' });
        }
        await events.delivered(a, o, o.recorded ? Math.max(1, attemptOf(a.try) - 1) : attemptOf(a.try));
        return o;
      case 'failed':
        if (o.recordedAt === null) {
          await held(a).settle({ state: 'failed', delivery: a.try.delivery, reason: o.reason });
          deliveriesTotal.inc({ channel, outcome: 'failed', reason: o.reason });
          log.warn(
            {
              alertId: a.notification.alertId,
              channel,
              reason: o.reason,
              fallback: o.fallback ? (a.delivery.fallback?.channel ?? null) : null,
            },
            'delivery failed for good',
          );
        }
        await events.failed(a, o, o.recordedAt === null ? attemptOf(a.try) : Math.max(1, o.recordedAt - a.try.base + 1));
        return o;
    }
  };
}

function held(a: DeliveryAttempt) {
  if (a.claim === null) throw new Error('an outcome to record for a delivery this process has not claimed');
  return a.claim;
}
