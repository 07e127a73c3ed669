import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyConfig, parseConfigFile } from '@oncall/infra';
import { startIngest } from '@oncall/ingest';
import { amAlert, amPayload } from './fixtures.js';
import { testLog } from './harness.js';
import { startTestPipeline, TEST_KEY, OTHER_KEY, type TestPipeline } from './pipeline.js';

const OLD_KEY = 'rotating-old-key-000001';
const NEW_KEY = 'rotating-new-key-000002';
const ENDED_KEY = 'rotating-ended-key-0003';

describe('integration key rotation with an overlap', () => {
  let p: TestPipeline;
  let ingest: { url: string; stop: () => Promise<void> };
  const future = new Date(Date.now() + 3_600_000).toISOString();

  beforeAll(async () => {
    p = await startTestPipeline();
    const config = `
services:
  - id: checkout
    name: Checkout
    integrationKeys:
      - { name: alertmanager, key: ${TEST_KEY} }
  - id: payroll
    name: Payroll
    integrationKeys:
      - { name: cron, key: ${OTHER_KEY} }
  - id: rotating
    name: Rotating
    integrationKeys:
      - { name: new, key: ${NEW_KEY} }
      - { name: old, key: ${OLD_KEY}, notAfter: "${future}" }
      - { name: ended, key: ${ENDED_KEY}, notAfter: "2020-01-01T00:00:00Z" }
`;
    await applyConfig(p.admin, parseConfigFile(config, 'rotation.yaml'));
    // An ingest started after the change reads it whole at start.
    ingest = await startIngest({
      nc: await p.nats.connect('ingest-rotation'),
      partitions: p.partitions,
      port: 0,
      host: '127.0.0.1',
      bodyLimitBytes: 1024 * 1024,
      publishTimeoutMs: 1000,
      rateLimitPerSecond: 0,
      log: testLog,
    });
  });
  afterAll(async () => {
    await ingest?.stop();
    await p?.stop();
  });

  const post = (key: string, via: 'header' | 'query') =>
    fetch(`${ingest.url}/api/v1/webhook/alertmanager${via === 'query' ? `?token=${key}` : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(via === 'header' && { authorization: `Bearer ${key}` }) },
      body: amPayload([amAlert(`rotation-${key}-${via}`)]),
    });

  it.each<[string, string, 'header' | 'query', number]>([
    ['the new key', NEW_KEY, 'header', 202],
    ['the old key within its overlap', OLD_KEY, 'header', 202],
    ['the old key within its overlap, as ?token=', OLD_KEY, 'query', 202],
    ['a key past its notAfter', ENDED_KEY, 'header', 401],
    ['a key past its notAfter, as ?token=', ENDED_KEY, 'query', 401],
  ])('%s', async (_, key, via, code) => {
    const res = await post(key, via);
    const body = (await res.json()) as { error?: { code: string } };
    expect(res.status, JSON.stringify(body)).toBe(code);
    if (code === 401) expect(body.error?.code).toBe('expired_integration_key');
  });
});
