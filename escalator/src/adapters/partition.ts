import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Counter, Gauge, Histogram } from 'prom-client';
import {
  buildEvent,
  CONSUMERS,
  decodeEvent,
  durableConsumer,
  encodeEvent,
  stableUuid,
  STREAMS,
  subjects,
  type AlertEvent,
  type EscalationEvent,
  type EventData,
} from '@oncall/contracts';
import { registry, type AppendFailed, type Clock, type DirectoryUser, type Logger, type UserDirectory } from '@oncall/shared';
import {
  answered,
  decideAndEvolve,
  dueAt,
  evolve,
  foldAlert,
  isSettled,
  UsersNeeded,
  type Decision,
  type Escalation,
  type EscalationContext,
  type EscalationInput,
} from '../domain/escalation.js';
import { ChainAppender, type AppendListener } from './appender.js';
import { readExisting } from './read-subjects.js';
import { TimerQueue } from './timers.js';

/** Partitions running in this process, for the gauges (read at scrape time, not per decision). */
const running = new Set<EscalatorPartition>();

const decisionsTotal = new Counter({
  name: 'oncall_escalator_events_total',
  help: 'Escalation events appended',
  labelNames: ['type'],
  registers: [registry],
});
new Gauge({
  name: 'oncall_escalator_open_escalations',
  help: 'Escalations held in memory',
  labelNames: ['partition'],
  registers: [registry],
  collect() {
    this.reset();
    for (const p of running) this.set({ partition: String(p.partition) }, p.size());
  },
});
new Gauge({
  name: 'oncall_escalator_timers',
  help: 'Escalations waiting for a timer',
  labelNames: ['partition'],
  registers: [registry],
  collect() {
    this.reset();
    for (const p of running) this.set({ partition: String(p.partition) }, p.timerCount());
  },
});
const fireLag = new Histogram({
  name: 'oncall_escalator_timer_lag_seconds',
  help: 'How late timers fired',
  buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
  registers: [registry],
});

const countersByType = new Map<string, { inc: () => void }>();
function countAppended(type: string): void {
  let counter = countersByType.get(type);
  if (!counter) countersByType.set(type, (counter = decisionsTotal.labels({ type })));
  counter.inc();
}

const ALERT_EVENTS = new Set([
  'AlertTriggered',
  'AlertUpdated',
  'AlertRepeated',
  'AlertAcknowledged',
  'AlertResolved',
  'AlertSnoozed',
  'AlertEscalated',
  'AlertUnacknowledged',
]);
const CONSUME_BATCH = 500;
/** Alert messages of a partition decided but not yet acked (their appends in flight); the server holds back the rest. */
const MAX_ACK_PENDING = 1000;
/** Timers wait while this many alerts of the partition have appends in flight, and resume at half. */
const MAX_APPENDING = 2000;
/** Timer decisions per turn of the event loop, so stored decisions are acked in between. */
const TICKS_PER_TURN = 64;
const USER_CACHE_MS = 30_000;
const USER_RETRY_MS = 1000;
const TICK: EscalationInput = { type: 'Tick' };

/** Everything a decision needs from the outside except users: routing, policies, on-call. */
export type ContextFactory = (now: number) => Omit<EscalationContext, 'user'>;

export type PartitionDeps = Readonly<{
  nc: NatsConnection;
  partition: number;
  clock: Clock;
  context: ContextFactory;
  users: UserDirectory;
  log: Logger;
}>;

type Meta = { causationId: string | null; causationSeq?: number; correlationId: string };

/** An alert message delivered to this partition, acked once its decisions (`remaining` of them) are stored. */
type Delivered = { m: JsMsg; remaining: number; stored: boolean };

/** An input to decide, in arrival order. */
type Pending = { alertId: string; input: EscalationInput; meta: Meta; delivered: Delivered | undefined };

/** One append in flight: what to do once it is stored. */
type Appending = {
  alertId: string;
  type: EscalationEvent['type'];
  delivered: Delivered | undefined;
  reopen: { data: EventData<'AlertReopenRequested'>; state: Escalation; id: string } | null;
};

/**
 * The escalator of one alert partition (one owner at a time, under a lease). It holds every
 * unsettled escalation in memory, rebuilt from the log at start: the partition's alert events
 * and its own decisions. Alert events arrive through a durable consumer; due times through one
 * timer over a min-heap.
 *
 * Decisions are synchronous and made one at a time in arrival order (a decision that needs a
 * user from the directory holds the ones after it until the user is loaded). Their appends are
 * not awaited before the next decision: each alert's events form a chain, every append
 * expecting the subject sequence the previous one got, while different alerts' chains are in
 * flight together (`ChainAppender`). A message is acked after its decisions are stored, in
 * delivery order, so the consumer's ack floor is a point up to which every alert event is
 * answered in the log.
 */
export class EscalatorPartition {
  readonly partition: number;
  private readonly js: JetStreamClient;
  private states = new Map<string, Escalation>();
  private lastSeq = new Map<string, number>();
  private appender: ChainAppender<Appending> | null = null;
  private timers = new TimerQueue();
  private cancelTimer: (() => void) | null = null;
  private armedAt: number | null = null;
  private firing = false;
  private resumeFiring = false;
  /** Inputs waiting behind one that waits for the user directory; they run from `queueHead` on. */
  private queue: Pending[] = [];
  private queueHead = 0;
  private loadingUsers = false;
  private users = new Map<string, DirectoryUser | null>();
  private usersLoadedAt = 0;
  private context: { base: Omit<EscalationContext, 'user'>; full: EscalationContext } | null = null;
  /** Alert events up to this sequence were read at rebuild: an alert without state there is settled... */
  private rebuiltThrough = 0;
  /** ...unless it is one of these: open alerts the log holds no decision for, decided again from their first event. */
  private undecided = new Set<string>();
  private delivered: Delivered[] = [];
  private ackHead = 0;
  /** Bumped by every rebuild and at the end: callbacks of earlier work must not touch what follows. */
  private generation = 0;
  private failure: unknown = null;
  private stopConsuming: (() => void) | null = null;
  private readonly log: Logger;
  private readonly user = (id: string) => this.users.get(id);
  private readonly listener: AppendListener<Appending> = {
    lastSeq: (alertId) => this.lastSeq.get(alertId) ?? 0,
    stored: (a, seq) => this.onStored(a, seq),
    failed: (err: AppendFailed) => this.fail(err),
  };

  constructor(private readonly deps: PartitionDeps) {
    this.partition = deps.partition;
    this.js = jetstream(deps.nc);
    this.log = deps.log.child({ partition: deps.partition });
  }

  /** Runs until `lost` aborts (lease lost or shutdown). */
  async run(lost: AbortSignal): Promise<void> {
    running.add(this);
    try {
      while (!lost.aborted) {
        try {
          await this.rebuild();
          await this.consume(lost);
        } catch (err) {
          if (lost.aborted) break;
          this.log.error({ err }, 'escalator partition failed; rebuilding it');
          await sleep(1000);
        }
      }
      this.halt();
      // Appends in flight still complete (and ack their messages); nothing new is decided.
      await this.appender?.stop();
    } finally {
      running.delete(this);
    }
  }

  size(): number {
    return this.states.size;
  }

  timerCount(): number {
    return this.timers.size;
  }

  private async consume(lost: AbortSignal): Promise<void> {
    const consumer = await this.js.consumers.get(STREAMS.alerts, CONSUMERS.escalator(this.partition));
    const messages = await consumer.consume({ max_messages: CONSUME_BATCH });
    const stop = () => void messages.close().catch(() => undefined);
    lost.addEventListener('abort', stop, { once: true });
    this.stopConsuming = stop;
    try {
      for await (const m of messages) {
        if (this.failure !== null || lost.aborted) break;
        this.onAlertMessage(m);
      }
    } finally {
      lost.removeEventListener('abort', stop);
      this.stopConsuming = null;
      stop();
    }
    if (this.failure !== null) throw new Error('an append failed', { cause: this.failure });
    if (!lost.aborted) throw new Error('the alert consumer stopped');
  }

  private onAlertMessage(m: JsMsg): void {
    const delivered: Delivered = { m, remaining: 0, stored: false };
    this.delivered.push(delivered);
    const event = decodeEvent(m.data, { trusted: true });
    if (!ALERT_EVENTS.has(event.type)) {
      this.stored(delivered);
      return;
    }
    const alert = event as AlertEvent;
    const alertId = alert.data.alertId;
    if (m.seq <= this.rebuiltThrough && !this.states.has(alertId) && !this.undecided.has(alertId)) {
      this.stored(delivered);
      return;
    }
    this.submit({
      alertId,
      input: { type: 'AlertEvent', event: alert, seq: m.seq },
      meta: { causationId: alert.id, causationSeq: m.seq, correlationId: alert.correlationId },
      delivered,
    });
  }

  /** Marks a message's decisions stored and acks every message up to the first one still waiting (one ack). */
  private stored(d: Delivered): void {
    d.stored = true;
    if (this.failure !== null) return;
    const list = this.delivered;
    // The consumer acks all: acking the last message of the stored run covers the ones before it.
    let last: JsMsg | undefined;
    while (this.ackHead < list.length && list[this.ackHead]!.stored) last = list[this.ackHead++]!.m;
    last?.ack();
    if (this.ackHead >= 1024 && this.ackHead * 2 >= list.length) {
      list.splice(0, this.ackHead);
      this.ackHead = 0;
    }
  }

  /** Decides now, or after the inputs already waiting behind a user lookup: decisions never interleave or overtake. */
  private submit(p: Pending): void {
    if (this.loadingUsers || this.queueHead < this.queue.length) this.queue.push(p);
    else this.run1(p);
  }

  private run1(p: Pending): void {
    if (this.failure !== null) return;
    let needed: UsersNeeded | undefined;
    try {
      needed = this.decideAndAppend(p);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (!needed) return;
    // Back to the front: nothing decided after it may overtake it.
    if (this.queueHead > 0) this.queue[--this.queueHead] = p;
    else this.queue.unshift(p);
    this.loadUsers(needed.userIds);
  }

  private drainQueue(): void {
    while (!this.loadingUsers && this.queueHead < this.queue.length) this.run1(this.queue[this.queueHead++]!);
    if (this.queueHead >= this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    }
  }

  /** Loads users the next decision needs; decisions wait (and the lookup is retried) until it answers. */
  private loadUsers(ids: readonly string[]): void {
    this.loadingUsers = true;
    const generation = this.generation;
    const attempt = (): void => {
      this.deps.users.getUsers(ids).then(
        (found) => {
          if (generation !== this.generation) return;
          for (const id of ids) this.users.set(id, found.users.get(id) ?? null);
          this.loadingUsers = false;
          this.drainQueue();
        },
        (err: unknown) => {
          if (generation !== this.generation) return;
          this.log.warn({ err, users: ids }, 'user directory lookup failed; decisions wait and it is retried');
          setTimeout(attempt, USER_RETRY_MS).unref();
        },
      );
    };
    attempt();
  }

  private contextAt(now: number): EscalationContext {
    if (now - this.usersLoadedAt > USER_CACHE_MS) {
      this.users = new Map();
      this.usersLoadedAt = now;
    }
    const base = this.deps.context(now);
    if (this.context?.base !== base) this.context = { base, full: { ...base, user: this.user } };
    return this.context.full;
  }

  /**
   * Decides an input for one alert, updates the state at once and starts the appends; the
   * message it came with (if any) counts as stored once they are. Returns the users to load
   * before deciding again, if the decision needs any.
   */
  private decideAndAppend({ alertId, input, meta, delivered }: Pending): UsersNeeded | undefined {
    const before = this.states.get(alertId);
    if (input.type === 'Tick' && !before) return undefined;
    const now = this.deps.clock.now();
    let decided: { decisions: Decision[]; state: Escalation | undefined };
    try {
      decided = decideAndEvolve(before, input, this.contextAt(now));
    } catch (err) {
      if (err instanceof UsersNeeded) return err;
      throw err;
    }
    const { decisions } = decided;
    let state = decided.state;
    if (input.type === 'Tick') {
      const due = before ? dueAt(before) : null;
      if (due !== null && due <= now) fireLag.observe((now - due) / 1000);
    }
    if (delivered) delivered.remaining = decisions.length;
    if (decisions.length > 0) {
      const occurredAt = new Date(now).toISOString();
      const subject = subjects.escalation(this.partition, alertId);
      // Event ids follow the alert's count of escalation events (each decision adds one).
      const first = before?.events ?? 0;
      decisions.forEach((d, i) => {
        const event = buildEvent(d.type, d.data as never, {
          id: stableUuid(`escalation:${alertId}:${first + i}`),
          occurredAt,
          ...meta,
        }) as EscalationEvent;
        const reopen = event.type === 'AlertReopenRequested' ? { data: event.data, state: state!, id: event.id } : null;
        this.appender!.append(alertId, subject, encodeEvent(event), event.id, { alertId, type: event.type, delivered, reopen });
      });
    }
    if (state && input.type === 'AlertEvent') state = answered(state, input.seq);
    this.track(alertId, state);
    this.arm();
    if (delivered && decisions.length === 0) this.stored(delivered);
    return undefined;
  }

  private track(alertId: string, state: Escalation | undefined): void {
    if (!state || isSettled(state)) {
      this.states.delete(alertId);
      this.timers.set(alertId, null);
    } else {
      this.states.set(alertId, state);
      this.timers.set(alertId, dueAt(state));
    }
  }

  private onStored(a: Appending, seq: number): void {
    this.lastSeq.set(a.alertId, seq);
    countAppended(a.type);
    if (a.reopen) {
      const { data, state, id } = a.reopen;
      this.requestReopen(data, state, id).then(
        () => this.appendDone(a),
        (err: unknown) => this.fail(err),
      );
    } else {
      this.appendDone(a);
    }
  }

  private appendDone(a: Appending): void {
    if (a.delivered && --a.delivered.remaining === 0) this.stored(a.delivered);
    if (!this.appender) return;
    if (!this.states.has(a.alertId) && !this.appender.pending(a.alertId)) this.lastSeq.delete(a.alertId);
    if (this.resumeFiring && this.appender.size <= MAX_APPENDING / 2) {
      this.resumeFiring = false;
      this.fireDue();
    }
  }

  /** After a failed append nothing more is decided or acked; the partition rebuilds from the log. */
  private fail(err: unknown): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.log.warn({ err }, 'escalator decision failed; rebuilding the partition from the log');
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.armedAt = null;
    this.stopConsuming?.();
  }

  /** Asks the decider to reopen the alert; idempotent (message id, and the decider ignores a triggered alert). */
  private async requestReopen(data: EventData<'AlertReopenRequested'>, state: Escalation, causationId: string): Promise<void> {
    const command = buildEvent(
      'AlertCommandReceived',
      {
        alertId: data.alertId,
        serviceId: data.serviceId,
        fingerprint: state.alert.fingerprint,
        command: 'unacknowledge',
        userId: null,
        note: '',
        until: null,
        reason: data.reason,
      },
      {
        id: stableUuid(`reopen:${causationId}`),
        occurredAt: new Date(this.deps.clock.now()).toISOString(),
        causationId,
        correlationId: data.alertId,
      },
    );
    await this.js.publish(subjects.intake(this.partition), encodeEvent(command), { msgID: command.id });
  }

  private arm(): void {
    if (this.firing || this.failure !== null) return;
    const next = this.timers.peek();
    if (next === this.armedAt) return;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.armedAt = next;
    if (next === null) return;
    const generation = this.generation;
    this.cancelTimer = this.deps.clock.at(next, () => {
      if (generation !== this.generation) return;
      this.armedAt = null;
      this.cancelTimer = null;
      this.firing = true;
      this.fireDue();
    });
  }

  /**
   * Decides a Tick for due alerts, a slice per turn of the event loop; pauses while too many
   * appends are in flight (a backlog of due timers after a restart must not flood the server).
   */
  private fireDue(): void {
    if (this.failure !== null || !this.appender) {
      this.firing = false;
      return;
    }
    if (this.appender.size >= MAX_APPENDING) {
      this.resumeFiring = true;
      return;
    }
    const ids = this.timers.popDue(this.deps.clock.now(), TICKS_PER_TURN);
    for (const alertId of ids)
      this.submit({ alertId, input: TICK, meta: { causationId: null, correlationId: alertId }, delivered: undefined });
    if (ids.length === TICKS_PER_TURN) {
      const generation = this.generation;
      setImmediate(() => {
        if (generation === this.generation) this.fireDue();
      });
      return;
    }
    this.firing = false;
    this.arm();
  }

  /** Stops deciding: timers, queued decisions and callbacks of this generation end here. */
  private halt(): void {
    this.generation++;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.armedAt = null;
    this.firing = false;
    this.resumeFiring = false;
    this.queue = [];
    this.queueHead = 0;
    this.loadingUsers = false;
  }

  /**
   * The partition's escalations as the log has them. The consumer's ack floor F is the point up
   * to which every alert event is answered in the log (messages are acked in order, after their
   * decisions are stored); without a consumer (first start, a new consumer version) it is the end
   * of the log. Alert events up to F are folded, then the escalator's own decisions. The consumer
   * is recreated to deliver from F + 1 in order (a plain redelivery would come behind newer
   * messages): an event whose decisions a crash cut off is decided again, one whose decisions are
   * stored is folded without being answered twice (decisions carry the sequence they answered).
   * An open alert the log holds no decision for (it arrived just before the first start) is
   * decided again from its first event, so delivery starts there if that is earlier; events of
   * other alerts at or below F are skipped or folded again without deciding anything.
   * A Tick's decisions are not tied to a message: an escalation whose last decision came from a
   * Tick gets one more Tick now, which completes what a crash cut short (or decides nothing).
   */
  private async rebuild(): Promise<void> {
    this.halt();
    await this.appender?.stop();
    this.appender = null;
    this.states = new Map();
    this.lastSeq = new Map();
    this.timers = new TimerQueue();
    this.delivered = [];
    this.ackHead = 0;
    this.failure = null;
    const jsm = await jetstreamManager(this.deps.nc);
    const name = CONSUMERS.escalator(this.partition);
    const filter = subjects.alertsOfPartition(this.partition);
    const floor = await ackFloor(jsm, name);
    await jsm.consumers.delete(STREAMS.alerts, name).catch((err: unknown) => {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    });
    const states = this.states;
    const redelivered = new Set<string>();
    const firstSeq = new Map<string, number>();
    const lastRead = await readExisting(this.js, STREAMS.alerts, filter, (event, seq) => {
      if (!ALERT_EVENTS.has(event.type)) return;
      const e = event as AlertEvent;
      const alertId = e.data.alertId;
      if (floor !== null && seq > floor) {
        redelivered.add(alertId);
        return;
      }
      const before = states.get(alertId);
      const next = foldAlert(before, e, seq);
      if (!next) return;
      states.set(alertId, next);
      if (!before) firstSeq.set(alertId, seq);
    });
    const lastByTick = new Set<string>();
    await readExisting(this.js, STREAMS.escalations, subjects.escalationsOfPartition(this.partition), (event, seq) => {
      const e = event as EscalationEvent;
      const next = evolve(states.get(e.data.alertId), { type: e.type, data: e.data } as Decision);
      if (next) states.set(e.data.alertId, answered(next, e.causationSeq));
      this.lastSeq.set(e.data.alertId, seq);
      if (e.causationSeq === undefined) lastByTick.add(e.data.alertId);
      else lastByTick.delete(e.data.alertId);
    });
    this.rebuiltThrough = floor ?? lastRead;
    this.undecided = new Set();
    let start = this.rebuiltThrough + 1;
    for (const [alertId, state] of states) {
      if (state.events > 0 || state.alert.status === 'resolved') continue;
      states.delete(alertId);
      this.undecided.add(alertId);
      start = Math.min(start, firstSeq.get(alertId) ?? start);
    }
    await jsm.consumers.add(STREAMS.alerts, {
      ...durableConsumer(name, filter, MAX_ACK_PENDING, 'all'),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: start,
    });
    this.appender = new ChainAppender(this.deps.nc, this.listener);
    const reopen: Array<[string, Escalation]> = [];
    for (const [alertId, state] of [...states]) {
      this.track(alertId, state);
      if (state.reopenRequested && state.alert.status === 'acknowledged') reopen.push([alertId, state]);
    }
    const now = this.deps.clock.now();
    for (const alertId of lastByTick) if (this.states.has(alertId) && !redelivered.has(alertId)) this.timers.set(alertId, now);
    for (const id of [...this.lastSeq.keys()]) if (!states.has(id)) this.lastSeq.delete(id);
    // A reopen request stored just before a crash may not have reached the decider.
    for (const [alertId, state] of reopen) {
      await this.requestReopen(
        { alertId, serviceId: state.alert.serviceId, reason: state.stopped?.reason === 'snoozed' ? 'snooze-ended' : 'ack-timeout' },
        state,
        `rebuild:${alertId}:${state.events}`,
      );
    }
    this.arm();
    this.log.info(
      {
        escalations: states.size,
        timers: this.timers.size,
        ackFloor: floor,
        alertsRead: lastRead,
        undecided: this.undecided.size,
        deliverFrom: start,
      },
      'escalator partition rebuilt from the log',
    );
  }
}

/** The consumer's ack floor, or null when the consumer does not exist. */
async function ackFloor(jsm: JetStreamManager, name: string): Promise<number | null> {
  try {
    return (await jsm.consumers.info(STREAMS.alerts, name)).ack_floor.stream_seq;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return null;
    throw err;
  }
}
