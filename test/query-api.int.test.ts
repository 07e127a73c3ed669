import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { jetstream } from '@nats-io/jetstream';
import { CONSUMERS, encodeEvent, partitionOf, stableUuid, STREAMS, subjects, type DomainEvent } from '@oncall/contracts';
import { alertingV1, notificationV1 } from '@oncall/contracts/grpc';
import { waitForProjection } from '@oncall/projector';
import { startGrpcServer } from '@oncall/query-api';
import { loadConfig } from '@oncall/shared';
import { amAlert, amPayload } from './fixtures.js';
import { streamLastSeq, testLog } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { escalation, eventFactory, notificationIdOf, user } from './projection-events.js';

const { AlertStatus } = alertingV1;
const { ChannelType, DeliveryState } = notificationV1;

/** Resolves with a unary call's answer, rejects with its ServiceError. */
const ask = <Res>(call: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> =>
  new Promise((resolve, reject) => call((err, res) => (err ? reject(err) : resolve(res))));

async function collect<T>(stream: AsyncIterable<unknown>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of stream) out.push(x as T);
  return out;
}

/** The error a call failed with (the test fails if it succeeded). */
async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** Top-level fields of a protobuf message: numbers for varints, bytes otherwise. */
function fields(bytes: Uint8Array): Map<number, number | Uint8Array> {
  const r = new BinaryReader(bytes);
  const out = new Map<number, number | Uint8Array>();
  while (r.pos < r.len) {
    const [no, type] = r.tag();
    out.set(no, type === WireType.Varint ? r.int32() : r.bytes());
  }
  return out;
}
const text = (v: number | Uint8Array | undefined): string => new TextDecoder().decode(v as Uint8Array);

/** The google.rpc.BadRequest inside the grpc-status-details-bin trailer. */
function badRequest(err: ServiceError): { code: number; typeUrl: string; field: string; description: string } {
  const [bin] = err.metadata.get('grpc-status-details-bin');
  const statusFields = fields(bin as Buffer);
  const any = fields(statusFields.get(3) as Uint8Array);
  const violation = fields(fields(any.get(2) as Uint8Array).get(1) as Uint8Array);
  return {
    code: statusFields.get(1) as number,
    typeUrl: text(any.get(1)),
    field: text(violation.get(1)),
    description: text(violation.get(2)),
  };
}

async function expectInvalid(p: Promise<unknown>, field: string): Promise<void> {
  const err = await failure(p);
  expect(err.code, err.details).toBe(status.INVALID_ARGUMENT);
  expect(err.metadata.get('invalid-field')).toEqual([field]);
  expect(badRequest(err)).toMatchObject({ code: status.INVALID_ARGUMENT, typeUrl: 'type.googleapis.com/google.rpc.BadRequest', field });
}

describe('query-api over gRPC against the in-process pipeline', () => {
  let p: TestPipeline;
  let alerts: alertingV1.AlertServiceClient;
  let templates: notificationV1.TemplateServiceClient;
  let notifications: notificationV1.NotificationServiceClient;
  let schedules: alertingV1.ScheduleServiceClient;
  let escalations: alertingV1.EscalationServiceClient;
  const f = eventFactory(Date.now() - 60_000);

  beforeAll(async () => {
    p = await startTestPipeline();
    const creds = credentials.createInsecure();
    alerts = new alertingV1.AlertServiceClient(p.grpcAddress, creds, p.clientOptions);
    templates = new notificationV1.TemplateServiceClient(p.grpcAddress, creds, p.clientOptions);
    notifications = new notificationV1.NotificationServiceClient(p.grpcAddress, creds, p.clientOptions);
    schedules = new alertingV1.ScheduleServiceClient(p.grpcAddress, creds, p.clientOptions);
    escalations = new alertingV1.EscalationServiceClient(p.grpcAddress, creds, p.clientOptions);
  });
  afterAll(async () => {
    for (const c of [alerts, templates, notifications, schedules, escalations]) c?.close();
    await p?.stop();
  });

  /** Fires an Alertmanager alert and returns it once projected. */
  async function openAlert(name: string): Promise<alertingV1.Alert> {
    const before = await streamLastSeq(p.admin, STREAMS.alerts);
    expect((await p.postAlertmanager(amPayload([amAlert(name)]))).status).toBe(202);
    await p.alertsApplied(before + 1);
    const [alert] = await p.listAlerts({ labelSelector: { alertname: name } });
    return alert!;
  }

  /** Publishes events on their subjects and waits until `projection` has applied them. */
  async function publish(projection: string, events: ReadonlyArray<readonly [string, DomainEvent]>): Promise<void> {
    const js = jetstream(p.admin);
    let seq = 0;
    for (const [subject, e] of events) seq = (await js.publish(subject, encodeEvent(e))).seq;
    await waitForProjection(p.db.url, p.db.schema, projection, seq);
  }

  const partitionOfAlert = (a: alertingV1.Alert) => partitionOf(a.serviceId, a.fingerprint, p.partitions);
  const acknowledge = (r: Partial<alertingV1.AcknowledgeRequest>) =>
    ask<alertingV1.AcknowledgeResponse>((cb) => alerts.acknowledgeAlert(alertingV1.AcknowledgeRequest.fromPartial(r), cb));
  const snooze = (r: Partial<alertingV1.SnoozeRequest>) =>
    ask<alertingV1.SnoozeResponse>((cb) => alerts.snoozeAlert(alertingV1.SnoozeRequest.fromPartial(r), cb));
  const escalate = (r: Partial<alertingV1.EscalateRequest>) =>
    ask<alertingV1.EscalateResponse>((cb) => alerts.escalateAlert(alertingV1.EscalateRequest.fromPartial(r), cb));
  const resolve = (r: Partial<alertingV1.ResolveRequest>) =>
    ask<alertingV1.ResolveResponse>((cb) => alerts.resolveAlert(alertingV1.ResolveRequest.fromPartial(r), cb));
  const updateStatus = (r: Partial<alertingV1.UpdateStatusRequest>) =>
    ask<alertingV1.Alert>((cb) => alerts.updateAlertStatus(alertingV1.UpdateStatusRequest.fromPartial(r), cb));
  const timeline = (alertId: string) => collect<alertingV1.TimelineEntry>(alerts.getAlertTimeline({ alertId }));

  describe('AlertService commands answer with the alert as changed (read-your-writes)', () => {
    it('acknowledge, snooze, reopen, escalate and resolve round trips', async () => {
      const alert = await openAlert('cmd-roundtrip');
      expect(alert.status).toBe(AlertStatus.ALERT_STATUS_TRIGGERED);

      const acked = await acknowledge({ alertId: alert.id, userId: 'alice', note: 'on it' });
      expect(acked.alert).toMatchObject({ status: AlertStatus.ALERT_STATUS_ACKNOWLEDGED, acknowledgedByUserId: 'alice' });
      expect(acked.alert!.lastEventSequence).toBeGreaterThan(alert.lastEventSequence);
      expect((await p.getAlert(alert.id)).status).toBe(AlertStatus.ALERT_STATUS_ACKNOWLEDGED);

      const before = Date.now();
      const snoozed = await snooze({ alertId: alert.id, userId: 'bob', duration: { seconds: 1800, nanos: 0 }, note: 'after the deploy' });
      expect(snoozed.alert).toMatchObject({ status: AlertStatus.ALERT_STATUS_SNOOZED, snoozedByUserId: 'bob' });
      expect(snoozed.snoozedUntil!.getTime()).toBeGreaterThanOrEqual(before + 1800_000 - 1000);
      expect(snoozed.snoozedUntil!.getTime()).toBeLessThanOrEqual(Date.now() + 1800_000);
      // The bug: a snoozed alert made ListAlerts fail with "Error serializing response".
      expect((await p.listAlerts({ statuses: [AlertStatus.ALERT_STATUS_SNOOZED] })).map((a) => a.id)).toEqual([alert.id]);
      expect((await p.listAlerts()).length).toBeGreaterThan(0);

      const reopened = await updateStatus({ alertId: alert.id, userId: 'carol', status: AlertStatus.ALERT_STATUS_TRIGGERED });
      expect(reopened).toMatchObject({ status: AlertStatus.ALERT_STATUS_TRIGGERED, snoozedUntil: undefined });

      const escalated = await escalate({ alertId: alert.id, userId: 'dave', note: 'need the network team' });
      expect(escalated.alert).toMatchObject({ status: AlertStatus.ALERT_STATUS_TRIGGERED, escalatedByUserId: 'dave' });
      expect(escalated.alert!.escalatedAt).toBeInstanceOf(Date);

      const resolved = await resolve({ alertId: alert.id, userId: 'erin', note: 'fixed' });
      expect(resolved.alert).toMatchObject({ status: AlertStatus.ALERT_STATUS_RESOLVED, resolvedByUserId: 'erin' });

      const entries = await timeline(alert.id);
      expect(entries.map((e) => [e.eventType, e.actor, e.stream])).toEqual([
        ['AlertTriggered', 'source:alertmanager', 'ALERTS'],
        ['AlertAcknowledged', 'user:alice', 'ALERTS'],
        ['AlertSnoozed', 'user:bob', 'ALERTS'],
        ['AlertUnacknowledged', 'user:carol', 'ALERTS'],
        ['AlertEscalated', 'user:dave', 'ALERTS'],
        ['AlertResolved', 'user:erin', 'ALERTS'],
      ]);
    });

    it('a repeated acknowledgement changes nothing and the decider says so in the log; request ids make retries idempotent', async () => {
      const alert = await openAlert('cmd-idempotent');
      const acked = await acknowledge({ alertId: alert.id, userId: 'alice' });
      const again = await acknowledge({ alertId: alert.id, userId: 'alice' });
      expect(again.alert!.status).toBe(AlertStatus.ALERT_STATUS_ACKNOWLEDGED);
      expect(again.alert!.acknowledgedAt).toEqual(acked.alert!.acknowledgedAt);
      const answers = (await timeline(alert.id)).filter(
        (e) => e.eventType.startsWith('AlertAcknowledged') || e.eventType === 'AlertCommandDeclined',
      );
      expect(answers.map((e) => [e.eventType, e.actor])).toEqual([
        ['AlertAcknowledged', 'user:alice'],
        ['AlertCommandDeclined', 'user:alice'],
      ]);
      expect(answers[1]!.message).toMatch(/already acknowledged/);

      // The same request id twice: one escalation. Without one, a second escalation is a new command.
      const first = await escalate({ alertId: alert.id, userId: 'bob', requestId: 'req-1' });
      const retried = await escalate({ alertId: alert.id, userId: 'bob', requestId: 'req-1' });
      expect(retried.alert!.lastEventSequence).toBe(first.alert!.lastEventSequence);
      await escalate({ alertId: alert.id, userId: 'bob' });
      await escalate({ alertId: alert.id, userId: 'bob' });
      expect((await timeline(alert.id)).filter((e) => e.eventType === 'AlertEscalated')).toHaveLength(3);
    });

    it('rejects bad input naming the field (also as google.rpc.BadRequest), unknown and resolved alerts', async () => {
      await expectInvalid(acknowledge({ alertId: 'not-a-uuid', userId: 'alice' }), 'alert_id');
      await expectInvalid(acknowledge({ alertId: '', userId: 'alice' }), 'alert_id');
      const alert = await openAlert('cmd-errors');
      await expectInvalid(acknowledge({ alertId: alert.id, userId: '' }), 'user_id');
      await expectInvalid(resolve({ alertId: alert.id, userId: '  ' }), 'user_id');
      await expectInvalid(snooze({ alertId: alert.id, userId: 'alice' }), 'duration');
      await expectInvalid(snooze({ alertId: alert.id, userId: 'alice', duration: { seconds: 5, nanos: 0 } }), 'duration');
      await expectInvalid(updateStatus({ alertId: alert.id, userId: 'alice', status: AlertStatus.ALERT_STATUS_SNOOZED }), 'status');
      await expectInvalid(escalate({ alertId: alert.id, userId: 'alice', note: 'x'.repeat(5000) }), 'note');
      await expectInvalid(acknowledge({ alertId: alert.id, userId: 'alice', note: 'on \u0000 it' }), 'note');
      // A lone surrogate cannot cross the wire: protobuf's UTF-8 encoder sends U+FFFD in its place.
      await expectInvalid(acknowledge({ alertId: alert.id, userId: 'ali\u0000ce' }), 'user_id');
      expect(badRequest(await failure(acknowledge({ alertId: alert.id, userId: '' }))).description).toBe('is required');

      const unknown = await failure(acknowledge({ alertId: '00000000-0000-4000-8000-000000000000', userId: 'alice' }));
      expect(unknown.code).toBe(status.NOT_FOUND);

      await resolve({ alertId: alert.id, userId: 'alice' });
      const intake = await streamLastSeq(p.admin, STREAMS.intake);
      for (const call of [() => acknowledge({ alertId: alert.id, userId: 'bob' }), () => escalate({ alertId: alert.id, userId: 'bob' })]) {
        const err = await failure(call());
        expect(err.code, err.details).toBe(status.FAILED_PRECONDITION);
        expect(err.details).toMatch(/resolved/);
      }
      expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(intake);
    });

    it('a server started without NATS answers commands UNAVAILABLE and still serves reads', async () => {
      const { state } = await loadConfig(p.admin);
      const bare = await startGrpcServer({
        pool: p.pool,
        port: 0,
        host: '127.0.0.1',
        log: testLog,
        tokens: (id) => state.apiTokens.get(id),
      });
      const client = new alertingV1.AlertServiceClient(`127.0.0.1:${bare.port}`, credentials.createInsecure(), p.clientOptions);
      try {
        const alert = await openAlert('cmd-bare');
        const err = await failure(
          ask((cb) => client.acknowledgeAlert(alertingV1.AcknowledgeRequest.fromPartial({ alertId: alert.id, userId: 'a' }), cb)),
        );
        expect(err.code).toBe(status.UNAVAILABLE);
        expect((await ask<alertingV1.Alert>((cb) => client.getAlert({ id: alert.id }, cb))).id).toBe(alert.id);
      } finally {
        client.close();
        await bare.stop();
      }
    });
  });

  describe('escalation and delivery state', () => {
    let alert: alertingV1.Alert;
    // Escalation events happen after the alert triggered (the merged timeline orders by time).
    let ef: ReturnType<typeof eventFactory>;
    const x = () => escalation(ef, 'delivery', alert.serviceId, alert.id);
    const esc = (e: DomainEvent) => [subjects.escalation(partitionOfAlert(alert), alert.id), e] as const;
    const del = (e: DomainEvent) => [subjects.delivery(partitionOfAlert(alert), alert.id), e] as const;

    beforeAll(async () => {
      alert = await openAlert('escalated');
      ef = eventFactory(Date.now());
      await publish(CONSUMERS.projectorEscalations, [
        esc(
          x().routed({
            alertSeq: alert.lastEventSequence,
            sourceSeverity: 'critical',
            severity: 'error',
            severityBoost: { from: 'critical', to: 'error', by: 'equipment:lab', boost: -1, severity: null },
            severityRule: null,
          }),
        ),
        esc(x().step(0, 0, [user('alice'), { type: 'slack', channel: '#ops' }], { nextInMinutes: 5 })),
        esc(x().requested('alice', user('alice'), { channels: ['sms', 'voice'] })),
      ]);
    });

    it('GetAlert carries the escalation state; GetAlertTimeline merges the streams; GetEscalationState explains the pages', async () => {
      const got = await p.getAlert(alert.id);
      expect(got).toMatchObject({ escalationPolicyId: 'primary', escalationStep: 1, escalationRound: 0, escalationSuppressed: false });
      expect(got.nextEscalationAt).toBeInstanceOf(Date);
      // The effective severity (its equipment type lowered it), and the source's.
      expect([got.severity, got.sourceSeverity]).toStrictEqual([alertingV1.Severity.SEVERITY_ERROR, alertingV1.Severity.SEVERITY_CRITICAL]);
      const filtered = await p.listAlerts({ severities: [alertingV1.Severity.SEVERITY_ERROR] });
      expect(filtered.map((a) => a.id)).toContain(alert.id);
      expect((await timeline(alert.id)).map((e) => [e.stream, e.eventType])).toEqual([
        ['ALERTS', 'AlertTriggered'],
        ['ESCALATIONS', 'AlertRouted'],
        ['ESCALATIONS', 'EscalationStepReached'],
        ['ESCALATIONS', 'NotificationRequested'],
      ]);
      const state = await ask<alertingV1.EscalationState>((cb) => escalations.getEscalationState({ alertId: alert.id }, cb));
      expect(state).toMatchObject({ alertId: alert.id, policyId: 'primary', currentStep: 1, repetition: 0, stoppedReason: '' });
      expect(state.history).toEqual([
        {
          stepNumber: 1,
          repetition: 0,
          reachedAt: expect.any(Date) as Date,
          userIds: ['alice'],
          reason: 'triggered: alice via schedule:primary, slack:#ops',
        },
      ]);
      const unknown = await failure(ask((cb) => escalations.getEscalationState({ alertId: '00000000-0000-4000-8000-000000000001' }, cb)));
      expect(unknown.code).toBe(status.NOT_FOUND);
    });

    it('GetDeliveryStatus and StreamDeliveryStatus follow a notification as its outcomes are projected', async () => {
      const notificationId = notificationIdOf('delivery', 'alice');
      const get = (deliveryId = '') =>
        ask<notificationV1.DeliveryStatus>((cb) => notifications.getDeliveryStatus({ notificationId, deliveryId }, cb));
      expect(await get()).toMatchObject({
        notificationId,
        alertId: alert.id,
        state: DeliveryState.DELIVERY_STATE_PENDING,
        kind: 'page',
        channels: [],
      });

      const stream = notifications.streamDeliveryStatus({ alertId: alert.id, notificationId: '' });
      const updates = stream[Symbol.asyncIterator]() as AsyncIterator<notificationV1.DeliveryStatus>;
      expect((await updates.next()).value).toMatchObject({ notificationId, state: DeliveryState.DELIVERY_STATE_PENDING });

      await publish(CONSUMERS.projectorDeliveries, [del(x().failed('alice', 'sms', 'voice'))]);
      expect((await updates.next()).value).toMatchObject({
        notificationId,
        state: DeliveryState.DELIVERY_STATE_RETRYING,
        failureReason: 'provider_unavailable',
      });
      await publish(CONSUMERS.projectorDeliveries, [del(x().delivered('alice', 'voice', 2))]);
      expect((await updates.next()).value).toMatchObject({ notificationId, state: DeliveryState.DELIVERY_STATE_DELIVERED });
      stream.cancel();

      const status_ = await get();
      expect(status_).toMatchObject({
        state: DeliveryState.DELIVERY_STATE_DELIVERED,
        attempts: 5,
        providerMessageId: 'msg-delivery-alice-voice',
        failureReason: '',
        destination: { userId: 'alice', channel: ChannelType.CHANNEL_VOICE, channelAddress: '***voice' },
        templateVersion: 1,
      });
      expect(status_.channels.map((c) => [c.channel, c.state, c.attempts, c.fallback])).toEqual([
        [ChannelType.CHANNEL_SMS, DeliveryState.DELIVERY_STATE_FAILED, 3, ChannelType.CHANNEL_VOICE],
        [ChannelType.CHANNEL_VOICE, DeliveryState.DELIVERY_STATE_DELIVERED, 2, ChannelType.CHANNEL_UNSPECIFIED],
      ]);
      expect(await get('sms')).toMatchObject({
        deliveryId: 'sms',
        state: DeliveryState.DELIVERY_STATE_FAILED,
        attempts: 3,
        failureReason: 'provider_unavailable',
      });

      expect((await failure(get('pager'))).code).toBe(status.INVALID_ARGUMENT);
      const unknown = await failure(
        ask((cb) => notifications.getDeliveryStatus({ notificationId: '00000000-0000-4000-8000-000000000002', deliveryId: '' }, cb)),
      );
      expect(unknown.code).toBe(status.NOT_FOUND);
      await expectInvalid(
        ask((cb) => notifications.getDeliveryStatus({ notificationId: 'nope', deliveryId: '' }, cb)),
        'notification_id',
      );
    });

    it('a stream of every notification starts from now and shows new ones', async () => {
      const stream = notifications.streamDeliveryStatus({ alertId: '', notificationId: '' });
      // The response headers come once the stream follows the projections.
      await new Promise((resolve) => stream.once('metadata', resolve));
      const updates = stream[Symbol.asyncIterator]() as AsyncIterator<notificationV1.DeliveryStatus>;
      await publish(CONSUMERS.projectorEscalations, [esc(x().requested('bob', user('bob')))]);
      expect((await updates.next()).value).toMatchObject({
        notificationId: notificationIdOf('delivery', 'bob'),
        state: DeliveryState.DELIVERY_STATE_PENDING,
      });
      stream.cancel();
    });
  });

  describe('incidents (storm sense)', () => {
    const { IncidentStatus } = alertingV1;
    let first: alertingV1.Alert;
    let member: alertingV1.Alert;
    const incident = stableUuid('query-api-incident');
    const group = 'storm|site=fra1';
    const gold = { tier: 'gold', responseSeconds: 600, escalateBeforeSeconds: 60 };
    const listIncidents = (r: Partial<alertingV1.ListIncidentsRequest>) =>
      ask<alertingV1.ListIncidentsResponse>((cb) => alerts.listIncidents(alertingV1.ListIncidentsRequest.fromPartial(r), cb));
    const getIncident = (incidentId: string) =>
      ask<alertingV1.GetIncidentResponse>((cb) => alerts.getIncident(alertingV1.GetIncidentRequest.fromPartial({ incidentId }), cb));
    /** Every page of a listing, following the tokens. */
    async function allPages(r: Partial<alertingV1.ListIncidentsRequest>): Promise<alertingV1.Incident[][]> {
      const pages: alertingV1.Incident[][] = [];
      let pageToken = '';
      do {
        const page = await listIncidents({ ...r, pageToken });
        pages.push(page.incidents);
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
      return pages;
    }

    beforeAll(async () => {
      first = await openAlert('storm-first');
      member = await openAlert('storm-member');
      const ef = eventFactory(Date.now());
      const on = (a: alertingV1.Alert, name: string) => escalation(ef, name, a.serviceId, a.id);
      const esc = (a: alertingV1.Alert) => (e: DomainEvent) => [subjects.escalation(partitionOfAlert(a), a.id), e] as const;
      const ghost = (e: DomainEvent) => [subjects.escalation(0, (e.data as { alertId: string }).alertId), e] as const;
      const f = on(first, 'storm-first');
      const m = on(member, 'storm-member');
      const storm = { site: 'fra1-r1', groupKey: group, groupLabels: { site: 'fra1' }, sla: gold };
      // five more incidents of alerts the ALERTS stream does not hold: two resolved, one of another service
      const others = [0, 1, 2, 3, 4].map((i) => {
        const g = escalation(ef, `storm-ghost-${i}`, i === 4 ? 'payroll' : 'checkout');
        const id = stableUuid(`query-api-incident-${i}`);
        return [
          ghost(g.incidentOpened(id, `ghost|${i}`, { n: String(i) })),
          ...(i < 2 ? [ghost(g.incidentResolved(id, `ghost|${i}`))] : []),
        ];
      });
      await publish(CONSUMERS.projectorEscalations, [
        esc(first)(f.routed({ ...storm, alertSeq: first.lastEventSequence })),
        esc(member)(m.routed({ ...storm, alertSeq: member.lastEventSequence })),
        esc(member)(m.inhibited(first.id)),
        esc(first)(f.flappingStarted()),
        esc(first)(f.incidentOpened(incident, group, { site: 'fra1' })),
        esc(first)(f.step(0, 0, [user('alice')])),
        esc(member)(m.released(first.id)),
        esc(member)(m.grouped(incident, group, first.id)),
        esc(first)(f.slaBreached('gold', 600)),
        ...others.flat(),
      ]);
    });

    it('GetAlert carries the site, the incident, the inhibition, flapping and the SLA', async () => {
      const m = await p.getAlert(member.id);
      expect(m).toMatchObject({
        site: 'fra1-r1',
        groupKey: group,
        incidentId: incident,
        inhibited: false,
        inhibitedBy: first.id,
        inhibitedRule: 'site-down',
        flapping: '',
        tier: 'gold',
        slaBreachedAt: undefined,
      });
      expect(m.slaDeadline).toBeInstanceOf(Date);
      const f = await p.getAlert(first.id);
      expect(f).toMatchObject({ incidentId: incident, flapping: 'started', inhibited: false, inhibitedBy: '', tier: 'gold' });
      expect(f.slaBreachedAt).toBeInstanceOf(Date);
    });

    it('GetIncident answers the incident with its alerts; GetIncidentTimeline every event of its alerts', async () => {
      const got = await getIncident(incident);
      expect(got.incident).toMatchObject({
        id: incident,
        serviceId: first.serviceId,
        groupKey: group,
        groupLabels: { site: 'fra1' },
        firstAlertId: first.id,
        summary: 'storm-first is down',
        status: IncidentStatus.INCIDENT_STATUS_OPEN,
        alertCount: 2,
        resolvedAt: undefined,
      });
      expect(got.incident!.lastAlertAt!.getTime()).toBeGreaterThan(got.incident!.openedAt!.getTime());
      expect(got.alerts.map((a) => a.id)).toEqual([first.id, member.id]);
      const entries = await collect<alertingV1.TimelineEntry>(alerts.getIncidentTimeline({ incidentId: incident }));
      expect(new Set(entries.map((e) => e.alertId))).toStrictEqual(new Set([first.id, member.id]));
      expect(entries.filter((e) => e.eventType === 'AlertTriggered')).toHaveLength(2);
      expect(entries.map((e) => e.eventType)).toEqual(expect.arrayContaining(['IncidentOpened', 'AlertGrouped', 'AlertReleased']));
      const times = entries.map((e) => e.occurredAt!.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));

      const unknown = '00000000-0000-4000-8000-000000000002';
      expect((await failure(getIncident(unknown))).code).toBe(status.NOT_FOUND);
      expect((await failure(collect(alerts.getIncidentTimeline({ incidentId: unknown })))).code).toBe(status.NOT_FOUND);
      await expectInvalid(getIncident('nope'), 'incident_id');
    });

    it('ListIncidents pages through the incidents newest first, by status and service', async () => {
      const all = (await listIncidents({ pageSize: 1000 })).incidents;
      expect(all).toHaveLength(6);
      const key = (i: alertingV1.Incident) => [i.openedAt!.getTime(), i.id] as const;
      const sorted = [...all].sort((a, b) => key(b)[0] - key(a)[0] || (key(b)[1] < key(a)[1] ? -1 : 1));
      expect(all.map((i) => i.id)).toEqual(sorted.map((i) => i.id));

      const pages = await allPages({ pageSize: 4 });
      expect(pages.map((page) => page.length)).toEqual([4, 2]);
      expect(pages.flat().map((i) => i.id)).toEqual(all.map((i) => i.id));
      expect((await allPages({ pageSize: 3 })).map((page) => page.length)).toEqual([3, 3]);

      const open = (await allPages({ status: IncidentStatus.INCIDENT_STATUS_OPEN, pageSize: 1 })).flat();
      expect(open).toHaveLength(4);
      expect(open.every((i) => i.status === IncidentStatus.INCIDENT_STATUS_OPEN)).toBe(true);
      const resolved = (await listIncidents({ status: IncidentStatus.INCIDENT_STATUS_RESOLVED })).incidents;
      expect(resolved.map((i) => i.id).sort()).toEqual([0, 1].map((i) => stableUuid(`query-api-incident-${i}`)).sort());
      expect(resolved.every((i) => i.resolvedAt instanceof Date)).toBe(true);
      expect((await listIncidents({ serviceIds: ['payroll'] })).incidents.map((i) => i.id)).toEqual([stableUuid('query-api-incident-4')]);

      const { nextPageToken } = await listIncidents({ pageSize: 2 });
      expect(nextPageToken).not.toBe('');
      await expectInvalid(listIncidents({ pageSize: 2, pageToken: 'garbage' }), 'page_token');
      await expectInvalid(listIncidents({ pageSize: 2, pageToken: nextPageToken, serviceIds: ['payroll'] }), 'page_token');
      await expectInvalid(listIncidents({ pageSize: 1001 }), 'page_size');
      await expectInvalid(listIncidents({ pageSize: -1 }), 'page_size');
      await expectInvalid(listIncidents({ status: 7 as alertingV1.IncidentStatus }), 'status');
      await expectInvalid(listIncidents({ serviceIds: [''] }), 'service_ids[0]');
    });
  });

  describe('TemplateService', () => {
    const channels = {
      slack: null,
      teams: null,
      emailSubject: '[{{ alert.severity | upcase }}] {{ alert.summary }}',
      emailHtml: '<h1>{{ alert.summary }}</h1>',
      emailText: null,
      sms: '{{ alert.summary }} on {{ labels.instance }}',
      voice: null,
      webhook: null,
    };
    const published = (version: number, sms: string) =>
      [
        subjects.config('template', 'ops'),
        f.make('TemplateVersionPublished', {
          templateId: 'ops',
          version,
          name: 'Ops',
          description: 'pages for ops',
          channels: { ...channels, sms },
          variables: { required: ['labels.instance'], optional: [] },
          createdBy: 'alice',
        }),
      ] as const;

    beforeAll(async () => {
      await publish(CONSUMERS.projectorConfig, [
        published(1, channels.sms),
        published(2, 'SMS v2: {{ alert.summary }} {{ labels.instance }}'),
      ]);
    });

    it('reads templates and versions from the read model', async () => {
      const t = await ask<notificationV1.Template>((cb) => templates.getTemplate({ id: 'ops' }, cb));
      expect(t).toMatchObject({
        id: 'ops',
        name: 'Ops',
        currentVersion: 2,
        requiredVariables: ['labels.instance'],
        createdByUserId: 'alice',
      });
      expect(Object.keys(t.channels).sort()).toEqual(['email', 'sms']);
      expect(t.channels.email).toEqual({
        channel: ChannelType.CHANNEL_EMAIL,
        content: channels.emailHtml,
        format: 'html',
        metadata: { subject: channels.emailSubject },
      });
      const v1 = await ask<notificationV1.Template>((cb) => templates.getTemplateVersion({ templateId: 'ops', version: 1 }, cb));
      expect(v1.channels.sms!.content).toBe(channels.sms);
      const versions = await collect<notificationV1.TemplateVersion>(templates.listTemplateVersions({ templateId: 'ops' }));
      expect(versions.map((v) => v.version)).toEqual([1, 2]);
      expect((await collect<notificationV1.Template>(templates.listTemplates({ pageSize: 0, pageToken: '' }))).map((x) => x.id)).toEqual([
        'ops',
      ]);
      expect((await failure(ask((cb) => templates.getTemplate({ id: 'nope' }, cb)))).code).toBe(status.NOT_FOUND);
      expect((await failure(ask((cb) => templates.getTemplateVersion({ templateId: 'ops', version: 9 }, cb)))).code).toBe(status.NOT_FOUND);
      // Writes are configuration writes (test/config-api.int.test.ts): a template without channels is refused.
      await expectInvalid(
        ask((cb) => templates.createTemplate(notificationV1.CreateTemplateRequest.fromPartial({ name: 'x' }), cb)),
        'channels',
      );
    });

    it('RenderPreview renders what would be sent per channel with the sample data', async () => {
      const preview = await ask<notificationV1.RenderPreviewResponse>((cb) =>
        templates.renderPreview(
          notificationV1.RenderPreviewRequest.fromPartial({
            templateId: 'ops',
            channels: [ChannelType.CHANNEL_SMS, ChannelType.CHANNEL_EMAIL],
            sampleData: { labels: { instance: 'db-1' } },
          }),
          cb,
        ),
      );
      expect(Object.keys(preview.previews).sort()).toEqual(['email', 'sms']);
      expect(preview.previews.sms).toMatchObject({ channel: ChannelType.CHANNEL_SMS, smsSegments: 1, errors: [] });
      expect(preview.previews.sms!.renderedContent).toMatch(/^SMS v2: .+ db-1$/);
      expect(preview.previews.email!.subject).toMatch(/^\[CRITICAL\] /);
      expect(preview.previews.email!.renderedContent).toContain('<h1>');
      expect(preview.validation!.valid).toBe(true);
    });

    it('RenderPreview of a draft and ValidateTemplate report syntax errors with line and column', async () => {
      const draft = { sms: { channel: ChannelType.CHANNEL_SMS, content: 'line one\n  {{ alert.summary ', format: '', metadata: {} } };
      const preview = await ask<notificationV1.RenderPreviewResponse>((cb) =>
        templates.renderPreview(
          notificationV1.RenderPreviewRequest.fromPartial({ draftChannels: draft, channels: [ChannelType.CHANNEL_SMS] }),
          cb,
        ),
      );
      expect(preview.validation!.valid).toBe(false);
      expect(preview.validation!.errors).toEqual([
        { field: 'channels[sms].content', code: 'INVALID_SYNTAX', line: 2, column: 3, message: expect.any(String) as string },
      ]);
      // What is shown is what would be sent: the built-in default.
      expect(preview.previews.sms!.errors).toHaveLength(1);
      expect(preview.previews.sms!.renderedContent).not.toContain('line one');

      const result = await ask<notificationV1.ValidationResult>((cb) =>
        templates.validateTemplate(
          notificationV1.ValidateTemplateRequest.fromPartial({
            channels: {
              email: { content: '<p>ok</p>', metadata: { subject: 'Alert {% if alert.summary %}' } },
              sms: { content: '{{ alert.summary }}' },
            },
          }),
          cb,
        ),
      );
      expect(result.valid).toBe(false);
      expect(result.errors).toMatchObject([{ field: 'channels[email].metadata[subject]', code: 'INVALID_SYNTAX', line: 1, column: 7 }]);

      const ok = await ask<notificationV1.ValidationResult>((cb) =>
        templates.validateTemplate(
          notificationV1.ValidateTemplateRequest.fromPartial({ channels: { sms: { content: '{{ alert.summary }}' } } }),
          cb,
        ),
      );
      expect(ok).toMatchObject({ valid: true, errors: [] });

      await expectInvalid(
        ask((cb) =>
          templates.validateTemplate(notificationV1.ValidateTemplateRequest.fromPartial({ channels: { pager: { content: 'x' } } }), cb),
        ),
        'channels[pager]',
      );
      await expectInvalid(
        ask((cb) =>
          templates.validateTemplate(
            notificationV1.ValidateTemplateRequest.fromPartial({ channels: { email: { content: 'x', metadata: { subjct: 'y' } } } }),
            cb,
          ),
        ),
        'channels[email].metadata[subjct]',
      );
      await expectInvalid(
        ask((cb) => templates.renderPreview(notificationV1.RenderPreviewRequest.fromPartial({}), cb)),
        'template_id',
      );
    });
  });

  describe('ScheduleService', () => {
    beforeAll(async () => {
      await publish(CONSUMERS.projectorConfig, [
        [
          subjects.config('schedule', 'primary'),
          f.make('ScheduleConfigured', {
            scheduleId: 'primary',
            name: 'Primary',
            timeZone: 'Europe/Berlin',
            rotations: [
              {
                id: 'weekly',
                name: 'Weekly',
                type: 'weekly',
                shiftLength: 1,
                start: '2026-11-02T09:00:00+01:00',
                members: ['alice', 'bob'],
                restrictions: [],
              },
            ],
            overrides: [
              { kind: 'add', userId: 'carol', replaces: null, start: '2026-11-10T00:00:00+01:00', end: '2026-11-11T00:00:00+01:00' },
            ],
            temporary: [],
          }),
        ],
      ]);
    });

    const onCall = (scheduleId: string, at?: string) =>
      ask<alertingV1.OnCallResponse>((cb) => schedules.getOnCallUsers({ scheduleId, at: at === undefined ? undefined : new Date(at) }, cb));

    it('GetOnCallUsers answers who is on call at an instant, and why', async () => {
      expect(await onCall('primary', '2026-11-03T12:00:00Z')).toEqual({
        scheduleId: 'primary',
        userIds: ['alice'],
        users: [{ userId: 'alice', via: 'rotation:weekly' }],
        validUntil: new Date('2026-11-09T08:00:00Z'),
      });
      expect((await onCall('primary', '2026-11-10T12:00:00Z')).users).toEqual([
        { userId: 'bob', via: 'rotation:weekly' },
        { userId: 'carol', via: 'override:add' },
      ]);
      expect((await onCall('primary')).userIds.length).toBeGreaterThan(0);
      expect((await failure(onCall('nope'))).code).toBe(status.NOT_FOUND);
      await expectInvalid(onCall(''), 'schedule_id');
    });

    it('GetSchedule and ListSchedules read the configured schedule', async () => {
      const s = await ask<alertingV1.Schedule>((cb) => schedules.getSchedule({ id: 'primary' }, cb));
      expect(s).toMatchObject({ id: 'primary', name: 'Primary', timezone: 'Europe/Berlin' });
      expect(s.rotations).toEqual([
        expect.objectContaining({
          id: 'weekly',
          rotationType: alertingV1.RotationType.ROTATION_TYPE_WEEKLY,
          shiftLength: 1,
          startTime: new Date('2026-11-02T08:00:00Z'),
          handoffTime: '09:00',
          memberUserIds: ['alice', 'bob'],
          layer: 0,
        }),
      ]);
      expect((await collect<alertingV1.Schedule>(schedules.listSchedules({ pageSize: 0, pageToken: '' }))).map((x) => x.id)).toEqual([
        'primary',
      ]);
    });
  });

  // Last: it stops the projector.
  it('a command whose outcome does not show within the timeout answers DEADLINE_EXCEEDED', async () => {
    const alert = await openAlert('cmd-deadline');
    const slow = await startGrpcServer({
      pool: p.pool,
      port: 0,
      host: '127.0.0.1',
      log: testLog,
      nc: await p.nats.connect('query-api-2'),
      partitions: p.partitions,
      databaseUrl: p.db.url,
      schema: p.db.schema,
      commandTimeoutMs: 300,
    });
    const client = new alertingV1.AlertServiceClient(`127.0.0.1:${slow.port}`, credentials.createInsecure(), p.clientOptions);
    try {
      await p.stopProjector();
      const err = await failure(
        ask((cb) => client.escalateAlert(alertingV1.EscalateRequest.fromPartial({ alertId: alert.id, userId: 'alice' }), cb)),
      );
      expect(err.code, err.details).toBe(status.DEADLINE_EXCEEDED);
      expect(err.details).toMatch(/accepted \(intake sequence \d+\)/);
    } finally {
      client.close();
      await slow.stop();
    }
  });
});
