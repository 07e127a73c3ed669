import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amAlert, amPayload } from './fixtures.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { reconnected } from './harness.js';

describe('JetStream outage: never 2xx for what was not stored, and recovery on its own', () => {
  let p: TestPipeline;
  beforeAll(async () => {
    p = await startTestPipeline();
  });
  afterAll(async () => p?.stop());

  it('answers 503 + Retry-After while nats-server is down, then takes alerts again when it is back', async () => {
    expect((await p.postAlertmanager(amPayload([amAlert('before')]))).status).toBe(202);
    await p.alertsApplied(1);

    const back = reconnected(p.ingestNc);
    await p.nats.down();
    const during = await p.postAlertmanager(amPayload([amAlert('during')]));
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('5');

    await p.nats.up();
    await back;
    const after = await p.postAlertmanager(amPayload([amAlert('after')]));
    expect(after.status).toBe(202);
    // The decider and projector recovered too: the new alert reaches the read model.
    await p.alertsApplied(2);
    const names = (await p.listAlerts()).map((a) => a.labels.alertname).sort();
    expect(names).toEqual(['after', 'before']);
  });
});
