import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS, durableConsumer, STREAMS, subjects, type AlertEvent, type EscalationEvent } from '@oncall/contracts';
import { ackFloor, recreateConsumer } from '@oncall/shared';
import { Recovery, type Recovered } from '../domain/recovery.js';
import { readExisting } from './read-subjects.js';

/** Alert messages of a partition decided but not yet acked (their appends in flight); the server holds back the rest. */
export const MAX_ACK_PENDING = 1000;

export const ALERT_EVENTS: ReadonlySet<string> = new Set([
  'AlertTriggered',
  'AlertUpdated',
  'AlertRepeated',
  'AlertAcknowledged',
  'AlertResolved',
  'AlertSnoozed',
  'AlertEscalated',
  'AlertUnacknowledged',
]);

/**
 * Rebuilds a partition's escalations from the log (see Recovery for what is folded and why) and
 * recreates its alert consumer to deliver from where the rebuild says, in order: a plain
 * redelivery would come behind newer messages. The consumer's ack floor says how far the
 * partition's alert events are answered; when the consumer is gone, `answeredThrough` (how far
 * this process saw them answered) stands in for it.
 */
export async function rebuildPartition(nc: NatsConnection, partition: number, answeredThrough: number): Promise<Recovered> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const name = CONSUMERS.escalator(partition);
  const serverFloor = await ackFloor(jsm, STREAMS.alerts, name);
  const floor = serverFloor === null && answeredThrough === 0 ? null : Math.max(serverFloor ?? 0, answeredThrough);
  // Deleted first, so nothing is delivered to a consumer nobody reads while the log is read.
  await jsm.consumers.delete(STREAMS.alerts, name).catch(() => undefined);
  const recovery = new Recovery(floor);
  await readExisting(
    js,
    STREAMS.alerts,
    subjects.alertsOfPartition(partition),
    (event, seq) => {
      if (ALERT_EVENTS.has(event.type)) recovery.alertEvent(event as AlertEvent, seq);
    },
    (seq) => recovery.undecodable('alerts', seq),
  );
  await readExisting(
    js,
    STREAMS.escalations,
    subjects.escalationsOfPartition(partition),
    (event, seq) => recovery.decision(event as EscalationEvent, seq),
    (seq) => recovery.undecodable('escalations', seq),
  );
  const recovered = recovery.finish();
  await recreateConsumer(jsm, STREAMS.alerts, {
    ...durableConsumer(name, subjects.alertsOfPartition(partition), MAX_ACK_PENDING, 'all'),
    durable_name: name,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: recovered.deliverFrom,
  });
  return recovered;
}
