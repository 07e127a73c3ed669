import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@oncall/shared';
import type { Escalations } from './escalations.js';
import type { PartitionSnapshots } from './snapshots.js';

export type SnapshotPolicy = Readonly<{
  /**
   * A snapshot is due once this many changes (alert events answered, decisions stored) were
   * made since the last one, and at least as many as the partition holds escalations (so the
   * cost of writing them all is paid back by a tail at most that long).
   */
  everyChanges: number;
  /** ...or once this long has passed with any change. */
  everyMs: number;
  /** Also at a clean stop. */
  onStop: boolean;
}>;

export const DEFAULT_SNAPSHOT_POLICY: SnapshotPolicy = { everyChanges: 10_000, everyMs: 5 * 60_000, onStop: true };

/** How long the partition waits for what is in flight to settle before giving a snapshot up, and how long until it tries again. */
const QUIESCE_MS = 2000;
const RETRY_AFTER_MS = 10_000;
const CHECK_EVERY_MS = 1000;
/** Changes that stopped this long ago are snapshotted (a storm ended). */
const IDLE_MS = 5000;

/**
 * Snapshot saves of every partition of this process, one at a time: a save encodes and gzips
 * every state of its partition, and eight partitions that fall quiet together (a storm ends) all
 * save at once — the escalator's memory peak (docs/performance.md, "Escalator memory").
 */
let saves: Promise<unknown> = Promise.resolve();

function oneAtATime<T>(save: () => Promise<T>): Promise<T> {
  const run = saves.then(save, save);
  saves = run.catch(() => undefined);
  return run;
}

/**
 * Takes a running partition's snapshots. A snapshot must be exact at its positions, so it is
 * taken at a quiescent point: when one is due, the timers are held and the consumer loop waits
 * (`pause`) until nothing is in flight (every delivered message answered, every decision stored,
 * nothing waiting for the user directory), the escalations are captured (immutable values, so
 * the capture costs a list of references), and deciding resumes at once. Writing the snapshot
 * then goes on in the background, one at a time.
 */
export class SnapshotTaker {
  private lastAt = Date.now();
  private changesAt: number;
  private covered: { alerts: number; escalations: number };
  private pausing: Promise<void> | null = null;
  private saving: Promise<void> | null = null;
  private notBefore = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly deps: Readonly<{
      partition: number;
      snapshots: PartitionSnapshots;
      policy: SnapshotPolicy;
      live: Escalations;
      log: Logger;
      /** Changes made so far. */
      changes: () => number;
      /** Messages delivered and not answered yet. */
      waiting: () => number;
      /** How far alert events are answered (with nothing waiting, alert events up to it are folded and no others). */
      answeredThrough: () => number;
      /** Whether a snapshot can be exact now: not while a first start redelivers what it folded. */
      possible: () => boolean;
      /** Log entries the rebuild read after its snapshot (or all): they count as changes, so a long tail is snapshotted soon. */
      readAtRebuild: number;
      /**
       * Whether this replica still holds the partition's lease. A snapshot is saved only then: a
       * replica that lost it unnoticed (paused past the TTL) misses what the new owner decided.
       */
      leaseHeld: () => Promise<boolean>;
    }>,
  ) {
    this.changesAt = deps.changes() - deps.readAtRebuild;
    this.covered = { alerts: -1, escalations: -1 };
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  /** While a snapshot is being captured: the consumer loop awaits this before taking a message. */
  get pause(): Promise<void> | null {
    return this.pausing;
  }

  /** Stops checking; at a clean stop (with the policy's onStop) takes a last snapshot and waits for it to be written. */
  async stop(clean: boolean): Promise<void> {
    clearInterval(this.timer);
    await this.pausing;
    if (clean && this.deps.policy.onStop && this.deps.changes() > this.changesAt) await this.capture();
    await this.saving;
  }

  private check(): void {
    if (this.pausing || this.saving || Date.now() < this.notBefore || !this.deps.possible() || !this.due()) return;
    this.pausing = this.capture().finally(() => (this.pausing = null));
  }

  private lastSeenChanges = 0;
  private lastChangeAt = Date.now();

  private due(): boolean {
    const changes = this.deps.changes();
    const changed = changes - this.changesAt;
    // Quiet for IDLE_MS after changes (a storm ended): a crash now restarts from here, not from before the storm.
    if (changes !== this.lastSeenChanges) {
      this.lastSeenChanges = changes;
      this.lastChangeAt = Date.now();
    }
    if (changed <= 0) return false;
    const idle = Date.now() - this.lastChangeAt >= IDLE_MS;
    return (
      idle ||
      changed >= Math.max(this.deps.policy.everyChanges, this.deps.live.size) ||
      Date.now() - this.lastAt >= this.deps.policy.everyMs
    );
  }

  private async capture(): Promise<void> {
    const { live, log } = this.deps;
    live.holdTicks();
    let captured: ReturnType<Escalations['capture']> & { alerts: number; changes: number };
    try {
      const deadline = Date.now() + QUIESCE_MS;
      while (!live.quiescent || this.deps.waiting() > 0 || !this.deps.possible()) {
        if (Date.now() >= deadline) {
          this.notBefore = Date.now() + RETRY_AFTER_MS;
          log.info('partition did not come to rest for a snapshot; trying again later');
          return;
        }
        await sleep(5);
      }
      captured = { ...live.capture(), alerts: this.deps.answeredThrough(), changes: this.deps.changes() };
    } finally {
      live.releaseTicks();
    }
    this.lastAt = Date.now();
    this.changesAt = captured.changes;
    const at = { alerts: captured.alerts, escalations: captured.lastEscalationSeq };
    if (at.alerts === this.covered.alerts && at.escalations === this.covered.escalations) return;
    const started = Date.now();
    // The lease is checked when this save's turn comes (other partitions' saves may go first).
    this.saving = oneAtATime(async () => {
      if (!(await this.deps.leaseHeld())) throw new Error('the partition lease is not held any more');
      return this.deps.snapshots.save(this.deps.partition, at, captured.escalations, captured.flips);
    })
      .then((bytes) => {
        this.covered = at;
        log.info(
          { covers: at, escalations: captured.escalations.length, flips: captured.flips.length, bytes, ms: Date.now() - started },
          'escalator partition snapshot saved',
        );
      })
      .catch((err: unknown) => log.warn({ err }, 'escalator partition snapshot not saved; the next one will be'))
      .finally(() => (this.saving = null));
  }
}
