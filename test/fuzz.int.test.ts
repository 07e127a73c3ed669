import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { STREAMS } from '@oncall/contracts';
import { amFiring } from './fixtures.js';
import { startTestPipeline, TEST_KEY, type TestPipeline } from './pipeline.js';
import { streamLastSeq } from './harness.js';

const ENDPOINTS = ['/api/v1/webhook/alertmanager', '/api/v1/webhook/grafana', '/api/v1/webhook/generic', '/v2/enqueue'];

describe('arbitrary input never crashes ingest nor appends anything', () => {
  let p: TestPipeline;
  beforeAll(async () => {
    p = await startTestPipeline();
  });
  afterAll(async () => p?.stop());

  const post = (path: string, body: Uint8Array | string) =>
    fetch(`${p.ingestUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}` },
      body,
    });

  it('arbitrary bytes get a 4xx JSON error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), fc.uint8Array({ maxLength: 2048 }), async (path, bytes) => {
        const res = await post(path, bytes);
        expect([400, 401]).toContain(res.status);
        expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/^[a-z_]+$/);
      }),
      { numRuns: 150 },
    );
    expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(0);
  });

  it('arbitrary JSON, and the real fixture with one field replaced by anything: 2xx or 4xx, and a 4xx appends nothing', async () => {
    const fixture = JSON.parse(amFiring) as Record<string, unknown>;
    const field = fc.constantFrom('version', 'groupKey', 'status', 'alerts', 'receiver', 'truncatedAlerts');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS),
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc
            .tuple(field, fc.jsonValue())
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => JSON.stringify({ ...fixture, [k]: v })),
        ),
        async (path, body) => {
          const before = await streamLastSeq(p.admin, STREAMS.intake);
          const res = await post(path, body);
          expect(res.status).toBeLessThan(500);
          if (res.status !== 202) {
            expect(res.status).toBeGreaterThanOrEqual(400);
            expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(before);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
