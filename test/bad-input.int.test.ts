import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS } from '@oncall/contracts';
import { amAlert, amFiring, amPayload } from './fixtures.js';
import { startTestPipeline, TEST_KEY, type TestPipeline } from './pipeline.js';
import { streamLastSeq } from './harness.js';

const auth = { authorization: `Bearer ${TEST_KEY}` };

describe('webhook bad input: a clear error and nothing appended', () => {
  let p: TestPipeline;
  beforeAll(async () => {
    p = await startTestPipeline();
  });
  afterAll(async () => p?.stop());

  const firing = JSON.parse(amFiring) as Record<string, unknown>;
  const cases: Array<{ name: string; body: string; headers?: Record<string, string>; status: number; code: string; field?: string }> = [
    { name: 'no integration key', body: amFiring, headers: {}, status: 401, code: 'missing_integration_key' },
    {
      name: 'unknown integration key',
      body: amFiring,
      headers: { authorization: 'Bearer not-a-configured-key' },
      status: 401,
      code: 'unknown_integration_key',
    },
    {
      name: 'malformed Authorization header',
      body: amFiring,
      headers: { authorization: 'Basic abc' },
      status: 401,
      code: 'missing_integration_key',
    },
    { name: 'not JSON', body: 'alert!', status: 400, code: 'invalid_json' },
    { name: 'truncated JSON', body: amFiring.slice(0, 100), status: 400, code: 'invalid_json' },
    { name: 'empty body', body: '', status: 400, code: 'invalid_json' },
    { name: 'JSON that is not an object', body: '[1,2]', status: 400, code: 'invalid_payload' },
    {
      name: 'wrong payload version',
      body: JSON.stringify({ ...firing, version: '3' }),
      status: 400,
      code: 'invalid_payload',
      field: 'version',
    },
    {
      name: 'missing groupKey',
      body: JSON.stringify({ ...firing, groupKey: undefined }),
      status: 400,
      code: 'invalid_payload',
      field: 'groupKey',
    },
    {
      name: 'label value of the wrong type in the third alert',
      body: amPayload([amAlert('a'), amAlert('b'), { ...amAlert('c'), labels: { alertname: 'c', severity: 3 as unknown as string } }]),
      status: 400,
      code: 'invalid_payload',
      field: 'alerts.2.labels.severity',
    },
    {
      name: 'bad status',
      body: amPayload([{ ...amAlert('a'), status: 'exploded' }]),
      status: 400,
      code: 'invalid_payload',
      field: 'alerts.0.status',
    },
    {
      name: 'bad startsAt',
      body: amPayload([{ ...amAlert('a'), startsAt: 'yesterday' }]),
      status: 400,
      code: 'invalid_payload',
      field: 'alerts.0.startsAt',
    },
    { name: 'prototype pollution key', body: '{"__proto__":{"x":1}}', status: 400, code: 'invalid_json' },
    {
      name: 'body over 1 MiB',
      body: amPayload(Array.from({ length: 6000 }, (_, i) => amAlert(`big-${i}`, { annotations: { summary: 'x'.repeat(200) } }))),
      status: 413,
      code: 'payload_too_large',
    },
  ];

  it.each(cases)('$name → $status $code', async ({ body, headers, status, code, field }) => {
    const res = await p.postAlertmanager(body, headers ?? auth);
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: { code: string; message: string; field?: string } };
    expect(json.error.code).toBe(code);
    expect(json.error.message.length).toBeGreaterThan(5);
    if (field) {
      expect(json.error.field).toBe(field);
      expect(json.error.message).toContain(field);
    }
  });

  it('415 for a body that is not sent as JSON', async () => {
    const res = await fetch(`${p.ingestUrl}/api/v1/webhook/alertmanager`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: amFiring,
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
  });

  it('404 with a JSON error for an unknown route', async () => {
    const res = await fetch(`${p.ingestUrl}/api/v1/webhook/nagios`, { method: 'POST', headers: auth, body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('appended nothing for any of them', async () => {
    expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(0);
  });

  it('takes the key as ?token= as well', async () => {
    const res = await p.postAlertmanager(amFiring, {});
    expect(res.status).toBe(401);
    const withToken = await fetch(`${p.ingestUrl}/api/v1/webhook/alertmanager?token=${TEST_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: amFiring,
    });
    expect(withToken.status).toBe(202);
    expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(1);
  });

  it('answers 503 with Retry-After, never 2xx, when JetStream is down', async () => {
    await p.nats.stop();
    const res = await p.postAlertmanager(amPayload([amAlert('while-down')]));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({ error: { code: 'intake_unavailable' } });
  });
});
