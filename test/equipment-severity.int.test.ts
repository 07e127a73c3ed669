import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMERS, STREAMS, type EventOf } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { fileUserDirectory, ManualClock } from '@oncall/shared';
import { startEscalator } from '@oncall/escalator';
import { waitForProjection } from '@oncall/projector';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { appendConfig, followStream, type FollowedStream } from './escalation-log.js';
import { seed } from './rules-setup.js';
import { streamLastSeq, testLog } from './harness.js';

const { Severity } = alertingV1;

/**
 * Equipment types end to end: the configuration event, the escalator's routing (AlertRouted
 * records the boost), the page (effective severity, the source's alongside), the read model
 * through query-api, and a later source severity with the boost applied again.
 */
describe('equipment types: the effective severity from routing to every reader', () => {
  let p: TestPipeline;
  let log: FollowedStream;
  let escalator: { stop: () => Promise<void> };

  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 1 });
    await seed(p, [['slack', 0]]);
    await appendConfig(p.admin, 'equipment', 'default', 'EquipmentTypesConfigured', {
      label: 'equipment_type',
      types: { core_router: { boost: 1, severity: null }, firewall: { boost: null, severity: 'critical' } },
    });
    log = await followStream(p.admin, STREAMS.escalations);
    escalator = await startEscalator({
      nc: await p.nats.connect('escalator'),
      partitions: p.partitions,
      users: fileUserDirectory([
        { id: 'alice', name: 'Alice', email: 'alice@example.com', timezone: 'UTC', contacts: [{ channel: 'slack', address: 'U0ALICE' }] },
      ]),
      log: testLog,
      owner: 'test-escalator',
      clock: new ManualClock(Date.now()),
    });
  });

  afterAll(async () => {
    await escalator?.stop();
    await log?.close();
    await p?.stop();
  });

  const send = async (severity: string) => {
    const before = await streamLastSeq(p.admin, STREAMS.alerts);
    const body = JSON.stringify({
      summary: 'cr1.fra2 BGP down',
      severity,
      dedup_key: 'cr1-fra2',
      labels: { equipment_type: 'core_router' },
    });
    expect((await p.post('/api/v1/webhook/generic', body)).status).toBe(202);
    await p.alertsApplied(before + 1);
  };

  it('a core router warning is routed, paged and listed as error; a later info is shown as warning', async () => {
    await send('warning');
    const [routed] = (await log.waitFor((e) => e.type === 'AlertRouted')) as Array<EventOf<'AlertRouted'>>;
    expect(routed!.data).toMatchObject({
      severity: 'error',
      severityBoost: { from: 'warning', to: 'error', by: 'equipment:core_router', boost: 1, severity: null },
      severityRule: null,
      alert: { severity: 'warning' },
    });
    const [page] = (await log.waitFor((e) => e.type === 'NotificationRequested')) as Array<EventOf<'NotificationRequested'>>;
    expect([page!.data.alert.severity, page!.data.alert.sourceSeverity, page!.data.priority]).toStrictEqual(['error', 'warning', 'high']);

    await waitForProjection(p.db.url, p.db.schema, CONSUMERS.projectorEscalations, await streamLastSeq(p.admin, STREAMS.escalations));
    const alertId = routed!.data.alertId;
    expect(await severities(alertId)).toStrictEqual([Severity.SEVERITY_ERROR, Severity.SEVERITY_WARNING]);

    await send('info');
    expect(await severities(alertId)).toStrictEqual([Severity.SEVERITY_WARNING, Severity.SEVERITY_INFO]);
  });

  const severities = async (id: string) => {
    const a = await p.getAlert(id);
    return [a.severity, a.sourceSeverity];
  };
});
