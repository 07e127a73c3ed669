import { randomBytes } from 'node:crypto';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS, durableConsumer, STREAMS, subjects, type AlertEvent } from '@oncall/contracts';
import { readExisting, type Snapshot } from '@oncall/shared';
import { alertKey, type OpenAlert } from '../domain/alert.js';

/**
 * How a partition decider finds where it stands: its intake consumers, the ack floor, and the
 * open alerts as of that floor (from the latest snapshot plus the log after it).
 */

/** An open alert and the ALERTS sequence of its last event (the next append expects it). */
export type Entry = { alert: OpenAlert; lastSeq: number };

/** Format of the decider's snapshots; a snapshot of another format is ignored (full rebuild). */
export const SNAPSHOT_FORMAT = 1;
export type SnapshotBody = { open: Array<[OpenAlert, number]> };
export const snapshotName = (partition: number): string => `decider-p${partition}`;

/**
 * Each session of a partition decider reads intake through a consumer of its own
 * (`decider-p<N>-v1-<token>`): a decider that lost its lease while paused cannot pull from its
 * successor's consumer (a shared name would split the messages between them), and its own
 * consumer is gone when it wakes up. These are every decider consumer of the partition.
 */
export async function deciderConsumers(jsm: JetStreamManager, partition: number): Promise<Array<{ name: string; floor: number }>> {
  const base = CONSUMERS.decider(partition);
  const found: Array<{ name: string; floor: number }> = [];
  for await (const c of jsm.consumers.list(STREAMS.intake)) {
    if (c.name === base || c.name.startsWith(`${base}-`)) found.push({ name: c.name, floor: c.ack_floor.stream_seq });
  }
  return found;
}

/** Creates this session's consumer, delivering from `floor` + 1 in order. */
export async function createSessionConsumer(
  jsm: JetStreamManager,
  partition: number,
  floor: number,
  maxAckPending: number,
): Promise<string> {
  const name = `${CONSUMERS.decider(partition)}-${randomBytes(4).toString('hex')}`;
  await jsm.consumers.add(STREAMS.intake, {
    ...durableConsumer(name, subjects.intake(partition), maxAckPending, 'all'),
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: floor + 1,
  });
  return name;
}

export type Recovered = {
  open: Map<string, Entry>;
  /** Events already in the log for intake messages above the floor, by id. */
  stored: Map<string, { seq: number; event: AlertEvent }>;
  /** The highest ALERTS sequence of the partition read. */
  lastAlertSeq: number;
  /** Where the state came from, for the log line. */
  fromSnapshot: boolean;
  eventsRead: number;
};

/**
 * The open alerts as of intake sequence `floor`: from the latest snapshot that is not ahead of the
 * floor, then every ALERTS event of the partition after the snapshot, folded by `apply` when its
 * cause is at or below the floor and remembered by id when above (re-deciding those messages
 * reproduces them, and they are not appended again).
 */
export async function recoverState(
  nc: NatsConnection,
  js: JetStreamClient,
  snap: Snapshot<SnapshotBody> | null,
  partition: number,
  floor: number,
  apply: (open: Map<string, Entry>, event: AlertEvent, seq: number) => void,
): Promise<Recovered> {
  const usable = snap !== null && (snap.meta.covers.intake ?? Infinity) <= floor;
  const open = new Map<string, Entry>();
  if (usable) for (const [alert, lastSeq] of snap.body.open) open.set(alertKey(alert.serviceId, alert.fingerprint), { alert, lastSeq });
  const from = usable ? (snap.meta.covers.alerts ?? 0) + 1 : 1;
  const stored = new Map<string, { seq: number; event: AlertEvent }>();
  let eventsRead = 0;
  const last = await readExisting(
    nc,
    js,
    STREAMS.alerts,
    subjects.alertsOfPartition(partition),
    (e, seq) => {
      const event = e as AlertEvent;
      if ((event.causationSeq ?? 0) <= floor) apply(open, event, seq);
      else stored.set(event.id, { seq, event });
      eventsRead++;
    },
    // Only the decider writes these subjects; a message that is not an event is nobody's decision.
    () => undefined,
    from,
  );
  const lastAlertSeq = Math.max(last, from - 1);
  return { open, stored, lastAlertSeq, fromSnapshot: usable, eventsRead };
}
