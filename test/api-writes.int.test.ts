import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { CONSUMERS, STREAMS } from '@oncall/contracts';
import { alertingV1, notificationV1 } from '@oncall/contracts/grpc';
import { fileUserDirectory } from '@oncall/shared';
import { startEscalator } from '@oncall/escalator';
import { waitForProjection } from '@oncall/projector';
import { webhookNotifier } from '../dispatcher/src/notifiers/index.js';
import { startDispatcherForTest } from './dispatcher-setup.js';
import { appendConfig, followStream, type FollowedStream } from './escalation-log.js';
import { startWebhookFake, type WebhookFake } from './fakes/index.js';
import { streamLastSeq, testLog } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const { AlertSource, AlertStatus, Severity } = alertingV1;
const { ChannelType, DeliveryState } = notificationV1;

const ask = <Res>(call: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> =>
  new Promise((resolve, reject) => call((err, res) => (err ? reject(err) : resolve(res))));

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

describe('API writes through the pipeline: CreateAlert, SendNotification, RegisterDestination', () => {
  let p: TestPipeline;
  let alerts: alertingV1.AlertServiceClient;
  let hook: WebhookFake;
  let noc: WebhookFake;
  let notifications: notificationV1.NotificationServiceClient;
  let escalations: FollowedStream;
  let stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    [p, hook, noc] = await Promise.all([startTestPipeline({ partitions: 2 }), startWebhookFake(), startWebhookFake()]);
    await appendConfig(p.admin, 'policy', 'checkout', 'EscalationPolicyConfigured', {
      policyId: 'checkout',
      name: 'Checkout',
      repeat: 0,
      steps: [{ delaySeconds: 600, targets: [{ type: 'webhook', url: `${hook.url}/page` }], untilAllAck: false }],
    });
    await appendConfig(p.admin, 'routing', 'checkout', 'RoutingConfigured', {
      serviceId: 'checkout',
      escalationPolicyId: 'checkout',
      templateId: null,
      ackTimeoutSeconds: null,
      rules: [],
    });
    escalations = await followStream(p.admin, STREAMS.escalations);
    const escalator = await startEscalator({
      nc: await p.nats.connect('escalator'),
      partitions: p.partitions,
      users: fileUserDirectory([]),
      log: testLog,
      owner: 'test',
    });
    const dispatcher = await startDispatcherForTest(p, { webhook: webhookNotifier({ timeoutMs: 5000 }) });
    stops = [dispatcher.stop, escalator.stop];
    alerts = new alertingV1.AlertServiceClient(p.grpcAddress, credentials.createInsecure(), p.clientOptions);
    notifications = new notificationV1.NotificationServiceClient(p.grpcAddress, credentials.createInsecure(), p.clientOptions);
  });

  afterAll(async () => {
    alerts?.close();
    notifications?.close();
    for (const stop of stops) await stop();
    await escalations?.close();
    await Promise.all([hook?.close(), noc?.close(), p?.stop()]);
  });

  const create = (r: Partial<alertingV1.CreateAlertRequest>) =>
    ask<alertingV1.Alert>((cb) =>
      alerts.createAlert(
        alertingV1.CreateAlertRequest.fromPartial({ serviceId: 'checkout', severity: Severity.SEVERITY_CRITICAL, ...r }),
        cb,
      ),
    );

  describe('CreateAlert', () => {
    it('opens a manual alert the read model shows at once, which the escalator then routes and pages', async () => {
      const alert = await create({
        summary: 'Fibre cut at fra1',
        details: 'reported by the NOC phone line',
        labels: { site: 'fra1' },
        annotations: { runbook: 'https://wiki/fibre' },
        createdByUserId: 'alice',
      });
      expect(alert).toMatchObject({
        serviceId: 'checkout',
        summary: 'Fibre cut at fra1',
        details: 'reported by the NOC phone line',
        status: AlertStatus.ALERT_STATUS_TRIGGERED,
        source: AlertSource.ALERT_SOURCE_MANUAL,
        severity: Severity.SEVERITY_CRITICAL,
        labels: { site: 'fra1' },
        annotations: { runbook: 'https://wiki/fibre' },
      });
      expect(alert.fingerprint).toMatch(/^manual:/);
      expect((await p.getAlert(alert.id)).summary).toBe('Fibre cut at fra1');

      const [routed] = await escalations.waitFor((e) => e.type === 'AlertRouted' && e.data.alertId === alert.id);
      expect(routed?.data).toMatchObject({ policyId: 'checkout' });
      const [page] = await hook.requests.waitFor(1, 15_000);
      expect(page!.body).toContain('Fibre cut at fra1');
      await waitForProjection(p.db.url, p.db.schema, CONSUMERS.projectorEscalations, await streamLastSeq(p.admin, STREAMS.escalations));
      expect((await p.getAlert(alert.id)).escalationPolicyId).toBe('checkout');
    });

    it('a repeated request_id creates one alert, also when retried at once and concurrently', async () => {
      const req = { summary: 'Manual: payment gateway slow', requestId: 'req-create-1' };
      const [a, b] = await Promise.all([create(req), create(req)]);
      const c = await create(req);
      expect(new Set([a.id, b.id, c.id]).size).toBe(1);
      expect((await p.listAlerts({ serviceIds: ['checkout'] })).filter((x) => x.summary === req.summary)).toHaveLength(1);
    });

    it('a dedup_key joins the open alert of that fingerprint: the repeat is counted, no second alert', async () => {
      const first = await create({ summary: 'Core switch down', dedupKey: 'core-switch-1' });
      const again = await create({ summary: 'Core switch down', dedupKey: 'core-switch-1' });
      expect(again.id).toBe(first.id);
      expect(again.repeatCount).toBe(1);
      expect(again.fingerprint).toBe('core-switch-1');
      const updated = await create({ summary: 'Core switch down, both links', dedupKey: 'core-switch-1' });
      expect(updated).toMatchObject({ id: first.id, summary: 'Core switch down, both links', repeatCount: 2 });
    });

    it('refuses bad requests with the field and appends nothing; an unknown service is NOT_FOUND', async () => {
      const before = await streamLastSeq(p.admin, STREAMS.intake);
      const cases: Array<[Partial<alertingV1.CreateAlertRequest>, string]> = [
        [{ serviceId: '' }, 'service_id'],
        [{ summary: '' }, 'summary'],
        [{ summary: 'x'.repeat(1025) }, 'summary'],
        [{ summary: 'ok', severity: Severity.SEVERITY_UNSPECIFIED }, 'severity'],
        [{ summary: 'ok', severity: 42 as alertingV1.Severity }, 'severity'],
        [{ summary: 'nul\u0000byte' }, 'summary'],
        [{ summary: 'ok', labels: { site: 'fra\u00001' } }, 'labels.site'],
        [{ summary: 'ok', requestId: 'r'.repeat(257) }, 'request_id'],
      ];
      for (const [req, field] of cases) {
        const err = await failure(create({ summary: 'ok', ...req }));
        expect(err.code, `${field}: ${err.details}`).toBe(status.INVALID_ARGUMENT);
        expect(err.metadata.get('invalid-field')).toEqual([field]);
      }
      const unknown = await failure(create({ serviceId: 'nope', summary: 'ok' }));
      expect(unknown.code).toBe(status.NOT_FOUND);
      expect(unknown.details).toContain('nope');
      expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(before);
    });
  });
  type SendRequest = Parameters<typeof notificationV1.SendNotificationRequest.fromPartial>[0];
  const send = (r: SendRequest) =>
    ask<notificationV1.SendNotificationResponse>((cb) =>
      notifications.sendNotification(
        notificationV1.SendNotificationRequest.fromPartial({
          renderContext: { alert: { summary: 'NOC: core maintenance at 22:00' } },
          ...r,
        }),
        cb,
      ),
    );
  const deliveryStatus = (notificationId: string) =>
    ask<notificationV1.DeliveryStatus>((cb) => notifications.getDeliveryStatus({ notificationId, deliveryId: '' }, cb));
  const register = (r: Partial<notificationV1.RegisterDestinationRequest>) =>
    ask<notificationV1.Destination>((cb) =>
      notifications.registerDestination(notificationV1.RegisterDestinationRequest.fromPartial(r), cb),
    );

  /** Until the notification's status is DELIVERED, from its delivery-status stream. */
  async function delivered(notificationId: string): Promise<notificationV1.DeliveryStatus> {
    const stream = notifications.streamDeliveryStatus({ notificationId, alertId: '' });
    try {
      for await (const s of stream as AsyncIterable<notificationV1.DeliveryStatus>)
        if (s.state === DeliveryState.DELIVERY_STATE_DELIVERED) return s;
    } finally {
      stream.cancel();
    }
    throw new Error(`notification ${notificationId}: the stream ended before it was delivered`);
  }
  const requestsTo = (path: string) => noc.requests.items.filter((r) => r.path === path);

  describe('SendNotification', () => {
    it('goes through the dispatcher to the webhook once; GetDeliveryStatus shows it at once; a repeated request_id sends nothing more', async () => {
      const req = {
        requestId: 'notify-noc-1',
        destinations: [{ userId: 'noc', channel: ChannelType.CHANNEL_WEBHOOK, channelAddress: `${noc.url}/adhoc` }],
        priority: notificationV1.NotificationPriority.PRIORITY_HIGH,
      };
      const sent = await send(req);
      expect(sent.deliveries).toHaveLength(1);
      expect(sent.deliveries[0]).toMatchObject({
        deliveryId: 'webhook',
        destination: { userId: 'noc', channel: ChannelType.CHANNEL_WEBHOOK },
      });
      expect([DeliveryState.DELIVERY_STATE_PENDING, DeliveryState.DELIVERY_STATE_DELIVERED]).toContain(sent.deliveries[0]!.state);
      expect(await deliveryStatus(sent.notificationId)).toMatchObject({ notificationId: sent.notificationId, kind: 'page' });

      const status = await delivered(sent.notificationId);
      expect(status.channels.map((c) => c.channel)).toStrictEqual([ChannelType.CHANNEL_WEBHOOK]);
      expect(requestsTo('/adhoc')).toHaveLength(1);
      expect(requestsTo('/adhoc')[0]!.body).toContain('NOC: core maintenance at 22:00');

      const before = await streamLastSeq(p.admin, STREAMS.escalations);
      const again = await send(req);
      expect(again.notificationId).toBe(sent.notificationId);
      expect(again.deliveries[0]!.state).toBe(DeliveryState.DELIVERY_STATE_DELIVERED);
      expect(await streamLastSeq(p.admin, STREAMS.escalations)).toBe(before);
      expect(requestsTo('/adhoc')).toHaveLength(1);
    });

    it('refuses bad requests with the field (NOT_FOUND for an unknown template) and appends nothing', async () => {
      const before = await streamLastSeq(p.admin, STREAMS.escalations);
      const webhook = (channelAddress: string) => [{ channel: ChannelType.CHANNEL_WEBHOOK, channelAddress }];
      const cases: Array<[SendRequest, string]> = [
        [{ destinations: [] }, 'destinations'],
        [{ destinations: webhook('http://example.com/hook') }, 'destinations[0].channel_address'],
        [{ destinations: webhook('not a url') }, 'destinations[0].channel_address'],
        [{ destinations: [{ channel: ChannelType.CHANNEL_SLACK, channelAddress: '#noc' }] }, 'destinations[0].channel_address'],
        [{ destinations: [{ channel: ChannelType.CHANNEL_EMAIL, channelAddress: 'noc@' }] }, 'destinations[0].channel_address'],
        [{ destinations: [{ channel: ChannelType.CHANNEL_SMS, channelAddress: '12345' }] }, 'destinations[0].channel_address'],
        [{ destinations: [{ channel: ChannelType.CHANNEL_PUSH, channelAddress: 'x' }] }, 'destinations[0].channel'],
        [{ destinations: [...webhook(`${noc.url}/a`), ...webhook(`${noc.url}/b`)] }, 'destinations[1].channel'],
        [{ destinations: webhook(`${noc.url}/a`), renderContext: { alert: { summary: 'x' }, secrets: 'y' } }, 'render_context.secrets'],
        [{ destinations: webhook(`${noc.url}/a`), renderContext: { alert: { summary: '' } } }, 'render_context.alert.summary'],
        [{ destinations: webhook(`${noc.url}/a`), renderContext: { alert: { summary: 'nul\u0000' } } }, 'render_context.alert.summary'],
        [{ destinations: webhook(`${noc.url}/a`), priority: 9 as notificationV1.NotificationPriority }, 'priority'],
      ];
      for (const [req, field] of cases) {
        const err = await failure(send(req));
        expect(err.code, `${field}: ${err.details}`).toBe(status.INVALID_ARGUMENT);
        expect(err.metadata.get('invalid-field')).toEqual([field]);
      }
      const unknown = await failure(send({ templateId: 'no-such-template', destinations: webhook(`${noc.url}/a`) }));
      expect(unknown.code).toBe(status.NOT_FOUND);
      const unregistered = await failure(send({ destinations: [{ userId: 'nobody', channel: ChannelType.CHANNEL_WEBHOOK }] }));
      expect(unregistered.code).toBe(status.NOT_FOUND);
      expect(unregistered.details).toContain('destinations[0]');
      expect(await streamLastSeq(p.admin, STREAMS.escalations)).toBe(before);
    });
  });

  describe('RegisterDestination', () => {
    it('registers a destination once; SendNotification by owner and channel goes to it; a new address replaces it', async () => {
      const first = { userId: 'noc', channel: ChannelType.CHANNEL_WEBHOOK, channelAddress: `${noc.url}/registered` };
      expect(await register(first)).toStrictEqual(first);
      const configSeq = await streamLastSeq(p.admin, STREAMS.config);
      expect(await register(first)).toStrictEqual(first);
      expect(await streamLastSeq(p.admin, STREAMS.config)).toBe(configSeq);

      const sent = await send({ destinations: [{ userId: 'noc', channel: ChannelType.CHANNEL_WEBHOOK }] });
      // The address as registered while pending, masked (the host) once an outcome is recorded: either may answer.
      expect([`${noc.url}/registered`, new URL(noc.url).host]).toContain(sent.deliveries[0]!.destination?.channelAddress);
      await delivered(sent.notificationId);
      expect(requestsTo('/registered')).toHaveLength(1);

      await register({ ...first, channelAddress: `${noc.url}/moved` });
      await delivered((await send({ destinations: [{ userId: 'noc', channel: ChannelType.CHANNEL_WEBHOOK }] })).notificationId);
      expect(requestsTo('/moved')).toHaveLength(1);
      expect(requestsTo('/registered')).toHaveLength(1);
    });

    it('refuses bad destinations with the field and appends nothing', async () => {
      const before = await streamLastSeq(p.admin, STREAMS.config);
      const cases: Array<[Partial<notificationV1.RegisterDestinationRequest>, string]> = [
        [{ channel: ChannelType.CHANNEL_SLACK, channelAddress: 'C0NOC1234' }, 'user_id'],
        [{ userId: 'the noc', channel: ChannelType.CHANNEL_SLACK, channelAddress: 'C0NOC1234' }, 'user_id'],
        [{ userId: 'noc', channelAddress: 'C0NOC1234' }, 'channel'],
        [{ userId: 'noc', channel: ChannelType.CHANNEL_SLACK, channelAddress: '#noc' }, 'channel_address'],
        [{ userId: 'noc', channel: ChannelType.CHANNEL_WEBHOOK, channelAddress: 'ftp://example.com/x' }, 'channel_address'],
        [{ userId: 'noc', channel: ChannelType.CHANNEL_WEBHOOK, channelAddress: 'https://user:pw@example.com/x' }, 'channel_address'],
        [{ userId: 'noc', channel: ChannelType.CHANNEL_EMAIL, channelAddress: 'noc at example.com' }, 'channel_address'],
        [{ userId: 'noc', channel: ChannelType.CHANNEL_VOICE, channelAddress: '+0049' }, 'channel_address'],
      ];
      for (const [req, field] of cases) {
        const err = await failure(register(req));
        expect(err.code, `${field}: ${err.details}`).toBe(status.INVALID_ARGUMENT);
        expect(err.metadata.get('invalid-field')).toEqual([field]);
      }
      expect(await streamLastSeq(p.admin, STREAMS.config)).toBe(before);
    });
  });
});
