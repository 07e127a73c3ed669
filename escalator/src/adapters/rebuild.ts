import { performance } from 'node:perf_hooks';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ALERT_LIFECYCLE_EVENTS,
  CONSUMERS,
  durableConsumer,
  STREAMS,
  subjects,
  type AlertEvent,
  type EscalationEvent,
} from '@oncall/contracts';
import { ackFloor, recreateConsumer, type Logger } from '@oncall/shared';
import { Recovery, type Recovered } from '../domain/recovery.js';
import { readExisting } from '@oncall/shared';
import type { PartitionSnapshot, PartitionSnapshots } from './snapshots.js';

/** Alert messages of a partition decided but not yet acked (their appends in flight); the server holds back the rest. */
export const MAX_ACK_PENDING = 1000;

/** A rebuilt partition, and the ESCALATIONS position its states are exact at. */
export type Rebuilt = Recovered & { fromSnapshot: boolean };

/**
 * Rebuilds a partition's escalations (see Recovery for what is folded and why) from its latest
 * snapshot and the log after it, or from the whole log, and recreates its alert consumer to
 * deliver from where the rebuild says, in order: a plain redelivery would come behind newer
 * messages. How far the partition's alert events are answered is the consumer's ack floor; the
 * snapshot's position and `answeredThrough` (how far this process saw them answered) are known
 * answered points too, and stand in when the consumer is gone.
 */
export async function rebuildPartition(
  nc: NatsConnection,
  partition: number,
  answeredThrough: number,
  snapshots: PartitionSnapshots | null,
  log: Logger,
): Promise<Rebuilt> {
  const started = performance.now();
  const jsm = await jetstreamManager(nc);
  const name = CONSUMERS.escalator(partition);
  const serverFloor = await ackFloor(jsm, STREAMS.alerts, name);
  const snapshot = await snapshots?.load(partition).catch((err: unknown) => {
    log.warn({ err }, 'snapshot could not be read; rebuilding from the whole log');
    return null;
  });
  const known = [serverFloor, answeredThrough || null, snapshot?.covers.alerts ?? null].filter((n): n is number => n !== null);
  const floor = known.length === 0 ? null : Math.max(...known);
  // Deleted first, so nothing is delivered to a consumer nobody reads while the log is read.
  await jsm.consumers.delete(STREAMS.alerts, name).catch(() => undefined);
  const recovered = await readPartition(nc, partition, floor, snapshot ?? null);
  await recreateConsumer(jsm, STREAMS.alerts, {
    ...durableConsumer(name, subjects.alertsOfPartition(partition), MAX_ACK_PENDING, 'all'),
    durable_name: name,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: recovered.deliverFrom,
  });
  log.info(
    {
      from: snapshot ? 'snapshot' : 'log',
      snapshotCovers: snapshot?.covers,
      escalations: recovered.states.size,
      ackFloor: serverFloor,
      floor,
      alertsRead: recovered.lastAlertSeq,
      undecided: recovered.undecided.size,
      skipped: recovered.skipped,
      deliverFrom: recovered.deliverFrom,
      ms: Math.round(performance.now() - started),
    },
    'escalator partition rebuilt',
  );
  return { ...recovered, fromSnapshot: !!snapshot };
}

/**
 * The partition's escalations as of alert events up to `floor` (see Recovery), from `snapshot`
 * and the log after its positions, or from the whole log. Reads only.
 */
export async function readPartition(
  nc: NatsConnection,
  partition: number,
  floor: number | null,
  snapshot: PartitionSnapshot | null,
): Promise<Recovered> {
  const js = jetstream(nc);
  const recovery = new Recovery(floor, snapshot?.covers);
  if (snapshot) {
    for await (const [alertId, lastSeq, state] of snapshot.escalations) recovery.seed(alertId, lastSeq, state);
    for (const entry of snapshot.flips) recovery.seedFlips(entry);
  }
  await readExisting(
    nc,
    js,
    STREAMS.alerts,
    subjects.alertsOfPartition(partition),
    (event, seq) => {
      if (ALERT_LIFECYCLE_EVENTS.has(event.type)) recovery.alertEvent(event as AlertEvent, seq);
    },
    (seq) => recovery.undecodable('alerts', seq),
    (snapshot?.covers.alerts ?? 0) + 1,
  );
  await readExisting(
    nc,
    js,
    STREAMS.escalations,
    subjects.escalationsOfPartition(partition),
    (event, seq) => recovery.decision(event as EscalationEvent, seq),
    (seq) => recovery.undecodable('escalations', seq),
    (snapshot?.covers.escalations ?? 0) + 1,
  );
  return recovery.finish();
}
