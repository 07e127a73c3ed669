import { describe, expect, it } from 'vitest';
import type { Signal } from '@oncall/contracts';
import { decide, evolve, isRecorded, REPEAT_RECORD_INTERVAL_MS, type AlertCommand, type DecidedEvent, type OpenAlert } from './alert.js';

const ALERT_ID = '11111111-1111-4111-8111-111111111111';
const NEW_ID = '22222222-2222-4222-8222-222222222222';
const OTHER_ID = '33333333-3333-4333-8333-333333333333';
const REF = { alertId: ALERT_ID, serviceId: 'svc', fingerprint: 'fp-1' };
const ENDS_AT = '2026-01-01T01:00:00.000Z';
/** When the alert triggered: `recordedAt` of a fresh alert. */
const TRIGGERED_AT = '2026-01-01T00:00:10.000Z';
/** `ms` after TRIGGERED_AT, as an ISO time. */
const after = (ms: number): string => new Date(Date.parse(TRIGGERED_AT) + ms).toISOString();
/** The default decision time: a repeat well inside the recording interval. */
const NOW = after(5_000);

const signal = (over: Partial<Signal> = {}): Signal => ({
  fingerprint: 'fp-1',
  status: 'firing',
  summary: 'disk full',
  details: 'db1 at 99%',
  severity: 'critical',
  labels: { alertname: 'DiskFull', host: 'db1' },
  annotations: { runbook: 'http://rb/disk' },
  startsAt: '2026-01-01T00:00:00.000Z',
  endsAt: null,
  generatorUrl: 'http://prom/graph',
  links: [{ href: 'http://grafana/d/disk', text: 'Dashboard' }],
  custom: { values: { B: 99, C: 1 }, tags: ['db', 'disk'] },
  ...over,
});

const report = (s: Signal): AlertCommand => ({ type: 'ReportSignal', data: { serviceId: 'svc', source: 'alertmanager', signal: s } });
const ack = (alertId = ALERT_ID): AlertCommand => ({ type: 'AcknowledgeAlert', data: { ...REF, alertId, userId: 'u1', note: 'on it' } });
const resolve = (alertId = ALERT_ID): AlertCommand => ({ type: 'ResolveAlert', data: { ...REF, alertId, userId: 'u1', note: 'fixed' } });

const { fingerprint: _fp, status: _st, endsAt: _end, ...content } = signal();
const triggered: DecidedEvent = { type: 'AlertTriggered', data: { ...REF, source: 'alertmanager', ...content, seenAt: TRIGGERED_AT } };
const acknowledged: DecidedEvent = { type: 'AlertAcknowledged', data: { ...REF, by: 'user', userId: 'u1', note: 'on it' } };
const acknowledgedBySource: DecidedEvent = { type: 'AlertAcknowledged', data: { ...REF, by: 'source', userId: null, note: '' } };
const resolvedBySource: DecidedEvent = {
  type: 'AlertResolved',
  data: { ...REF, by: 'source', userId: null, note: '', endsAt: ENDS_AT },
};
const seen: DecidedEvent = { type: 'RepeatSeen', data: REF };
const repeated = (repeatCount: number, seenAt: string, over: Partial<Signal> = {}): DecidedEvent => {
  const s = signal(over);
  return { type: 'AlertRepeated', data: { ...REF, repeatCount, seenAt, links: s.links, custom: s.custom } };
};
/** The AlertUpdated that `signal(over)` decides into on an open alert. */
const updated = (over: Partial<Signal>, changed: string[], repeatCount: number, seenAt = NOW): DecidedEvent => {
  const s = signal(over);
  return {
    type: 'AlertUpdated',
    data: {
      ...REF,
      summary: s.summary,
      details: s.details,
      severity: s.severity,
      labels: s.labels,
      annotations: s.annotations,
      links: s.links,
      custom: s.custom,
      changed,
      repeatCount,
      seenAt,
    },
  };
};

type Declined = Extract<DecidedEvent, { type: 'AlertCommandDeclined' }>['data'];

const fold = (events: DecidedEvent[]): OpenAlert | undefined => events.reduce<OpenAlert | undefined>((s, e) => evolve(s, e), undefined);

/** Folds `given` with evolve, then decides `when` at `now`; ctx hands out NEW_ID and counts the calls. */
function given(...events: DecidedEvent[]) {
  const state = fold(events);
  return {
    when(command: AlertCommand, now = NOW) {
      let ids = 0;
      const newAlertId = () => {
        ids++;
        return NEW_ID;
      };
      const run = () => decide(command, state, { now, newAlertId });
      return {
        then(expected: DecidedEvent[], newIds = 0) {
          expect(run()).toStrictEqual(expected);
          expect(ids).toBe(newIds);
        },
        /** The one answer is AlertCommandDeclined for `reason`, with `more` of its data. */
        thenDeclined(reason: Declined['reason'], more: Partial<Declined> = {}) {
          const decided = run();
          expect(decided).toHaveLength(1);
          expect(decided[0]).toMatchObject({ type: 'AlertCommandDeclined', data: { reason, ...more } });
        },
      };
    },
  };
}

describe('alert decider: signals', () => {
  it('given no alert, when a firing signal, then AlertTriggered with a new id, seen now', () => {
    given()
      .when(report(signal()))
      .then([{ type: 'AlertTriggered', data: { ...triggered.data, alertId: NEW_ID, seenAt: NOW } }], 1);
  });

  it.each<[string, string[], Partial<Signal>]>([
    ['a label value', ['labels'], { labels: { alertname: 'DiskFull', host: 'db2' } }],
    ['an added label', ['labels'], { labels: { alertname: 'DiskFull', host: 'db1', dc: 'eu' } }],
    ['a removed label', ['labels'], { labels: { alertname: 'DiskFull' } }],
    ['a renamed label key', ['labels'], { labels: { alertname: 'DiskFull', node: 'db1' } }],
    ['an annotation', ['annotations'], { annotations: { runbook: 'http://rb/other' } }],
    ['the summary', ['summary'], { summary: 'disk nearly full' }],
    ['the details', ['details'], { details: 'db1 at 98%' }],
    ['the severity', ['severity'], { severity: 'warning' }],
    ['summary and severity', ['summary', 'severity'], { summary: 'x', severity: 'info' }],
    [
      'everything at once',
      ['summary', 'details', 'severity', 'labels', 'annotations'],
      { summary: 'x', details: 'y', severity: 'info', labels: {}, annotations: {}, links: [], custom: {} },
    ],
  ])('given a triggered alert, when a repeat with %s changed, then AlertUpdated with changed = %j', (_, changed, over) => {
    given(triggered)
      .when(report(signal(over)))
      .then([updated(over, changed, 1)]);
  });

  it.each<[string, Partial<Signal>]>([
    ['identical content', {}],
    ['same labels in another key order', { labels: { host: 'db1', alertname: 'DiskFull' } }],
    ['new custom values (Grafana refreshes them on every send)', { custom: { values: { B: 100, C: 1 } } }],
    ['new links (Grafana moves their time range on every send)', { links: [{ href: 'http://grafana/d/disk?to=now', text: 'Dashboard' }] }],
    ['no links or custom any more', { links: [], custom: {} }],
    ['another startsAt and generatorUrl (not content)', { startsAt: '2026-01-01T00:00:05.000Z', generatorUrl: 'http://prom/other' }],
  ])('given a triggered alert, when a repeat with %s within the interval, then RepeatSeen only', (_, over) => {
    given(triggered)
      .when(report(signal(over)))
      .then([seen]);
  });

  it('given an update, when the updated content repeats, then RepeatSeen', () => {
    const update = updated({ summary: 'new' }, ['summary'], 1, after(1_000));
    given(triggered, update)
      .when(report(signal({ summary: 'new' })), after(2_000))
      .then([seen]);
  });

  it('given an acknowledged alert, when a repeat, then RepeatSeen (the status stays)', () => {
    given(triggered, acknowledged).when(report(signal())).then([seen]);
    expect(fold([triggered, acknowledged, seen])?.status).toBe('acknowledged');
  });

  it.each([
    ['a triggered', [triggered]],
    ['an acknowledged', [triggered, acknowledged]],
    ['a source-acknowledged', [triggered, acknowledgedBySource]],
  ])('given %s alert, when a resolved signal, then AlertResolved by the source with endsAt', (_, history) => {
    given(...history)
      .when(report(signal({ status: 'resolved', endsAt: ENDS_AT })))
      .then([resolvedBySource]);
  });

  it('given no alert, when a resolved signal, then nothing', () => {
    given()
      .when(report(signal({ status: 'resolved', endsAt: ENDS_AT })))
      .then([]);
  });

  it('given a resolved alert, when it fires again, then a new alert with a new id', () => {
    expect(evolve(evolve(undefined, triggered), resolvedBySource)).toBeUndefined();
    given(triggered, resolvedBySource)
      .when(report(signal()))
      .then([{ type: 'AlertTriggered', data: { ...triggered.data, alertId: NEW_ID, seenAt: NOW } }], 1);
  });
});

describe('alert decider: repeats', () => {
  it('records nothing for a repeat within the interval: RepeatSeen is in-memory only', () => {
    const decided = decide(report(signal()), fold([triggered]), { now: after(REPEAT_RECORD_INTERVAL_MS - 1), newAlertId: () => NEW_ID });
    expect(decided).toStrictEqual([seen]);
    expect(decided.filter(isRecorded)).toStrictEqual([]);
  });

  it.each<[string, 'RepeatSeen' | 'AlertRepeated', number]>([
    ['at the same instant', 'RepeatSeen', 0],
    ['1 ms before the interval ends', 'RepeatSeen', REPEAT_RECORD_INTERVAL_MS - 1],
    ['exactly at the interval', 'AlertRepeated', REPEAT_RECORD_INTERVAL_MS],
    ['an hour later', 'AlertRepeated', 3_600_000],
  ])('given a fresh alert, a repeat %s gives %s', (_, type, ms) => {
    given(triggered)
      .when(report(signal()), after(ms))
      .then([type === 'RepeatSeen' ? seen : repeated(1, after(ms))]);
  });

  it('given a fresh alert, a manual repeat (CreateAlert) within the interval is recorded: the API answers with its event', () => {
    const manual: AlertCommand = { type: 'ReportSignal', data: { serviceId: 'svc', source: 'manual', signal: signal() } };
    given(triggered, seen)
      .when(manual, after(1_000))
      .then([repeated(2, after(1_000))]);
  });

  it('given several RepeatSeen, when a repeat ≥ 60 s after recordedAt, then AlertRepeated with the cumulative count', () => {
    given(triggered, seen, seen, seen)
      .when(report(signal()), after(60_000))
      .then([repeated(4, after(60_000))]);
  });

  it('given an AlertRepeated, the interval restarts from its seenAt and the count goes on from its repeatCount', () => {
    const history = [triggered, seen, seen, seen, repeated(4, after(60_000)), seen, seen];
    given(...history)
      .when(report(signal()), after(100_000))
      .then([seen]);
    given(...history)
      .when(report(signal()), after(120_000))
      .then([repeated(7, after(120_000))]);
  });

  it('given RepeatSeen on an acknowledged alert, the repeat is still recorded once due', () => {
    given(triggered, seen, acknowledged, seen)
      .when(report(signal()), after(90_000))
      .then([repeated(3, after(90_000))]);
  });

  it('given earlier repeats, when the content changes, then AlertUpdated carries the cumulative repeatCount', () => {
    const over = { severity: 'warning' } as const;
    given(triggered, seen, seen)
      .when(report(signal(over)))
      .then([updated(over, ['severity'], 3)]);
    given(triggered, seen, seen, repeated(3, after(60_000)), seen)
      .when(report(signal(over)), after(61_000))
      .then([updated(over, ['severity'], 5, after(61_000))]);
  });

  it('given an AlertUpdated, the interval restarts from its seenAt and the count from its repeatCount', () => {
    const over = { summary: 'new' };
    const history = [triggered, seen, updated(over, ['summary'], 2, after(50_000)), seen];
    given(...history)
      .when(report(signal(over)), after(109_999))
      .then([seen]);
    given(...history)
      .when(report(signal(over)), after(110_000))
      .then([repeated(4, after(110_000))]);
  });
});

describe('alert decider: acknowledgements', () => {
  it('given a triggered alert, when an acknowledged signal, then AlertAcknowledged by the source', () => {
    given(triggered)
      .when(report(signal({ status: 'acknowledged' })))
      .then([acknowledgedBySource]);
  });

  it.each([
    ['a user-acknowledged', [triggered, acknowledged]],
    ['a source-acknowledged', [triggered, acknowledgedBySource]],
    ['no', []],
    ['a resolved', [triggered, resolvedBySource]],
  ])('given %s alert, when an acknowledged signal, then nothing', (_, history) => {
    given(...history)
      .when(report(signal({ status: 'acknowledged' })))
      .then([]);
  });

  it('an acknowledged signal with changed content acknowledges only', () => {
    given(triggered)
      .when(report(signal({ status: 'acknowledged', summary: 'other', custom: {} })))
      .then([acknowledgedBySource]);
  });

  it('given a triggered alert, when acknowledged by a user, then AlertAcknowledged by the user', () => {
    given(triggered).when(ack()).then([acknowledged]);
  });

  it('given an alert acknowledged by the same user, when acknowledged again, then declined as unchanged, saying who and how', () => {
    given(triggered, acknowledged)
      .when(ack())
      .thenDeclined('unchanged', {
        command: 'acknowledge',
        userId: 'u1',
        status: 'acknowledged',
        lastChange: { action: 'acknowledged', userId: 'u1' },
      });
    const viaSms: DecidedEvent = { type: 'AlertAcknowledged', data: { ...REF, by: 'user', userId: 'u1', note: '', via: 'sms' } };
    given(triggered, viaSms)
      .when({ type: 'AcknowledgeAlert', data: { ...REF, userId: 'u1', note: '', via: 'slack' } })
      .thenDeclined('unchanged', { via: 'slack', lastChange: { action: 'acknowledged', userId: 'u1', via: 'sms' } });
  });

  it('a command names where the person acted, and so does the event it causes', () => {
    given(triggered)
      .when({ type: 'AcknowledgeAlert', data: { ...REF, userId: 'u1', note: '', via: 'slack' } })
      .then([{ type: 'AlertAcknowledged', data: { ...REF, by: 'user', userId: 'u1', note: '', via: 'slack' } }]);
  });

  it('two people at once: the first resolve wins, the acknowledgement after it is declined as closed', () => {
    const resolvedByAlice: DecidedEvent = {
      type: 'AlertResolved',
      data: { ...REF, by: 'user', userId: 'alice', note: '', endsAt: null, via: 'slack' },
    };
    given(triggered, resolvedByAlice)
      .when({ type: 'AcknowledgeAlert', data: { ...REF, userId: 'bob', note: '', via: 'sms' } })
      .thenDeclined('closed', { userId: 'bob', via: 'sms', status: 'resolved' });
  });

  it('given an alert acknowledged by the source or another user, when a user acknowledges, then that user is recorded too', () => {
    given(triggered, acknowledgedBySource).when(ack()).then([acknowledged]);
    const byOther: DecidedEvent = { type: 'AlertAcknowledged', data: { ...REF, by: 'user', userId: 'u2', note: '' } };
    given(triggered, byOther).when(ack()).then([acknowledged]);
    expect(fold([triggered, byOther, acknowledged])?.ackedBy).toStrictEqual(['u2', 'u1']);
  });
});

describe('alert decider: snooze, escalate, unacknowledge', () => {
  const until = after(3_600_000);
  const snooze = (at = until): AlertCommand => ({ type: 'SnoozeAlert', data: { ...REF, userId: 'u1', note: 'later', until: at } });
  const escalate: AlertCommand = { type: 'EscalateAlert', data: { ...REF, userId: 'u1', note: 'need help' } };
  const unack: AlertCommand = { type: 'UnacknowledgeAlert', data: { ...REF, userId: null, reason: 'ack-timeout' } };
  const snoozed: DecidedEvent = { type: 'AlertSnoozed', data: { ...REF, userId: 'u1', note: 'later', until } };
  const unacked: DecidedEvent = { type: 'AlertUnacknowledged', data: { ...REF, userId: null, reason: 'ack-timeout' } };

  it.each([
    ['a triggered', [triggered]],
    ['an acknowledged', [triggered, acknowledged]],
  ])('given %s alert, when snoozed, then AlertSnoozed and the status is snoozed', (_, history) => {
    given(...history)
      .when(snooze())
      .then([snoozed]);
    expect(fold([...history, snoozed])?.status).toBe('snoozed');
  });

  it('a snooze that ends now or earlier is invalid', () => {
    given(triggered).when(snooze(NOW)).thenDeclined('invalid');
    given(triggered).when(snooze('')).thenDeclined('invalid');
  });

  it('given a triggered alert, when escalated, then AlertEscalated (the status stays)', () => {
    const escalated: DecidedEvent = { type: 'AlertEscalated', data: { ...REF, userId: 'u1', note: 'need help' } };
    given(triggered).when(escalate).then([escalated]);
    expect(fold([triggered, escalated])?.status).toBe('triggered');
  });

  it.each([
    ['an acknowledged', [triggered, acknowledged]],
    ['a snoozed', [triggered, snoozed]],
  ])('given %s alert, when unacknowledged, then it is triggered again and its ackers forgotten', (_, history) => {
    given(...history)
      .when(unack)
      .then([unacked]);
    expect(fold([...history, unacked])).toMatchObject({ status: 'triggered', ackedBy: [] });
  });

  it('given a triggered alert, when unacknowledged, then declined as unchanged (a reopen that raced)', () => {
    given(triggered).when(unack).thenDeclined('unchanged', { status: 'triggered', userId: null });
  });

  it.each<[string, DecidedEvent[], AlertCommand]>([
    ['snooze on no alert', [], snooze()],
    ['escalate on a resolved alert', [triggered, resolvedBySource], escalate],
    ['unacknowledge on no alert', [], unack],
  ])('%s is declined as closed', (_, history, command) => {
    given(...history)
      .when(command)
      .thenDeclined('closed', { status: 'resolved', lastChange: null });
  });
});

describe('alert decider: user commands', () => {
  it.each([
    ['a triggered', [triggered]],
    ['an acknowledged', [triggered, acknowledged]],
  ])('given %s alert, when resolved by a user, then AlertResolved by the user', (_, history) => {
    given(...history)
      .when(resolve())
      .then([{ type: 'AlertResolved', data: { ...REF, by: 'user', userId: 'u1', note: 'fixed', endsAt: null } }]);
  });

  it.each<[string, DecidedEvent[], AlertCommand]>([
    ['ack on no alert', [], ack()],
    ['resolve on no alert', [], resolve()],
    ['ack on a resolved alert', [triggered, resolvedBySource], ack()],
    ['ack of another alert id (an older alert of the fingerprint)', [triggered], ack(OTHER_ID)],
    ['resolve of another alert id', [triggered, acknowledged], resolve(OTHER_ID)],
  ])('%s is declined as closed, naming the alert', (_, history, command) => {
    given(...history)
      .when(command)
      .thenDeclined('closed', { alertId: command.type === 'ReportSignal' ? '' : command.data.alertId, status: 'resolved' });
  });
});

describe('alert evolve', () => {
  const counts = (s: OpenAlert | undefined) =>
    s && { repeatCount: s.repeatCount, unrecordedRepeats: s.unrecordedRepeats, recordedAt: s.recordedAt };

  it('AlertTriggered opens the alert with its content and zero counts recorded at seenAt', () => {
    expect(fold([triggered])).toStrictEqual({
      ...REF,
      status: 'triggered',
      summary: content.summary,
      details: content.details,
      severity: content.severity,
      labels: content.labels,
      annotations: content.annotations,
      links: content.links,
      custom: content.custom,
      repeatCount: 0,
      unrecordedRepeats: 0,
      recordedAt: TRIGGERED_AT,
      ackedBy: [],
    });
  });

  it.each<[string, DecidedEvent[], ReturnType<typeof counts>]>([
    ['RepeatSeen counts unrecorded repeats', [triggered, seen, seen], { repeatCount: 0, unrecordedRepeats: 2, recordedAt: TRIGGERED_AT }],
    [
      'AlertRepeated records the count',
      [triggered, seen, repeated(2, after(60_000))],
      { repeatCount: 2, unrecordedRepeats: 0, recordedAt: after(60_000) },
    ],
    [
      'AlertUpdated records the count',
      [triggered, seen, updated({ summary: 'x' }, ['summary'], 2, after(5_000))],
      { repeatCount: 2, unrecordedRepeats: 0, recordedAt: after(5_000) },
    ],
    [
      'AlertAcknowledged keeps the counts',
      [triggered, seen, acknowledged],
      { repeatCount: 0, unrecordedRepeats: 1, recordedAt: TRIGGERED_AT },
    ],
  ])('%s', (_, history, expected) => {
    expect(counts(fold(history))).toStrictEqual(expected);
  });

  it('AlertUpdated takes the new content, links and custom included', () => {
    const over = { summary: 'x', links: [], custom: { a: 1 } };
    expect(fold([triggered, updated(over, ['summary'], 1)])).toMatchObject({ summary: 'x', links: [], custom: { a: 1 } });
  });

  it('AlertRepeated refreshes links and custom', () => {
    const over = { links: [{ href: 'http://g/new', text: 'Panel' }], custom: { values: { B: 1 } } };
    expect(fold([triggered, repeated(1, after(60_000), over)])).toMatchObject(over);
  });

  it.each<[string, DecidedEvent]>([
    ['RepeatSeen', seen],
    ['AlertRepeated', repeated(1, NOW)],
    ['AlertUpdated', updated({}, ['summary'], 1)],
    ['AlertAcknowledged', acknowledged],
    ['AlertResolved', resolvedBySource],
  ])('%s on no alert leaves no alert', (_, event) => {
    expect(evolve(undefined, event)).toBeUndefined();
  });
});

describe('isRecorded', () => {
  it.each<[string, boolean, DecidedEvent]>([
    ['AlertTriggered', true, triggered],
    ['AlertUpdated', true, updated({ summary: 'x' }, ['summary'], 1)],
    ['AlertRepeated', true, repeated(1, NOW)],
    ['AlertAcknowledged by a user', true, acknowledged],
    ['AlertAcknowledged by the source', true, acknowledgedBySource],
    ['AlertResolved', true, resolvedBySource],
    ['RepeatSeen', false, seen],
  ])('%s → %s', (_, expected, event) => {
    expect(isRecorded(event)).toBe(expected);
  });
});
