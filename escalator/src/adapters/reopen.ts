import type { JetStreamClient } from '@nats-io/jetstream';
import { buildEvent, encodeEvent, stableUuid, subjects, type EventData } from '@oncall/contracts';

/**
 * Asks the decider, the single writer of alerts, to reopen an alert (ack timeout, snooze end):
 * an `unacknowledge` command on the alert's intake partition. Idempotent: the message id follows
 * the decision that asked, and the decider ignores it for an alert that is triggered already.
 */
export async function requestReopen(
  js: JetStreamClient,
  partition: number,
  now: number,
  data: EventData<'AlertReopenRequested'>,
  fingerprint: string,
  causationId: string,
): Promise<void> {
  const command = buildEvent(
    'AlertCommandReceived',
    {
      alertId: data.alertId,
      serviceId: data.serviceId,
      fingerprint,
      command: 'unacknowledge',
      userId: null,
      note: '',
      until: null,
      reason: data.reason,
      via: 'system',
    },
    { id: stableUuid(`reopen:${causationId}`), occurredAt: new Date(now).toISOString(), causationId, correlationId: data.alertId },
  );
  await js.publish(subjects.intake(partition), encodeEvent(command), { msgID: command.id });
}
