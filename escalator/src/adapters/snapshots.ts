import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { STREAMS } from '@oncall/contracts';
import type { Logger, SnapshotStore } from '@oncall/shared';
import { restored, type Escalation } from '../domain/escalation.js';
import type { FlipEntry } from '../domain/recovery.js';

/**
 * The format of a partition snapshot: one JSON line per escalation, `[alertId, lastSeq, state]`
 * with the state as `Escalation` is shaped, then one per flip history of the partition's
 * fingerprints, `["flips", serviceId, fingerprint, triggers, flappingSince]`. Bump it whenever a
 * shape changes: a snapshot of another format is ignored and the partition rebuilds from the
 * whole log once.
 */
export const SNAPSHOT_FORMAT = 3;
/**
 * Formats older than SNAPSHOT_FORMAT that `restored` still reads. 2: before flip histories were
 * kept (none then: a fingerprint's flips before the snapshot are forgotten, as they were). 1:
 * before an escalation could drop its alert's content (no `contentSeq`: those states keep their
 * content). Code that knows only format 1 ignores a newer snapshot and rebuilds from the whole
 * log: it could not tell a dropped content from an empty one.
 */
const READABLE_FORMATS = [2, 1];

export const snapshotName = (partition: number): string => `escalator-p${partition}`;

/**
 * Where a snapshot's states are exact: every alert event of the partition up to `alerts` and
 * every escalation event up to `escalations` folded, nothing else; and which streams those
 * sequences belong to (their creation times: a stream deleted and created again starts over).
 */
export type Covers = Readonly<{ alerts: number; escalations: number; alertsCreated: number; escalationsCreated: number }>;

type EscalationRecord = [alertId: string, lastSeq: number, state: Escalation];
type FlipsRecord = ['flips', ...FlipEntry];
type SnapshotRecord = EscalationRecord | FlipsRecord;

/**
 * A snapshot to start a partition from: its escalations as they are read, and its flip histories,
 * filled in as the records are read (complete once `escalations` has ended).
 */
export type PartitionSnapshot = Readonly<{ covers: Covers; escalations: AsyncIterable<EscalationRecord>; flips: readonly FlipEntry[] }>;

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
        this.log.info(
          { snapshot: name, format },
          'snapshot of an older format: read as it is (format 1: its states keep their alert content; 1 and 2: it holds no flip histories)',
        );
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
    const flips: FlipEntry[] = [];
    return {
      covers,
      flips,
      escalations: (async function* () {
        for await (const record of found.records) {
          if (record[0] === 'flips') {
            const [, ...entry] = record as FlipsRecord;
            flips.push(entry);
          } else {
            const [alertId, lastSeq, state] = record as EscalationRecord;
            yield [alertId, lastSeq, restored(state)] as EscalationRecord;
          }
        }
      })(),
    };
  }

  /** Saves the escalations and flip histories of `partition` as exact at `at` (see Covers); returns the stored size. */
  async save(
    partition: number,
    at: Readonly<{ alerts: number; escalations: number }>,
    escalations: ReadonlyArray<readonly [string, number, Escalation]>,
    flips: readonly FlipEntry[] = [],
  ): Promise<number> {
    const { alertsCreated, escalationsCreated } = await this.streams();
    const covers: Covers = { ...at, alertsCreated, escalationsCreated };
    return this.store.saveRecords(
      snapshotName(partition),
      { format: SNAPSHOT_FORMAT, takenAt: new Date().toISOString(), covers },
      (function* () {
        yield* escalations;
        for (const entry of flips) yield ['flips', ...entry];
      })(),
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
