import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DeliveryEvent, DeliveryStatusEvent, EscalationEvent } from '@oncall/contracts';
import { alertRef, escalation, eventFactory, notificationIdOf, user } from '../../../test/projection-events.js';
import {
  evolveAlertEscalation,
  evolveNotificationOutcome,
  incidentDelta,
  mergeIncident,
  notificationRequest,
  type AlertEscalationRow,
  type IncidentEvent,
  type IncidentRow,
  type NotificationOutcomeRow,
} from './escalation-rows.js';

const fold = (events: EscalationEvent[]): AlertEscalationRow | undefined =>
  events.reduce<AlertEscalationRow | undefined>((row, e, i) => evolveAlertEscalation(row, e, i + 1), undefined);

const foldOutcomes = (events: DeliveryEvent[]): NotificationOutcomeRow | undefined =>
  events.reduce<NotificationOutcomeRow | undefined>((row, e, i) => evolveNotificationOutcome(row, e, i + 1), undefined);

describe('alert_escalations row: given escalation events, then', () => {
  const f = eventFactory();
  const a = escalation(f, 'a');
  const routed = a.routed({ rules: ['db', 'night'], alertSeq: 7 });
  const step0 = a.step(0, 0, [user('alice')], { nextInMinutes: 5 });
  const req0 = a.requested('s0-alice', user('alice'));
  const step1 = a.step(1, 0, [user('bob'), { type: 'slack', channel: '#ops' }], { nextInMinutes: 10 });
  const acked = a.stopped('acknowledged', 'bob', 60);
  const reopen = a.reopenRequested('ack-timeout');
  const reopened = a.step(0, 0, [user('alice')], { reason: 'reopened', nextInMinutes: 5 });
  const lastStep = a.step(1, 1, [user('bob')], { nextInMinutes: null });
  const exhausted = a.stopped('exhausted');
  const suppressed = a.routed({
    suppressed: { by: 'maintenance', windowId: 'fra1', until: '2026-11-24T02:00:00.000Z' },
    maintenance: ['ams1'],
  });
  const unsuppressed = a.routed();

  it.each<[string, EscalationEvent[], Partial<AlertEscalationRow>]>([
    [
      'routed',
      [routed],
      {
        alert_seq: 7,
        routes: 1,
        routed_at: routed.occurredAt,
        policy_id: 'primary',
        template_id: 'default',
        template_version: 1,
        routing_rules: ['db', 'night'],
        routed_severity: 'critical',
        severity_rule: null,
        severity_boost: null,
        severity_map: { info: 'info', warning: 'warning', error: 'error', critical: 'critical', unknown: 'unknown' },
        ack_timeout_seconds: 3600,
        suppressed_by: null,
        maintenance: [],
        escalation_step: null,
        next_escalation_at: null,
        notifications_requested: 0,
        updated_at: routed.occurredAt,
        last_event_seq: 1,
      },
    ],
    [
      'routed with an equipment boost: the map applies the boost to every source severity',
      [
        a.routed({
          sourceSeverity: 'warning',
          severity: 'error',
          severityBoost: { from: 'warning', to: 'error', by: 'equipment:core_router', boost: 1, severity: null },
          severityRule: null,
        }),
      ],
      {
        routed_severity: 'error',
        severity_rule: null,
        severity_boost: { from: 'warning', to: 'error', by: 'equipment:core_router', boost: 1, severity: null },
        severity_map: { info: 'warning', warning: 'error', error: 'critical', critical: 'critical', unknown: 'unknown' },
      },
    ],
    [
      'routed with a rule severity: every source severity maps to it',
      [a.routed({ sourceSeverity: 'warning', severity: 'critical', severityBoost: null, severityRule: 'bgp-hijack' })],
      {
        severity_rule: 'bgp-hijack',
        severity_map: { info: 'critical', warning: 'critical', error: 'critical', critical: 'critical', unknown: 'critical' },
      },
    ],
    [
      'an AlertRouted older than the fields that changed the severity keeps it',
      [a.routed({ sourceSeverity: 'warning', severity: 'error' })],
      { severity_rule: null, severity_map: { info: 'error', warning: 'error', error: 'error', critical: 'error', unknown: 'error' } },
    ],
    [
      'routed under a suppressing maintenance window',
      [suppressed],
      {
        suppressed_by: 'maintenance',
        suppressed_window_id: 'fra1',
        suppressed_until: '2026-11-24T02:00:00.000Z',
        maintenance: ['ams1'],
      },
    ],
    [
      'routed again after the window: suppression gone, routes counted',
      [suppressed, unsuppressed],
      { routes: 2, suppressed_by: null, suppressed_until: null },
    ],
    [
      'first step and its page',
      [routed, step0, req0],
      {
        escalation_step: 0,
        escalation_round: 0,
        escalation_page: 0,
        step_reason: 'triggered',
        step_recipients: [user('alice')],
        step_reached_at: step0.occurredAt,
        next_escalation_at: step0.data.nextAt,
        notifications_requested: 1,
        last_event_seq: 3,
      },
    ],
    [
      'escalated to the second step',
      [routed, step0, req0, step1],
      {
        escalation_step: 1,
        step_reason: 'timeout',
        next_escalation_at: step1.data.nextAt,
        step_recipients: [user('bob'), { type: 'slack', channel: '#ops' }],
      },
    ],
    [
      'acknowledged: stopped, nothing due, reopen time kept',
      [routed, step0, step1, acked],
      {
        escalation_step: 1,
        next_escalation_at: null,
        escalation_stopped_reason: 'acknowledged',
        escalation_stopped_by: 'bob',
        escalation_stopped_at: acked.occurredAt,
        reopen_at: acked.data.reopenAt,
      },
    ],
    [
      'ack timeout: reopen requested',
      [routed, step0, acked, reopen],
      { escalation_stopped_reason: 'acknowledged', reopen_requested_at: reopen.occurredAt, reopen_reason: 'ack-timeout' },
    ],
    [
      'reopened: the escalation runs again from the first step',
      [routed, step0, step1, acked, reopen, reopened],
      {
        escalation_step: 0,
        step_reason: 'reopened',
        escalation_stopped_reason: null,
        escalation_stopped_at: null,
        escalation_stopped_by: null,
        reopen_at: null,
        reopen_requested_at: null,
        reopen_reason: null,
        next_escalation_at: reopened.data.nextAt,
      },
    ],
    [
      'exhausted after the last step of the last round',
      [routed, step0, lastStep, exhausted],
      {
        escalation_step: 1,
        escalation_round: 1,
        next_escalation_at: null,
        escalation_stopped_reason: 'exhausted',
        escalation_stopped_by: null,
      },
    ],
    [
      'a step without a routing before it (not in a valid log) still makes a row',
      [step0],
      {
        routes: 0,
        routed_at: null,
        policy_id: null,
        escalation_step: 0,
        alert_seq: null,
      },
    ],
  ])('%s', (_, events, expected) => {
    expect(fold(events)).toMatchObject({ alert_id: a.routed().data.alertId, service_id: 'checkout', ...expected });
  });
});

describe('storm sense on the alert_escalations row: given events, then', () => {
  const f = eventFactory();
  const a = escalation(f, 'storm');
  const source = alertRef('source').alertId;
  const incident = alertRef('incident').alertId;
  const routed = a.routed({
    site: 'fra1-r12',
    groupKey: 'checkout|site=fra1',
    groupLabels: { site: 'fra1' },
    sla: { tier: 'gold', responseSeconds: 900, escalateBeforeSeconds: 120 },
  });
  const inhibited = a.inhibited(source);
  const released = a.released(source);
  const opened = a.incidentOpened(incident, 'checkout|site=fra1');
  const started = a.flappingStarted();
  const flapped = a.flapped('2026-11-23T09:55:00.000Z');
  const ended = a.flappingEnded('2026-11-23T09:55:00.000Z');
  const breached = a.slaBreached('gold', 900);

  it.each<[string, EscalationEvent[], Partial<AlertEscalationRow>]>([
    [
      'routed with a site, a group and a tier: the SLA deadline is the trigger + the response time',
      [routed],
      {
        site: 'fra1-r12',
        group_key: 'checkout|site=fra1',
        tier: 'gold',
        sla_response_seconds: 900,
        sla_deadline: '2026-11-23T10:15:00.000Z',
        incident_id: null,
        inhibited: false,
        flapping: null,
        sla_breached_at: null,
      },
    ],
    [
      'routed before issue 16 (no storm fields)',
      [a.routed()],
      { site: null, group_key: null, tier: null, sla_response_seconds: null, sla_deadline: null },
    ],
    [
      'inhibited',
      [routed, inhibited],
      { inhibited: true, inhibited_by: source, inhibited_rule: 'site-down', inhibited_at: inhibited.occurredAt, released_at: null },
    ],
    [
      'released: not inhibited, who inhibited it kept',
      [routed, inhibited, released],
      { inhibited: false, inhibited_by: source, inhibited_rule: 'site-down', released_at: released.occurredAt },
    ],
    ['opened an incident', [routed, opened], { incident_id: incident }],
    ['grouped into an incident', [routed, a.grouped(incident, 'checkout|site=fra1', source)], { incident_id: incident }],
    ['started flapping', [routed, started], { flapping: 'started', flapping_since: started.occurredAt }],
    ['a flip of a flapping fingerprint', [routed, flapped], { flapping: 'flapped', flapping_since: '2026-11-23T09:55:00.000Z' }],
    ['flapping ended', [routed, ended], { flapping: 'ended', flapping_since: '2026-11-23T09:55:00.000Z' }],
    [
      'SLA breached',
      [routed, a.step(0, 0, [user('alice')]), breached],
      { sla_breached_at: breached.occurredAt, sla_deadline: '2026-11-23T10:15:00.000Z', escalation_step: 0 },
    ],
  ])('%s', (_, events, expected) => {
    expect(fold(events)).toMatchObject(expected);
  });
});

describe.each<[string, 'first' | 'second']>([
  ['its first alert leads it to the end', 'first'],
  // The first resolved by its source, the second took over: later joins and the resolution name the second.
  ['another alert took it over', 'second'],
])('incidents row: a merge of its events in any order and split, when %s', (_, leader) => {
  const f = eventFactory();
  const incidentId = alertRef('incident').alertId;
  const key = 'checkout|site=fra1';
  const first = escalation(f, 'first');
  const second = escalation(f, 'second');
  const third = escalation(f, 'third', 'checkout');
  const firstId = alertRef('first').alertId;
  const lead = leader === 'first' ? first : second;
  const events: IncidentEvent[] = [
    first.incidentOpened(incidentId, key, { site: 'fra1' }),
    second.grouped(incidentId, key, firstId),
    third.grouped(incidentId, key, alertRef(leader).alertId),
    lead.incidentResolved(incidentId, key),
  ];
  const deltas = events.map((e, i) => incidentDelta(e, i + 1));
  const inOrder = deltas.reduce(mergeIncident);

  it('in stream order', () => {
    expect(inOrder).toStrictEqual<IncidentRow>({
      incident_id: incidentId,
      service_id: 'checkout',
      group_key: key,
      group_labels: { site: 'fra1' },
      first_alert_id: firstId,
      summary: 'first is down',
      opened_at: events[0]!.occurredAt,
      resolved_at: events[3]!.occurredAt,
      alert_count: 3,
      last_alert_at: events[2]!.occurredAt,
      updated_at: events[3]!.occurredAt,
      last_event_seq: 4,
    });
  });

  it('any order and grouping of the merges gives the same row', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(deltas, { minLength: deltas.length, maxLength: deltas.length }), fc.nat(3), (shuffled, split) => {
        const left = shuffled.slice(0, split + 1).reduce(mergeIncident);
        const rest = shuffled.slice(split + 1);
        const merged = rest.length === 0 ? left : mergeIncident(left, rest.reduce(mergeIncident));
        expect(merged).toStrictEqual(inOrder);
      }),
    );
  });
});

describe('notification request and outcome: given events, then', () => {
  const f = eventFactory();
  const a = escalation(f, 'n');

  it('a request names the recipient, the user and the contact methods chosen', () => {
    const e = a.requested('k', user('alice'), { channels: ['sms', 'voice'], step: 1 });
    expect(notificationRequest(e, 9)).toStrictEqual({
      notification_id: notificationIdOf('n', 'k'),
      alert_id: e.data.alertId,
      service_id: 'checkout',
      kind: 'page',
      step: 1,
      round: 0,
      page: 0,
      recipient: user('alice'),
      recipient_type: 'user',
      user_id: 'alice',
      contacts: [
        { channel: 'sms', address: 'alice@sms' },
        { channel: 'voice', address: 'alice@voice' },
      ],
      template_id: 'default',
      template_version: 1,
      priority: 'critical',
      requested_at: e.occurredAt,
      request_seq: 9,
    });
    expect(notificationRequest(a.requested('c', { type: 'slack', channel: '#ops' }), 1)).toMatchObject({
      recipient_type: 'slack',
      user_id: null,
      contacts: [],
    });
  });

  const delivered = a.delivered('k', 'sms', 2);
  const smsFailed = a.failed('k', 'sms', 'voice');
  const voiceDelivered = a.delivered('k', 'voice');
  const voiceFailed = a.failed('k', 'voice', null);
  const emailFailed = a.failed('k', 'email', null);

  it.each<[string, DeliveryEvent[], Partial<NotificationOutcomeRow>]>([
    [
      'delivered',
      [delivered],
      {
        status: 'delivered',
        delivered_at: delivered.occurredAt,
        outcomes: 1,
        last_outcome_at: delivered.occurredAt,
        delivery_seq: 1,
        channels: {
          sms: { status: 'delivered', destination: '***sms', attempts: 2, at: delivered.occurredAt, providerMessageId: 'msg-n-k-sms' },
        },
      },
    ],
    ['failed with a fallback: still in flight', [smsFailed], { status: 'requested', delivered_at: null, outcomes: 1 }],
    [
      'failed over to voice, delivered there',
      [smsFailed, voiceDelivered],
      {
        status: 'delivered',
        delivered_at: voiceDelivered.occurredAt,
        outcomes: 2,
        channels: {
          sms: {
            status: 'failed',
            destination: '***sms',
            attempts: 3,
            at: smsFailed.occurredAt,
            reason: 'provider_unavailable',
            retryable: true,
            error: 'HTTP 503',
            fallback: 'voice',
          },
          voice: {
            status: 'delivered',
            destination: '***voice',
            attempts: 1,
            at: voiceDelivered.occurredAt,
            providerMessageId: 'msg-n-k-voice',
          },
        },
      },
    ],
    ['failed on every channel', [smsFailed, voiceFailed], { status: 'failed', delivered_at: null, outcomes: 2 }],
    [
      'delivered stays delivered when another channel fails later',
      [delivered, emailFailed],
      { status: 'delivered', delivered_at: delivered.occurredAt },
    ],
    [
      'the first delivery is kept, the latest outcome per channel shown',
      [delivered, smsFailed, a.delivered('k', 'sms', 5)],
      {
        delivered_at: delivered.occurredAt,
        outcomes: 3,
        channels: { sms: expect.objectContaining({ status: 'delivered', attempts: 5 }) as never },
      },
    ],
  ])('%s', (_, events, expected) => {
    expect(foldOutcomes(events)).toMatchObject({
      notification_id: notificationIdOf('n', 'k'),
      alert_id: delivered.data.alertId,
      ...expected,
    });
  });

  const reported = (status: 'delivered' | 'undelivered'): DeliveryStatusEvent =>
    f.make('NotificationStatusReported', {
      alertId: delivered.data.alertId,
      serviceId: delivered.data.serviceId,
      notificationId: delivered.data.notificationId,
      channel: 'sms',
      destination: '***sms',
      providerMessageId: 'msg-n-k-sms',
      status,
      errorCode: status === 'undelivered' ? '30003' : null,
    });

  it.each<[string, (DeliveryEvent | DeliveryStatusEvent)[]]>([
    ['after the send was recorded', [delivered, reported('undelivered')]],
    ['before the send was recorded (Twilio overtook the dispatcher)', [reported('undelivered'), delivered]],
  ])("keeps the provider's status report on the channel, %s", (_, events) => {
    const row = events.reduce<NotificationOutcomeRow | undefined>((r, e, i) => evolveNotificationOutcome(r, e, i + 1), undefined);
    expect(row).toMatchObject({ status: 'delivered', outcomes: 1 });
    expect(row?.channels.sms).toMatchObject({
      status: 'delivered',
      attempts: 2,
      provider: { status: 'undelivered', errorCode: '30003', providerMessageId: 'msg-n-k-sms' },
    });
  });
});
