import { describe, expect, it } from 'vitest';
import { makeEvent, type AlertEvent, type EventData } from '@oncall/contracts';
import type { FlipHistory } from '@oncall/shared';
import {
  decide,
  dueAt,
  evolve,
  foldAlert,
  IncidentNeeded,
  isSettled,
  TakeoverNeeded,
  type Decision,
  type Escalation,
  type EscalationContext,
  type EscalationInput,
  type IncidentEntry,
  type RouteDecision,
  type StormContext,
} from './escalation.js';

/** Storm sense (docs/noc.md): what the escalation decides before a first page, given what the other alerts are doing. */

const A = '7f1c2a4e-1111-4c6b-9d7e-0a1b2c3d4e5f';
const B = '7f1c2a4e-2222-4c6b-9d7e-0a1b2c3d4e5f';
const INCIDENT = '0e0e0e0e-1111-4222-8333-444455556666';
const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const MIN = 60_000;
const at = (ms: number) => new Date(T0 + ms).toISOString();
const META = { id: '00000000-0000-4000-8000-000000000001', occurredAt: at(0), causationId: null, correlationId: 'c' };
const REF = { alertId: A, serviceId: 'core', fingerprint: 'fp1' };

const event = <T extends AlertEvent['type']>(type: T, data: Omit<EventData<T>, 'alertId' | 'serviceId' | 'fingerprint'>): AlertEvent =>
  makeEvent(type, { ...REF, ...data } as EventData<T>, META);
const triggered = event('AlertTriggered', {
  summary: 'ams2-r1 down',
  details: '',
  severity: 'critical',
  labels: { site: 'ams2', alertname: 'DeviceDown' },
  annotations: {},
  links: [],
  custom: {},
  source: 'alertmanager',
  startsAt: null,
  generatorUrl: null,
  seenAt: at(0),
});
const resolved = event('AlertResolved', { by: 'source', userId: null, note: '', endsAt: null });
const acked = event('AlertAcknowledged', { by: 'user', userId: 'alice', note: '' });
const resolvedByAlice = event('AlertResolved', { by: 'user', userId: 'alice', note: '', endsAt: null });

const route = (over: Partial<RouteDecision> = {}): RouteDecision => ({
  rules: [],
  policyId: 'p1',
  templateId: null,
  templateVersion: null,
  severity: 'critical',
  ticket: null,
  ackTimeoutSeconds: null,
  suppressed: null,
  maintenance: [],
  ...over,
});

type World = {
  inhibitor?: ReturnType<StormContext['inhibitor']>;
  incident?: IncidentEntry;
  openMembers?: number;
  flips?: FlipHistory;
};

function ctx(now: number, r: RouteDecision, world: World): EscalationContext {
  return {
    now,
    route: () => r,
    policy: () => ({
      policyId: 'p1',
      name: 'NOC',
      repeat: 0,
      steps: [
        { delaySeconds: 1800, targets: [{ type: 'user', userId: 'alice' }], untilAllAck: false },
        { delaySeconds: 1800, targets: [{ type: 'user', userId: 'bob' }], untilAllAck: false },
      ],
    }),
    recipients: (t) => (t.type === 'user' ? [{ type: 'user', userId: t.userId, via: 'direct' }] : []),
    user: (id) => ({ name: id, contacts: [{ channel: 'sms', address: '+15555550101' }] }),
    serviceName: (id) => id,
    storm: {
      inhibitor: () => world.inhibitor ?? null,
      incident: (groupKey, alertId) => {
        if (!world.incident) throw new IncidentNeeded(groupKey, alertId);
        return world.incident;
      },
      openIncident: () => world.incident ?? null,
      openMembers: () => world.openMembers ?? 0,
      flips: () => world.flips ?? { triggers: [T0], flappingSince: null },
    },
  };
}

let seq = 0;
const ev = (e: AlertEvent): EscalationInput => ({ type: 'AlertEvent', event: e, seq: ++seq });
const tick: EscalationInput = { type: 'Tick' };

/** Runs inputs, each at its time and in its world, folding the decisions. */
function run(
  r: RouteDecision,
  steps: Array<[number, EscalationInput, World]>,
): { state: Escalation | undefined; decided: string[][]; all: Decision[][] } {
  let state: Escalation | undefined;
  const all: Decision[][] = [];
  for (const [now, input, world] of steps) {
    const ds = decide(state, input, ctx(now, r, world));
    if (input.type === 'AlertEvent') state = foldAlert(state, input.event, input.seq);
    for (const d of ds) state = evolve(state, d);
    all.push(ds);
  }
  const decided = all.map((ds) =>
    ds.map((d) =>
      d.type === 'EscalationStepReached'
        ? `step:${d.data.step}:${d.data.reason}`
        : d.type === 'NotificationRequested'
          ? `notify:${d.data.recipient.type === 'user' ? d.data.recipient.userId : ''}`
          : d.type,
    ),
  );
  return { state, decided, all };
}

describe('storm sense: grouping', () => {
  const grouped = route({ groupKey: 'core|site=ams2', groupLabels: { site: 'ams2' } });

  it('given no incident of the key yet, when the alert is decided, then the shell is asked to claim one', () => {
    expect(() => decide(undefined, ev(triggered), ctx(T0, grouped, {}))).toThrow(IncidentNeeded);
  });

  it.each<[string, IncidentEntry, string[]]>([
    [
      'the alert claimed it: it opens the incident and pages',
      { incidentId: INCIDENT, firstAlertId: A },
      ['AlertRouted', 'IncidentOpened', 'step:0:triggered', 'notify:alice'],
    ],
    ['another alert claimed it: it joins and does not page', { incidentId: INCIDENT, firstAlertId: B }, ['AlertRouted', 'AlertGrouped']],
  ])('given the incident of its key, when %s', (_, incident, expected) => {
    const { decided, all } = run(grouped, [[T0, ev(triggered), { incident }]]);
    expect(decided[0]).toStrictEqual(expected);
    const page = all[0]!.find((d) => d.type === 'NotificationRequested');
    if (page?.type === 'NotificationRequested') expect(page.data.incidentId).toBe(INCIDENT);
  });

  it('given a joined alert, when its incident is gone and it still fires, then it claims again and, being first now, pages', () => {
    const { decided } = run(grouped, [
      [T0, ev(triggered), { incident: { incidentId: INCIDENT, firstAlertId: B } }],
      [T0 + MIN, tick, { incident: { incidentId: '0e0e0e0e-2222-4222-8333-444455556666', firstAlertId: A } }],
    ]);
    expect(decided[1]).toStrictEqual(['IncidentOpened', 'step:0:triggered', 'notify:alice']);
  });

  it('given the first alert, when more alerts joined, then it says how many once per change (the shell wakes it)', () => {
    const incident = { incidentId: INCIDENT, firstAlertId: A };
    const { all } = run(grouped, [
      [T0, ev(triggered), { incident }],
      [T0 + MIN, tick, { incident, openMembers: 3 }],
      [T0 + 2 * MIN, tick, { incident, openMembers: 3 }],
      [T0 + 3 * MIN, tick, { incident, openMembers: 2 }],
    ]);
    expect(all[1]!.map((d) => [d.type, d.type === 'IncidentUpdated' && d.data.alerts])).toStrictEqual([['IncidentUpdated', 4]]);
    expect(all[2]).toStrictEqual([]);
    expect(all[3]).toStrictEqual([]);
  });

  it.each<[string, number, string[], boolean]>([
    ['others still fire: the incident stays open and the escalation is kept', 3, ['stopped', 'notify'], false],
    ['none fires: the incident resolves', 0, ['stopped', 'IncidentResolved', 'notify'], true],
  ])('given the first alert resolved, when %s', (_, openMembers, expected, settled) => {
    const { all, state } = run(grouped, [
      [T0, ev(triggered), { incident: { incidentId: INCIDENT, firstAlertId: A } }],
      [T0 + MIN, ev(resolved), { incident: { incidentId: INCIDENT, firstAlertId: A }, openMembers }],
    ]);
    const short = (d: Decision) => (d.type === 'EscalationStopped' ? 'stopped' : d.type === 'NotificationRequested' ? 'notify' : d.type);
    expect(all[1]!.map(short)).toStrictEqual(expected);
    expect(isSettled(state!)).toBe(settled);
  });
});

describe('storm sense: an incident whose lead resolves while others fire (takeover)', () => {
  const grouped = route({ groupKey: 'core|site=ams2', groupLabels: { site: 'ams2' } });
  const C = '7f1c2a4e-3333-4c6b-9d7e-0a1b2c3d4e5f';
  const ledByA = { incidentId: INCIDENT, firstAlertId: A };
  const ledByB = { incidentId: INCIDENT, firstAlertId: B };
  const leadBResolved = { ...ledByB, leadResolved: true };
  const short = (d: Decision): string =>
    d.type === 'EscalationStepReached'
      ? `step:${d.data.step}:${d.data.reason}`
      : d.type === 'NotificationRequested'
        ? `${d.data.kind}:${d.data.recipient.type === 'user' ? d.data.recipient.userId : ''}`
        : d.type === 'IncidentTakenOver'
          ? `IncidentTakenOver:${d.data.from === A ? 'A' : d.data.from === B ? 'B' : 'C'}→${d.data.to === A ? 'A' : d.data.to === B ? 'B' : 'C'}`
          : d.type === 'IncidentUpdated'
            ? `IncidentUpdated:${d.data.alerts}`
            : d.type;

  // This alert (A) joined the incident B leads; then B's source resolved it (the shell marks the entry).
  it.each<[string, AlertEvent[], World, string[] | typeof TakeoverNeeded]>([
    ['it still fires unacknowledged: the shell is asked to take the incident over', [], { incident: leadBResolved }, TakeoverNeeded],
    [
      'it won the takeover: it records it and pages from step 0 (reason takeover), naming the incident',
      [],
      { incident: { ...ledByA, from: B }, openMembers: 1 },
      ['IncidentTakenOver:B→A', 'step:0:takeover', 'page:alice', 'IncidentUpdated:2'],
    ],
    ['another alert won it: it stays held', [], { incident: { incidentId: INCIDENT, firstAlertId: C, from: B } }, []],
    ['a person acknowledged it (the incident’s ack, sent to it): it does not take over', [acked], { incident: leadBResolved }, []],
    ['it resolved already: nothing to take over', [resolved], { incident: leadBResolved }, []],
    ['B still leads, unresolved: it stays held', [], { incident: ledByB }, []],
  ])('given a member of an incident, when its lead is resolved by its source and %s', (_, before, world, expected) => {
    const { state } = run(grouped, [
      [T0, ev(triggered), { incident: ledByB }],
      ...before.map((e): [number, EscalationInput, World] => [T0, ev(e), { incident: ledByB }]),
    ]);
    if (expected === TakeoverNeeded) {
      expect(() => decide(state, tick, ctx(T0 + MIN, grouped, world))).toThrow(TakeoverNeeded);
      return;
    }
    const ds = decide(state, tick, ctx(T0 + MIN, grouped, world));
    expect(ds.map(short)).toStrictEqual(expected);
    const page = ds.find((d) => d.type === 'NotificationRequested');
    if (page?.type === 'NotificationRequested') expect(page.data.incidentId).toBe(INCIDENT);
  });

  // This alert (A) opened the incident; other alerts of it still fire.
  it.each<[string, AlertEvent, string[], boolean]>([
    ['its source resolves it: it marks the incident for a takeover and waits', resolved, ['EscalationStopped', 'resolved:alice'], true],
    ['a person resolves it (sent to the other alerts): no takeover', resolvedByAlice, ['EscalationStopped', 'resolved:alice'], false],
  ])('given the lead of an incident whose members fire, when %s', (_, resolve, expected, leadResolved) => {
    const { all, state } = run(grouped, [
      [T0, ev(triggered), { incident: ledByA }],
      [T0 + MIN, ev(resolve), { incident: ledByA, openMembers: 2 }],
    ]);
    expect(all[1]!.map(short)).toStrictEqual(expected);
    expect(state!.storm.incident?.leadResolved === true).toBe(leadResolved);
    expect(isSettled(state!)).toBe(false);
  });

  it('given a lead resolved by its source, when a member took over, then it lets go (recorded) and is settled; it never resolves the incident', () => {
    const { all, state } = run(grouped, [
      [T0, ev(triggered), { incident: ledByA }],
      [T0 + MIN, ev(resolved), { incident: ledByA, openMembers: 2 }],
      [T0 + 2 * MIN, tick, { incident: { ...ledByB, from: A }, openMembers: 1 }],
      [T0 + 3 * MIN, tick, { incident: { ...ledByB, from: A }, openMembers: 0 }],
    ]);
    expect(all[2]!.map(short)).toStrictEqual(['IncidentTakenOver:A→B']);
    expect(all[3]).toStrictEqual([]);
    expect(isSettled(state!)).toBe(true);
  });

  it('given a lead resolved by its source whose members were all acknowledged, when they resolve, then it resolves the incident itself', () => {
    const { all, state } = run(grouped, [
      [T0, ev(triggered), { incident: ledByA }],
      [T0 + MIN, ev(resolved), { incident: { ...ledByA, leadResolved: true }, openMembers: 2 }],
      [T0 + 2 * MIN, tick, { incident: { ...ledByA, leadResolved: true }, openMembers: 0 }],
    ]);
    expect(all[2]!.map(short)).toStrictEqual(['IncidentResolved']);
    expect(isSettled(state!)).toBe(true);
  });

  it.each<[string, number, string[], boolean]>([
    ['no other alert fires: it resolves the incident', 0, ['EscalationStopped', 'IncidentResolved', 'resolved:alice'], true],
    ['others still fire: it marks the incident for the next takeover', 1, ['EscalationStopped', 'resolved:alice'], false],
  ])('given an alert that took the incident over, when its source resolves it and %s', (_, openMembers, expected, settled) => {
    const { all, state } = run(grouped, [
      [T0, ev(triggered), { incident: ledByB }],
      [T0 + MIN, tick, { incident: { ...ledByA, from: B }, openMembers: 1 }],
      [T0 + 2 * MIN, ev(resolved), { incident: { ...ledByA, from: B }, openMembers }],
    ]);
    expect(all[1]!.map(short)).toStrictEqual(['IncidentTakenOver:B→A', 'step:0:takeover', 'page:alice', 'IncidentUpdated:2']);
    expect(all[2]!.map(short)).toStrictEqual(expected);
    const end = all[2]!.find((d) => d.type === 'IncidentResolved');
    if (end) expect(end.data).toMatchObject({ alertId: A, incidentId: INCIDENT });
    expect(isSettled(state!)).toBe(settled);
    expect(state!.storm.incident?.leadResolved).toBe(true);
  });
});

describe('storm sense: inhibition', () => {
  const target = route({ inhibitableBy: ['site-down'], inhibitWaitSeconds: 10, site: 'ams2' });
  const source = { by: B, rule: 'site-down', summary: 'ams2 down' };

  it('given a possible target and no source, when it triggers, then it waits the rule’s wait before paging', () => {
    const { decided, state } = run(target, [
      [T0, ev(triggered), {}],
      [T0 + 10_000, tick, {}],
    ]);
    expect(decided[0]).toStrictEqual(['AlertRouted']);
    expect(decided[1]).toStrictEqual(['step:0:triggered', 'notify:alice']);
    expect(state && dueAt(state)).toBe(T0 + 10_000 + 30 * MIN);
  });

  it('given a source that fires, when the target is decided, then it is inhibited and nothing is due; when the source goes, it is released and pages', () => {
    const { decided, state, all } = run(target, [
      [T0, ev(triggered), { inhibitor: source }],
      [T0 + MIN, tick, { inhibitor: source }],
      [T0 + 2 * MIN, tick, {}],
    ]);
    expect(decided[0]).toStrictEqual(['AlertRouted', 'AlertInhibited']);
    expect(all[0]![1]!.data).toMatchObject({ by: B, rule: 'site-down', bySummary: 'ams2 down' });
    expect(decided[1]).toStrictEqual([]);
    expect(decided[2]).toStrictEqual(['AlertReleased', 'step:0:released', 'notify:alice']);
    expect(state!.storm.released).toBe(true);
  });

  it('given an inhibited alert, when nothing changes, then no timer is due (the shell wakes it)', () => {
    const { state } = run(target, [[T0, ev(triggered), { inhibitor: source }]]);
    expect(dueAt(state!)).toBeNull();
  });

  it('given a possible target past its wait that joined an incident, when nothing changes, then no timer is due (the shell wakes it)', () => {
    const grouped = route({ inhibitableBy: ['site-down'], inhibitWaitSeconds: 10, site: 'ams2', groupKey: 'core|alertname=DeviceDown' });
    const incident = { incidentId: INCIDENT, firstAlertId: B };
    const { decided, state } = run(grouped, [
      [T0, ev(triggered), { incident }],
      [T0 + 10_000, tick, { incident }],
    ]);
    expect(decided).toStrictEqual([['AlertRouted'], ['AlertGrouped']]);
    expect(dueAt(state!)).toBeNull();
  });

  it('given an inhibited alert, when it resolves, then it is settled without a page', () => {
    const { decided, state } = run(target, [
      [T0, ev(triggered), { inhibitor: source }],
      [T0 + MIN, ev(resolved), { inhibitor: source }],
    ]);
    expect(decided[1]).toStrictEqual(['EscalationStopped']);
    expect(isSettled(state!)).toBe(true);
  });
});

describe('storm sense: flapping', () => {
  const flapping = route({ flapping: { flips: 3, windowSeconds: 600, quietSeconds: 900 } });
  const history = (triggers: number[], flappingSince: number | null = null): FlipHistory => ({ triggers, flappingSince });

  it.each<[string, FlipHistory, string[], boolean]>([
    ['the first flip: pages as usual', history([T0]), ['AlertRouted', 'step:0:triggered', 'notify:alice'], false],
    [
      'the third flip within the window: flapping starts, one page saying so',
      history([T0 - 4 * MIN, T0 - 2 * MIN, T0]),
      ['AlertRouted', 'FlappingStarted', 'step:0:triggered', 'notify:alice'],
      true,
    ],
    [
      'three flips, the first outside the window: as usual',
      history([T0 - 11 * MIN, T0 - 2 * MIN, T0]),
      ['AlertRouted', 'step:0:triggered', 'notify:alice'],
      false,
    ],
    [
      'a flip while flapping: recorded, not paged',
      history([T0 - 4 * MIN, T0 - 2 * MIN, T0], T0 - 2 * MIN),
      ['AlertRouted', 'AlertFlapped'],
      false,
    ],
    [
      'the first flip after the quiet period: flapping ends, pages as usual',
      history([T0 - 20 * MIN, T0], T0 - 30 * MIN),
      ['AlertRouted', 'FlappingEnded', 'step:0:triggered', 'notify:alice'],
      false,
    ],
  ])('%s', (_, flips, expected, flaggedPage) => {
    const { decided, all } = run(flapping, [[T0, ev(triggered), { flips }]]);
    expect(decided[0]).toStrictEqual(expected);
    const page = all[0]!.find((d) => d.type === 'NotificationRequested');
    if (page?.type === 'NotificationRequested') expect(page.data.flapping === true).toBe(flaggedPage);
  });
});

describe('storm sense: customer tier SLA', () => {
  // SLA 15 min, escalate 5 min before: the next step comes at 10 min instead of the policy's 30.
  const sla = route({ sla: { tier: 'enterprise', responseSeconds: 900, escalateBeforeSeconds: 300 } });

  it('given nobody acknowledges, then the next step comes before the SLA ends and the breach is recorded at its end', () => {
    const { decided, state } = run(sla, [
      [T0, ev(triggered), {}],
      [T0 + 10 * MIN, tick, {}],
      [T0 + 15 * MIN, tick, {}],
    ]);
    expect(decided[0]).toStrictEqual(['AlertRouted', 'step:0:triggered', 'notify:alice']);
    expect(decided[1]).toStrictEqual(['step:1:sla', 'notify:bob']);
    expect(decided[2]).toStrictEqual(['SlaBreached']);
    expect(dueAt(state!)).toBeNull();
  });

  it('given an acknowledgement within the SLA, then no breach is recorded', () => {
    const { decided, state } = run(sla, [
      [T0, ev(triggered), {}],
      [T0 + 5 * MIN, ev(acked), {}],
      [T0 + 15 * MIN, tick, {}],
    ]);
    expect(decided[2]).toStrictEqual([]);
    expect(state!.storm.slaBreached).toBe(false);
  });
});
