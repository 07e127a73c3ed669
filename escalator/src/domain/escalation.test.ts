import { describe, expect, it } from 'vitest';
import { makeEvent, type AlertEvent, type EscalationTarget, type EventData, type Recipient } from '@oncall/contracts';
import {
  compactState,
  ContentNeeded,
  contentRestored,
  decide,
  decideAndEvolve,
  dueAt,
  evolve,
  foldAlert,
  isSettled,
  restored,
  type Decision,
  type DirectoryUser,
  type Escalation,
  type EscalationContext,
  type EscalationInput,
  type EscalationPolicy,
  type RouteDecision,
  withoutContent,
} from './escalation.js';

const ALERT_ID = '7f1c2a4e-1111-4c6b-9d7e-0a1b2c3d4e5f';
const REF = { alertId: ALERT_ID, serviceId: 'api', fingerprint: 'fp1' };
const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const META = { id: '00000000-0000-4000-8000-000000000001', occurredAt: at(0), causationId: null, correlationId: 'c' };
const MIN = 60_000;

const alertEvent = <T extends AlertEvent['type']>(type: T, data: Omit<EventData<T>, 'alertId' | 'serviceId' | 'fingerprint'>): AlertEvent =>
  makeEvent(type, { ...REF, ...data } as EventData<T>, META);

const triggered = alertEvent('AlertTriggered', {
  summary: 'API down',
  details: '',
  severity: 'critical',
  labels: { site: 'fra1' },
  annotations: {},
  links: [],
  custom: {},
  source: 'alertmanager',
  startsAt: null,
  generatorUrl: null,
  seenAt: at(0),
});
const ackBy = (userId: string | null) => alertEvent('AlertAcknowledged', { by: userId ? 'user' : 'source', userId, note: '' });
const resolved = alertEvent('AlertResolved', { by: 'source', userId: null, note: '', endsAt: null });
const escalated = alertEvent('AlertEscalated', { userId: 'alice', note: '' });
const unacked = alertEvent('AlertUnacknowledged', { userId: null, reason: 'ack-timeout' });
const snoozed = alertEvent('AlertSnoozed', { userId: 'alice', note: '', until: at(30 * MIN) });

const policy = (over: Partial<EscalationPolicy> = {}): EscalationPolicy => ({
  policyId: 'p1',
  name: 'Primary',
  repeat: 0,
  steps: [
    { delaySeconds: 300, targets: [{ type: 'schedule', scheduleId: 'primary' }], untilAllAck: false },
    {
      delaySeconds: 600,
      targets: [
        { type: 'user', userId: 'carol' },
        { type: 'slack', channel: '#noc' },
      ],
      untilAllAck: false,
    },
  ],
  ...over,
});

const route = (over: Partial<RouteDecision> = {}): RouteDecision => ({
  rules: [],
  policyId: 'p1',
  templateId: 'default',
  templateVersion: 3,
  severity: 'critical',
  ticket: null,
  ackTimeoutSeconds: null,
  suppressed: null,
  maintenance: [],
  ...over,
});

const USERS: Record<string, DirectoryUser> = {
  alice: { name: 'Alice', contacts: [{ channel: 'sms', address: '+15555550101' }] },
  bob: { name: 'Bob', contacts: [{ channel: 'email', address: 'bob@example.com' }] },
  carol: { name: 'Carol', contacts: [{ channel: 'voice', address: '+15555550103' }] },
};

function ctx(now: number, over: { policy?: EscalationPolicy; route?: RouteDecision; onCall?: string[] } = {}): EscalationContext {
  const p = over.policy ?? policy();
  return {
    now,
    route: () => over.route ?? route(),
    policy: (id) => (id === p.policyId ? p : undefined),
    recipients: (t: EscalationTarget): Recipient[] => {
      switch (t.type) {
        case 'schedule':
        case 'rotation':
          return (over.onCall ?? ['alice']).map((userId) => ({ type: 'user', userId, via: `schedule:${t.scheduleId}` }));
        case 'user':
          return [{ type: 'user', userId: t.userId, via: 'direct' }];
        case 'slack':
          return [{ type: 'slack', channel: t.channel }];
        case 'webhook':
          return [{ type: 'webhook', url: t.url }];
        case 'tier':
          return [];
      }
    },
    user: (id) => USERS[id] ?? null,
    serviceName: (id) => `Service ${id}`,
  };
}

/** Runs inputs in order, each at its time, folding the decisions; returns the state and what each decided. */
function run(
  steps: Array<[number, EscalationInput]>,
  over: Parameters<typeof ctx>[1] = {},
): { state: Escalation | undefined; decided: Decision[][] } {
  let state: Escalation | undefined;
  const decided: Decision[][] = [];
  for (const [now, input] of steps) {
    const ds = decide(state, input, ctx(now, over));
    if (input.type === 'AlertEvent') state = foldAlert(state, input.event, input.seq);
    for (const d of ds) state = evolve(state, d);
    decided.push(ds);
  }
  return { state, decided };
}

let seq = 0;
const ev = (event: AlertEvent): EscalationInput => ({ type: 'AlertEvent', event, seq: ++seq });
const tick: EscalationInput = { type: 'Tick' };
const types = (ds: Decision[]) =>
  ds.map((d) =>
    d.type === 'NotificationRequested'
      ? `notify:${d.data.kind}:${key(d.data.recipient)}`
      : d.type === 'EscalationStepReached'
        ? `step:${d.data.round}.${d.data.step}.${d.data.page}:${d.data.reason}`
        : d.type === 'EscalationStopped'
          ? `stopped:${d.data.reason}`
          : d.type,
  );
const key = (r: Recipient) => (r.type === 'user' ? r.userId : r.type === 'slack' ? r.channel : r.url);

describe('escalation: triggered alerts', () => {
  it('given a routed policy, when an alert triggers, then it is routed, step 1 reached with the on-call user and that user is notified', () => {
    const { decided, state } = run([[T0, ev(triggered)]]);
    expect(types(decided[0]!)).toStrictEqual(['AlertRouted', 'step:0.0.0:triggered', 'notify:page:alice']);
    const step = decided[0]![1]!;
    expect(step.type === 'EscalationStepReached' && step.data).toMatchObject({
      recipients: [{ type: 'user', userId: 'alice', via: 'schedule:primary' }],
      nextAt: at(5 * MIN),
    });
    const note = decided[0]![2]!;
    expect(note.type === 'NotificationRequested' && note.data).toMatchObject({
      contacts: [{ channel: 'sms', address: '+15555550101' }],
      userName: 'Alice',
      templateId: 'default',
      templateVersion: 3,
      priority: 'critical',
      escalation: { policyId: 'p1', policyName: 'Primary', step: 0, totalSteps: 2 },
    });
    expect(dueAt(state!)).toBe(T0 + 5 * MIN);
  });

  it.each<[string, number, string[]]>([
    ['1 ms before the delay: nothing', 5 * MIN - 1, []],
    ['at the delay: step 2 with its user and channel', 5 * MIN, ['step:0.1.0:timeout', 'notify:page:carol', 'notify:page:#noc']],
  ])('given step 1, a tick %s', (_, ms, expected) => {
    const { decided } = run([
      [T0, ev(triggered)],
      [T0 + ms, tick],
    ]);
    expect(types(decided[1]!)).toStrictEqual(expected);
  });

  it('given the last step of the last round, when its delay passes, then the escalation is exhausted and nothing is due', () => {
    const { decided, state } = run([
      [T0, ev(triggered)],
      [T0 + 5 * MIN, tick],
      [T0 + 15 * MIN, tick],
      [T0 + 60 * MIN, tick],
    ]);
    expect(types(decided[2]!)).toStrictEqual([]);
    expect(state?.step?.nextAt).toBeNull();
    expect(dueAt(state!)).toBeNull();
  });

  it('given repeat 1, after the last step the policy starts over once, then stops exhausted', () => {
    const over = {
      policy: policy({ repeat: 1, steps: [{ delaySeconds: 60, targets: [{ type: 'user', userId: 'bob' }], untilAllAck: false }] }),
    };
    const { decided } = run(
      [
        [T0, ev(triggered)],
        [T0 + MIN, tick],
        [T0 + 2 * MIN, tick],
      ],
      over,
    );
    expect(types(decided[0]!)).toStrictEqual(['AlertRouted', 'step:0.0.0:triggered', 'notify:page:bob']);
    expect(types(decided[1]!)).toStrictEqual(['step:1.0.0:timeout', 'notify:page:bob']);
    expect(types(decided[2]!)).toStrictEqual([]);
  });

  it('a tick long after several delays (escalator down) moves one step on, and the next waits its delay from now', () => {
    const over = {
      policy: policy({
        steps: [0, 1, 2].map((i) => ({
          delaySeconds: 60,
          targets: [{ type: 'user' as const, userId: ['alice', 'bob', 'carol'][i]! }],
          untilAllAck: false,
        })),
      }),
    };
    const { decided } = run(
      [
        [T0, ev(triggered)],
        [T0 + 10 * MIN, tick],
      ],
      over,
    );
    expect(types(decided[1]!)).toStrictEqual(['step:0.1.0:timeout', 'notify:page:bob']);
    const step = decided[1]![0]!;
    expect(step.type === 'EscalationStepReached' && step.data.nextAt).toBe(at(11 * MIN));
  });

  it('an unknown user is still notified, with no contact methods (the dispatcher records the failure)', () => {
    const { decided } = run([[T0, ev(triggered)]], { onCall: ['ghost'] });
    const note = decided[0]![2]!;
    expect(note.type === 'NotificationRequested' && note.data.contacts).toStrictEqual([]);
  });

  it('a user not loaded yet stops the decision with UsersNeeded', () => {
    const c = { ...ctx(T0), user: () => undefined };
    expect(() => decide(undefined, ev(triggered), c)).toThrow(/users not loaded: alice/);
  });
});

describe('escalation: pages carry the effective severity', () => {
  const warning = alertEvent('AlertTriggered', { ...(triggered.data as EventData<'AlertTriggered'>), severity: 'warning' });
  const updatedTo = (severity: EventData<'AlertUpdated'>['severity']) =>
    alertEvent('AlertUpdated', {
      ...triggered.data,
      severity,
      changed: ['severity'],
      repeatCount: 0,
    } as Omit<EventData<'AlertUpdated'>, 'alertId' | 'serviceId' | 'fingerprint'>);
  const boosted = route({
    severity: 'error',
    severityBoost: { from: 'warning', to: 'error', by: 'equipment:core_router', boost: 1, severity: null },
    severityRule: null,
  });
  const pageOf = (ds: Decision[]) => ds.find((d) => d.type === 'NotificationRequested')?.data as EventData<'NotificationRequested'>;

  it.each<[string, RouteDecision, string, string, string]>([
    ['an equipment boost', boosted, 'error', 'warning', 'high'],
    [
      'a rule severity',
      route({ severity: 'critical', severityBoost: null, severityRule: 'bgp-hijack' }),
      'critical',
      'warning',
      'critical',
    ],
    ['nothing changed it', route({ severity: 'warning', severityBoost: null, severityRule: null }), 'warning', 'warning', 'normal'],
    ['an AlertRouted older than the fields: its severity', route({ severity: 'error' }), 'error', 'warning', 'high'],
  ])('%s', (_, r, severity, sourceSeverity, priority) => {
    const page = pageOf(run([[T0, ev(warning)]], { route: r }).decided[0]!);
    expect([page.alert.severity, page.alert.sourceSeverity, page.priority]).toStrictEqual([severity, sourceSeverity, priority]);
  });

  it('a later source severity gets the boost again at the next step', () => {
    const { decided } = run(
      [
        [T0, ev(warning)],
        [T0 + MIN, ev(updatedTo('info'))],
        [T0 + 5 * MIN, tick],
      ],
      { route: boosted },
    );
    const page = pageOf(decided[2]!);
    expect([page.alert.severity, page.alert.sourceSeverity]).toStrictEqual(['warning', 'info']);
  });
});

describe('escalation: routing outcomes', () => {
  it.each<[string, RouteDecision, string[]]>([
    ['no policy', route({ policyId: null }), ['AlertRouted', 'stopped:no-policy']],
    ['an unknown policy', route({ policyId: 'gone' }), ['AlertRouted', 'stopped:no-policy']],
    ['suppressed by a rule', route({ suppressed: { by: 'rule', windowId: null, until: null } }), ['AlertRouted']],
    ['suppressed by maintenance', route({ suppressed: { by: 'maintenance', windowId: 'mw1', until: at(60 * MIN) } }), ['AlertRouted']],
  ])('given %s, when an alert triggers, then nobody is paged', (_, r, expected) => {
    expect(types(run([[T0, ev(triggered)]], { route: r }).decided[0]!)).toStrictEqual(expected);
  });

  it('given a maintenance window, when it ends with the alert still open, then the alert is routed again and escalates', () => {
    const r = route({ suppressed: { by: 'maintenance', windowId: 'mw1', until: at(60 * MIN) } });
    const first = run([[T0, ev(triggered)]], { route: r });
    expect(dueAt(first.state!)).toBe(T0 + 60 * MIN);
    const c = ctx(T0 + 60 * MIN);
    const ds = decide(first.state, tick, c);
    expect(types(ds)).toStrictEqual(['AlertRouted', 'step:0.0.0:maintenance-ended', 'notify:page:alice']);
  });

  it('given a maintenance window, when the alert resolves inside it, then nothing is ever paged', () => {
    const r = route({ suppressed: { by: 'maintenance', windowId: 'mw1', until: at(60 * MIN) } });
    const { decided, state } = run(
      [
        [T0, ev(triggered)],
        [T0 + MIN, ev(resolved)],
        [T0 + 61 * MIN, tick],
      ],
      { route: r },
    );
    expect(decided.slice(1).map(types)).toStrictEqual([['stopped:resolved'], []]);
    expect(isSettled(state!)).toBe(true);
  });
});

describe('escalation: acknowledge, resolve, snooze, escalate', () => {
  it('given step 1, when acknowledged, then escalation stops and no step follows', () => {
    const { decided, state } = run([
      [T0, ev(triggered)],
      [T0 + MIN, ev(ackBy('alice'))],
      [T0 + 30 * MIN, tick],
    ]);
    expect(types(decided[1]!)).toStrictEqual(['stopped:acknowledged']);
    expect(types(decided[2]!)).toStrictEqual([]);
    expect(dueAt(state!)).toBeNull();
  });

  it('given an ack timeout, when it passes without a resolve, then the escalator asks to reopen; the reopen restarts at step 1', () => {
    const over = { route: route({ ackTimeoutSeconds: 1800 }) };
    const { decided, state } = run(
      [
        [T0, ev(triggered)],
        [T0 + MIN, ev(ackBy('alice'))],
        [T0 + 31 * MIN, tick],
        [T0 + 31 * MIN, tick],
      ],
      over,
    );
    expect(decided[1]![0]!.type === 'EscalationStopped' && decided[1]![0].data.reopenAt).toBe(at(31 * MIN));
    expect(types(decided[2]!)).toStrictEqual(['AlertReopenRequested']);
    expect(types(decided[3]!)).toStrictEqual([]);
    const reopened = decide(state, ev(unacked), ctx(T0 + 31 * MIN, over));
    expect(types(reopened)).toStrictEqual(['step:0.0.0:reopened', 'notify:page:alice']);
  });

  it('given a snooze, it stops until the snooze ends, then asks to reopen', () => {
    const { decided } = run([
      [T0, ev(triggered)],
      [T0 + MIN, ev(snoozed)],
      [T0 + 29 * MIN, tick],
      [T0 + 30 * MIN, tick],
    ]);
    expect(types(decided[1]!)).toStrictEqual(['stopped:snoozed']);
    expect(types(decided[2]!)).toStrictEqual([]);
    const reopen = decided[3]![0]!;
    expect(reopen.type === 'AlertReopenRequested' && reopen.data.reason).toBe('snooze-ended');
  });

  it('given paged users, when resolved, then escalation stops and everyone paged is told once', () => {
    const { decided, state } = run([
      [T0, ev(triggered)],
      [T0 + 5 * MIN, tick],
      [T0 + 6 * MIN, ev(resolved)],
      [T0 + 7 * MIN, tick],
    ]);
    expect(types(decided[2]!)).toStrictEqual([
      'stopped:resolved',
      'notify:resolved:alice',
      'notify:resolved:carol',
      'notify:resolved:#noc',
    ]);
    expect(types(decided[3]!)).toStrictEqual([]);
    expect(isSettled(state!)).toBe(true);
  });

  it('manual escalation jumps to the next step now', () => {
    const { decided } = run([
      [T0, ev(triggered)],
      [T0 + MIN, ev(escalated)],
    ]);
    expect(types(decided[1]!)).toStrictEqual(['step:0.1.0:manual', 'notify:page:carol', 'notify:page:#noc']);
  });

  it('an alert event already answered (seq at or below the decided mark) is folded but not decided again', () => {
    const first = run([[T0, ev(triggered)]]);
    const input = ev(escalated);
    const s = { ...first.state!, decidedSeq: (input as { seq: number }).seq };
    expect(decide(s, input, ctx(T0 + MIN))).toStrictEqual([]);
  });

  it('an alert event at or below the folded mark is skipped entirely', () => {
    const first = run([[T0, ev(triggered)]]);
    expect(decide(first.state, { type: 'AlertEvent', event: escalated, seq: first.state!.alertSeq }, ctx(T0 + MIN))).toStrictEqual([]);
  });
});

describe('escalation: steps that page until each user acknowledged', () => {
  const over = {
    onCall: ['alice', 'bob'],
    policy: policy({
      steps: [{ delaySeconds: 300, targets: [{ type: 'schedule', scheduleId: 'primary' }], untilAllAck: true }, policy().steps[1]!],
    }),
  };

  it('when one of two acknowledges, the other is paged again at the delay, and the step does not advance', () => {
    const { decided } = run(
      [
        [T0, ev(triggered)],
        [T0 + MIN, ev(ackBy('alice'))],
        [T0 + 5 * MIN, tick],
      ],
      over,
    );
    expect(types(decided[1]!)).toStrictEqual([]);
    expect(types(decided[2]!)).toStrictEqual(['step:0.0.1:repage', 'notify:page:bob']);
  });

  it('when both acknowledge, escalation stops', () => {
    const { decided } = run(
      [
        [T0, ev(triggered)],
        [T0 + MIN, ev(ackBy('alice'))],
        [T0 + 2 * MIN, ev(ackBy('bob'))],
      ],
      over,
    );
    expect(types(decided[2]!)).toStrictEqual(['stopped:acknowledged']);
  });

  it('an acknowledgement by someone not on the step stops everything', () => {
    const { decided } = run(
      [
        [T0, ev(triggered)],
        [T0 + MIN, ev(ackBy('zed'))],
      ],
      over,
    );
    expect(types(decided[1]!)).toStrictEqual(['stopped:acknowledged']);
  });
});

describe('escalation: recovery', () => {
  it('a state rebuilt after a crash between the step and its notifications completes them on a tick, once', () => {
    const full = run([[T0, ev(triggered)]]).decided[0]!;
    // Only the routing and the step reached the log before the crash.
    let s = foldAlert(undefined, triggered, 1);
    for (const d of full.slice(0, 2)) s = evolve(s, d);
    const completed = decide(s, tick, ctx(T0 + 1000));
    expect(types(completed)).toStrictEqual(['notify:page:alice']);
    expect(completed[0]).toStrictEqual(full[2]);
    for (const d of completed) s = evolve(s, d);
    expect(decide(s, tick, ctx(T0 + 2000))).toStrictEqual([]);
  });

  it('notification ids are stable per alert, step, round, page and recipient', () => {
    const a = run([[T0, ev(triggered)]]).decided[0]![2]!;
    const b = run([[T0 + 5000, ev(triggered)]]).decided[0]![2]!;
    expect(
      a.type === 'NotificationRequested' && b.type === 'NotificationRequested' && a.data.notificationId === b.data.notificationId,
    ).toBe(true);
  });
});

describe('escalation: a parked alert event retried', () => {
  /** An alert paged at step 1, then `parked` folded without a decision (deciding it threw), then `after`. */
  const given = (parked: AlertEvent, after: AlertEvent[] = []) => {
    let { state } = run([[T0, ev(triggered)]]);
    const parkedSeq = ++seq;
    state = foldAlert(state, parked, parkedSeq);
    for (const e of after) state = decideAndEvolve(state, ev(e), ctx(T0 + 2 * MIN)).state;
    return { state: state!, retry: { type: 'Retry', event: parked, seq: parkedSeq } as const };
  };

  it.each<[string, AlertEvent, AlertEvent[], string[]]>([
    ['an acknowledgement, the alert still acknowledged: escalation stops', ackBy('alice'), [], ['stopped:acknowledged']],
    ['an acknowledgement, the alert reopened since: superseded, nothing', ackBy('alice'), [unacked], []],
    [
      'a manual escalation, the alert still triggered: the next step now',
      escalated,
      [],
      ['step:0.1.0:manual', 'notify:page:carol', 'notify:page:#noc'],
    ],
    ['a manual escalation, the alert acknowledged since: superseded, nothing', escalated, [ackBy('bob')], []],
    ['a resolve: escalation stops and everyone paged is told', resolved, [], ['stopped:resolved', 'notify:resolved:alice']],
  ])('%s', (_, parked, after, expected) => {
    const { state, retry } = given(parked, after);
    expect(types(decideAndEvolve(state, retry, ctx(T0 + 3 * MIN)).decisions)).toStrictEqual(expected);
  });

  it('an event that was never folded is not decided by a retry (it is delivered as an alert event instead)', () => {
    const { state } = run([[T0, ev(triggered)]]);
    expect(decideAndEvolve(state, { type: 'Retry', event: escalated, seq: state!.alertSeq + 1 }, ctx(T0 + MIN)).decisions).toStrictEqual(
      [],
    );
  });
});

describe('state kept compact (docs/performance.md, "Escalator memory")', () => {
  const pagedAlert = (alertId: string): Escalation => {
    const event = makeEvent('AlertTriggered', { ...(triggered.data as EventData<'AlertTriggered'>), alertId }, META) as AlertEvent;
    return decideAndEvolve(undefined, { type: 'AlertEvent', event, seq: 1 }, ctx(T0, { onCall: ['alice', 'bob'] })).state!;
  };

  it('escalations paged alike share their lists of who was paged', () => {
    const a = pagedAlert('7f1c2a4e-1111-4c6b-9d7e-000000000001');
    const b = pagedAlert('7f1c2a4e-1111-4c6b-9d7e-000000000002');
    expect(a.step!.requested).toStrictEqual([0, 1]);
    expect(a.paged.map((r) => (r.type === 'user' ? r.userId : ''))).toStrictEqual(['alice', 'bob']);
    expect(b.step!.requested).toBe(a.step!.requested);
    expect(b.paged).toBe(a.paged);
    // The step's recipients and everyone paged are the same list.
    expect(a.paged).toBe(a.step!.recipients);
  });

  it('compactState gives the same value', () => {
    const a = pagedAlert('7f1c2a4e-1111-4c6b-9d7e-000000000004');
    const acked = foldAlert(a, ackBy('alice'), 2)!;
    for (const s of [a, acked]) {
      expect(compactState(s)).toStrictEqual(s);
      expect(compactState(s)).not.toBe(s);
    }
  });

  it('a state read back from a snapshot is the same value, its lists shared again', () => {
    const a = pagedAlert('7f1c2a4e-1111-4c6b-9d7e-000000000005');
    const back = restored(JSON.parse(JSON.stringify(a)) as Escalation);
    expect(back).toStrictEqual(a);
    expect(back.step!.requested).toBe(a.step!.requested);
    expect(back.paged).toBe(a.paged);
    expect(back.step!.recipients).toBe(a.step!.recipients);
  });

  it('an acknowledgement by a second user adds to the list, the first list unchanged', () => {
    const a = pagedAlert('7f1c2a4e-1111-4c6b-9d7e-000000000003');
    const once = foldAlert(a, ackBy('alice'), 2)!;
    const twice = foldAlert(once, ackBy('bob'), 3)!;
    expect(once.ackedBy).toStrictEqual(['alice']);
    expect(twice.ackedBy).toStrictEqual(['alice', 'bob']);
  });
});

describe('alert content dropped while an escalation waits (docs/performance.md, "Escalator memory")', () => {
  const content = triggered.data as EventData<'AlertTriggered'>;
  const routedOnly = (): Escalation => {
    let s = foldAlert(undefined, triggered, 7)!;
    s = evolve(s, decide(s, { type: 'Tick' }, ctx(T0))[0]!)!;
    return s;
  };
  const paged = (): Escalation => decideAndEvolve(undefined, { type: 'AlertEvent', event: triggered, seq: 7 }, ctx(T0)).state!;

  it('the trigger names where the content is, an update moves it there', () => {
    const s = foldAlert(undefined, triggered, 7)!;
    expect(s.contentSeq).toBe(7);
    const { source: _s, startsAt: _a, generatorUrl: _g, ...fields } = content;
    const update = alertEvent('AlertUpdated', { ...fields, summary: 'API still down', changed: ['summary'], repeatCount: 1 });
    const updated = foldAlert(withoutContent(paged()), update, 9)!;
    expect(updated).toMatchObject({ contentSeq: 9, contentDropped: false });
    expect(updated.alert.summary).toBe('API still down');
  });

  it.each<[string, () => Escalation, boolean]>([
    ['paged, waiting on its next step: dropped', paged, true],
    ['routed, no step reached yet (storm sense may need its labels): kept', routedOnly, false],
    [
      'an inhibition source (the shared entries follow its labels): kept',
      () => ({ ...paged(), route: route({ inhibits: ['r1'] }) }),
      false,
    ],
    ['from a snapshot taken before contentSeq (not known where it is): kept', () => ({ ...paged(), contentSeq: 0 }), false],
  ])('%s', (_, state, dropped) => {
    const s = state();
    const after = withoutContent(s);
    expect(after.contentDropped).toBe(dropped);
    if (!dropped) expect(after).toBe(s);
    else {
      expect(after.alert).toMatchObject({ summary: '', details: '', labels: {}, annotations: {}, links: [], severity: 'critical' });
      expect({ ...after, alert: s.alert, contentDropped: false }).toStrictEqual(s);
      expect(dueAt(after)).toBe(dueAt(s));
    }
  });

  it.each<[string, EscalationInput, number]>([
    ['the timer of the next step (its pages carry the alert)', tick, 5 * MIN],
    ['an escalation by hand', { type: 'AlertEvent', event: escalated, seq: 8 }, MIN],
    ['the resolution (everyone paged is told)', { type: 'AlertEvent', event: resolved, seq: 8 }, MIN],
  ])('%s: ContentNeeded at the content sequence, then, read back, the same decisions as with the content held', (_, input, ms) => {
    const held = paged();
    const dropped = withoutContent(held);
    expect(() => decide(dropped, input, ctx(T0 + ms))).toThrow(ContentNeeded);
    try {
      decide(dropped, input, ctx(T0 + ms));
    } catch (err) {
      expect(err).toMatchObject({ alertId: ALERT_ID, seq: 7 });
    }
    const back = contentRestored(dropped, content);
    expect(back).toStrictEqual(held);
    const expected = decide(held, input, ctx(T0 + ms));
    expect(expected.length).toBeGreaterThan(0);
    expect(decide(back, input, ctx(T0 + ms))).toStrictEqual(expected);
  });

  it('an acknowledgement, and a tick with nothing due, need no content', () => {
    const dropped = withoutContent(paged());
    expect(types(decide(dropped, ev(ackBy('alice')), ctx(T0 + MIN)))).toStrictEqual(['stopped:acknowledged']);
    expect(decide(dropped, tick, ctx(T0 + MIN))).toStrictEqual([]);
  });

  it('a dropped state read back from a snapshot is the same value; one from a snapshot before the field keeps its content', () => {
    const dropped = withoutContent(paged());
    expect(restored(JSON.parse(JSON.stringify(dropped)) as Escalation)).toStrictEqual(dropped);
    const { contentSeq: _c, contentDropped: _d, ...old } = paged();
    expect(restored(JSON.parse(JSON.stringify(old)) as Escalation)).toMatchObject({ contentSeq: 0, contentDropped: false });
  });
});
