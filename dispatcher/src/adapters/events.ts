import { buildEvent, encodeEvent, stableUuid, storableText, subjects, type DeliveryEvent, type EventData } from '@oncall/contracts';
import type { Clock, StreamAppender, TraceHeaders } from '@oncall/shared';
import { maskAddress } from '../domain/plan.js';
import type { DeliveryAttempt, DeliveryEvents } from '../pipeline/index.js';

/**
 * NotificationDelivered / NotificationFailed on `deliveries.<p>.<alertId>`, with an id (and
 * message id) derived from the idempotency key, so a second copy of an outcome is one event.
 * Text that came from outside (the provider's message id, an address, an error) is made
 * storable: PostgreSQL refuses NUL and lone surrogates.
 */
export function deliveryEvents(appender: StreamAppender, clock: Clock): DeliveryEvents {
  const append = async <T extends DeliveryEvent['type']>(
    partition: number,
    type: T,
    data: EventData<T>,
    trace: TraceHeaders | undefined,
  ): Promise<void> => {
    const id = stableUuid(`${type}:${data.idempotencyKey}`);
    const event = buildEvent(type, data, {
      id,
      occurredAt: new Date(clock.now()).toISOString(),
      causationId: data.notificationId,
      correlationId: data.alertId,
    });
    await appender.append(subjects.delivery(partition, data.alertId), encodeEvent(event), trace ? { msgID: id, trace } : { msgID: id });
  };
  const common = (a: DeliveryAttempt) => ({
    alertId: a.notification.alertId,
    serviceId: a.notification.serviceId,
    notificationId: a.notification.notificationId,
    idempotencyKey: a.delivery.idempotencyKey,
    channel: a.delivery.channel,
    destination: storableText(maskAddress(a.delivery.channel, a.delivery.address)),
  });
  return {
    delivered: (a, o, attempts) =>
      append(
        a.partition,
        'NotificationDelivered',
        {
          ...common(a),
          providerMessageId: o.providerMessageId === null ? null : storableText(o.providerMessageId),
          attempts,
          templateId: a.notification.templateId,
          templateVersion: a.notification.templateVersion,
          bundled: o.bundled,
        },
        a.trace,
      ),
    failed: (a, o, attempts) =>
      append(
        a.partition,
        'NotificationFailed',
        {
          ...common(a),
          reason: o.reason,
          retryable: o.error.retryable,
          attempts,
          error: storableText(o.error.message),
          fallback: o.fallback ? (a.delivery.fallback?.channel ?? null) : null,
        },
        a.trace,
      ),
  };
}
