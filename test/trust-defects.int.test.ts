import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf, STREAMS } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { startTestPipeline, TEST_KEY, type TestPipeline } from './pipeline.js';
import { streamLastSeq } from './harness.js';

const { AlertStatus } = alertingV1;
const fixture = (path: string) => readFileSync(new URL(`./fixtures/${path}`, import.meta.url), 'utf8');
const pd = (path: string, extra: object = {}) =>
  JSON.stringify({ ...(JSON.parse(fixture(path)) as object), routing_key: TEST_KEY, ...extra });

describe('text PostgreSQL cannot store never freezes the read model', () => {
  let p: TestPipeline;
  beforeAll(async () => {
    p = await startTestPipeline();
  });
  afterAll(async () => p?.stop());

  it('stores a NUL or a lone surrogate as U+FFFD, and later alerts still reach the read model', async () => {
    const bad = {
      alerts: [
        {
          summary: 'disk \u0000 full',
          details: 'half \ud800 a pair',
          labels: { 'host\u0000': 'db\u0000', emoji: '\ud83d\ude00' },
          dedup_key: 'nul-1',
        },
      ],
    };
    const res = await p.post('/api/v1/webhook/generic', JSON.stringify(bad));
    expect(res.status).toBe(202);
    const good = await p.post('/api/v1/webhook/generic', JSON.stringify({ summary: 'after the bad one', dedup_key: 'after-1' }));
    expect(good.status).toBe(202);
    await p.alertsApplied(2);
    const alerts = await p.listAlerts();
    const stored = alerts.find((a) => a.fingerprint === 'nul-1');
    expect(stored?.summary).toBe('disk \ufffd full');
    expect(stored?.details).toBe('half \ufffd a pair');
    expect(stored?.labels).toEqual({ 'host\ufffd': 'db\ufffd', emoji: '\ud83d\ude00' });
    expect(alerts.map((a) => a.fingerprint).sort()).toEqual(['after-1', 'nul-1']);
  });
});

describe('only a true retry is a duplicate', () => {
  let p: TestPipeline;
  let seq = 0;
  beforeAll(async () => {
    p = await startTestPipeline();
  });
  afterAll(async () => p?.stop());

  it('PagerDuty trigger → resolve → the same trigger again opens a new alert, as PagerDuty does', async () => {
    expect((await p.post('/v2/enqueue', pd('pagerduty/trigger.json'), {})).status).toBe(202);
    await p.alertsApplied((seq += 1));
    expect((await p.post('/v2/enqueue', pd('pagerduty/resolve.json'), {})).status).toBe(202);
    await p.alertsApplied((seq += 1));
    expect((await p.post('/v2/enqueue', pd('pagerduty/trigger.json'), {})).status).toBe(202);
    await p.alertsApplied((seq += 1));
    const alerts = await p.listAlerts({ labelSelector: { component: 'mysql' } });
    expect(alerts.map((a) => a.status).sort()).toEqual([AlertStatus.ALERT_STATUS_TRIGGERED, AlertStatus.ALERT_STATUS_RESOLVED]);
  });

  it('Alertmanager firing → resolved → firing with the same body opens a new alert', async () => {
    const firing = fixture('alertmanager/v0.25-firing.json');
    const resolved = fixture('alertmanager/v0.25-resolved.json');
    for (const body of [firing, resolved, firing]) {
      expect((await p.postAlertmanager(body)).status).toBe(202);
      await p.alertsApplied((seq += 1));
    }
    const alerts = await p.listAlerts({ labelSelector: { alertname: 'RunStuck' } });
    expect(alerts.map((a) => a.status).sort()).toEqual([AlertStatus.ALERT_STATUS_TRIGGERED, AlertStatus.ALERT_STATUS_RESOLVED]);
  });

  it('a retried request with the same Idempotency-Key appends nothing and is answered as a duplicate', async () => {
    const body = JSON.stringify({ summary: 'retried', dedup_key: 'retry-1' });
    const headers = { authorization: `Bearer ${TEST_KEY}`, 'idempotency-key': 'req-42' };
    const first = await p.post('/api/v1/webhook/generic', body, headers);
    expect(await first.json()).toMatchObject({ alerts: 1, duplicate: false });
    const before = await streamLastSeq(p.admin, STREAMS.intake);
    const again = await p.post('/api/v1/webhook/generic', body, headers);
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ alerts: 1, duplicate: true });
    expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(before);
  });

  it('refuses a malformed Idempotency-Key with the header named, appending nothing', async () => {
    const before = await streamLastSeq(p.admin, STREAMS.intake);
    const res = await p.post('/api/v1/webhook/generic', JSON.stringify({ summary: 'x' }), {
      authorization: `Bearer ${TEST_KEY}`,
      'idempotency-key': 'has spaces',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_idempotency_key', field: 'Idempotency-Key' } });
    expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(before);
  });

  it('a retry without a key is absorbed by the alert state: one alert, no second page', async () => {
    await p.alertsApplied(await streamLastSeq(p.admin, STREAMS.alerts));
    const before = await streamLastSeq(p.admin, STREAMS.alerts);
    const body = JSON.stringify({ summary: 'retried without key', dedup_key: 'retry-2' });
    for (let i = 0; i < 3; i++) expect((await p.post('/api/v1/webhook/generic', body)).status).toBe(202);
    // A different alert of the same partition sent after them: once it is applied, the three were decided (one trigger, two repeats).
    let marker = 0;
    while (partitionOf('checkout', `marker-${marker}`, p.partitions) !== partitionOf('checkout', 'retry-2', p.partitions)) marker++;
    const markerBody = JSON.stringify({ summary: 'marker', dedup_key: `marker-${marker}` });
    expect((await p.post('/api/v1/webhook/generic', markerBody)).status).toBe(202);
    await p.alertsApplied(before + 2);
    expect(await streamLastSeq(p.admin, STREAMS.alerts)).toBe(before + 2);
    const alerts = await p.listAlerts({});
    expect(alerts.filter((a) => a.fingerprint === 'retry-2')).toHaveLength(1);
  });
});
