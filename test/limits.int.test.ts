import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { STREAMS } from '@oncall/contracts';
import { ensureTopology } from '@oncall/shared';
import { amAlert, amPayload } from './fixtures.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { streamLastSeq, testLog } from './harness.js';

describe('limits that fail loudly', () => {
  let p: TestPipeline;
  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 1 });
  });
  afterAll(async () => p?.stop());

  it('every stream has a byte limit and refuses new messages when full, never dropping old ones', async () => {
    const jsm = await jetstreamManager(p.admin);
    for (const name of Object.values(STREAMS)) {
      const { config } = await jsm.streams.info(name);
      expect(config.max_bytes, name).toBeGreaterThan(0);
      expect(config.discard, name).toBe(name === STREAMS.heartbeats ? 'old' : 'new');
    }
    expect((await jsm.streams.info(STREAMS.intake)).config.max_age).toBe(30 * 86_400 * 1e9);
    expect((await jsm.streams.info(STREAMS.alerts)).config.max_age).toBe(0);
  });

  it('answers 503 intake_full with Retry-After when INTAKE is full; every accepted alert is kept and decided', async () => {
    // 64 KiB for all streams: INTAKE gets about 20 KB. Repeats of five alerts fill INTAKE and add nothing to ALERTS.
    await ensureTopology(
      p.admin,
      { partitions: 1, replicas: 1, limits: { maxBytes: 64 * 1024, intakeMaxAgeMs: 0, logMaxAgeMs: 0 } },
      testLog,
    );
    const body = amPayload(['a', 'b', 'c', 'd', 'e'].map((n) => amAlert(`full-${n}`)));
    let accepted = 0;
    let refusal: Response | undefined;
    for (let i = 0; i < 200 && !refusal; i++) {
      const res = await p.postAlertmanager(body);
      if (res.status === 202) accepted++;
      else refusal = res;
    }
    expect(accepted).toBeGreaterThan(0);
    expect(refusal?.status).toBe(503);
    expect(refusal?.headers.get('retry-after')).toBe('30');
    expect(await refusal?.json()).toMatchObject({ error: { code: 'intake_full' } });
    expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(accepted);
    await p.alertsApplied(5);
    expect((await p.listAlerts()).map((a) => a.fingerprint)).toHaveLength(5);
    const metrics = await (await fetch(`${p.ingestUrl}/metrics`)).text();
    expect(metrics).toMatch(/oncall_ingest_refused_total\{reason="intake_full"\} [1-9]/);
    expect(metrics).toMatch(/oncall_stream_fill_ratio\{stream="INTAKE"\} [\d.]+/);
  });
});
