import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, loadPackageDefinition, makeGenericClientConstructor, type Client, type ClientDuplexStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { STREAMS } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { alertHistory } from '@oncall/infra';
import { amAlert, amFiring, amPayload, amResolved } from './fixtures.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { streamLastSeq, tableRows } from './harness.js';

const { AlertStatus, Severity, AlertSource } = alertingV1;

describe('Alertmanager webhook → JetStream → decider → projector → gRPC', () => {
  let p: TestPipeline;
  beforeAll(async () => {
    p = await startTestPipeline();
  });
  afterAll(async () => p?.stop());

  it('creates the alert from the real firing fixture and resolves it from the resolved one', async () => {
    const fired = await p.postAlertmanager(amFiring);
    expect(fired.status).toBe(202);
    expect(await fired.json()).toMatchObject({ status: 'accepted', alerts: 1, duplicate: false });
    await p.alertsApplied(1);

    const [alert] = await p.listAlerts();
    expect(alert).toMatchObject({
      serviceId: 'checkout',
      fingerprint: '3803e91d9c8292eb',
      status: AlertStatus.ALERT_STATUS_TRIGGERED,
      source: AlertSource.ALERT_SOURCE_ALERTMANAGER,
      severity: Severity.SEVERITY_CRITICAL,
      summary: 'run-123 stuck',
      labels: { alertname: 'RunStuck', run_id: 'run-123', service: 'orchestrator', severity: 'page' },
      annotations: { runbook_url: 'http://example.invalid/rb', summary: 'run-123 stuck' },
      generatorUrl: 'http://127.0.0.1:3000/runs/run-123',
    });
    expect(alert!.createdAt).toBeInstanceOf(Date);

    const resolved = await p.postAlertmanager(amResolved);
    expect(resolved.status).toBe(202);
    await p.alertsApplied(2);

    const after = await p.getAlert(alert!.id);
    expect(after.status).toBe(AlertStatus.ALERT_STATUS_RESOLVED);
    expect(after.resolvedAt!.getTime()).toBeGreaterThanOrEqual(alert!.createdAt!.getTime());
    expect(after.resolvedByUserId).toBe('');
    const timeline = await tableRows(p.db.url, p.db.schema, 'alert_timeline', 'seq');
    expect(timeline.map((r) => (r as { event_type: string }).event_type)).toEqual(['AlertTriggered', 'AlertResolved']);
  });

  it('answers the timeline over gRPC, and the history from the log itself, also as of a time', async () => {
    const [alert] = await p.listAlerts();
    const timeline: alertingV1.TimelineEntry[] = [];
    for await (const t of p.client.getAlertTimeline({ alertId: alert!.id }) as AsyncIterable<alertingV1.TimelineEntry>) timeline.push(t);
    expect(timeline.map((t) => [t.eventType, t.actor])).toEqual([
      ['AlertTriggered', 'source:alertmanager'],
      ['AlertResolved', 'source'],
    ]);

    const history = await alertHistory(p.admin, alert!.id);
    expect(history.map((e) => e.type)).toEqual(['AlertTriggered', 'AlertResolved']);
    const beforeResolve = new Date(Date.parse(history[1]!.occurredAt) - 1);
    expect((await alertHistory(p.admin, alert!.id, beforeResolve)).map((e) => e.type)).toEqual(['AlertTriggered']);
    expect(await alertHistory(p.admin, '6f1d8a3e-0000-4000-8000-000000000000')).toEqual([]);
  });

  it('a re-sent resolve of a closed alert is taken and changes nothing', async () => {
    const intakeBefore = await streamLastSeq(p.admin, STREAMS.intake);
    const alertsBefore = await streamLastSeq(p.admin, STREAMS.alerts);
    const again = await p.postAlertmanager(amResolved);
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ alerts: 1, duplicate: false });
    expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(intakeBefore + 1);
    // Alerts decided after it (same partition or not): once they are stored, the re-sent resolve was decided, to nothing.
    const later = amAlert('after-resend');
    expect((await p.postAlertmanager(amPayload([later]))).status).toBe(202);
    expect((await p.postAlertmanager(amPayload([{ ...later, status: 'resolved' }], 'resolved'))).status).toBe(202);
    await p.alertsApplied(alertsBefore + 2);
    expect(await streamLastSeq(p.admin, STREAMS.alerts)).toBe(alertsBefore + 2);
  });

  it('filters ListAlerts by status and labels, and rejects a bad filter with the field named', async () => {
    expect(await p.listAlerts({ statuses: [AlertStatus.ALERT_STATUS_TRIGGERED] })).toEqual([]);
    expect(await p.listAlerts({ labelSelector: { run_id: 'run-123' } })).toHaveLength(1);
    expect(await p.listAlerts({ labelSelector: { run_id: 'other' } })).toEqual([]);
    await expect(p.listAlerts({ pageSize: -1 })).rejects.toMatchObject({ code: 3, details: 'page_size: must be between 0 and 100000' });
  });

  it('answers GetAlert for unknown and malformed ids with NOT_FOUND and INVALID_ARGUMENT', async () => {
    await expect(p.getAlert('6f1d8a3e-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 5 });
    await expect(p.getAlert('not-a-uuid')).rejects.toMatchObject({ code: 3, details: 'id: must be a UUID' });
  });

  it('lists every API service through server reflection', async () => {
    const services = await reflectedServices(p.grpcAddress);
    expect(services).toEqual(
      expect.arrayContaining([
        'alerting.v1.AlertService',
        'alerting.v1.ScheduleService',
        'alerting.v1.EscalationService',
        'alerting.v1.TicketIntegrationService',
        'notification.v1.NotificationService',
        'notification.v1.TemplateService',
        'ticketing.v1.TicketingService',
      ]),
    );
  });

  it('serves gRPC health checking', async () => {
    const HealthClient = makeGenericClientConstructor(healthService, 'Health');
    const health = new HealthClient(p.grpcAddress, credentials.createInsecure()) as unknown as Client & {
      check: (req: { service: string }, cb: (err: Error | null, res: unknown) => void) => void;
    };
    const status = await new Promise<unknown>((resolve, reject) =>
      health.check({ service: 'alerting.v1.AlertService' }, (err, res) => (err ? reject(err) : resolve(res))),
    );
    health.close();
    expect(status).toMatchObject({ status: 'SERVING' });
  });
});

/** Asks the server's reflection service (v1) for its service names, as grpcurl list would. */
async function reflectedServices(address: string): Promise<string[]> {
  const root = dirname(createRequire(import.meta.url).resolve('@grpc/reflection'));
  const def = loadSync(join(root, '..', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto'), { keepCase: true });
  type ReflectionResponse = { list_services_response?: { service: Array<{ name: string }> } };
  type Reflection = {
    grpc: {
      reflection: {
        v1: {
          ServerReflection: new (
            a: string,
            c: unknown,
          ) => Client & { ServerReflectionInfo: () => ClientDuplexStream<unknown, ReflectionResponse> };
        };
      };
    };
  };
  const { ServerReflection } = (loadPackageDefinition(def) as unknown as Reflection).grpc.reflection.v1;
  const client = new ServerReflection(address, credentials.createInsecure());
  const call = client.ServerReflectionInfo();
  const answer = new Promise<string[]>((resolve, reject) => {
    call.once('data', (res: ReflectionResponse) => resolve((res.list_services_response?.service ?? []).map((s) => s.name)));
    call.once('error', reject);
  });
  call.write({ list_services: '' });
  const names = await answer;
  call.end();
  client.close();
  return names;
}
