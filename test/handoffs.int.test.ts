import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, type EventOf } from '@oncall/contracts';
import { fileUserDirectory, ManualClock } from '@oncall/shared';
import { startEscalator } from '@oncall/escalator';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { appendConfig, followStream, type FollowedStream } from './escalation-log.js';
import { testLog } from './harness.js';
import { isNotice, seed, trigger } from './rules-setup.js';

describe('shift handoff summaries on a real nats-server (controllable clock)', () => {
  let p: TestPipeline;
  let clock: ManualClock;
  let log: FollowedStream;
  let escalator: { stop: () => Promise<void> } | undefined;
  const HANDOFF = Date.parse('2030-01-02T09:00:00Z');
  const users = fileUserDirectory([
    { id: 'alice', name: 'Alice', email: 'alice@example.com', timezone: 'UTC', contacts: [{ channel: 'slack', address: 'U0ALICE' }] },
    { id: 'bob', name: 'Bob', email: 'bob@example.com', timezone: 'UTC', contacts: [{ channel: 'email', address: 'bob@example.com' }] },
  ]);
  const start = async () => {
    escalator = await startEscalator({
      nc: await p.nats.connect('escalator'),
      partitions: p.partitions,
      users,
      log: testLog,
      owner: 'handoffs',
      clock,
    });
  };

  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 1 });
    await seed(p, [['slack', 0]]);
    await appendConfig(p.admin, 'schedule', 'primary', 'ScheduleConfigured', {
      scheduleId: 'primary',
      name: 'Primary',
      timeZone: 'UTC',
      overrides: [],
      temporary: [],
      rotations: [
        {
          id: 'day',
          name: 'Daily',
          type: 'daily',
          shiftLength: 1,
          start: '2030-01-01T09:00:00Z',
          members: ['alice', 'bob'],
          restrictions: [],
        },
      ],
    });
    // The policy pages the schedule, so `checkout` is one of its services.
    await appendConfig(p.admin, 'policy', 'checkout', 'EscalationPolicyConfigured', {
      policyId: 'checkout',
      name: 'Checkout on-call',
      repeat: 0,
      steps: [{ delaySeconds: 1800, targets: [{ type: 'schedule', scheduleId: 'primary' }], untilAllAck: false }],
    });
    clock = new ManualClock(HANDOFF - 2 * 3_600_000);
    log = await followStream(p.admin, STREAMS.escalations);
    await start();
  });

  afterAll(async () => {
    await escalator?.stop();
    await log?.close();
    await p?.stop();
  });

  it('at the handoff, sends one summary naming what is open, to bob by e-mail and alice by her first rule; restarts send none twice and catch up a missed one', async () => {
    const alert = await trigger(p, log, 'Checkout queue stuck');
    await log.waitFor(isNotice(alert.alertId));
    // The pipeline's checkout-canary heartbeat (no beats here) goes missing a minute in: let that alert
    // open and reach the escalator before the handoff, so the summary names both (not a race).
    const alerts = await followStream(p.admin, STREAMS.alerts);
    clock.advance(5 * 60_000);
    const [missed] = (await alerts.waitFor(
      (e) => e.type === 'AlertTriggered' && e.data.fingerprint === 'heartbeat:checkout-canary',
    )) as Array<EventOf<'AlertTriggered'>>;
    await log.waitFor((e) => e.type === 'AlertRouted' && e.data.alertId === missed!.data.alertId);
    await alerts.close();
    clock.advance(2 * 3_600_000 - 5 * 60_000);
    const [summary] = (await log.waitFor((e) => e.type === 'HandoffSummaryRequested')) as Array<EventOf<'HandoffSummaryRequested'>>;
    expect(summary!.data).toMatchObject({
      scheduleId: 'primary',
      at: new Date(HANDOFF).toISOString(),
      outgoing: ['alice'],
      incoming: ['bob'],
      services: ['checkout'],
      recipients: [
        { userId: 'bob', role: 'incoming', channel: 'email', contacts: [{ channel: 'email', address: 'bob@example.com' }] },
        { userId: 'alice', role: 'outgoing', channel: 'slack', contacts: [{ channel: 'slack', address: 'U0ALICE' }] },
      ],
    });
    expect(summary!.data.open.map((a) => a.summary).sort()).toStrictEqual([
      'Checkout queue stuck',
      'Heartbeat Checkout canary missed: no beat for 1m',
    ]);
    expect(summary!.data.text.incoming.split('\n')[0]).toBe(`Primary: you take over from alice at ${new Date(HANDOFF).toISOString()}`);

    await escalator!.stop();
    await start();
    // The next handoff (bob → alice) a day later is the only one sent after the restart.
    clock.advance(24 * 3_600_000);
    const both = (await log.waitFor((e) => e.type === 'HandoffSummaryRequested', 2)) as Array<EventOf<'HandoffSummaryRequested'>>;
    expect(both.map((s) => `${s.data.outgoing.join()}→${s.data.incoming.join()}`)).toStrictEqual(['alice→bob', 'bob→alice']);

    // A handoff passed while no escalator ran is summarised once, late, after the restart.
    await escalator!.stop();
    clock.advance(24 * 3_600_000 + 60_000);
    await start();
    const three = (await log.waitFor((e) => e.type === 'HandoffSummaryRequested', 3)) as Array<EventOf<'HandoffSummaryRequested'>>;
    expect(three[2]!.data).toMatchObject({ at: new Date(HANDOFF + 2 * 86_400_000).toISOString(), outgoing: ['alice'], incoming: ['bob'] });
    const barrier = await trigger(p, log, 'Barrier after handoffs');
    await log.waitFor(isNotice(barrier.alertId));
    expect(log.events.filter((e) => e.type === 'HandoffSummaryRequested')).toHaveLength(3);
  });
});
