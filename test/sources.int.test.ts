import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMERS, STREAMS } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { waitForProjection } from '@oncall/projector';
import { startTestPipeline, OTHER_KEY, TEST_KEY, type TestPipeline } from './pipeline.js';
import { streamLastSeq, tableRows } from './harness.js';

const fixture = (path: string) => readFileSync(new URL(`./fixtures/${path}`, import.meta.url), 'utf8');
/** A PagerDuty fixture with the test integration key as its routing_key. */
const pd = (path: string, key = TEST_KEY) => JSON.stringify({ ...(JSON.parse(fixture(path)) as object), routing_key: key });
const { AlertStatus, AlertSource } = alertingV1;

type Row = {
  source: string;
  fingerprint: string;
  status: string;
  links: unknown;
  custom: Record<string, unknown>;
  labels: Record<string, string>;
};

describe('every source format through the whole pipeline', () => {
  let p: TestPipeline;
  let seq = 0;
  beforeAll(async () => {
    p = await startTestPipeline();
  });
  afterAll(async () => p?.stop());

  it('Grafana: every alert, with its links and values', async () => {
    const res = await p.post('/api/v1/webhook/grafana', fixture('grafana/v11-firing.json'));
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ alerts: 2, duplicate: false });
    await p.alertsApplied((seq += 2));
    const rows = (await tableRows(p.db.url, p.db.schema, 'alerts', 'fingerprint')) as Row[];
    expect(rows.map((r) => r.source)).toEqual(['grafana', 'grafana']);
    expect(rows.some((r) => Array.isArray(r.links) && r.links.length > 0)).toBe(true);
    expect(rows.some((r) => 'values' in r.custom)).toBe(true);

    expect((await p.post('/api/v1/webhook/grafana', fixture('grafana/v11-resolved.json'))).status).toBe(202);
    const resolvedCount = (JSON.parse(fixture('grafana/v11-resolved.json')) as { alerts: unknown[] }).alerts.length;
    await p.alertsApplied((seq += resolvedCount));
    const after = await p.listAlerts({ statuses: [AlertStatus.ALERT_STATUS_RESOLVED] });
    expect(after).toHaveLength(resolvedCount);
  });

  it('generic JSON: one alert, then closed by its dedup key', async () => {
    const open = { summary: 'Nightly backup failed', severity: 'major', labels: { job: 'backup' }, dedup_key: 'backup-db-main' };
    expect((await p.post('/api/v1/webhook/generic', JSON.stringify(open))).status).toBe(202);
    await p.alertsApplied((seq += 1));
    const [alert] = await p.listAlerts({ labelSelector: { job: 'backup' } });
    expect(alert).toMatchObject({
      fingerprint: 'backup-db-main',
      source: AlertSource.ALERT_SOURCE_GENERIC,
      severity: alertingV1.Severity.SEVERITY_ERROR,
    });

    expect((await p.post('/api/v1/webhook/generic', JSON.stringify({ ...open, action: 'close' }))).status).toBe(202);
    await p.alertsApplied((seq += 1));
    expect((await p.getAlert(alert!.id)).status).toBe(AlertStatus.ALERT_STATUS_RESOLVED);
  });

  it('PagerDuty Events v2: trigger, acknowledge and resolve by dedup_key at /v2/enqueue', async () => {
    const trigger = await p.post('/v2/enqueue', pd('pagerduty/trigger.json'), {});
    expect(trigger.status).toBe(202);
    expect(await trigger.json()).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'srv01/mysql' });
    await p.alertsApplied((seq += 1));
    const [alert] = await p.listAlerts({ labelSelector: { component: 'mysql' } });
    // custom_details' flat entries are labels too (docs/routing.md, "Labels of each source").
    expect((await p.listAlerts({ labelSelector: { 'ping time': '1500ms', 'load avg': '0.75' } })).map((a) => a.id)).toStrictEqual([
      alert!.id,
    ]);
    expect(alert).toMatchObject({
      fingerprint: 'srv01/mysql',
      status: AlertStatus.ALERT_STATUS_TRIGGERED,
      source: AlertSource.ALERT_SOURCE_PAGERDUTY,
    });

    expect((await p.post('/v2/enqueue', pd('pagerduty/acknowledge.json'), {})).status).toBe(202);
    await p.alertsApplied((seq += 1));
    expect((await p.getAlert(alert!.id)).status).toBe(AlertStatus.ALERT_STATUS_ACKNOWLEDGED);

    expect((await p.post('/api/v1/webhook/pagerduty', pd('pagerduty/resolve.json'), {})).status).toBe(202);
    await p.alertsApplied((seq += 1));
    expect((await p.getAlert(alert!.id)).status).toBe(AlertStatus.ALERT_STATUS_RESOLVED);
  });

  it('PagerDuty: an unknown routing_key gets 401 and appends nothing', async () => {
    const before = await streamLastSeq(p.admin, STREAMS.intake);
    const res = await p.post('/v2/enqueue', pd('pagerduty/trigger.json', 'no-such-routing-key-000'), {});
    expect(res.status).toBe(401);
    expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(before);
  });

  it('heartbeats: a beat is recorded; unknown monitors and other services get 404', async () => {
    const beat = await p.post('/api/v1/heartbeat/checkout-canary', '');
    expect(beat.status).toBe(202);
    expect(await beat.json()).toEqual({ status: 'accepted', monitorId: 'checkout-canary' });
    await waitForProjection(p.db.url, p.db.schema, CONSUMERS.projectorHeartbeats, 1);
    const [row] = (await tableRows(p.db.url, p.db.schema, 'heartbeat_beats', 'monitor_id')) as Array<{
      monitor_id: string;
      last_beat_at: Date;
    }>;
    expect(row?.monitor_id).toBe('checkout-canary');

    const [health] = await tableRows(p.db.url, p.db.schema, 'noc_heartbeat_health', 'monitor_id');
    expect(health).toMatchObject({ monitor_id: 'checkout-canary', healthy: true, interval_seconds: 60 });

    expect((await p.post('/api/v1/heartbeat/nope', '')).status).toBe(404);
    // The monitor belongs to checkout: payroll's key must not reach it.
    expect((await p.post('/api/v1/heartbeat/checkout-canary', '', { authorization: `Bearer ${OTHER_KEY}` })).status).toBe(404);
    expect((await p.post('/api/v1/heartbeat/checkout-canary', '', {})).status).toBe(401);
    expect(await streamLastSeq(p.admin, STREAMS.heartbeats)).toBe(1);
  });
});

describe('rate limit per integration key', () => {
  let p: TestPipeline;
  beforeAll(async () => {
    p = await startTestPipeline({ rateLimitPerSecond: 3 });
  });
  afterAll(async () => p?.stop());

  it('answers 429 with Retry-After past the limit, per key, and appends nothing for it', async () => {
    const body = (i: number) => JSON.stringify({ summary: `job ${i} failed` });
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => p.post('/api/v1/webhook/generic', body(i))));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    const limited = answers.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(3);
    // Another key has its own budget.
    expect((await p.post('/api/v1/webhook/generic', body(9), { authorization: `Bearer ${OTHER_KEY}` })).status).toBe(202);
  });
});
