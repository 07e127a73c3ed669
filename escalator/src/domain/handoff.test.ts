import { describe, expect, it } from 'vitest';
import { makeEvent, type AlertEvent, type EventData } from '@oncall/contracts';
import { nextChangeAfter, onCallAt, shifts } from '@oncall/shared';
import { handoffChannel, handoffText, nextHandoff, servicesOfSchedule, summarize, type Handoff } from './handoff.js';

const MATH = { onCallAt, nextChangeAfter, shifts };
const HOUR = 3_600_000;

/** Daily shifts at 09:00 Berlin time: alice, then bob. */
const schedule = (over: Partial<EventData<'ScheduleConfigured'>> = {}): EventData<'ScheduleConfigured'> => ({
  scheduleId: 'primary',
  name: 'Primary',
  timeZone: 'Europe/Berlin',
  rotations: [
    {
      id: 'day',
      name: 'Daily',
      type: 'daily',
      shiftLength: 1,
      start: '2026-03-27T09:00:00+01:00',
      members: ['alice', 'bob'],
      restrictions: [],
    },
  ],
  overrides: [],
  temporary: [],
  ...over,
});

describe('nextHandoff', () => {
  it.each<[string, EventData<'ScheduleConfigured'>, string, Partial<Handoff> | null]>([
    [
      'the next daily handoff, with the outgoing shift start',
      schedule(),
      '2026-03-27T12:00:00+01:00',
      {
        at: Date.parse('2026-03-28T09:00:00+01:00'),
        outgoing: ['alice'],
        incoming: ['bob'],
        shiftStart: Date.parse('2026-03-27T09:00:00+01:00'),
      },
    ],
    [
      // Berlin moves to summer time on 2026-03-29: the handoff stays at 09:00 local, 23 h after the last.
      'across the DST change, at 09:00 local',
      schedule(),
      '2026-03-28T12:00:00+01:00',
      {
        at: Date.parse('2026-03-29T09:00:00+02:00'),
        outgoing: ['bob'],
        incoming: ['alice'],
        shiftStart: Date.parse('2026-03-28T09:00:00+01:00'),
      },
    ],
    [
      'an override that adds carol is a handoff with no one outgoing',
      schedule({
        overrides: [{ kind: 'add', userId: 'carol', replaces: null, start: '2026-03-27T14:00:00+01:00', end: '2026-03-27T16:00:00+01:00' }],
      }),
      '2026-03-27T12:00:00+01:00',
      { at: Date.parse('2026-03-27T14:00:00+01:00'), outgoing: [], incoming: ['carol'] },
    ],
    [
      'a one-member rotation never hands over',
      schedule({ rotations: [{ ...schedule().rotations[0]!, members: ['alice'] }] }),
      '2026-03-27T12:00:00+01:00',
      null,
    ],
  ])('%s', (_name, s, after, expected) => {
    const h = nextHandoff(s, Date.parse(after), MATH);
    if (expected === null) expect(h).toBeNull();
    else expect(h).toMatchObject(expected);
  });
});

describe('servicesOfSchedule', () => {
  it('lists services whose default or rule policy targets the schedule or one of its rotations', () => {
    const policy = (policyId: string, scheduleId: string): EventData<'EscalationPolicyConfigured'> => ({
      policyId,
      name: policyId,
      repeat: 0,
      steps: [{ delaySeconds: 60, targets: [{ type: 'rotation', scheduleId, rotationId: 'day' }], untilAllAck: false }],
    });
    const routing = (serviceId: string, escalationPolicyId: string | null, rulePolicy: string | null): EventData<'RoutingConfigured'> => ({
      serviceId,
      escalationPolicyId,
      templateId: null,
      ackTimeoutSeconds: null,
      rules: rulePolicy
        ? [
            {
              name: 'r',
              when: 'true',
              policyId: rulePolicy,
              templateId: null,
              severity: null,
              ticket: null,
              suppress: false,
              continue: false,
            },
          ]
        : [],
    });
    const cfg = {
      policies: new Map([
        ['p1', policy('p1', 'primary')],
        ['p2', policy('p2', 'other')],
      ]),
      routing: new Map([
        ['web', routing('web', 'p1', null)],
        ['db', routing('db', 'p2', 'p1')],
        ['mail', routing('mail', 'p2', null)],
      ]),
    };
    expect(servicesOfSchedule(cfg, 'primary')).toStrictEqual(['db', 'web']);
  });
});

describe('summarize', () => {
  const T = Date.parse('2026-03-28T09:00:00+01:00');
  const shiftStart = T - 24 * HOUR;
  let n = 0;
  const e = <K extends AlertEvent['type']>(type: K, alert: string, atMs: number, data: object): AlertEvent =>
    makeEvent(
      type,
      {
        alertId: `00000000-0000-4000-8000-00000000000${alert}`,
        serviceId: alert === '9' ? 'mail' : 'web',
        fingerprint: alert,
        ...data,
      } as never,
      {
        id: `00000000-0000-4000-8000-0000000001${String(++n).padStart(2, '0')}`,
        occurredAt: new Date(atMs).toISOString(),
        causationId: null,
        correlationId: 'c',
      },
    );
  const content = (summary: string) => ({
    summary,
    details: '',
    severity: 'critical',
    labels: {},
    annotations: {},
    links: [],
    custom: {},
    source: 'generic',
    startsAt: null,
    generatorUrl: null,
    seenAt: '2026-03-27T00:00:00Z',
  });
  const events = [
    e('AlertTriggered', '1', shiftStart - HOUR, content('Disk full (before the shift)')),
    e('AlertTriggered', '2', shiftStart + HOUR, content('5xx')),
    e('AlertAcknowledged', '2', shiftStart + 2 * HOUR, { by: 'user', userId: 'alice', note: '' }),
    e('AlertTriggered', '3', shiftStart + 3 * HOUR, content('Latency')),
    e('AlertResolved', '3', shiftStart + 4 * HOUR, { by: 'source', userId: null, note: '', endsAt: null }),
    e('AlertTriggered', '9', shiftStart + 3 * HOUR, content('Other service')),
    e('AlertTriggered', '4', T + HOUR, content('After the handoff')),
  ];

  it('given the shift, then open, fired and acknowledged by whom, for the schedule services only', () => {
    const s = summarize(events, ['web'], { at: T, shiftStart });
    expect(s.open.map((a) => `${a.summary}:${a.status}`)).toStrictEqual(['Disk full (before the shift):triggered', '5xx:acknowledged']);
    expect(s.fired.map((a) => a.summary)).toStrictEqual(['5xx', 'Latency']);
    expect(s.acked.map((a) => `${a.summary} by ${a.userId}`)).toStrictEqual(['5xx by alice']);
  });

  it('renders a text for the incoming and the outgoing person', () => {
    const handoff: Handoff = { scheduleId: 'primary', at: T, outgoing: ['alice'], incoming: ['bob'], shiftStart };
    const text = handoffText({ name: 'Primary' }, handoff, summarize(events, ['web'], handoff), 'incoming');
    expect(text.split('\n')).toStrictEqual([
      'Primary: you take over from alice at 2026-03-28T08:00:00.000Z',
      'Open (2):',
      '- [critical] Disk full (before the shift) (web, triggered)',
      '- [critical] 5xx (web, acknowledged)',
      'Fired during the shift (2):',
      '- [critical] 5xx (web)',
      '- [critical] Latency (web)',
      'Acknowledged during the shift (1):',
      `- 5xx by alice at ${new Date(shiftStart + 2 * HOUR).toISOString()}`,
    ]);
    expect(handoffText({ name: 'Primary' }, handoff, { open: [], fired: [], acked: [] }, 'outgoing').split('\n')[0]).toBe(
      'Primary: you hand over to bob at 2026-03-28T08:00:00.000Z',
    );
  });

  it('sends by the preferred method: the first rule, else e-mail', () => {
    expect(
      handoffChannel([
        { channel: 'slack', delaySeconds: 0 },
        { channel: 'sms', delaySeconds: 60 },
      ]),
    ).toBe('slack');
    expect(handoffChannel(undefined)).toBe('email');
  });
});
