import type { AlertEvent, EscalationEvent } from '@oncall/contracts';
import { answered, compactState, evolve, foldAlert, isSettled, type Decision, type Escalation } from './escalation.js';

/**
 * A partition's escalations rebuilt from the log, pure: the shell reads the partition's alert
 * events (ALERTS) and then the escalator's own decisions (ESCALATIONS), each in stream order,
 * and hands them to `alertEvent` and `decision`; `finish` says what the log holds and what is
 * left to do.
 *
 * `floor` is the ALERTS sequence up to which every alert event is answered in the log: the
 * consumer acks a message only after its decisions are stored, in order. Events up to it are
 * folded; later ones will be delivered again, in order, and are not folded here: an event whose
 * decisions a crash cut off is decided again, one whose decisions are stored is folded without
 * being answered twice (each decision carries the ALERTS sequence it answered, `causationSeq`).
 * A null floor (no consumer yet: a first start) means the end of the log; an open alert the log
 * holds no decision for (it arrived just before that start) is then decided again from its
 * first event, so delivery starts there if that is earlier. With a floor, such an alert is one
 * whose decision was parked (deciding it threw): it is kept as folded, as the live escalator
 * kept it, and waits for its next event or a retry.
 *
 * An event that cannot be folded (its data is not what its type says) is skipped and counted:
 * the live escalator parked it, and it must not stop the rebuild either.
 *
 * A Tick's decisions are tied to no message: an escalation whose last decision came from a Tick
 * gets one more Tick at once, which completes what a crash cut short (or decides nothing). An
 * acknowledged alert whose reopen request is stored is asked to reopen again: the request may
 * not have reached the decider (the command is idempotent).
 */
/** One fingerprint's flip history (flapping, docs/noc.md): its recent trigger times and since when it flaps (null: not). */
export type FlipEntry = readonly [serviceId: string, fingerprint: string, triggers: readonly number[], flappingSince: number | null];

/**
 * What the rebuild knows of the partition's flip histories: the snapshot's, then in log order
 * the triggers of the alerts it folded (not those decided again, which record theirs as they are
 * decided) and the flapping starts and ends the log holds after the snapshot.
 */
export type RecoveredFlips = Readonly<{
  seeded: readonly FlipEntry[];
  triggers: ReadonlyArray<readonly [serviceId: string, fingerprint: string, at: number]>;
  flapping: ReadonlyArray<readonly [serviceId: string, fingerprint: string, since: number | null]>;
}>;

export type Recovered = Readonly<{
  /** The floor the rebuild started from (null: unknown). */
  floor: number | null;
  states: Map<string, Escalation>;
  /** Per alert, the sequence of its last escalation event (the next append expects it). */
  lastSeq: Map<string, number>;
  /** Alert events up to here were folded: an alert without state there is settled, unless undecided. */
  foldedThrough: number;
  /** Open alerts the log holds no decision for, decided again from their first event. */
  undecided: ReadonlySet<string>;
  /** The first ALERTS sequence the consumer delivers. */
  deliverFrom: number;
  /** Escalations to Tick at once. */
  tickNow: readonly string[];
  /** Acknowledged alerts whose reopen request is stored. */
  reopen: ReadonlyArray<readonly [string, Escalation]>;
  /** The last sequences read from ALERTS and ESCALATIONS (0: none). */
  lastAlertSeq: number;
  lastEscalationSeq: number;
  /** Events that could not be folded. */
  skipped: number;
  /** Log entries read (snapshot seeds not counted). */
  read: number;
  flips: RecoveredFlips;
}>;

export class Recovery {
  private readonly states = new Map<string, Escalation>();
  private readonly lastSeq = new Map<string, number>();
  private readonly redelivered = new Set<string>();
  private readonly firstSeq = new Map<string, number>();
  private readonly lastByTick = new Set<string>();
  private lastAlertSeq = 0;
  private lastEscalationSeq = 0;
  private skipped = 0;
  private read = 0;
  private readonly seededFlips: FlipEntry[] = [];
  private readonly triggers: Array<readonly [alertId: string, serviceId: string, fingerprint: string, at: number]> = [];
  private readonly flapping: Array<readonly [serviceId: string, fingerprint: string, since: number | null]> = [];

  constructor(
    private readonly floor: number | null,
    from: Readonly<{ alerts: number; escalations: number }> = { alerts: 0, escalations: 0 },
  ) {
    this.lastAlertSeq = from.alerts;
    this.lastEscalationSeq = from.escalations;
  }

  /** An escalation as a snapshot holds it, with the sequence of its last escalation event. */
  seed(alertId: string, lastSeq: number, state: Escalation): void {
    this.states.set(alertId, state);
    this.lastSeq.set(alertId, lastSeq);
  }

  /** A flip history as a snapshot holds it. */
  seedFlips(entry: FlipEntry): void {
    this.seededFlips.push(entry);
  }

  alertEvent(event: AlertEvent, seq: number): void {
    this.lastAlertSeq = seq;
    this.read++;
    try {
      const alertId = event.data.alertId;
      if (this.floor !== null && seq > this.floor) {
        this.redelivered.add(alertId);
        return;
      }
      const before = this.states.get(alertId);
      if (before && seq <= before.alertSeq) return;
      const next = foldAlert(before, event, seq);
      if (!next) return;
      this.states.set(alertId, next);
      if (!before && this.floor === null) this.firstSeq.set(alertId, seq);
      // A new alert of a fingerprint is a flip, at its trigger time (as the live escalator records it).
      if (!before && event.type === 'AlertTriggered')
        this.triggers.push([alertId, event.data.serviceId, event.data.fingerprint, Date.parse(event.data.seenAt)]);
    } catch {
      this.skipped++;
    }
  }

  decision(event: EscalationEvent, seq: number): void {
    this.lastEscalationSeq = seq;
    this.read++;
    try {
      const alertId = event.data.alertId;
      const next = evolve(this.states.get(alertId), { type: event.type, data: event.data } as Decision);
      if (next) this.states.set(alertId, answered(next, event.causationSeq));
      if (event.type === 'FlappingStarted' && next)
        this.flapping.push([event.data.serviceId, event.data.fingerprint, Date.parse(next.alert.triggeredAt)]);
      if (event.type === 'FlappingEnded') this.flapping.push([event.data.serviceId, event.data.fingerprint, null]);
      this.lastSeq.set(alertId, seq);
      if (event.causationSeq === undefined) this.lastByTick.add(alertId);
      else this.lastByTick.delete(alertId);
    } catch {
      this.skipped++;
    }
  }

  /** A message that could not even be decoded. */
  undecodable(stream: 'alerts' | 'escalations', seq: number): void {
    if (stream === 'alerts') this.lastAlertSeq = seq;
    else this.lastEscalationSeq = seq;
    this.read++;
    this.skipped++;
  }

  finish(): Recovered {
    const { states, lastSeq } = this;
    const foldedThrough = this.floor ?? this.lastAlertSeq;
    const undecided = new Set<string>();
    let deliverFrom = foldedThrough + 1;
    const reopen: Array<readonly [string, Escalation]> = [];
    for (const [alertId, state] of states) {
      if (this.floor === null && state.events === 0 && state.alert.status !== 'resolved') {
        states.delete(alertId);
        undecided.add(alertId);
        deliverFrom = Math.min(deliverFrom, this.firstSeq.get(alertId) ?? deliverFrom);
      } else if (isSettled(state)) {
        states.delete(alertId);
      } else {
        states.set(alertId, compactState(state));
        if (state.reopenRequested && state.alert.status === 'acknowledged') reopen.push([alertId, state]);
      }
    }
    for (const alertId of lastSeq.keys()) if (!states.has(alertId)) lastSeq.delete(alertId);
    const tickNow = [...this.lastByTick].filter((alertId) => states.has(alertId) && !this.redelivered.has(alertId));
    return {
      floor: this.floor,
      states,
      lastSeq,
      foldedThrough,
      undecided,
      deliverFrom,
      tickNow,
      reopen,
      lastAlertSeq: this.lastAlertSeq,
      lastEscalationSeq: this.lastEscalationSeq,
      skipped: this.skipped,
      read: this.read,
      flips: {
        seeded: this.seededFlips,
        // Alerts decided again from their first event record their trigger then.
        triggers: this.triggers
          .filter(([alertId]) => !undecided.has(alertId))
          .map(([, serviceId, fingerprint, at]) => [serviceId, fingerprint, at] as const),
        flapping: this.flapping,
      },
    };
  }
}
