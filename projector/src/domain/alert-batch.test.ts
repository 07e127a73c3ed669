import { describe, expect, it } from 'vitest';
import type { AlertEvent, DomainEvent, EventOf } from '@oncall/contracts';
import { alertLifecycle, alertRef, escalation, eventFactory } from '../../../test/projection-events.js';
import { foldAlertBatch, type AlertBatch, type AlertPatch, type BatchPosition, type TimelineRow } from './alert-batch.js';

type Input = { event: DomainEvent; at: BatchPosition };

/** An event at its stream sequence, with the trace id of its message when given. */
const at = (seq: number, event: DomainEvent, traceId?: string | null): Input => ({
  event,
  at: traceId === undefined ? { seq } : { seq, traceId },
});

const row = (seq: number, e: AlertEvent, actor: string, message: string): TimelineRow => [
  seq,
  e.data.alertId,
  e.id,
  e.type,
  e.occurredAt,
  actor,
  message,
  e.data,
];
const triggerRow = (seq: number, e: EventOf<'AlertTriggered'>, patch: AlertPatch, traceId: string | null = null): TimelineRow => [
  seq,
  e.data.alertId,
  e.id,
  e.type,
  e.occurredAt,
  'source:alertmanager',
  `triggered: ${e.data.summary}`,
  e.data,
  patch,
  traceId,
];

describe('alerts batch fold: given a batch of ALERTS events, then its timeline rows and patches', () => {
  const f = eventFactory();
  const a = alertLifecycle(f, 'a');
  const b = alertLifecycle(f, 'b');
  const A = alertRef('a').alertId;
  const B = alertRef('b').alertId;

  const triggeredA = a.triggered();
  const ackedA = a.acknowledged('alice');
  const ackedB = b.acknowledged('alice');
  const resolvedB = b.resolved();
  const warningB = b.severityChanged('warning');
  const infoB = b.severityChanged('info');
  const reopenedB = b.unacknowledged();
  const ackedAgainB = b.acknowledged('bob');
  const snoozedB = b.snoozed('carol', 30);
  const escalatedB = b.escalated('bob');
  const repeatedB = f.make('AlertRepeated', {
    alertId: B,
    serviceId: 'checkout',
    fingerprint: 'fp-b',
    repeatCount: 4,
    seenAt: '2026-11-23T11:00:00.000Z',
    links: [{ href: 'https://grafana.example.com/d/1', text: 'dashboard' }],
    custom: { rack: 'r12' },
  });
  const declinedB = f.make('AlertCommandDeclined', {
    alertId: B,
    serviceId: 'checkout',
    fingerprint: 'fp-b',
    command: 'acknowledge',
    userId: 'dave',
    via: 'slack',
    reason: 'closed',
    message: 'alert is not open: it was resolved',
    status: 'resolved',
    lastChange: null,
  });
  const routedA = escalation(f, 'a').routed();
  const triggeredAAgain = a.triggered('warning');
  const ackedAAgain = a.acknowledged('erin');

  /** The columns an acknowledgement by `e` sets, when it is the batch's first. */
  const ack = (e: EventOf<'AlertAcknowledged'>, seq: number): AlertPatch => ({
    status: 'acknowledged',
    acknowledged_at: e.occurredAt,
    acknowledged_by: e.data.userId,
    first_acknowledged_at: e.occurredAt,
    snooze_set: true,
    snoozed_until: null,
    snoozed_by: null,
    updated_at: e.occurredAt,
    last_event_seq: seq,
  });

  it.each<[string, Input[], AlertBatch]>([
    ['an empty batch: nothing', [], { timeline: [], existing: [] }],
    [
      'a trigger alone: its row with an empty patch and no trace id',
      [at(7, triggeredA)],
      { timeline: [triggerRow(7, triggeredA, {})], existing: [] },
    ],
    [
      "a trigger's message carries a trace: its row holds the trace id",
      [at(7, triggeredA, '4bf92f3577b34da6a3ce929d0e0e4736')],
      { timeline: [triggerRow(7, triggeredA, {}, '4bf92f3577b34da6a3ce929d0e0e4736')], existing: [] },
    ],
    [
      'a trigger whose message carries a null trace id: null',
      [at(7, triggeredA, null)],
      { timeline: [triggerRow(7, triggeredA, {}, null)], existing: [] },
    ],
    [
      "a trigger then an ack: the ack goes on the trigger's patch, no existing patch",
      [at(1, triggeredA), at(2, ackedA)],
      {
        timeline: [
          triggerRow(1, triggeredA, {
            status: 'acknowledged',
            acknowledged_at: ackedA.occurredAt,
            acknowledged_by: 'alice',
            first_acknowledged_at: ackedA.occurredAt,
            snooze_set: true,
            snoozed_until: null,
            snoozed_by: null,
            updated_at: ackedA.occurredAt,
            last_event_seq: 2,
          }),
          row(2, ackedA, 'user:alice', 'acknowledged'),
        ],
        existing: [],
      },
    ],
    [
      'a change to an alert from before the batch: an existing patch with its id',
      [at(3, ackedB)],
      { timeline: [row(3, ackedB, 'user:alice', 'acknowledged')], existing: [{ id: B, ...ack(ackedB, 3) }] },
    ],
    [
      'an ack then a resolve: per column the last change wins, the ack columns the resolve leaves stay',
      [at(3, ackedB), at(4, resolvedB)],
      {
        timeline: [row(3, ackedB, 'user:alice', 'acknowledged'), row(4, resolvedB, 'source', 'resolved by the source')],
        existing: [
          {
            id: B,
            status: 'resolved',
            acknowledged_at: ackedB.occurredAt,
            acknowledged_by: 'alice',
            first_acknowledged_at: ackedB.occurredAt,
            resolved_at: resolvedB.occurredAt,
            resolved_by: null,
            snooze_set: true,
            snoozed_until: null,
            snoozed_by: null,
            updated_at: resolvedB.occurredAt,
            last_event_seq: 4,
          },
        ],
      },
    ],
    [
      'two updates: the second one',
      [at(5, warningB), at(6, infoB)],
      {
        timeline: [row(5, warningB, 'source', 'updated severity'), row(6, infoB, 'source', 'updated severity')],
        existing: [
          {
            id: B,
            summary: 'b is down',
            details: '',
            severity: 'info',
            labels: { instance: 'b' },
            annotations: {},
            links: [],
            custom: {},
            repeat_count: 0,
            last_seen_at: infoB.data.seenAt,
            updated_at: infoB.occurredAt,
            last_event_seq: 6,
          },
        ],
      },
    ],
    [
      'a repeat: its count, last seen, links and custom; not updated_at',
      [at(8, repeatedB)],
      {
        timeline: [row(8, repeatedB, 'source', 'repeated (4 repeats so far)')],
        existing: [
          {
            id: B,
            repeat_count: 4,
            last_seen_at: '2026-11-23T11:00:00.000Z',
            links: [{ href: 'https://grafana.example.com/d/1', text: 'dashboard' }],
            custom: { rack: 'r12' },
            last_event_seq: 8,
          },
        ],
      },
    ],
    [
      'ack, reopen, ack: first_acknowledged_at keeps the first ack of the batch, the rest the last',
      [at(3, ackedB), at(5, reopenedB), at(6, ackedAgainB)],
      {
        timeline: [
          row(3, ackedB, 'user:alice', 'acknowledged'),
          row(5, reopenedB, 'escalator', 'reopened (ack-timeout)'),
          row(6, ackedAgainB, 'user:bob', 'acknowledged'),
        ],
        existing: [{ id: B, ...ack(ackedAgainB, 6), first_acknowledged_at: ackedB.occurredAt }],
      },
    ],
    [
      'a snooze: status, until and by, flagged as set',
      [at(9, snoozedB)],
      {
        timeline: [row(9, snoozedB, 'user:carol', `snoozed until ${snoozedB.data.until}`)],
        existing: [
          {
            id: B,
            status: 'snoozed',
            snooze_set: true,
            snoozed_until: snoozedB.data.until,
            snoozed_by: 'carol',
            updated_at: snoozedB.occurredAt,
            last_event_seq: 9,
          },
        ],
      },
    ],
    [
      'a snooze then an ack: the ack clears the snooze (set, to nulls)',
      [at(9, snoozedB), at(10, ackedAgainB)],
      {
        timeline: [
          row(9, snoozedB, 'user:carol', `snoozed until ${snoozedB.data.until}`),
          row(10, ackedAgainB, 'user:bob', 'acknowledged'),
        ],
        existing: [{ id: B, ...ack(ackedAgainB, 10) }],
      },
    ],
    [
      'an unacknowledge: triggered again, the snooze cleared',
      [at(11, reopenedB)],
      {
        timeline: [row(11, reopenedB, 'escalator', 'reopened (ack-timeout)')],
        existing: [
          {
            id: B,
            status: 'triggered',
            snooze_set: true,
            snoozed_until: null,
            snoozed_by: null,
            updated_at: reopenedB.occurredAt,
            last_event_seq: 11,
          },
        ],
      },
    ],
    [
      'an escalation: when and by whom, the status untouched',
      [at(12, escalatedB)],
      {
        timeline: [row(12, escalatedB, 'user:bob', 'escalated to the next step: more hands')],
        existing: [
          { id: B, escalated_at: escalatedB.occurredAt, escalated_by: 'bob', updated_at: escalatedB.occurredAt, last_event_seq: 12 },
        ],
      },
    ],
    [
      'a declined command: on the timeline, on no patch',
      [at(13, declinedB)],
      {
        timeline: [row(13, declinedB, 'user:dave', 'acknowledge via slack changed nothing: alert is not open: it was resolved')],
        existing: [],
      },
    ],
    [
      "a declined command after a change: the patch's last_event_seq stays the change's",
      [at(3, ackedB), at(13, declinedB)],
      {
        timeline: [
          row(3, ackedB, 'user:alice', 'acknowledged'),
          row(13, declinedB, 'user:dave', 'acknowledge via slack changed nothing: alert is not open: it was resolved'),
        ],
        existing: [{ id: B, ...ack(ackedB, 3) }],
      },
    ],
    [
      'events of other types in the batch: ignored, the sequences of the rest kept',
      [at(1, routedA), at(2, triggeredA), at(3, routedA)],
      { timeline: [triggerRow(2, triggeredA, {})], existing: [] },
    ],
    [
      'a change before its trigger in the batch (never in a valid log): an existing patch; changes after the trigger go on its patch',
      [at(1, ackedA), at(2, triggeredA), at(3, ackedAAgain)],
      {
        timeline: [
          row(1, ackedA, 'user:alice', 'acknowledged'),
          triggerRow(2, triggeredA, ack(ackedAAgain, 3)),
          row(3, ackedAAgain, 'user:erin', 'acknowledged'),
        ],
        existing: [{ id: A, ...ack(ackedA, 1) }],
      },
    ],
    [
      'two triggers of one id: two rows, each with its own patch; later changes go on the second',
      [at(1, triggeredA), at(2, triggeredAAgain), at(3, ackedAAgain)],
      {
        timeline: [
          triggerRow(1, triggeredA, {}),
          triggerRow(2, triggeredAAgain, ack(ackedAAgain, 3)),
          row(3, ackedAAgain, 'user:erin', 'acknowledged'),
        ],
        existing: [],
      },
    ],
    [
      'two alerts interleaved: one patch each, existing ones in the order of their first change',
      [at(20, escalatedB), at(21, triggeredA), at(22, ackedA), at(23, ackedB)],
      {
        timeline: [
          row(20, escalatedB, 'user:bob', 'escalated to the next step: more hands'),
          triggerRow(21, triggeredA, ack(ackedA, 22)),
          row(22, ackedA, 'user:alice', 'acknowledged'),
          row(23, ackedB, 'user:alice', 'acknowledged'),
        ],
        existing: [
          {
            id: B,
            escalated_at: escalatedB.occurredAt,
            escalated_by: 'bob',
            ...ack(ackedB, 23),
          },
        ],
      },
    ],
  ])('%s', (_, events, expected) => {
    expect(foldAlertBatch(events)).toStrictEqual(expected);
  });

  it('last_event_seq is the sequence of the last change, not of the last event', () => {
    const { existing } = foldAlertBatch([at(30, ackedB), at(31, declinedB), at(35, reopenedB), at(36, routedA)]);
    expect(existing.map((p) => p.last_event_seq)).toStrictEqual([35]);
  });
});
