import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { STREAMS } from '@oncall/contracts';
import type { Logger, SnapshotStore } from '@oncall/shared';
import { restored, type Escalation } from '../domain/escalation.js';

/**
 * The format of a partition snapshot: one JSON line per escalation, `[alertId, lastSeq, state]`
 * with the state as `Escalation` is shaped. Bump it whenever that shape changes: a snapshot of
 * another format is ignored and the partition rebuilds from the whole log once.
 */
export const SNAPSHOT_FORMAT = 2;
/**
 * Formats older than SNAPSHOT_FORMAT that `restored` still reads. 1: before an escalation could
 * drop its alert's content (no `contentSeq`: those states keep their content). Code that knows
 * only format 1 ignores a format-2 snapshot and rebuilds from the whole log: it could not tell a
 * dropped content from an empty one.
 */
const READABLE_FORMATS = [1];

export const snapshotName = (partition: number): string => `escalator-p${partition}`;

/**
 * Where a snapshot's states are exact: every alert event of the partition up to `alerts` and
 * every escalation event up to `escalations` folded, nothing else; and which streams those
 * sequences belong to (their creation times: a stream deleted and created again starts over).
 */
export type Covers = Readonly<{ alerts: number; escalations: number; alertsCreated: number; escalationsCreated: number }>;

type SnapshotRecord = [alertId: string, lastSeq: number, state: Escalation];

/** A snapshot to start a partition from. */
export type PartitionSnapshot = Readonly<{ covers: Covers; escalations: AsyncIterable<SnapshotRecord> }>;

/**
 * The escalator's partition snapshots (invariant 10: a restart starts from the latest one and
 * folds only the log after it) in the shared SnapshotStore, object `escalator-p<N>`.
 */
export class PartitionSnapshots {
  constructor(
    private readonly store: SnapshotStore,
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  /** The latest snapshot of `partition` that fits the streams as they are, or null. */
  async load(partition: number): Promise<PartitionSnapshot | null> {
    const name = snapshotName(partition);
    let found = await this.store.loadRecords<SnapshotRecord>(name, SNAPSHOT_FORMAT);
    for (const format of READABLE_FORMATS) {
      if (found) break;
      found = await this.store.loadRecords<SnapshotRecord>(name, format);
      if (found)
        this.log.info({ snapshot: name, format }, 'snapshot of an older format: read as it is (its states keep their alert content)');
    }
    if (!found) return null;
    const covers = found.meta.covers as Covers;
    const streams = await this.streams();
    const fits =
      covers.alertsCreated === streams.alertsCreated &&
      covers.escalationsCreated === streams.escalationsCreated &&
      covers.alerts <= streams.alerts &&
      covers.escalations <= streams.escalations;
    if (!fits) {
      this.log.warn(
        { snapshot: name, covers, streams },
        'snapshot does not fit the streams (newer than them, or of streams created since); ignored',
      );
      return null;
    }
    return {
      covers,
      escalations: (async function* () {
        for await (const [alertId, lastSeq, state] of found.records) yield [alertId, lastSeq, restored(state)] as SnapshotRecord;
      })(),
    };
  }

  /** Saves the escalations of `partition` as exact at `at` (see Covers); returns the stored size. */
  async save(
    partition: number,
    at: Readonly<{ alerts: number; escalations: number }>,
    escalations: ReadonlyArray<readonly [string, number, Escalation]>,
  ): Promise<number> {
    const { alertsCreated, escalationsCreated } = await this.streams();
    const covers: Covers = { ...at, alertsCreated, escalationsCreated };
    return this.store.saveRecords(
      snapshotName(partition),
      { format: SNAPSHOT_FORMAT, takenAt: new Date().toISOString(), covers },
      escalations,
    );
  }

  private async streams(): Promise<{ alerts: number; escalations: number; alertsCreated: number; escalationsCreated: number }> {
    const jsm = await jetstreamManager(this.nc);
    const [alerts, escalations] = await Promise.all([jsm.streams.info(STREAMS.alerts), jsm.streams.info(STREAMS.escalations)]);
    return {
      alerts: alerts.state.last_seq,
      escalations: escalations.state.last_seq,
      alertsCreated: Date.parse(alerts.created),
      escalationsCreated: Date.parse(escalations.created),
    };
  }
}
