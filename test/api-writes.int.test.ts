import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { alertingV1, CONSUMERS, STREAMS } from '@oncall/contracts';
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
  let escalations: FollowedStream;
  let stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    [p, hook] = await Promise.all([startTestPipeline({ partitions: 2 }), startWebhookFake()]);
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
    alerts = new alertingV1.AlertServiceClient(p.grpcAddress, credentials.createInsecure());
  });

  afterAll(async () => {
    alerts?.close();
    for (const stop of stops) await stop();
    await escalations?.close();
    await Promise.all([hook?.close(), p?.stop()]);
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
});
