import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { Counter, Gauge } from 'prom-client';
import {
  buildEvent,
  CONSUMERS,
  decodeEvent,
  encodeEvent,
  stableUuid,
  STREAMS,
  subjects,
  type AlertEvent,
  type EventData,
} from '@oncall/contracts';
import {
  consumeOptions,
  hopFromMessage,
  InOrderAcks,
  registry,
  StreamAppender,
  superviseLoop,
  type Logger,
  type Parking,
  type SnapshotStore,
  type TraceHeaders,
} from '@oncall/shared';
import { alertKey, decide, evolve, isRecorded, type AlertCommand, type DecidedEvent, type OpenAlert } from '../domain/alert.js';
import {
  createSessionConsumer,
  deciderConsumers,
  recoverState,
  SNAPSHOT_FORMAT,
  snapshotName,
  type Entry,
  type SnapshotBody,
} from './decider-recovery.js';

const inputsTotal = new Counter({ name: 'oncall_decider_inputs_total', help: 'Intake messages decided', registers: [registry] });
const eventsTotal = new Counter({
  name: 'oncall_decider_events_total',
  help: 'Lifecycle events appended by the decider',
  labelNames: ['type'],
  registers: [registry],
});
const openAlerts = new Gauge({
  name: 'oncall_decider_open_alerts',
  help: 'Open alerts held in memory',
  labelNames: ['partition'],
  registers: [registry],
});
const recoveries = new Counter({
  name: 'oncall_decider_recoveries_total',
  help: 'Partition restarts after a failure',
  registers: [registry],
});

/** The last append in flight of a fingerprint: its subject (the alert) and its stored sequence. */
type Chained = { subject: string; seq: Promise<number> };

/** How consuming ended: stopped, the consumer failed (state exact), or an append failed. */
type ConsumeEnd = 'stopped' | 'consumer-failed' | 'append-failed';

/** Messages pulled ahead (at most twice that unacked); decisions are made as they arrive. */
const PULL_BATCH = 500;
/** At most this many decided messages between two acks during a burst. */
const ACK_EVERY = 100;
/** An append unanswered this long fails, and the partition recovers. */
const APPEND_TIMEOUT_MS = 5000;
/** A partition quiet this long after appending takes a snapshot. */
const IDLE_SNAPSHOT_MS = 5000;

export type SnapshotPolicy = Readonly<{ everyEvents: number; everyMs: number }>;
/**
 * A snapshot once this many events were appended since the last (or as many as alerts are open,
 * if more: a snapshot costs about that much), or this long passed with any appended.
 */
export const DEFAULT_SNAPSHOTS: SnapshotPolicy = { everyEvents: 20_000, everyMs: 5 * 60_000 };

export type PartitionDeciderDeps = Readonly<{
  nc: NatsConnection;
  partition: number;
  log: Logger;
  parking: Parking;
  snapshots: SnapshotStore;
  /** Whether this process still holds the partition's lease (checked before taking the intake over). */
  stillOwner: () => Promise<boolean>;
  snapshotPolicy?: SnapshotPolicy;
}>;

/**
 * The single writer of one partition, while this process holds its lease. It holds every open
 * alert of the partition in memory and turns intake messages into lifecycle events.
 *
 * Decisions are a function of the log: `now` is the intake message's JetStream timestamp and
 * event ids derive from the intake event id, so deciding a message twice from the same state
 * gives identical events — which is also what fences a second writer: a decider that lost its
 * lease (paused, partitioned) and wakes up decides the events its successor decided, and its
 * appends, expecting each alert subject's last sequence, are refused.
 *
 * Recovery (at start, and after any failed append) is exact, not window-based: the floor F (the
 * highest of the partition's intake consumers' ack floors, this session's own count, and the
 * latest snapshot's) marks what was fully decided. The state is the snapshot plus the events
 * after it caused by intake messages ≤ F; events caused by later messages are remembered by id
 * only. A new consumer delivers from F+1 in order, and re-deciding those messages reproduces the
 * remembered events, which are then not appended again. A message that cannot be decided is
 * parked, and counts as decided.
 */
export class PartitionDecider {
  readonly partition: number;
  private readonly js: JetStreamClient;
  private readonly appender: StreamAppender;
  private readonly log: Logger;
  private readonly policy: SnapshotPolicy;
  private open = new Map<string, Entry>();
  private stored = new Map<string, { seq: number; event: AlertEvent }>();
  /** Every intake message up to here is decided and its events stored. */
  private doneThrough = 0;
  /** Highest intake sequence decided since the last restart. */
  private decidedThrough = 0;
  /** Highest ALERTS sequence of this partition known (read at recovery or appended since). */
  private lastAlertSeq = 0;
  private consumerName = '';
  private messages: ConsumerMessages | undefined;
  private snapshotAt = { intake: 0, ms: Date.now() };
  /** Events appended since the last snapshot. */
  private sinceSnapshot = 0;
  private snapshotting: Promise<void> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly openGauge: Gauge.Internal<'partition'>;
  private readonly spanAttributes: Readonly<Record<string, string | number>>;

  constructor(private readonly deps: PartitionDeciderDeps) {
    this.partition = deps.partition;
    this.js = jetstream(deps.nc);
    this.appender = new StreamAppender(deps.nc, APPEND_TIMEOUT_MS);
    this.log = deps.log.child({ partition: deps.partition });
    this.policy = deps.snapshotPolicy ?? DEFAULT_SNAPSHOTS;
    this.openGauge = openAlerts.labels({ partition: String(deps.partition) });
    this.spanAttributes = { 'oncall.service': 'decider', 'oncall.partition': deps.partition };
  }

  /** Runs until `stop` aborts (the lease was lost, or shutdown); a clean stop ends with a snapshot. */
  async run(stop: AbortSignal): Promise<void> {
    const closeMessages = () => void this.messages?.close().catch(() => undefined);
    stop.addEventListener('abort', closeMessages, { once: true });
    let clean = false;
    try {
      await superviseLoop({ name: `decider-p${this.partition}`, log: this.log, stop }, async (attempt) => {
        if (attempt > 0) recoveries.inc();
        if (!(await this.deps.stillOwner())) throw new Error('this process does not hold the partition lease');
        await this.restart();
        for (;;) {
          if (stop.aborted) return;
          const consumer = await this.js.consumers.get(STREAMS.intake, this.consumerName);
          this.messages = await consumer.consume(consumeOptions(PULL_BATCH));
          const end = await this.decideAll(this.messages);
          clean = end === 'stopped';
          if (stop.aborted) return;
          if (end === 'append-failed') throw new Error('an append failed; the partition recovers from the log');
          // The consumer went away (deleted, its stream re-created, a successor took over): the
          // state is exact as of the last decided message, so only a new consumer is needed, if
          // the lease is still ours.
          if (!(await this.deps.stillOwner())) throw new Error('this process no longer holds the partition lease');
          await this.newConsumer(this.decidedThrough);
        }
      });
    } finally {
      clearTimeout(this.idleTimer);
      stop.removeEventListener('abort', closeMessages);
      await this.snapshotting;
      await this.appender.close();
    }
    if (clean) await this.snapshot('stop').catch((err: unknown) => this.log.warn({ err }, 'no snapshot at stop'));
  }

  /** Number of open alerts held; for tests and metrics. */
  openCount(): number {
    return this.open.size;
  }

  /** Decides messages in order until stopped or failed; an append that failed means the partition must recover. */
  private async decideAll(messages: AsyncIterable<JsMsg>): Promise<ConsumeEnd> {
    const chains = new Map<string, Chained>();
    const acks = new InOrderAcks(ACK_EVERY, true);
    let failed = false;
    let consumerFailed = false;
    const inFlight = new Set<Promise<unknown>>();
    let wakeReader: (() => void) | undefined;
    try {
      for await (const m of messages) {
        if (failed) break;
        // A redelivery (it can come behind newer messages) of a message already decided in this
        // session: its original delivery is acked in order once its events are stored.
        if (m.seq <= this.decidedThrough) continue;
        this.decidedThrough = m.seq;
        const tracked = acks.track(m);
        // One span per intake message (a request's signals of this partition), a child of the
        // webhook's; every event it appends carries it. Off: a constant, nothing read.
        const hop = hopFromMessage('decide', m, this.spanAttributes);
        const done = Promise.all(this.decideOrPark(m, chains, hop.headers)).then(
          () => {
            hop.end();
            if (failed) return;
            acks.done(tracked);
            this.doneThrough = acks.doneThrough;
            if (acks.waiting === 0) this.snapshotIfDue();
          },
          (err: unknown) => {
            hop.fail(err);
            if (!failed) this.log.warn({ err, seq: m.seq }, 'append failed; recovering the partition from the log');
            failed = true;
            // Ends the iteration now, not at the next message (there may be none for a while).
            void this.messages?.close().catch(() => undefined);
          },
        );
        inFlight.add(done);
        void done.finally(() => {
          inFlight.delete(done);
          if (failed || acks.waiting < PULL_BATCH / 2) wakeReader?.();
        });
        inputsTotal.inc();
        // Backpressure: a backlog arrives faster than appends complete.
        if (acks.waiting >= PULL_BATCH) {
          await new Promise<void>((resolve) => (wakeReader = resolve));
          wakeReader = undefined;
        }
      }
    } catch (err) {
      if (!failed) this.log.warn({ err }, 'intake consumer failed; resuming after the last decided message');
      consumerFailed = true;
    }
    // Appends still in flight land (or time out) before anything else reads the state.
    await Promise.all(inFlight);
    if (failed) return 'append-failed';
    return consumerFailed ? 'consumer-failed' : 'stopped';
  }

  /** The appends of one message's decisions; a message that cannot be decided is parked instead. */
  private decideOrPark(m: JsMsg, chains: Map<string, Chained>, trace: TraceHeaders | undefined): Array<Promise<unknown>> {
    try {
      return this.decideMessage(m, chains, trace);
    } catch (err) {
      const reason = err instanceof Error && err.name === 'EventDecodeError' ? 'undecodable' : 'undecidable';
      const msg = { stream: STREAMS.intake, seq: m.seq, subject: m.subject, data: m.data };
      return [this.deps.parking.park(CONSUMERS.decider(this.partition), msg, reason, err)];
    }
  }

  /**
   * Decides every signal (or the command) of one intake message, updates the state and starts the
   * appends. Every signal is decided before anything is applied or appended, so a signal that
   * cannot be decided parks the whole message, not half of it.
   */
  private decideMessage(m: JsMsg, chains: Map<string, Chained>, trace: TraceHeaders | undefined): Promise<number>[] {
    const input = decodeEvent(m.data, { trusted: true });
    const occurredAt = new Date(m.info.timestampNanos / 1e6).toISOString();
    const decisions: Array<[DecidedEvent[], number]> = [];
    if (input.type === 'AlertCommandReceived') {
      const { serviceId, fingerprint } = input.data;
      const state = this.open.get(alertKey(serviceId, fingerprint))?.alert;
      decisions.push([decide(commandOf(input.data), state, { now: occurredAt, newAlertId: () => input.id }), 0]);
    } else if (input.type === 'SignalsReceived') {
      const scratch = new Map<string, OpenAlert | undefined>();
      const stateOf = (key: string) => (scratch.has(key) ? scratch.get(key) : this.open.get(key)?.alert);
      input.data.signals.forEach((signal, index) => {
        const key = alertKey(input.data.serviceId, signal.fingerprint);
        const decided = decide(
          { type: 'ReportSignal', data: { serviceId: input.data.serviceId, source: input.data.source, signal } },
          stateOf(key),
          { now: occurredAt, newAlertId: () => stableUuid(`alert:${input.id}:${index}`) },
        );
        for (const d of decided) scratch.set(key, evolve(stateOf(key), d));
        decisions.push([decided, index]);
      });
    } else {
      throw new Error(`the decider cannot handle ${input.type}`);
    }
    const appends: Promise<number>[] = [];
    for (const [decided, index] of decisions) {
      for (const d of decided) {
        if (!isRecorded(d)) {
          this.apply(d);
          continue;
        }
        const event = buildEvent(d.type, d.data as never, {
          id: stableUuid(`${input.id}:${index}:${d.type}`),
          occurredAt,
          causationId: input.id,
          causationSeq: m.seq,
          correlationId: input.correlationId,
        }) as AlertEvent;
        appends.push(this.append(event, chains, trace));
        // Re-deciding after a restart can differ from what is stored in counts kept only in
        // memory (unrecorded repeats); the log wins.
        this.apply(this.stored.get(event.id)?.event ?? d);
      }
    }
    return appends;
  }

  /**
   * Appends after the previous event of the same fingerprint, expecting the alert subject's last
   * sequence. Events of a fingerprint in flight together form a chain — also across its alerts:
   * a new alert's AlertTriggered is stored after the previous alert's AlertResolved, so the log
   * (and the read model, which allows one open alert per fingerprint) never sees two open. A chain
   * ends when its last append is stored (the alert's lastSeq then carries on), so the map holds
   * only fingerprints with appends in flight. Different fingerprints' appends are in flight together.
   */
  private append(event: AlertEvent, chains: Map<string, Chained>, trace: TraceHeaders | undefined): Promise<number> {
    const subject = subjects.alert(this.partition, event.data.alertId);
    const key = alertKey(event.data.serviceId, event.data.fingerprint);
    const stored = this.stored.get(event.id)?.seq;
    /** `lastSubjectSequence` null: expecting nothing (an answer on a closed alert's subject). */
    const write = async (lastSubjectSequence: number | null): Promise<number> => {
      if (stored !== undefined) return stored;
      // No msgID: recovery already knows every stored event by its id, and a 10-minute duplicate
      // window over a storm would hold millions of ids in the server (measured: +25% decisions/s
      // without it). The expected sequence stops a second writer.
      const opts =
        lastSubjectSequence === null
          ? { trace }
          : trace
            ? { expectLastSubjectSequence: lastSubjectSequence, trace }
            : { expectLastSubjectSequence: lastSubjectSequence };
      const { seq } = await this.appender.append(subject, encodeEvent(event), opts);
      eventsTotal.inc({ type: event.type });
      this.sinceSnapshot++;
      if (seq > this.lastAlertSeq) this.lastAlertSeq = seq;
      return seq;
    };
    const previous = chains.get(key);
    const entry = this.open.get(key);
    if (event.type === 'AlertCommandDeclined' && entry?.alert.alertId !== event.data.alertId) {
      // The answer to a command for an alert that is closed goes on that alert's subject, after
      // whatever of the fingerprint is in flight (its resolve), expecting nothing: nothing follows
      // it there, and it changes no state a later append would depend on.
      const after = previous ? previous.seq.catch(() => 0) : Promise.resolve(0);
      return after.then(() => write(null));
    }
    const known = entry?.alert.alertId === event.data.alertId ? entry.lastSeq : 0;
    const seq = previous ? previous.seq.then((s) => write(previous.subject === subject ? s : known)) : write(known);
    const link: Chained = { subject, seq };
    chains.set(key, link);
    return seq.then((s) => {
      const current = this.open.get(key);
      if (current && current.alert.alertId === event.data.alertId) current.lastSeq = Math.max(current.lastSeq, s);
      if (chains.get(key) === link) chains.delete(key);
      return s;
    });
  }

  private apply(event: DecidedEvent, seq?: number): void {
    applyTo(this.open, event, seq);
    this.openGauge.set(this.open.size);
  }

  /**
   * With nothing in flight: a snapshot, when one is due; and, once the partition has been quiet for
   * IDLE_SNAPSHOT_MS after appending (a storm ended), one then, so a crash restarts from after it.
   */
  private snapshotIfDue(): void {
    clearTimeout(this.idleTimer);
    if (this.sinceSnapshot > 0) {
      const through = this.doneThrough;
      this.idleTimer = setTimeout(() => {
        // Nothing decided since (decidedThrough moves as a message is taken, before its appends): the state is exact.
        if (this.decidedThrough === through && this.doneThrough === through && !this.snapshotting) this.snapshotNow('idle');
      }, IDLE_SNAPSHOT_MS);
      this.idleTimer.unref();
    }
    if (this.snapshotting || this.sinceSnapshot === 0 || this.doneThrough <= this.snapshotAt.intake) return;
    const dueByCount = this.sinceSnapshot >= Math.max(this.policy.everyEvents, this.open.size);
    if (!dueByCount && Date.now() - this.snapshotAt.ms < this.policy.everyMs) return;
    this.snapshotNow('due');
  }

  private snapshotNow(why: 'due' | 'idle'): void {
    this.snapshotting = this.snapshot(why)
      .catch((err: unknown) => this.log.warn({ err }, 'snapshot failed; the next one is tried later'))
      .finally(() => (this.snapshotting = undefined));
  }

  /**
   * Saves the open alerts with the positions they are exact at: every intake message up to
   * `doneThrough` decided and stored, every ALERTS event of the partition up to `lastAlertSeq`
   * folded. Called only when nothing is in flight; the body is captured before anything awaits.
   */
  private async snapshot(why: 'due' | 'idle' | 'stop'): Promise<void> {
    if (this.doneThrough === 0 || this.doneThrough === this.snapshotAt.intake) return;
    const covers = { intake: this.doneThrough, alerts: this.lastAlertSeq };
    const body: SnapshotBody = { open: [...this.open.values()].map((e) => [e.alert, e.lastSeq]) };
    this.snapshotAt = { intake: this.doneThrough, ms: Date.now() };
    this.sinceSnapshot = 0;
    const meta = { format: SNAPSHOT_FORMAT, takenAt: new Date().toISOString(), covers };
    // A replica that lost its lease unnoticed (paused past its TTL) must not save a state that misses its successor's writes.
    if (!(await this.deps.stillOwner())) return;
    const bytes = await this.deps.snapshots.save(snapshotName(this.partition), meta, body);
    this.log.info({ why, covers, open: body.open.length, bytes }, 'snapshot saved');
  }

  /**
   * Finds the floor, rebuilds the state as of it (latest snapshot + the log after it) and
   * replaces the partition's intake consumers by one of this session delivering from floor + 1.
   */
  private async restart(): Promise<void> {
    const started = Date.now();
    await this.appender.drain();
    const jsm = await jetstreamManager(this.deps.nc);
    const consumers = await deciderConsumers(jsm, this.partition);
    const snap = await this.deps.snapshots.load<SnapshotBody>(snapshotName(this.partition), SNAPSHOT_FORMAT);
    // Each is a point up to which every intake message was decided and stored; the highest wins.
    const floor = Math.max(this.doneThrough, snap?.meta.covers.intake ?? 0, ...consumers.map((c) => c.floor));
    for (const c of consumers) await jsm.consumers.delete(STREAMS.intake, c.name).catch(() => undefined);
    this.consumerName = '';
    const recovered = await recoverState(this.deps.nc, this.js, snap, this.partition, floor, (open, event, seq) =>
      applyTo(open, event, seq),
    );
    this.open = recovered.open;
    this.stored = recovered.stored;
    this.lastAlertSeq = Math.max(recovered.lastAlertSeq, snap?.meta.covers.alerts ?? 0);
    this.openGauge.set(this.open.size);
    this.doneThrough = floor;
    this.snapshotAt = { intake: recovered.fromSnapshot ? (snap?.meta.covers.intake ?? 0) : 0, ms: Date.now() };
    // What was folded beyond the snapshot counts toward the next one.
    this.sinceSnapshot = recovered.eventsRead;
    await this.newConsumer(floor);
    this.log.info(
      {
        open: this.open.size,
        floor,
        aboveFloor: this.stored.size,
        fromSnapshot: recovered.fromSnapshot,
        eventsRead: recovered.eventsRead,
        ms: Date.now() - started,
      },
      'partition state recovered',
    );
  }

  /** Replaces this session's consumer by a new one delivering from `floor` + 1. */
  private async newConsumer(floor: number): Promise<void> {
    const jsm = await jetstreamManager(this.deps.nc);
    if (this.consumerName) await jsm.consumers.delete(STREAMS.intake, this.consumerName).catch(() => undefined);
    this.consumerName = await createSessionConsumer(jsm, this.partition, floor, PULL_BATCH * 2);
    this.decidedThrough = floor;
  }
}

/** Folds one decided or stored event into a partition's open alerts; `seq` is its ALERTS sequence when stored. */
function applyTo(open: Map<string, Entry>, event: DecidedEvent, seq?: number): void {
  const key = alertKey(event.data.serviceId, event.data.fingerprint);
  const entry = open.get(key);
  // The answer to a command for a closed alert is on that alert's subject: not the open one's.
  if (event.type === 'AlertCommandDeclined' && entry?.alert.alertId !== event.data.alertId) return;
  const next = evolve(entry?.alert, event);
  if (!next) open.delete(key);
  else open.set(key, { alert: next, lastSeq: seq ?? (entry?.alert.alertId === next.alertId ? entry.lastSeq : 0) });
}

/** The decider command an intake AlertCommandReceived stands for. */
function commandOf(d: EventData<'AlertCommandReceived'>): AlertCommand {
  const target = { alertId: d.alertId, serviceId: d.serviceId, fingerprint: d.fingerprint, userId: d.userId, ...(d.via && { via: d.via }) };
  switch (d.command) {
    case 'acknowledge':
      return { type: 'AcknowledgeAlert', data: { ...target, note: d.note } };
    case 'resolve':
      return { type: 'ResolveAlert', data: { ...target, note: d.note } };
    case 'snooze':
      // A snooze without an end is declined as invalid.
      return { type: 'SnoozeAlert', data: { ...target, note: d.note, until: d.until ?? '' } };
    case 'escalate':
      return { type: 'EscalateAlert', data: { ...target, note: d.note } };
    case 'unacknowledge':
      return { type: 'UnacknowledgeAlert', data: { ...target, reason: d.reason } };
    default: {
      const _never: never = d.command;
      return _never;
    }
  }
}
