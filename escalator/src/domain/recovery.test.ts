import { describe, expect, it } from 'vitest';
import { buildEvent, stableUuid, type AlertEvent, type EscalationEvent, type EventData } from '@oncall/contracts';
import {
  answered,
  decideAndEvolve,
  dueAt,
  isSettled,
  restored,
  type Escalation,
  type EscalationContext,
  type EscalationInput,
} from './escalation.js';
import { Recovery } from './recovery.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

const ctx = (now: number): EscalationContext => ({
  now,
  route: () => ({
    rules: [],
    policyId: 'p1',
    templateId: null,
    templateVersion: null,
    severity: 'critical',
    ticket: null,
    ackTimeoutSeconds: 600,
    suppressed: null,
    maintenance: [],
  }),
  policy: () => ({
    policyId: 'p1',
    name: 'Primary',
    repeat: 0,
    steps: [
      { delaySeconds: 300, targets: [{ type: 'user', userId: 'alice' }], untilAllAck: false },
      { delaySeconds: 300, targets: [{ type: 'user', userId: 'bob' }], untilAllAck: false },
    ],
  }),
  recipients: (t) => (t.type === 'user' ? [{ type: 'user', userId: t.userId, via: 'direct' }] : []),
  user: (id) => ({ name: id, contacts: [] }),
  serviceName: (id) => id,
});

/**
 * A partition's log written the way the escalator writes it: alert events on ALERTS, and for
 * each input its decisions on ESCALATIONS (carrying the ALERTS sequence they answer), unless the
 * input is `cut` (a crash before its decisions were stored) or cut after `keep` of them.
 */
class Log {
  alerts: Array<[AlertEvent, number]> = [];
  escalations: Array<[EscalationEvent, number]> = [];
  /** The escalations as the live escalator holds them (what a snapshot saves), and each one's last subject sequence. */
  live = new Map<string, Escalation>();
  liveLastSeq = new Map<string, number>();
  private seq = 0;

  event(alertId: string, type: AlertEvent['type'], now: number, opts: { keep?: number } = {}): number {
    const data = { alertId, serviceId: 'api', fingerprint: `fp-${alertId}` };
    const extra: Record<string, unknown> =
      type === 'AlertTriggered'
        ? {
            summary: alertId,
            details: '',
            severity: 'critical',
            labels: {},
            annotations: {},
            links: [],
            custom: {},
            source: 'generic',
            startsAt: null,
            generatorUrl: null,
            seenAt: iso(now),
          }
        : type === 'AlertResolved'
          ? { by: 'source', userId: null, note: '', endsAt: null }
          : type === 'AlertAcknowledged'
            ? { by: 'user', userId: 'alice', note: '' }
            : {};
    const event = buildEvent(type, { ...data, ...extra } as EventData<typeof type>, {
      id: stableUuid(`${alertId}:${this.seq}`),
      occurredAt: iso(now),
      causationId: null,
      correlationId: alertId,
    }) as AlertEvent;
    const seq = ++this.seq;
    this.alerts.push([event, seq]);
    this.decide(alertId, { type: 'AlertEvent', event, seq }, now, opts.keep);
    return seq;
  }

  tick(alertId: string, now: number, opts: { keep?: number } = {}): void {
    this.decide(alertId, { type: 'Tick' }, now, opts.keep);
  }

  private decide(alertId: string, input: EscalationInput, now: number, keep = Infinity): void {
    const before = this.live.get(alertId);
    const { decisions, state } = decideAndEvolve(before, input, ctx(now));
    decisions.slice(0, keep).forEach((d, i) => {
      const event = buildEvent(d.type, d.data as never, {
        id: stableUuid(`escalation:${alertId}:${(before?.events ?? 0) + i}`),
        occurredAt: iso(now),
        causationId: null,
        ...(input.type === 'AlertEvent' ? { causationSeq: input.seq } : {}),
        correlationId: alertId,
      }) as EscalationEvent;
      this.escalations.push([event, ++this.seq]);
      this.liveLastSeq.set(alertId, this.seq);
    });
    // As the shell keeps it: answered by the stored decisions' causation sequence, dropped once settled.
    const kept = state && decisions.length > 0 && input.type === 'AlertEvent' ? answered(state, input.seq) : state;
    if (kept && !isSettled(kept)) this.live.set(alertId, kept);
    else {
      this.live.delete(alertId);
      this.liveLastSeq.delete(alertId);
    }
  }

  /** What a snapshot taken now holds: the live escalations, through JSON, and the positions they are exact at. */
  snapshot() {
    const positions = { alerts: this.alerts.at(-1)?.[1] ?? 0, escalations: this.escalations.at(-1)?.[1] ?? 0 };
    const records = [...this.live].map(([id, s]) => [id, this.liveLastSeq.get(id)!, JSON.parse(JSON.stringify(s)) as Escalation] as const);
    return { positions, records };
  }

  recoverFrom(snapshot: ReturnType<Log['snapshot']>, floor: number) {
    const r = new Recovery(floor, snapshot.positions);
    for (const [id, lastSeq, s] of snapshot.records) r.seed(id, lastSeq, restored(s));
    for (const [e, seq] of this.alerts) if (seq > snapshot.positions.alerts) r.alertEvent(e, seq);
    for (const [e, seq] of this.escalations) if (seq > snapshot.positions.escalations) r.decision(e, seq);
    return r.finish();
  }

  recover(floor: number | null) {
    const r = new Recovery(floor);
    for (const [e, seq] of this.alerts) r.alertEvent(e, seq);
    for (const [e, seq] of this.escalations) r.decision(e, seq);
    return r.finish();
  }
}

describe('rebuilding a partition from the log', () => {
  it('keeps open escalations with their last subject sequence, drops settled ones', () => {
    const log = new Log();
    log.event('open', 'AlertTriggered', T0);
    log.event('done', 'AlertTriggered', T0);
    log.event('done', 'AlertResolved', T0 + MIN);
    const r = log.recover(log.alerts.at(-1)![1]);
    expect([...r.states.keys()]).toStrictEqual(['open']);
    expect(r.states.get('open')).toMatchObject({ events: 3, step: { index: 0, nextAt: T0 + 5 * MIN } });
    expect([...r.lastSeq]).toStrictEqual([
      ['open', log.escalations.find(([e]) => e.data.alertId === 'open' && e.type === 'NotificationRequested')![1]],
    ]);
    expect(r).toMatchObject({ undecided: new Set(), tickNow: [], reopen: [] });
  });

  it.each<[string, (log: Log) => number | null, { undecided: string[]; deliverFrom: (log: Log) => number; states: string[] }]>([
    [
      'first start (no floor): an open alert with no decision is decided again from its first event',
      (log) => {
        log.event('a', 'AlertTriggered', T0);
        log.event('b', 'AlertTriggered', T0, { keep: 0 });
        log.event('b', 'AlertAcknowledged', T0 + MIN, { keep: 0 });
        return null;
      },
      { undecided: ['b'], deliverFrom: (log) => log.alerts[1]![1], states: ['a'] },
    ],
    [
      'a floor: events above it are not folded and are delivered again',
      (log) => {
        const floor = log.event('a', 'AlertTriggered', T0);
        log.event('b', 'AlertTriggered', T0, { keep: 1 });
        return floor;
      },
      { undecided: [], deliverFrom: (log) => log.alerts[0]![1] + 1, states: ['a', 'b'] },
    ],
  ])('%s', (_, write, expected) => {
    const log = new Log();
    const floor = write(log);
    const r = log.recover(floor);
    expect([...r.undecided]).toStrictEqual(expected.undecided);
    expect(r.deliverFrom).toBe(expected.deliverFrom(log));
    expect([...r.states.keys()].sort()).toStrictEqual(expected.states);
  });

  it('an escalation whose last decision came from a Tick is ticked at once, unless its alert events are delivered again', () => {
    const log = new Log();
    log.event('a', 'AlertTriggered', T0);
    log.event('b', 'AlertTriggered', T0);
    // Each step-2 timeout stored its step, not its page.
    log.tick('a', T0 + 5 * MIN, { keep: 1 });
    log.tick('b', T0 + 5 * MIN, { keep: 1 });
    const floor = log.alerts.at(-1)![1];
    log.event('b', 'AlertAcknowledged', T0 + 6 * MIN, { keep: 0 });
    expect(log.recover(floor).tickNow).toStrictEqual(['a']);
  });

  it('an acknowledged alert whose reopen request is stored is asked to reopen again', () => {
    const log = new Log();
    log.event('a', 'AlertTriggered', T0);
    log.event('a', 'AlertAcknowledged', T0 + MIN);
    log.tick('a', T0 + 11 * MIN);
    expect(log.escalations.at(-1)![0].type).toBe('AlertReopenRequested');
    const r = log.recover(log.alerts.at(-1)![1]);
    expect(r.reopen.map(([id]) => id)).toStrictEqual(['a']);
  });

  it('a decision stored for an event above the floor is folded: the redelivered event is not answered twice', () => {
    const log = new Log();
    const floor = log.event('a', 'AlertTriggered', T0);
    const escalated = log.event('a', 'AlertEscalated', T0 + MIN, { keep: 1 });
    const state = log.recover(floor).states.get('a')!;
    expect(state).toMatchObject({ alertSeq: floor, decidedSeq: escalated, step: { index: 1 } });
    const again = log.alerts.at(-1)!;
    const { decisions } = decideAndEvolve(state, { type: 'AlertEvent', event: again[0], seq: again[1] }, ctx(T0 + 2 * MIN));
    expect(decisions.map((d) => d.type)).toStrictEqual(['NotificationRequested']);
  });
});

describe('rebuilding a partition from a snapshot and the log after it', () => {
  it('gives what the whole log gives, for a snapshot taken with escalations at every stage', () => {
    const log = new Log();
    log.event('paged', 'AlertTriggered', T0);
    log.event('acked', 'AlertTriggered', T0);
    log.event('acked', 'AlertAcknowledged', T0 + MIN);
    log.event('gone', 'AlertTriggered', T0);
    log.event('gone', 'AlertResolved', T0 + MIN);
    log.event('stepped', 'AlertTriggered', T0);
    log.tick('stepped', T0 + 5 * MIN);
    log.event('reopening', 'AlertTriggered', T0);
    log.event('reopening', 'AlertAcknowledged', T0 + MIN);
    log.tick('reopening', T0 + 11 * MIN);
    const snapshot = log.snapshot();
    expect([...log.live.keys()].sort()).toStrictEqual(['acked', 'paged', 'reopening', 'stepped']);

    log.event('later', 'AlertTriggered', T0 + 12 * MIN);
    log.event('acked', 'AlertResolved', T0 + 12 * MIN);
    log.tick('paged', T0 + 12 * MIN, { keep: 1 });
    log.event('stepped', 'AlertAcknowledged', T0 + 13 * MIN);
    const floor = log.alerts.at(-2)![1];
    log.event('later', 'AlertAcknowledged', T0 + 14 * MIN, { keep: 0 });

    const whole = log.recover(floor);
    const fromSnapshot = log.recoverFrom(snapshot, floor);
    expect(fromSnapshot.states).toStrictEqual(whole.states);
    expect(fromSnapshot.lastSeq).toStrictEqual(whole.lastSeq);
    expect(new Map([...fromSnapshot.states].map(([id, s]) => [id, dueAt(s)]))).toStrictEqual(
      new Map([...whole.states].map(([id, s]) => [id, dueAt(s)])),
    );
    expect(fromSnapshot.reopen.map(([id]) => id)).toStrictEqual(whole.reopen.map(([id]) => id));
    expect(fromSnapshot.deliverFrom).toBe(whole.deliverFrom);
    expect(whole.reopen.map(([id]) => id)).toStrictEqual(['reopening']);
    // Ticked at once: from the snapshot only escalations whose last Tick is in the tail (what a crash
    // can have cut short); the whole log also names ones a Tick completed before the snapshot, and
    // ticking those decides nothing.
    expect(fromSnapshot.tickNow).toStrictEqual(['paged']);
    expect(whole.tickNow).toStrictEqual(['reopening', 'paged']);
    const now = T0 + 15 * MIN;
    expect(decideAndEvolve(whole.states.get('reopening'), { type: 'Tick' }, ctx(now)).decisions).toStrictEqual([]);
  });

  it('the live escalations are exactly the fold of the log (what makes a snapshot of them safe)', () => {
    const log = new Log();
    log.event('a', 'AlertTriggered', T0);
    log.event('a', 'AlertRepeated', T0 + MIN);
    log.tick('a', T0 + 5 * MIN);
    log.event('b', 'AlertTriggered', T0 + 5 * MIN);
    log.event('b', 'AlertAcknowledged', T0 + 6 * MIN);
    log.event('a', 'AlertEscalated', T0 + 7 * MIN);
    const whole = log.recover(log.alerts.at(-1)![1]);
    expect(whole.states).toStrictEqual(log.live);
    expect(whole.lastSeq).toStrictEqual(log.liveLastSeq);
  });
});

describe('rebuilding the flip histories (flapping) of a partition', () => {
  const flapping = (type: 'FlappingStarted' | 'FlappingEnded', alertId: string, seq: number) =>
    [
      buildEvent(
        type,
        (type === 'FlappingStarted'
          ? { alertId, serviceId: 'api', fingerprint: `fp-${alertId}`, flips: 4, windowSeconds: 600 }
          : { alertId, serviceId: 'api', fingerprint: `fp-${alertId}` }) as never,
        { id: stableUuid(`${type}:${seq}`), occurredAt: iso(T0), causationId: null, causationSeq: 1, correlationId: alertId },
      ) as EscalationEvent,
      seq,
    ] as const;

  it('gives the triggers of the alerts it folded, at their trigger times and in log order, not those above the floor', () => {
    const log = new Log();
    log.event('a', 'AlertTriggered', T0);
    log.event('b', 'AlertTriggered', T0 + MIN);
    log.event('b', 'AlertResolved', T0 + 2 * MIN);
    const floor = log.event('a', 'AlertAcknowledged', T0 + 3 * MIN);
    log.event('c', 'AlertTriggered', T0 + 4 * MIN);
    expect(log.recover(floor).flips).toStrictEqual({
      seeded: [],
      triggers: [
        ['api', 'fp-a', T0],
        ['api', 'fp-b', T0 + MIN],
      ],
      flapping: [],
    });
  });

  it('leaves out the trigger of an alert decided again from its first event (it records its own then)', () => {
    const log = new Log();
    log.event('a', 'AlertTriggered', T0);
    log.event('b', 'AlertTriggered', T0 + MIN, { keep: 0 });
    const r = log.recover(null);
    expect([...r.undecided]).toStrictEqual(['b']);
    expect(r.flips.triggers).toStrictEqual([['api', 'fp-a', T0]]);
  });

  it('gives the flapping starts (since the alert triggered) and ends of the log, and what the snapshot held first', () => {
    const log = new Log();
    const floor = log.event('a', 'AlertTriggered', T0 + MIN);
    const r = new Recovery(floor);
    r.seedFlips(['api', 'fp-old', [T0 - MIN, T0], T0]);
    for (const [e, seq] of log.alerts) r.alertEvent(e, seq);
    for (const [e, seq] of [...log.escalations, flapping('FlappingStarted', 'a', 100), flapping('FlappingEnded', 'a', 101)])
      r.decision(e, seq);
    expect(r.finish().flips).toStrictEqual({
      seeded: [['api', 'fp-old', [T0 - MIN, T0], T0]],
      triggers: [['api', 'fp-a', T0 + MIN]],
      flapping: [
        ['api', 'fp-a', T0 + MIN],
        ['api', 'fp-a', null],
      ],
    });
  });
});
