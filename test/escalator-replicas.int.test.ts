import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, type DomainEvent, type EventOf } from '@oncall/contracts';
import { fileUserDirectory, ManualClock } from '@oncall/shared';
import { startEscalator } from '@oncall/escalator';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { appendConfig, followStream } from './escalation-log.js';
import { testLog } from './harness.js';

const USERS = fileUserDirectory([
  { id: 'alice', name: 'Alice', email: 'a@example.com', timezone: 'UTC', contacts: [{ channel: 'email', address: 'a@example.com' }] },
  { id: 'bob', name: 'Bob', email: 'b@example.com', timezone: 'UTC', contacts: [{ channel: 'email', address: 'b@example.com' }] },
]);
type Notice = EventOf<'NotificationRequested'>;
const notices = (events: DomainEvent[], alertId: string) =>
  events.filter((e): e is Notice => e.type === 'NotificationRequested' && e.data.alertId === alertId);

describe('two escalator replicas', () => {
  let p: TestPipeline;
  let log: Awaited<ReturnType<typeof followStream>>;
  const clock = new ManualClock(Date.now());
  const replica = async (owner: string) =>
    startEscalator({
      nc: await p.nats.connect(owner),
      partitions: p.partitions,
      users: USERS,
      log: testLog.child({ owner }),
      owner,
      clock,
    });

  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 2 });
    await appendConfig(p.admin, 'policy', 'checkout', 'EscalationPolicyConfigured', {
      policyId: 'checkout',
      name: 'Checkout',
      repeat: 0,
      steps: [
        { delaySeconds: 300, targets: [{ type: 'user', userId: 'alice' }], untilAllAck: false },
        { delaySeconds: 300, targets: [{ type: 'user', userId: 'bob' }], untilAllAck: false },
      ],
    });
    await appendConfig(p.admin, 'routing', 'checkout', 'RoutingConfigured', {
      serviceId: 'checkout',
      escalationPolicyId: 'checkout',
      templateId: null,
      ackTimeoutSeconds: null,
      rules: [],
    });
    log = await followStream(p.admin, STREAMS.escalations);
  });

  afterAll(async () => {
    await log.close();
    await p.stop();
  });

  it('page each person once while both run, and the survivor takes over the partitions of one that stops', async () => {
    const a = await replica('replica-a');
    const b = await replica('replica-b');
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
    for (const k of keys) {
      const res = await p.post('/api/v1/webhook/generic', JSON.stringify({ summary: `alert ${k}`, severity: 'critical', dedup_key: k }));
      expect(res.status).toBe(202);
    }
    const first = await log.waitFor((e) => e.type === 'NotificationRequested', keys.length);
    const alertIds = first.map((e) => (e as Notice).data.alertId);
    expect(new Set(alertIds).size).toBe(keys.length);

    // One replica stops (its leases are released); the other takes its partitions over.
    await a.stop();
    clock.advance(5 * 60_000);
    await log.waitFor(
      (e) =>
        e.type === 'NotificationRequested' && e.data.recipient.type === 'user' && (e.data.recipient as { userId: string }).userId === 'bob',
      keys.length,
      20_000,
    );
    for (const id of alertIds)
      expect(notices(log.events, id).map((n) => (n.data.recipient as { userId: string }).userId)).toStrictEqual(['alice', 'bob']);
    await b.stop();
  }, 40_000);
});
