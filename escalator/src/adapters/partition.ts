import { jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ALERT_LIFECYCLE_EVENTS,
  CONSUMERS,
  decodeEvent,
  partitionOfSubject,
  STREAMS,
  type AlertEvent,
  type ParkReason,
} from '@oncall/contracts';
import {
  consumeOptions,
  InOrderAcks,
  Parking,
  serveParkedRetries,
  StreamAppender,
  superviseLoop,
  traceOf,
  type Clock,
  type Lease,
  type Logger,
  type Parkable,
  type UserDirectory,
} from '@oncall/shared';
import { Escalations, type ContextFactory } from './escalations.js';
import { runningPartitions, type PartitionGauges } from './metrics.js';
import { rebuildPartition } from './rebuild.js';
import { SnapshotTaker, type SnapshotPolicy } from './snapshot-taker.js';
import type { PartitionSnapshots } from './snapshots.js';
import type { StormView } from './storm-view.js';
import { UserCache } from './user-cache.js';

export type { ContextFactory } from './escalations.js';

const CONSUME_BATCH = 500;
/** Sessions that fail this many times in a row end the lease's work, so the lease is released (another replica may do better). */
const GIVE_UP_AFTER = 8;

export type PartitionDeps = Readonly<{
  nc: NatsConnection;
  partition: number;
  clock: Clock;
  context: ContextFactory;
  users: UserDirectory;
  log: Logger;
  /** Where the partition's snapshots are kept; null: none are taken or read (the whole log is read at every start). */
  snapshots: PartitionSnapshots | null;
  snapshotPolicy: SnapshotPolicy;
  /** Grouping and inhibition shared across partitions and replicas (docs/noc.md). */
  storm?: StormView | null;
}>;

/**
 * The escalator of one alert partition, while this replica holds its lease: rebuilds the
 * partition's escalations from the log (rebuildPartition), then feeds the alert events its
 * durable consumer delivers to them (Escalations) and acks each message once its decisions are
 * stored, in delivery order (InOrderAcks), so the consumer's ack floor is a point up to which
 * every alert event is answered in the log. Any failure ends the session; the next one rebuilds.
 * The rebuild starts from the partition's latest snapshot, taken while it runs (SnapshotTaker).
 *
 * An alert event that cannot be decoded, or that the rules throw on, is parked (invariant 7:
 * `parked.escalator-p<N>-v1`, reason `undecodable` or `undecidable`) and counts as answered once
 * the park is stored; the partition goes on. `oncall parked retry` reaches the partition's
 * owner, which decides the stored event again (Escalations.retry).
 */
export class EscalatorPartition implements PartitionGauges {
  readonly partition: number;
  private readonly log: Logger;
  private readonly users: UserCache;
  private live: Escalations | null = null;
  /** How far this process saw the partition's alert events answered: the ack floor's stand-in when the consumer is gone. */
  private answeredThrough = 0;
  private readonly consumerName: string;

  constructor(private readonly deps: PartitionDeps) {
    this.partition = deps.partition;
    this.log = deps.log.child({ partition: deps.partition });
    this.users = new UserCache(deps.users, this.log);
    this.consumerName = CONSUMERS.escalator(deps.partition);
  }

  /**
   * Runs until `lost` aborts (lease lost or shutdown). A session that fails (an append the
   * server refused, the consumer or stream deleted, the server gone) is followed by a rebuild
   * after a back-off with jitter; after GIVE_UP_AFTER failures in a row this throws.
   */
  async run(lost: AbortSignal, lease?: Lease): Promise<void> {
    runningPartitions.add(this);
    const appender = new StreamAppender(this.deps.nc);
    const parking = new Parking(appender, this.log);
    const retries = serveParkedRetries(this.deps.nc, this.consumerName, appender, this.log, (msg) => this.retry(msg));
    try {
      await superviseLoop({ name: `escalator-p${this.partition}`, log: this.log, stop: lost, giveUpAfter: GIVE_UP_AFTER }, () =>
        this.session(lost, parking, lease),
      );
    } finally {
      retries.unsubscribe();
      await appender.close();
      runningPartitions.delete(this);
    }
  }

  size(): number {
    return this.live?.size ?? 0;
  }

  timerCount(): number {
    return this.live?.timerCount ?? 0;
  }

  /** One rebuild and what follows it, until `lost` aborts or something fails. */
  private async session(lost: AbortSignal, parking: Parking, lease: Lease | undefined): Promise<void> {
    const rebuilt = await rebuildPartition(this.deps.nc, this.partition, this.answeredThrough, this.deps.snapshots, this.log);
    let failure: unknown = null;
    let messages: ConsumerMessages | null = null;
    let closed = false;
    let answered = 0;
    const acks = new InOrderAcks();
    const fail = (err: unknown) => {
      failure ??= err;
      void messages?.close().catch(() => undefined);
    };
    const live = new Escalations({ ...this.deps, log: this.log, users: this.users, failed: fail }, rebuilt);
    this.live = live;
    const answeredThrough = () => Math.max(rebuilt.floor ?? 0, acks.doneThrough);
    const snapshots =
      this.deps.snapshots &&
      new SnapshotTaker({
        partition: this.partition,
        snapshots: this.deps.snapshots,
        policy: this.deps.snapshotPolicy,
        live,
        log: this.log,
        changes: () => answered + live.decisionsStored,
        waiting: () => acks.waiting,
        answeredThrough,
        // A first start folds the whole log and delivers again what it found undecided: not exact before that is answered.
        possible: () => answeredThrough() >= rebuilt.foldedThrough,
        readAtRebuild: rebuilt.read,
        leaseHeld: lease ? lease.held : async () => !lost.aborted,
      });
    const stop = () => void messages?.close().catch(() => undefined);
    lost.addEventListener('abort', stop, { once: true });
    try {
      await live.start();
      const consumer = await jetstream(this.deps.nc).consumers.get(STREAMS.alerts, CONSUMERS.escalator(this.partition));
      // Ends with an error when the consumer or the stream is deleted (instead of waiting forever).
      messages = await consumer.consume(consumeOptions(CONSUME_BATCH));
      // A decision of the start (a Tick) may have failed already.
      if (failure !== null || lost.aborted) stop();
      let deliveredThrough = rebuilt.deliverFrom - 1;
      for await (const m of messages) {
        if (failure !== null || lost.aborted) break;
        // A redelivery (it comes behind newer messages) of a message this session has: the
        // original is acked in order once its decisions are stored.
        if (m.seq <= deliveredThrough) continue;
        const pause = snapshots?.pause;
        if (pause) {
          await pause;
          if (failure !== null || lost.aborted) break;
        }
        deliveredThrough = m.seq;
        const tracked = acks.track(m);
        // Acks of this session never reach the consumer the next rebuild creates.
        const done = () => {
          if (closed) return;
          answered++;
          acks.done(tracked);
        };
        this.onMessage(m, live, {
          done,
          park: (reason, err) =>
            void parking
              .park(this.consumerName, { stream: STREAMS.alerts, seq: m.seq, subject: m.subject, data: m.data }, reason, err)
              .then(done, fail),
        });
      }
    } finally {
      lost.removeEventListener('abort', stop);
      stop();
      await snapshots?.stop(failure === null && lost.aborted);
      // Appends in flight still complete (and ack their messages); nothing new is decided.
      await live.stop();
      acks.flush();
      closed = true;
      this.answeredThrough = Math.max(this.answeredThrough, answeredThrough());
    }
    if (failure !== null) throw new Error('an escalation decision failed', { cause: failure });
    if (!lost.aborted) throw new Error('the alert consumer stopped');
  }

  private onMessage(m: JsMsg, live: Escalations, answer: { done: () => void; park: (reason: ParkReason, err: unknown) => void }): void {
    let event: AlertEvent;
    try {
      const decoded = decodeEvent(m.data, { trusted: true });
      if (!ALERT_LIFECYCLE_EVENTS.has(decoded.type)) {
        answer.done();
        return;
      }
      event = asAlertEvent(decoded);
    } catch (err) {
      answer.park('undecodable', err);
      return;
    }
    live.alertEvent(event, m.seq, { remaining: 0, done: answer.done, failed: (err) => answer.park('undecidable', err) }, traceOf(m));
  }

  /** Decides a parked alert event of this partition again (an `oncall parked retry` request). */
  private async retry(msg: Parkable): Promise<void> {
    if (msg.stream !== STREAMS.alerts || partitionOfSubject(msg.subject) !== this.partition)
      throw new Error(`${msg.stream} ${msg.seq} is not an alert event of partition ${this.partition}`);
    const decoded = decodeEvent(msg.data, { trusted: true });
    if (!ALERT_LIFECYCLE_EVENTS.has(decoded.type)) throw new Error(`${decoded.type} is not an alert lifecycle event`);
    const event = asAlertEvent(decoded);
    const live = this.live;
    if (!live) throw new Error(`partition ${this.partition} is not running here yet; retry later`);
    const jsm = await jetstreamManager(this.deps.nc);
    const last = await jsm.streams.getMessage(STREAMS.alerts, { last_by_subj: msg.subject });
    await live.retry(event, msg.seq, last?.seq === msg.seq);
  }
}

/** An alert event as the rules need it, or an error naming what is missing. */
function asAlertEvent(event: { type: string; data: unknown }): AlertEvent {
  const data = event.data as { alertId?: unknown } | null;
  if (typeof data?.alertId !== 'string') throw new Error(`${event.type} carries no alertId`);
  return event as AlertEvent;
}
