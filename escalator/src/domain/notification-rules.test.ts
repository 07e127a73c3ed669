import { describe, expect, it } from 'vitest';
import { makeEvent, type AlertEvent, type EventData, type NotificationRule, type Recipient } from '@oncall/contracts';
import {
  decide,
  dueAt,
  evolve,
  foldAlert,
  restored,
  type Decision,
  type DirectoryUser,
  type Escalation,
  type EscalationContext,
  type EscalationInput,
  type EscalationPolicy,
} from './escalation.js';
import { chooseContacts } from './notification-rules.js';

const ALERT_ID = '7f1c2a4e-2222-4c6b-9d7e-0a1b2c3d4e5f';
const REF = { alertId: ALERT_ID, serviceId: 'api', fingerprint: 'fp1' };
const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const META = { id: '00000000-0000-4000-8000-000000000002', occurredAt: at(0), causationId: null, correlationId: 'c' };
const SEC = 1000;
const MIN = 60 * SEC;

const alertEvent = <T extends AlertEvent['type']>(type: T, data: Omit<EventData<T>, 'alertId' | 'serviceId' | 'fingerprint'>): AlertEvent =>
  makeEvent(type, { ...REF, ...data } as EventData<T>, META);
const triggered = alertEvent('AlertTriggered', {
  summary: 'API down',
  details: '',
  severity: 'critical',
  labels: {},
  annotations: {},
  links: [],
  custom: {},
  source: 'alertmanager',
  startsAt: null,
  generatorUrl: null,
  seenAt: at(0),
});
const ackBy = (userId: string) => alertEvent('AlertAcknowledged', { by: 'user', userId, note: '' });
const resolved = alertEvent('AlertResolved', { by: 'source', userId: null, note: '', endsAt: null });
const unacked = alertEvent('AlertUnacknowledged', { userId: 'alice', reason: 'user' });

const ALICE: DirectoryUser = {
  name: 'Alice',
  contacts: [
    { channel: 'email', address: 'alice@example.com', verified: true },
    { channel: 'slack', address: 'U0ALICE', verified: true },
    { channel: 'sms', address: '+15555550101', verified: false },
    { channel: 'voice', address: '+15555550101', verified: true },
  ],
};
const BOB: DirectoryUser = { name: 'Bob', contacts: [{ channel: 'email', address: 'bob@example.com' }] };
/** slack at 0, sms at 1 min, voice at 5 min. */
const ALICE_RULES: NotificationRule[] = [
  { channel: 'slack', delaySeconds: 0 },
  { channel: 'sms', delaySeconds: 60 },
  { channel: 'voice', delaySeconds: 300 },
];

type Over = {
  rules?: Record<string, NotificationRule[]>;
  requireVerified?: boolean;
  policy?: EscalationPolicy;
  /** Methods the log verified (ContactMethodVerified), as `<user> <channel> <address>`. */
  logVerified?: string[];
};

const onePolicy = (over: Partial<EscalationPolicy> = {}): EscalationPolicy => ({
  policyId: 'p1',
  name: 'Primary',
  repeat: 0,
  steps: [
    { delaySeconds: 600, targets: [{ type: 'user', userId: 'alice' }], untilAllAck: false },
    { delaySeconds: 600, targets: [{ type: 'user', userId: 'bob' }], untilAllAck: false },
  ],
  ...over,
});

function ctx(now: number, over: Over): EscalationContext {
  const p = over.policy ?? onePolicy();
  const rules = over.rules ?? { alice: ALICE_RULES };
  return {
    now,
    route: () => ({
      rules: [],
      policyId: 'p1',
      templateId: null,
      templateVersion: null,
      severity: 'critical',
      ticket: null,
      ackTimeoutSeconds: null,
      suppressed: null,
      maintenance: [],
    }),
    policy: (id) => (id === p.policyId ? p : undefined),
    recipients: (t): Recipient[] => (t.type === 'user' ? [{ type: 'user', userId: t.userId, via: 'direct' }] : []),
    user: (id) => ({ alice: ALICE, bob: BOB })[id] ?? null,
    serviceName: (id) => id,
    rules: (id) => rules[id],
    requireVerified: over.requireVerified ?? false,
    verifiedContacts: (userId, contacts) =>
      contacts.map((c) =>
        over.logVerified?.includes(`${userId} ${c.channel} ${c.address}`) ? { channel: c.channel, address: c.address } : c,
      ),
  };
}

let seq = 0;
const ev = (event: AlertEvent): EscalationInput => ({ type: 'AlertEvent', event, seq: ++seq });
const tick: EscalationInput = { type: 'Tick' };

/** Given these inputs at these times, what each decided, and the state after. */
function given(inputs: Array<[number, EscalationInput]>, over: Over = {}) {
  let state: Escalation | undefined;
  const decided: Decision[][] = [];
  for (const [now, input] of inputs) {
    const ds = decide(state, input, ctx(now, over));
    if (input.type === 'AlertEvent') state = foldAlert(state, input.event, input.seq);
    for (const d of ds) state = evolve(state, d);
    decided.push(ds);
  }
  return { state, decided };
}

/** A notification as `user:channels[+rules]`; other decisions by type. */
const shown = (ds: Decision[]): string[] =>
  ds.map((d) => {
    if (d.type !== 'NotificationRequested') return d.type === 'EscalationStepReached' ? `step ${d.data.step}` : d.type;
    const who = d.data.recipient.type === 'user' ? d.data.recipient.userId : d.data.recipient.type;
    const skipped = d.data.skipped?.map((s) => ` -${s.channel}(${s.reason})`).join('') ?? '';
    return `${d.data.kind} ${who}:${d.data.contacts.map((c) => c.channel).join('+') || '∅'}${skipped}`;
  });

describe('notification rules: when a step pages a user', () => {
  it.each<[string, Over, string[], number | null]>([
    ['without rules, every method at once (today)', { rules: {} }, ['page alice:email+slack+sms+voice'], 10 * MIN],
    ['with rules, the ones due at once; the next due at 1 min', {}, ['page alice:slack'], 1 * MIN],
    [
      'with no rule at 0, nothing yet (the page is recorded), the first at its delay',
      { rules: { alice: [{ channel: 'sms', delaySeconds: 120 }] } },
      ['page alice:∅'],
      2 * MIN,
    ],
    [
      'a rule for a method the user lacks is skipped and recorded',
      { rules: { alice: [{ channel: 'teams', delaySeconds: 0 }] } },
      ['page alice:∅ -teams(missing)'],
      10 * MIN,
    ],
    [
      'verification required, no rules: unverified methods skipped',
      { rules: {}, requireVerified: true },
      ['page alice:email+slack+voice -sms(unverified)'],
      10 * MIN,
    ],
    [
      'verification required, sms verified through the log at the same number: paged',
      { rules: {}, requireVerified: true, logVerified: ['alice sms +15555550101'] },
      ['page alice:email+slack+sms+voice'],
      10 * MIN,
    ],
    [
      'verification required, sms verified through the log at another number (changed since): skipped',
      { rules: {}, requireVerified: true, logVerified: ['alice sms +15555550199'] },
      ['page alice:email+slack+voice -sms(unverified)'],
      10 * MIN,
    ],
  ])('%s', (_name, over, notifications, due) => {
    const { state, decided } = given([[T0, ev(triggered)]], over);
    expect(shown(decided[0]!).filter((d) => d.startsWith('page'))).toStrictEqual(notifications);
    expect(dueAt(state!)).toBe(due === null ? null : T0 + due);
  });
});

describe('notification rules: later rules', () => {
  it('given slack 0 / sms 1m / voice 5m, when nobody acknowledges, then sms at 1m and voice at 5m, and step 2 at 10m', () => {
    const { decided, state } = given([
      [T0, ev(triggered)],
      [T0 + 59 * SEC, tick],
      [T0 + 1 * MIN, tick],
      [T0 + 5 * MIN, tick],
      [T0 + 10 * MIN, tick],
    ]);
    expect(decided.map(shown)).toStrictEqual([
      ['AlertRouted', 'step 0', 'page alice:slack'],
      [],
      ['page alice:sms'],
      ['page alice:voice'],
      ['step 1', 'page bob:email'],
    ]);
    const ids = decided.flat().flatMap((d) => (d.type === 'NotificationRequested' ? [d.data.notificationId] : []));
    expect(new Set(ids).size).toBe(ids.length);
    expect(dueAt(state!)).toBeNull();
  });

  it('given an acknowledgement at 0:30, then no SMS at 1m and nothing is due', () => {
    const { decided, state } = given([
      [T0, ev(triggered)],
      [T0 + 30 * SEC, ev(ackBy('alice'))],
      [T0 + 1 * MIN, tick],
      [T0 + 5 * MIN, tick],
    ]);
    expect(decided.slice(1).map(shown)).toStrictEqual([['EscalationStopped'], [], []]);
    expect(dueAt(state!)).toBeNull();
  });

  it('given a resolve at 0:30, then only the resolution notice, on the preferred method', () => {
    const { decided } = given([
      [T0, ev(triggered)],
      [T0 + 30 * SEC, ev(resolved)],
      [T0 + 1 * MIN, tick],
    ]);
    expect(decided.slice(1).map(shown)).toStrictEqual([['EscalationStopped', 'resolved alice:slack'], []]);
  });

  it('given the step is left before a rule is due, then the rule does not fire (the next step pages its own users)', () => {
    const policy = onePolicy({
      steps: [
        { delaySeconds: 120, targets: [{ type: 'user', userId: 'alice' }], untilAllAck: false },
        { delaySeconds: 600, targets: [{ type: 'user', userId: 'bob' }], untilAllAck: false },
      ],
    });
    const { decided } = given(
      [
        [T0, ev(triggered)],
        [T0 + 1 * MIN, tick],
        [T0 + 2 * MIN, tick],
        [T0 + 5 * MIN, tick],
      ],
      { policy },
    );
    expect(decided.slice(1).map(shown)).toStrictEqual([['page alice:sms'], ['step 1', 'page bob:email'], []]);
  });

  it('given a reopen after an acknowledgement, then the rules start again from the first', () => {
    const { decided } = given([
      [T0, ev(triggered)],
      [T0 + 30 * SEC, ev(ackBy('alice'))],
      [T0 + 2 * MIN, ev(unacked)],
      [T0 + 3 * MIN, tick],
    ]);
    expect(decided.slice(2).map(shown)).toStrictEqual([['step 0', 'page alice:slack'], ['page alice:sms']]);
  });

  it('given a step paging until all acknowledge, when one acknowledges, then only the others keep their rules', () => {
    const policy = onePolicy({
      steps: [
        {
          delaySeconds: 600,
          targets: [
            { type: 'user', userId: 'alice' },
            { type: 'user', userId: 'bob' },
          ],
          untilAllAck: true,
        },
      ],
    });
    const rules = {
      alice: ALICE_RULES,
      bob: [
        { channel: 'email' as const, delaySeconds: 0 },
        { channel: 'email' as const, delaySeconds: 120 },
      ],
    };
    const { decided } = given(
      [
        [T0, ev(triggered)],
        [T0 + 30 * SEC, ev(ackBy('alice'))],
        [T0 + 1 * MIN, tick],
        [T0 + 2 * MIN, tick],
        [T0 + 5 * MIN, tick],
      ],
      { policy, rules },
    );
    expect(decided.map(shown)).toStrictEqual([
      ['AlertRouted', 'step 0', 'page alice:slack', 'page bob:email'],
      [],
      [],
      ['page bob:email'],
      [],
    ]);
  });

  it('given the rules changed after the page, then the recorded later rules still fire, once each', () => {
    let state: Escalation | undefined;
    const fired: string[] = [];
    for (const [now, input, rules] of [
      [T0, ev(triggered), { alice: ALICE_RULES }],
      [T0 + 1 * MIN, tick, {}],
      [T0 + 5 * MIN, tick, { alice: [{ channel: 'email' as const, delaySeconds: 0 }] }],
      [T0 + 6 * MIN, tick, {}],
    ] as Array<[number, EscalationInput, Record<string, NotificationRule[]>]>) {
      const ds = decide(state, input, ctx(now, { rules }));
      if (input.type === 'AlertEvent') state = foldAlert(state, input.event, input.seq);
      for (const d of ds) state = evolve(state, d);
      fired.push(...shown(ds).filter((d) => d.startsWith('page')));
    }
    expect(fired).toStrictEqual(['page alice:slack', 'page alice:sms', 'page alice:voice']);
  });

  it('given verification required, when a later rule names an unverified method, then it is skipped and the skip recorded', () => {
    const { decided } = given(
      [
        [T0, ev(triggered)],
        [T0 + 1 * MIN, tick],
      ],
      { requireVerified: true },
    );
    expect(shown(decided[1]!)).toStrictEqual(['page alice:∅ -sms(unverified)']);
  });

  it('a state through JSON (a snapshot) keeps the waiting rules; one from before rules existed has none', () => {
    const { state } = given([[T0, ev(triggered)]]);
    const back = restored(JSON.parse(JSON.stringify(state)) as Escalation);
    expect(back.step?.later).toStrictEqual(state!.step!.later);
    const { later: _later, ...old } = state!.step!;
    expect(restored({ ...state!, step: old as never }).step?.later).toStrictEqual([]);
    expect(decide(back, tick, ctx(T0 + MIN, {})).map((d) => d.type)).toStrictEqual(['NotificationRequested']);
  });
});

describe('chooseContacts', () => {
  const contacts = ALICE.contacts;
  it.each<[string, Parameters<typeof chooseContacts>[1], boolean, string[], string[]]>([
    ['all methods, nothing required', null, false, ['email', 'slack', 'sms', 'voice'], []],
    ['all methods, verified required', null, true, ['email', 'slack', 'voice'], ['sms:unverified']],
    ['in the rules order', ['voice', 'email'], false, ['voice', 'email'], []],
    ['a method the user lacks', ['teams'], false, [], ['teams:missing']],
  ])('%s', (_name, channels, required, used, skipped) => {
    const chosen = chooseContacts(contacts, channels, required);
    expect(chosen.contacts.map((c) => c.channel)).toStrictEqual(used);
    expect(chosen.skipped.map((s) => `${s.channel}:${s.reason}`)).toStrictEqual(skipped);
  });
});
