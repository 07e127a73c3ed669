import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { buildEvent, encodeEvent, partitionOf, stableUuid, STREAMS, subjects, type DomainEvent, type EventOf } from '@oncall/contracts';
import { fileUserDirectory, ManualClock } from '@oncall/shared';
import { startEscalator } from '@oncall/escalator';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { appendConfig, followStream } from './escalation-log.js';
import { testLog } from './harness.js';

const MIN = 60_000;
const USERS = fileUserDirectory([
  {
    id: 'alice',
    name: 'Alice',
    email: 'alice@example.com',
    timezone: 'Europe/Berlin',
    contacts: [{ channel: 'sms', address: '+15555550101' }],
  },
  { id: 'carol', name: 'Carol', email: 'carol@example.com', timezone: 'UTC', contacts: [{ channel: 'voice', address: '+15555550103' }] },
]);

type Notice = EventOf<'NotificationRequested'>;
const isNotice =
  (alertId: string, kind = 'page') =>
  (e: DomainEvent): e is Notice =>
    e.type === 'NotificationRequested' && e.data.alertId === alertId && e.data.kind === kind;
const who = (n: DomainEvent): string => {
  const r = (n as Notice).data.recipient;
  return r.type === 'user' ? r.userId : r.type === 'slack' ? r.channel : r.url;
};

/** Seeds a weekly rotation (alice only), a two-step policy and routing for the pipeline's `checkout` service. */
async function seedConfig(p: TestPipeline): Promise<void> {
  await appendConfig(p.admin, 'schedule', 'primary', 'ScheduleConfigured', {
    scheduleId: 'primary',
    name: 'Primary',
    timeZone: 'Europe/Berlin',
    overrides: [],
    temporary: [],
    rotations: [
      {
        id: 'week',
        name: 'Weekly',
        type: 'weekly',
        shiftLength: 1,
        start: '2026-01-05T09:00:00+01:00',
        members: ['alice'],
        restrictions: [],
      },
    ],
  });
  await appendConfig(p.admin, 'policy', 'checkout', 'EscalationPolicyConfigured', {
    policyId: 'checkout',
    name: 'Checkout on-call',
    repeat: 0,
    steps: [
      { delaySeconds: 300, targets: [{ type: 'schedule', scheduleId: 'primary' }], untilAllAck: false },
      {
        delaySeconds: 600,
        targets: [
          { type: 'user', userId: 'carol' },
          { type: 'slack', channel: '#noc' },
        ],
        untilAllAck: false,
      },
    ],
  });
  await appendConfig(p.admin, 'routing', 'checkout', 'RoutingConfigured', {
    serviceId: 'checkout',
    escalationPolicyId: 'checkout',
    templateId: null,
    ackTimeoutSeconds: null,
    rules: [
      {
        name: 'quiet-info',
        when: 'alert.severity == "info"',
        policyId: null,
        templateId: null,
        severity: null,
        ticket: null,
        suppress: true,
        continue: false,
      },
    ],
  });
}

/** Sends a user command to the decider the way query-api will. */
async function command(
  p: TestPipeline,
  alert: { alertId: string; serviceId: string; fingerprint: string },
  cmd: 'acknowledge' | 'resolve',
  userId: string,
) {
  const event = buildEvent(
    'AlertCommandReceived',
    { ...alert, command: cmd, userId, note: '', until: null, reason: '' },
    {
      id: stableUuid(`${cmd}:${alert.alertId}:${userId}`),
      occurredAt: new Date().toISOString(),
      causationId: null,
      correlationId: alert.alertId,
    },
  );
  await jetstream(p.admin).publish(subjects.intake(partitionOf(alert.serviceId, alert.fingerprint, p.partitions)), encodeEvent(event));
}

const generic = (summary: string, dedupKey: string, severity = 'critical') =>
  JSON.stringify({ summary, severity, dedup_key: dedupKey, labels: { site: 'fra1' } });

describe('escalator end to end (controllable clock)', () => {
  let p: TestPipeline;
  let clock: ManualClock;
  let log: Awaited<ReturnType<typeof followStream>>;
  let escalator: { stop: () => Promise<void> };
  const start = async () => {
    escalator = await startEscalator({
      nc: await p.nats.connect('escalator'),
      partitions: p.partitions,
      users: USERS,
      log: testLog,
      owner: 'test-escalator',
      clock,
    });
  };

  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 1 });
    await seedConfig(p);
    clock = new ManualClock(Date.now());
    log = await followStream(p.admin, STREAMS.escalations);
    await start();
  });

  afterAll(async () => {
    await escalator.stop();
    await log.close();
    await p.stop();
  });

  const triggerAlert = async (summary: string, key: string, severity?: string) => {
    expect((await p.post('/api/v1/webhook/generic', generic(summary, key, severity))).status).toBe(202);
    const [routed] = await log.waitFor((e) => e.type === 'AlertRouted' && e.data.alert.summary === summary);
    return (routed as EventOf<'AlertRouted'>).data;
  };

  it('pages the on-call user, escalates after the delay, stops on ack and stays silent', async () => {
    const routed = await triggerAlert('Checkout 5xx above 5%', 'checkout-5xx');
    expect(routed).toMatchObject({ policyId: 'checkout', rules: [], suppressed: null });
    const alert = { alertId: routed.alertId, serviceId: 'checkout', fingerprint: routed.alert.fingerprint };
    const [first] = await log.waitFor(isNotice(alert.alertId));
    expect((first as Notice).data).toMatchObject({
      recipient: { type: 'user', userId: 'alice' },
      contacts: [{ channel: 'sms', address: '+15555550101' }],
      priority: 'critical',
      step: 0,
    });

    clock.advance(5 * MIN);
    const second = await log.waitFor(isNotice(alert.alertId), 3);
    expect(second.slice(1).map(who)).toStrictEqual(['carol', '#noc']);

    await command(p, alert, 'acknowledge', 'carol');
    await log.waitFor((e) => e.type === 'EscalationStopped' && e.data.alertId === alert.alertId && e.data.reason === 'acknowledged');

    clock.advance(60 * MIN);
    // A barrier: with one partition, a later alert is decided after every timer due before it.
    await triggerAlert('Barrier alert', 'barrier-1');
    const after = log.events.filter((e) => e.data && 'alertId' in e.data && e.data.alertId === alert.alertId);
    expect(after.map((e) => e.type)).toStrictEqual([
      'AlertRouted',
      'EscalationStepReached',
      'NotificationRequested',
      'EscalationStepReached',
      'NotificationRequested',
      'NotificationRequested',
      'EscalationStopped',
    ]);

    await command(p, alert, 'resolve', 'carol');
    const told = await log.waitFor(isNotice(alert.alertId, 'resolved'), 3);
    expect(told.map(who).sort()).toStrictEqual(['#noc', 'alice', 'carol']);
  });

  it('a rule that suppresses pages nobody', async () => {
    const routed = await triggerAlert('Disk at 70%', 'disk-70', 'info');
    expect(routed).toMatchObject({ rules: ['quiet-info'], suppressed: { by: 'rule' } });
    await triggerAlert('Barrier alert 2', 'barrier-2');
    expect(log.events.filter(isNotice(routed.alertId))).toHaveLength(0);
  });

  it('a restarted escalator resumes from the log: the next step once, no page twice', async () => {
    const routed = await triggerAlert('Payment provider timeout', 'psp-timeout');
    await log.waitFor(isNotice(routed.alertId));
    await escalator.stop();
    await start();
    clock.advance(5 * MIN);
    await log.waitFor(isNotice(routed.alertId), 3);
    await triggerAlert('Barrier alert 3', 'barrier-3');
    const notices = log.events.filter(isNotice(routed.alertId));
    expect(notices.map(who)).toStrictEqual(['alice', 'carol', '#noc']);
    expect(new Set(notices.map((n) => n.data.notificationId)).size).toBe(3);
  });

  it('a heartbeat monitor that misses its interval opens an alert, and the next beat resolves it', async () => {
    const alerts = await followStream(p.admin, STREAMS.alerts);
    clock.advance(2 * MIN);
    const [opened] = await alerts.waitFor((e) => e.type === 'AlertTriggered' && e.data.fingerprint === 'heartbeat:checkout-canary');
    expect((opened as EventOf<'AlertTriggered'>).data).toMatchObject({
      source: 'heartbeat',
      severity: 'critical',
      labels: { monitor: 'checkout-canary' },
    });
    expect((await p.post('/api/v1/heartbeat/checkout-canary', '')).status).toBe(202);
    await alerts.waitFor((e) => e.type === 'AlertResolved' && e.data.alertId === (opened as EventOf<'AlertTriggered'>).data.alertId);
    await alerts.close();
  });
});
