import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { buildEvent, encodeEvent, stableUuid, subjects, type AlertEvent, type EscalationEvent, type EventData } from '@oncall/contracts';
import { hopFrom, NO_HOP, tracingOn, type AppendFailed, type Clock, type Hop, type Logger, type TraceHeaders } from '@oncall/shared';
import {
  answered,
  compactState,
  ContentNeeded,
  contentRestored,
  decideAndEvolve,
  dueAt,
  foldAlert,
  IncidentNeeded,
  TakeoverNeeded,
  isSettled,
  stillCurrent,
  UsersNeeded,
  withoutContent,
  type Decision,
  type Escalation,
  type EscalationContext,
  type EscalationInput,
} from '../domain/escalation.js';
import type { FlipEntry, Recovered } from '../domain/recovery.js';
import { AlertContents, type ContentWanted } from './alert-contents.js';
import { ChainAppender } from './appender.js';
import { DecisionQueue } from './decision-queue.js';
import { countAppended, countUndecidable } from './metrics.js';
import { forwardToMembers, incidentCommand } from './incident-commands.js';
import { requestReopen } from './reopen.js';
import type { StormChange, StormFootprint, StormView } from './storm-view.js';
import { Ticker } from './ticker.js';
import type { UserCache } from './user-cache.js';

/** Timers wait while this many alerts of the partition have appends in flight, and resume at half. */
const MAX_APPENDING = 2000;
const TICK: EscalationInput = { type: 'Tick' };
/** At most this many alerts' content read back in one go (the Tick that needs it and those waiting behind it). */
const CONTENT_BATCH = 1000;

/** Everything a decision needs from the outside except users: routing, policies, on-call. */
export type ContextFactory = (now: number) => Omit<EscalationContext, 'user'>;

/**
 * Waits for an input's decisions: `done` runs once all `remaining` of them are stored, `failed`
 * when the input cannot be decided (the rules threw; an alert event is still folded).
 */
export type Completion = { remaining: number; readonly done: () => void; readonly failed: (err: unknown) => void };

type Meta = { causationId: string | null; causationSeq?: number; correlationId: string };

/** An input to decide, in arrival order; `latest`: a retried event is the last one on its alert's subject. */
type Pending = {
  alertId: string;
  input: EscalationInput;
  meta: Meta;
  completion: Completion | undefined;
  latest?: boolean;
  /** Its trigger is recorded for flapping (an input decided again after a load is not a second flip). */
  flipRecorded?: boolean;
  /** The trace context of the alert event's message (tracing on). */
  trace?: TraceHeaders | undefined;
};

/** A parked alert event retried after its alert moved on: deciding it now would act on a state it was not meant for. */
export class RetrySuperseded extends Error {
  override readonly name = 'RetrySuperseded';
}

/** One append in flight: what to do once it is stored. */
type Appending = {
  alertId: string;
  type: EscalationEvent['type'];
  completion: Completion | undefined;
  reopen: { data: EventData<'AlertReopenRequested'>; fingerprint: string; id: string } | null;
};

export type EscalationsDeps = Readonly<{
  nc: NatsConnection;
  partition: number;
  clock: Clock;
  context: ContextFactory;
  users: UserCache;
  log: Logger;
  /** Heard once, when a decision cannot be stored (or a reopen request sent): nothing more is decided. */
  failed: (err: unknown) => void;
  /** What the replicas share for grouping and inhibition (docs/noc.md); null: none (tests of other things). */
  storm?: StormView | null;
}>;

type Needed = UsersNeeded | IncidentNeeded | ContentNeeded;

/**
 * The unsettled escalations of one partition, in memory, and the decisions that move them: from
 * a rebuild (`Recovered`) until the partition stops or fails (then it is rebuilt from the log).
 *
 * Decisions are synchronous and made one at a time in arrival order (DecisionQueue: one that
 * needs a user from the directory holds the ones after it until the user is loaded). Their
 * appends are not awaited before the next decision: each alert's events form a chain, every
 * append expecting the subject sequence the previous one got, while different alerts' chains
 * are in flight together (ChainAppender). An input's `Completion` hears when its decisions are
 * stored; due times go to the Ticker, whose Ticks come back as inputs.
 */
export class Escalations {
  private readonly states: Map<string, Escalation>;
  private readonly lastSeq: Map<string, number>;
  private readonly js: JetStreamClient;
  private readonly appender: ChainAppender<Appending>;
  private readonly ticker: Ticker;
  private readonly queue: DecisionQueue<Pending, Needed>;
  private readonly contents: AlertContents;
  private unwatchStorm: (() => void) | null = null;
  private context: { base: Omit<EscalationContext, 'user'>; full: EscalationContext } | null = null;
  private failure: unknown = null;
  private stopped = false;
  /** Retries not answered yet: the ones still waiting when the partition stops are answered with a failure. */
  private readonly retries = new Set<Completion>();
  /** Reopen requests and incident members' commands being sent (their input's completion waits for them). */
  private sending = 0;
  /** The last ESCALATIONS sequence of this partition folded or stored. */
  private lastEscalationSeq: number;
  /** Decisions stored so far. */
  private stored = 0;

  constructor(
    private readonly deps: EscalationsDeps,
    private readonly recovered: Recovered,
  ) {
    this.states = recovered.states;
    this.lastSeq = recovered.lastSeq;
    this.lastEscalationSeq = recovered.lastEscalationSeq;
    deps.storm?.restoreFlips(deps.partition, recovered.flips);
    this.js = jetstream(deps.nc);
    this.appender = new ChainAppender(deps.nc, {
      lastSeq: (alertId) => this.lastSeq.get(alertId) ?? 0,
      stored: (a, seq) => this.onStored(a, seq),
      failed: (err: AppendFailed) => this.fail(err),
    });
    this.ticker = new Ticker(
      deps.clock,
      (alertId) => this.queue.submit({ alertId, input: TICK, meta: { causationId: null, correlationId: alertId }, completion: undefined }),
      () => this.appender.size >= MAX_APPENDING,
    );
    this.contents = new AlertContents(deps.nc, deps.log);
    this.queue = new DecisionQueue<Pending, Needed>(
      (p) => this.decide(p),
      (needed, cancelled) =>
        needed instanceof UsersNeeded
          ? deps.users.load(needed.userIds, cancelled)
          : needed instanceof ContentNeeded
            ? this.loadContent(needed, cancelled)
            : this.claim(needed),
    );
  }

  /** Arms the timers, Ticks what the rebuild says to, and sends the reopen requests it found. */
  async start(): Promise<void> {
    for (const [alertId, state] of this.states) {
      // A rebuild from the log folds every alert's content; one from a snapshot has it dropped already.
      this.states.set(alertId, withoutContent(state));
      this.ticker.set(alertId, dueAt(state));
    }
    const now = this.deps.clock.now();
    const storm = this.deps.storm;
    if (storm) {
      // The bucket holds again what these escalations stand behind, and nothing else of this partition's.
      await storm.prune(this.deps.partition, (alertId) => {
        const state = this.states.get(alertId);
        return state && footprint(state);
      });
      await Promise.all([...this.states].map(([alertId, state]) => storm.sync(alertId, this.deps.partition, null, footprint(state))));
      this.unwatchStorm = storm.onChange((change) => this.stormChanged(change));
      // Held alerts are decided again: what released them may have happened while nobody watched.
      for (const [alertId, state] of this.states) if (state.storm.inhibited || state.storm.incident) this.ticker.set(alertId, now);
    }
    for (const alertId of this.recovered.tickNow) this.ticker.set(alertId, now);
    // A reopen request stored just before a crash may not have reached the decider.
    for (const [alertId, state] of this.recovered.reopen) {
      await requestReopen(
        this.js,
        this.deps.partition,
        now,
        { alertId, serviceId: state.alert.serviceId, reason: state.stopped?.reason === 'snoozed' ? 'snooze-ended' : 'ack-timeout' },
        state.alert.fingerprint,
        `rebuild:${alertId}:${state.events}`,
      );
    }
    this.ticker.arm();
  }

  /** An alert event delivered to the partition; `completion` hears when its decisions are stored. */
  alertEvent(event: AlertEvent, seq: number, completion: Completion, trace?: TraceHeaders): void {
    const alertId = event.data.alertId;
    const { foldedThrough, undecided } = this.recovered;
    // Folded at the rebuild, and no state: the alert is settled.
    if (seq <= foldedThrough && !this.states.has(alertId) && !undecided.has(alertId)) {
      completion.done();
      return;
    }
    this.queue.submit({
      alertId,
      input: { type: 'AlertEvent', event, seq },
      meta: { causationId: event.id, causationSeq: seq, correlationId: event.correlationId },
      completion,
      trace,
    });
  }

  /**
   * Decides a parked alert event again, in order with everything else: resolves once its
   * decisions are stored, rejects when it still cannot be decided or no longer applies
   * (RetrySuperseded). An event folded when it was parked is decided against the state as it
   * is now, if no later acknowledgement, snooze, reopen, escalation or resolve came (stillCurrent);
   * one never folded (undecodable then) is delivered as an alert event if nothing of its alert
   * was folded after it (`latest`: it is the last event on its alert's subject, when the alert
   * has no state). Its decisions carry no `causationSeq` (the message was answered by parking
   * it), so a crash that cuts them short is completed by a Tick after the rebuild.
   */
  retry(event: AlertEvent, seq: number, latest: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.stopped) {
        reject(new Error('the partition is stopping or rebuilding; retry later'));
        return;
      }
      const completion: Completion = {
        remaining: 0,
        done: () => this.retries.delete(completion) && resolve(),
        failed: (err) => this.retries.delete(completion) && reject(err instanceof Error ? err : new Error(String(err))),
      };
      this.retries.add(completion);
      this.queue.submit({
        alertId: event.data.alertId,
        input: { type: 'Retry', event, seq },
        meta: { causationId: event.id, correlationId: event.correlationId },
        completion,
        latest,
      });
    });
  }

  get size(): number {
    return this.states.size;
  }

  /** Decisions stored since the start. */
  get decisionsStored(): number {
    return this.stored;
  }

  /** Nothing decided and not yet stored, nothing waiting to be decided: the states are exactly the log's. */
  get quiescent(): boolean {
    return this.appender.size === 0 && this.sending === 0 && this.queue.idle;
  }

  /** Holds the timers (none fires until `releaseTicks`), e.g. to reach a quiescent point for a snapshot. */
  holdTicks(): void {
    this.ticker.hold();
  }

  releaseTicks(): void {
    this.ticker.release();
  }

  /**
   * The escalations as they are now, with the sequence of each one's last escalation event, and
   * the last ESCALATIONS sequence folded: exact when quiescent. States are immutable, so what
   * this returns stays as it is while deciding goes on.
   */
  capture(): { escalations: Array<readonly [string, number, Escalation]>; lastEscalationSeq: number; flips: FlipEntry[] } {
    const escalations: Array<readonly [string, number, Escalation]> = [];
    for (const [alertId, state] of this.states) escalations.push([alertId, this.lastSeq.get(alertId) ?? 0, state]);
    return { escalations, lastEscalationSeq: this.lastEscalationSeq, flips: this.deps.storm?.flipEntries(this.deps.partition) ?? [] };
  }

  get timerCount(): number {
    return this.ticker.size;
  }

  /** Stops deciding; appends already sent still complete (and complete their inputs). */
  async stop(): Promise<void> {
    this.halt();
    await this.appender.stop();
    for (const retry of [...this.retries])
      retry.failed(new Error('the partition stopped before the retry was decided and stored; retry later'));
  }

  private halt(): void {
    this.stopped = true;
    this.unwatchStorm?.();
    this.unwatchStorm = null;
    this.ticker.stop();
    this.queue.halt();
  }

  /** After a failed append nothing more is decided; the partition rebuilds from the log. */
  private fail(err: unknown): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.deps.log.warn({ err }, 'escalator decision failed; rebuilding the partition from the log');
    this.halt();
    this.deps.failed(err);
  }

  private decide(p: Pending): Needed | undefined {
    if (this.failure !== null) return undefined;
    try {
      return this.decideAndAppend(p);
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  private contextAt(now: number): EscalationContext {
    this.deps.users.refresh(now);
    const base = this.deps.context(now);
    if (this.context?.base !== base) this.context = { base, full: { ...base, user: this.deps.users.user } };
    return this.context.full;
  }

  /**
   * Decides an input for one alert, updates the state at once and starts the appends; its
   * completion (if any) hears once they are stored. Returns the users to load before deciding
   * again, if the decision needs any.
   */
  private decideAndAppend(p: Pending): Needed | undefined {
    const { alertId, meta, completion } = p;
    const before = this.states.get(alertId);
    if (p.input.type === 'Tick' && !before) return undefined;
    const input = p.input.type === 'Retry' ? this.retryInput(before, p.input, p.latest === true) : p.input;
    if (input instanceof RetrySuperseded) {
      completion?.failed(input);
      return undefined;
    }
    const now = this.deps.clock.now();
    const storm = this.deps.storm;
    // A new alert of a fingerprint is a flip (flapping counts them); its trigger time is the log's.
    if (
      storm &&
      !p.flipRecorded &&
      input.type === 'AlertEvent' &&
      input.event.type === 'AlertTriggered' &&
      input.seq > (before?.alertSeq ?? 0)
    ) {
      storm.recordTrigger(
        this.deps.partition,
        input.event.data.serviceId,
        input.event.data.fingerprint,
        Date.parse(input.event.data.seenAt),
      );
      p.flipRecorded = true;
    }
    let decided: { decisions: Decision[]; state: Escalation | undefined };
    try {
      decided = decideAndEvolve(before, input, this.contextAt(now));
    } catch (err) {
      if (err instanceof UsersNeeded || err instanceof IncidentNeeded || err instanceof ContentNeeded) return err;
      this.undecidable(alertId, before, input, completion, err);
      return undefined;
    }
    const { decisions } = decided;
    let state = decided.state;
    if (completion) completion.remaining = decisions.length;
    const hop = this.hopOf(p, input, decisions);
    if (decisions.length > 0) {
      const occurredAt = new Date(now).toISOString();
      const subject = subjects.escalation(this.deps.partition, alertId);
      // Event ids follow the alert's count of escalation events (each decision adds one).
      const first = before?.events ?? 0;
      decisions.forEach((d, i) => {
        const event = buildEvent(d.type, d.data as never, {
          id: stableUuid(`escalation:${alertId}:${first + i}`),
          occurredAt,
          ...meta,
        }) as EscalationEvent;
        const reopen =
          event.type === 'AlertReopenRequested' ? { data: event.data, fingerprint: state!.alert.fingerprint, id: event.id } : null;
        this.appender.append(
          alertId,
          subject,
          encodeEvent(event),
          event.id,
          { alertId, type: event.type, completion, reopen },
          hop.headers,
        );
      });
    }
    hop.end();
    // As the rebuild marks it: by the stored decisions' causation sequence.
    if (state && decisions.length > 0) state = answered(state, meta.causationSeq);
    if (storm && decisions.length > 0) this.stormEffects(alertId, before, state, decisions);
    // A person answering the incident's first alert answers the incident: its other alerts follow.
    const incident = before?.storm.incident;
    const asked = input.type === 'AlertEvent' ? incidentCommand(input.event) : null;
    if (
      storm &&
      before &&
      asked &&
      incident?.first &&
      // After a rebuild the state already holds this input's decisions: the person's resolve may have ended the incident.
      (!incident.resolved || asked.command === 'resolve') &&
      input.type === 'AlertEvent' &&
      input.seq > before.alertSeq
    ) {
      const members = storm.membersOf(incident.incidentId, alertId);
      if (members.length > 0) this.forward(forwardToMembers(this.js, now, incident.incidentId, input.event, members), completion);
    }
    this.track(alertId, state);
    this.ticker.arm();
    if (completion && completion.remaining === 0) completion.done();
    return undefined;
  }

  /**
   * The `escalate` span of a decision: a child of the alert event's message context (a new trace
   * for a Tick, or an event whose message carries none), made for every alert event and for Ticks
   * that decided something. It covers deciding and sending the appends; its context goes on each
   * escalation event appended. Off: a constant.
   */
  private hopOf(p: Pending, input: EscalationInput, decisions: readonly Decision[]): Hop {
    if (!tracingOn() || (input.type === 'Tick' && decisions.length === 0)) return NO_HOP;
    return hopFrom('escalate', p.trace, {
      'oncall.service': 'escalator',
      'oncall.partition': this.deps.partition,
      'oncall.alert_id': p.alertId,
      'oncall.input': input.type === 'AlertEvent' ? input.event.type : input.type,
      'oncall.decisions': decisions.map((d) => d.type).join(','),
    });
  }

  /** What a Retry is decided as, or why it is not. */
  private retryInput(
    before: Escalation | undefined,
    retry: Extract<EscalationInput, { type: 'Retry' }>,
    latest: boolean,
  ): EscalationInput | RetrySuperseded {
    const { event, seq } = retry;
    if (before && seq <= before.alertSeq) {
      if (stillCurrent(before, event, seq)) return retry;
      return new RetrySuperseded(
        `alert ${before.alert.alertId} changed after event ${seq} (now ${before.alert.status}, at event ${before.lifecycleSeq}); nothing decided`,
      );
    }
    if (before || latest) return { type: 'AlertEvent', event, seq };
    return new RetrySuperseded(`alert ${event.data.alertId} has later events and no escalation; nothing decided`);
  }

  /**
   * The rules threw on this input. An alert event is folded all the same, as a rebuild folds it
   * (the alert's lifecycle is the decider's, not ours), and its completion hears why, so the
   * message can be parked; a Tick leaves the escalation as it is until its next input.
   */
  private undecidable(
    alertId: string,
    before: Escalation | undefined,
    input: EscalationInput,
    completion: Completion | undefined,
    err: unknown,
  ) {
    countUndecidable(input.type);
    if (input.type === 'AlertEvent') {
      let folded = before;
      try {
        folded = foldAlert(before, input.event, input.seq);
      } catch {
        // Not even foldable: the rebuild skips it too.
      }
      this.track(alertId, folded);
      this.ticker.arm();
    }
    if (completion) completion.failed(err);
    else this.deps.log.error({ err, alertId, input: input.type }, 'escalation could not be decided; it waits for its next alert event');
  }

  /**
   * Reads back the content of the alert a decision needs, and of the alerts whose Ticks wait
   * behind it (timers fall due in runs: one round of reads for the run, not one per alert),
   * then the queue decides again.
   */
  private async loadContent(needed: ContentNeeded, cancelled: () => boolean): Promise<boolean> {
    const wanted = new Map<string, ContentWanted>();
    const want = (alertId: string) => {
      const s = this.states.get(alertId);
      if (s?.contentDropped && !wanted.has(alertId)) wanted.set(alertId, { alertId, seq: s.contentSeq, severity: s.alert.severity });
    };
    want(needed.alertId);
    for (const p of this.queue.waiting()) {
      if (wanted.size >= CONTENT_BATCH) break;
      if (p.input.type === 'Tick') want(p.alertId);
    }
    const read = await this.contents.read([...wanted.values()], cancelled);
    if (!read) return false;
    for (const [alertId, content] of read) {
      const s = this.states.get(alertId);
      // Only into the state it was read for (an update meanwhile brought newer content).
      if (s?.contentDropped && s.contentSeq === wanted.get(alertId)!.seq) this.states.set(alertId, contentRestored(s, content));
    }
    return true;
  }

  /** Claims (or reads) the open incident of a group key, or tries to take its paging over; then the queue decides again. */
  private claim(needed: IncidentNeeded): Promise<boolean> {
    const storm = this.deps.storm!;
    const claimed =
      needed instanceof TakeoverNeeded
        ? storm.takeOver(needed.groupKey, needed.incidentId, needed.alertId, this.deps.partition)
        : storm.claim(needed.groupKey, needed.alertId, this.deps.partition);
    return claimed.then(
      () => true,
      (err: unknown) => {
        this.fail(err);
        return false;
      },
    );
  }

  /** The shared entries follow the escalation's state; flips of flapping are remembered. */
  private stormEffects(alertId: string, before: Escalation | undefined, after: Escalation | undefined, decisions: Decision[]): void {
    const storm = this.deps.storm!;
    for (const d of decisions) {
      if (d.type === 'FlappingStarted' && after)
        storm.recordFlapping(this.deps.partition, d.data.serviceId, d.data.fingerprint, Date.parse(after.alert.triggeredAt));
      if (d.type === 'FlappingEnded') storm.recordFlapping(this.deps.partition, d.data.serviceId, d.data.fingerprint, null);
    }
    storm.sync(alertId, this.deps.partition, footprint(before), footprint(after)).catch((err: unknown) => this.fail(err));
  }

  /** Something that may release held alerts changed: those of this partition are decided again. */
  private stormChanged(change: StormChange): void {
    for (const [alertId, s] of this.states) {
      const incident = s.storm.incident;
      const concerned =
        change.kind === 'source-gone'
          ? // Any held alert: the one its AlertInhibited names may be gone already, another source holding it since.
            s.storm.inhibited !== null
          : change.kind === 'member-gone' || change.kind === 'member-added'
            ? incident?.first === true && incident.incidentId === change.incidentId
            : change.kind === 'lead-changed'
              ? // Its lead resolved (a member may take over), or another alert took over (the lead lets go).
                incident?.incidentId === change.incidentId && !incident.resolved
              : incident?.first === false && incident.incidentId === change.incidentId;
      if (concerned)
        this.queue.submit({ alertId, input: TICK, meta: { causationId: null, correlationId: alertId }, completion: undefined });
    }
  }

  private track(alertId: string, state: Escalation | undefined): void {
    if (!state || isSettled(state)) {
      this.states.delete(alertId);
      this.ticker.set(alertId, null);
    } else {
      // A waiting escalation keeps no alert content: it is read back from the log when needed.
      const kept = withoutContent(state);
      this.states.set(alertId, kept === state ? compactState(state) : kept);
      this.ticker.set(alertId, dueAt(state));
    }
  }

  private onStored(a: Appending, seq: number): void {
    this.lastSeq.set(a.alertId, seq);
    this.lastEscalationSeq = Math.max(this.lastEscalationSeq, seq);
    this.stored++;
    countAppended(a.type);
    if (!a.reopen) {
      this.appendDone(a);
      return;
    }
    const { data, fingerprint, id } = a.reopen;
    this.sending++;
    requestReopen(this.js, this.deps.partition, this.deps.clock.now(), data, fingerprint, id).then(
      () => {
        this.sending--;
        this.appendDone(a);
      },
      (err: unknown) => {
        this.sending--;
        this.fail(err);
      },
    );
  }

  /**
   * The input is answered only once its commands to the incident's members are sent too (its
   * message is acked then, and no snapshot is taken before): a crash in between delivers the
   * input again after the rebuild, which sends them again (idempotent message ids).
   */
  private forward(sent: Promise<void>, completion: Completion | undefined): void {
    if (completion) completion.remaining++;
    this.sending++;
    sent.then(
      () => {
        this.sending--;
        if (completion && --completion.remaining === 0) completion.done();
      },
      (err: unknown) => {
        this.sending--;
        this.fail(err);
      },
    );
  }

  private appendDone(a: Appending): void {
    if (a.completion && --a.completion.remaining === 0) a.completion.done();
    if (this.stopped) return;
    if (!this.states.has(a.alertId) && !this.appender.pending(a.alertId)) this.lastSeq.delete(a.alertId);
    if (this.ticker.isPaused && this.appender.size <= MAX_APPENDING / 2) this.ticker.resume();
  }
}

const NO_FOOTPRINT: StormFootprint = Object.freeze({ source: null, member: null, opened: null });

/** What an escalation stands behind in the shared storm bucket (docs/noc.md). */
export function footprint(s: Escalation | undefined): StormFootprint {
  if (!s) return NO_FOOTPRINT;
  const firing = s.alert.status !== 'resolved';
  const route = s.route;
  const incident = s.storm.incident;
  const source =
    firing && route?.inhibits?.length
      ? { alertId: s.alert.alertId, labels: s.alert.labels, site: route.site ?? null, rules: route.inhibits, summary: s.alert.summary }
      : null;
  const member =
    firing && incident && !incident.first
      ? { incidentId: incident.incidentId, serviceId: s.alert.serviceId, fingerprint: s.alert.fingerprint }
      : null;
  const opened =
    incident?.first && !incident.resolved
      ? { incidentId: incident.incidentId, groupKey: incident.groupKey, leadResolved: incident.leadResolved === true }
      : null;
  return source || member || opened ? { source, member, opened } : NO_FOOTPRINT;
}
