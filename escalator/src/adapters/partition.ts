import { setTimeout as sleep } from 'node:timers/promises';
import {
  JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, type JetStreamClient, type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Counter, Gauge, Histogram } from 'prom-client';
import {
  buildEvent, CONSUMERS, decodeEvent, durableConsumer, encodeEvent, stableUuid, STREAMS, subjects,
  type AlertEvent, type EscalationEvent, type EventData,
} from '@oncall/contracts';
import { registry, type Clock, type DirectoryUser, type Logger, type UserDirectory } from '@oncall/shared';
import {
  answered, decide, dueAt, evolve, foldAlert, isSettled, UsersNeeded,
  type Decision, type Escalation, type EscalationContext, type EscalationInput,
} from '../domain/escalation.js';
import { readExisting } from './read-subjects.js';
import { TimerQueue } from './timers.js';

const decisionsTotal = new Counter({ name: 'oncall_escalator_events_total', help: 'Escalation events appended', labelNames: ['type'], registers: [registry] });
const openEscalations = new Gauge({ name: 'oncall_escalator_open_escalations', help: 'Escalations held in memory', labelNames: ['partition'], registers: [registry] });
const pendingTimers = new Gauge({ name: 'oncall_escalator_timers', help: 'Escalations waiting for a timer', labelNames: ['partition'], registers: [registry] });
const fireLag = new Histogram({
  name: 'oncall_escalator_timer_lag_seconds',
  help: 'How late timers fired',
  buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
  registers: [registry],
});

const ALERT_EVENTS = new Set(['AlertTriggered', 'AlertUpdated', 'AlertRepeated', 'AlertAcknowledged', 'AlertResolved', 'AlertSnoozed', 'AlertEscalated', 'AlertUnacknowledged']);
const FETCH_BATCH = 200;
const FETCH_EXPIRES_MS = 1000;
const USER_CACHE_MS = 30_000;

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

/**
 * The escalator of one alert partition (one owner at a time, under a lease). It holds every
 * unsettled escalation in memory, rebuilt from the log at start: the partition's alert events
 * and its own decisions. Alert events arrive through a durable consumer; due times through one
 * timer. Decisions of one alert are appended in order, each expecting the previous one's
 * subject sequence, and a message is acked only after its decisions are stored.
 */
export class EscalatorPartition {
  private readonly js: JetStreamClient;
  private states = new Map<string, Escalation>();
  private lastSeq = new Map<string, number>();
  private chains = new Map<string, Promise<number>>();
  private timers = new TimerQueue();
  private cancelTimer: (() => void) | null = null;
  private armedAt: number | null = null;
  private lock: Promise<unknown> = Promise.resolve();
  private users = new Map<string, DirectoryUser | null>();
  private usersLoadedAt = 0;
  /** Alert events up to this sequence were read at rebuild: an alert without state there is settled. */
  private rebuiltThrough = 0;
  private failed = false;
  private readonly log: Logger;

  constructor(private readonly deps: PartitionDeps) {
    this.js = jetstream(deps.nc);
    this.log = deps.log.child({ partition: deps.partition });
  }

  /** Runs until `lost` aborts (lease lost or shutdown). */
  async run(lost: AbortSignal): Promise<void> {
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
    this.cancelTimer?.();
    await Promise.allSettled(this.chains.values());
  }

  size(): number {
    return this.states.size;
  }

  private async consume(lost: AbortSignal): Promise<void> {
    const name = CONSUMERS.escalator(this.deps.partition);
    await ensureConsumer(this.deps.nc, name, subjects.alertsOfPartition(this.deps.partition));
    const consumer = await this.js.consumers.get(STREAMS.alerts, name);
    let acked: Promise<void> = Promise.resolve();
    while (!lost.aborted && !this.failed) {
      const batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS });
      const stop = () => void batch.close();
      lost.addEventListener('abort', stop, { once: true });
      for await (const m of batch) {
        const stored = await this.exclusive(() => this.onAlertMessage(m));
        acked = acked.then(async () => {
          await stored;
          m.ack();
        });
        acked.catch(() => {
          this.failed = true;
        });
      }
      lost.removeEventListener('abort', stop);
    }
    await acked.catch(() => undefined);
    if (this.failed) throw new Error('an append failed');
  }

  private async onAlertMessage(m: JsMsg): Promise<Promise<unknown>> {
    const event = decodeEvent(m.data, { trusted: true });
    if (!ALERT_EVENTS.has(event.type)) return Promise.resolve();
    const alert = event as AlertEvent;
    const alertId = alert.data.alertId;
    const state = this.states.get(alertId);
    // Read at rebuild and without a state: the escalation is settled (or was never needed).
    if (!state && m.seq <= this.rebuiltThrough) return Promise.resolve();
    return this.decideAndAppend(alertId, { type: 'AlertEvent', event: alert, seq: m.seq }, {
      causationId: alert.id,
      causationSeq: m.seq,
      correlationId: alert.correlationId,
    });
  }

  /** Decides an input for one alert, updates the state at once and starts the appends. */
  private async decideAndAppend(alertId: string, input: EscalationInput, meta: Meta): Promise<Promise<unknown>> {
    const before = this.states.get(alertId);
    const now = this.deps.clock.now();
    const decisions = await this.decideWithUsers(before, input, now);
    let state = input.type === 'AlertEvent' && (!before || input.seq > before.alertSeq) ? foldAlert(before, input.event, input.seq) : before;
    const appends: Promise<unknown>[] = [];
    const occurredAt = new Date(now).toISOString();
    decisions.forEach((d) => {
      const index = state?.events ?? 0;
      state = evolve(state, d);
      const event = buildEvent(d.type, d.data as never, { id: stableUuid(`escalation:${alertId}:${index}`), occurredAt, ...meta }) as EscalationEvent;
      appends.push(this.append(alertId, event, state!));
    });
    if (state && input.type === 'AlertEvent') state = answered(state, input.seq);
    this.track(alertId, state);
    return Promise.all(appends);
  }

  private async decideWithUsers(state: Escalation | undefined, input: EscalationInput, now: number): Promise<Decision[]> {
    if (now - this.usersLoadedAt > USER_CACHE_MS) {
      this.users = new Map();
      this.usersLoadedAt = now;
    }
    const base = this.deps.context(now);
    for (let attempt = 0; ; attempt++) {
      try {
        return decide(state, input, { ...base, user: (id) => this.users.get(id) });
      } catch (err) {
        if (!(err instanceof UsersNeeded) || attempt > 20) throw err;
        // Load everyone the context could need at once: the rest of the on-call users come next.
        const found = await this.deps.users.getUsers(err.userIds);
        for (const id of err.userIds) this.users.set(id, found.users.get(id) ?? null);
      }
    }
  }

  private track(alertId: string, state: Escalation | undefined): void {
    if (!state || isSettled(state)) {
      this.states.delete(alertId);
      this.timers.set(alertId, null);
    } else {
      this.states.set(alertId, state);
      this.timers.set(alertId, dueAt(state));
    }
    openEscalations.set({ partition: String(this.deps.partition) }, this.states.size);
    pendingTimers.set({ partition: String(this.deps.partition) }, this.timers.size);
    this.arm();
  }

  private append(alertId: string, event: EscalationEvent, state: Escalation): Promise<number> {
    const subject = subjects.escalation(this.deps.partition, alertId);
    const previous = this.chains.get(alertId) ?? Promise.resolve(this.lastSeq.get(alertId) ?? 0);
    const seq = previous.then(async (lastSubjectSequence) => {
      const ack = await this.js.publish(subject, encodeEvent(event), { msgID: event.id, expect: { lastSubjectSequence } });
      decisionsTotal.inc({ type: event.type });
      if (event.type === 'AlertReopenRequested') await this.requestReopen(event.data, state, event.id);
      return ack.seq;
    });
    this.chains.set(alertId, seq);
    void seq.then(
      (s) => {
        this.lastSeq.set(alertId, s);
        if (this.chains.get(alertId) === seq) this.chains.delete(alertId);
        if (!this.states.has(alertId)) this.lastSeq.delete(alertId);
      },
      () => {
        this.failed = true;
      },
    );
    return seq;
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
      { id: stableUuid(`reopen:${causationId}`), occurredAt: new Date(this.deps.clock.now()).toISOString(), causationId, correlationId: data.alertId },
    );
    await this.js.publish(subjects.intake(this.deps.partition), encodeEvent(command), { msgID: command.id });
  }

  private arm(): void {
    const next = this.timers.peek();
    if (next === this.armedAt) return;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.armedAt = next;
    if (next === null) return;
    this.cancelTimer = this.deps.clock.at(next, () => {
      this.armedAt = null;
      this.cancelTimer = null;
      void this.exclusive(() => this.fireDue()).catch((err: unknown) => {
        this.log.error({ err }, 'timer decisions failed');
        this.failed = true;
      });
    });
  }

  private async fireDue(): Promise<void> {
    const now = this.deps.clock.now();
    const ids = this.timers.popDue(now);
    for (const alertId of ids) {
      const state = this.states.get(alertId);
      if (!state) continue;
      const due = dueAt(state);
      if (due !== null) fireLag.observe(Math.max(0, now - due) / 1000);
      await this.decideAndAppend(alertId, { type: 'Tick' }, { causationId: null, correlationId: alertId });
    }
    this.arm();
  }

  /** Runs `fn` after everything queued before it: decisions of a partition never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** The partition's escalations as the log has them: alert events, then the escalator's own decisions. */
  private async rebuild(): Promise<void> {
    this.cancelTimer?.();
    await Promise.allSettled(this.chains.values());
    this.states = new Map();
    this.lastSeq = new Map();
    this.chains = new Map();
    this.timers = new TimerQueue();
    this.cancelTimer = null;
    this.armedAt = null;
    this.failed = false;
    const states = this.states;
    this.rebuiltThrough = await readExisting(this.js, STREAMS.alerts, subjects.alertsOfPartition(this.deps.partition), (event, seq) => {
      if (!ALERT_EVENTS.has(event.type)) return;
      const e = event as AlertEvent;
      const next = foldAlert(states.get(e.data.alertId), e, seq);
      if (next) states.set(e.data.alertId, next);
    });
    await readExisting(this.js, STREAMS.escalations, subjects.escalationsOfPartition(this.deps.partition), (event, seq) => {
      const e = event as EscalationEvent;
      const next = evolve(states.get(e.data.alertId), { type: e.type, data: e.data } as Decision);
      if (next) states.set(e.data.alertId, answered(next, e.causationSeq));
      this.lastSeq.set(e.data.alertId, seq);
    });
    const reopen: Array<[string, Escalation]> = [];
    for (const [alertId, state] of [...states]) {
      this.track(alertId, state);
      if (state.reopenRequested && state.alert.status === 'acknowledged') reopen.push([alertId, state]);
    }
    for (const id of [...this.lastSeq.keys()]) if (!states.has(id)) this.lastSeq.delete(id);
    // A reopen request stored just before a crash may not have reached the decider.
    for (const [alertId, state] of reopen) {
      await this.requestReopen({ alertId, serviceId: state.alert.serviceId, reason: state.stopped?.reason === 'snoozed' ? 'snooze-ended' : 'ack-timeout' }, state, `rebuild:${alertId}:${state.events}`);
    }
    this.log.info({ escalations: states.size, timers: this.timers.size, alertsRead: this.rebuiltThrough }, 'escalator partition rebuilt from the log');
  }
}

async function ensureConsumer(nc: NatsConnection, name: string, filter: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.consumers.info(STREAMS.alerts, name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(STREAMS.alerts, durableConsumer(name, filter, 2000));
  }
}
