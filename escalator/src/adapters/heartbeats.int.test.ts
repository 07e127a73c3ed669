import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { STREAMS, type EventOf } from '@oncall/contracts';
import { ManualClock, registry, watchConfig, type ConfigView } from '@oncall/shared';
import { prepareTopology, startTestNats, testLog, type TestNats } from '../../../test/harness.js';
import { appendConfig, followStream, type FollowedStream } from '../../../test/escalation-log.js';
import { HeartbeatWatcher } from './heartbeats.js';

const counter = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((sum, v) => sum + v.value, 0);
};

describe('heartbeat expiry when intake cannot store the signal', () => {
  let nats: TestNats;
  let admin: NatsConnection;
  let config: ConfigView;
  let intake: FollowedStream;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    nats = await startTestNats();
    admin = await nats.connect('admin');
    await prepareTopology(admin, 1);
    await appendConfig(admin, 'heartbeat', 'nightly-backup', 'HeartbeatMonitorConfigured', {
      monitorId: 'nightly-backup',
      serviceId: 'backups',
      name: 'Nightly backup',
      intervalSeconds: 60,
    });
    config = await watchConfig(await nats.connect('config'));
    intake = await followStream(admin, STREAMS.intake);
  });

  afterAll(async () => {
    await intake?.close();
    await config?.stop();
    await nats?.stop();
  });

  it('an expiry whose publish failed (nats-server down) is sent when the server is back, once', async () => {
    await expect.poll(() => config.state().heartbeats.has('nightly-backup')).toBe(true);
    const stop = new AbortController();
    const watcher = new HeartbeatWatcher({ nc: await nats.connect('escalator'), partitions: 1, config, clock, log: testLog });
    const running = watcher.run(stop.signal);
    const failuresBefore = await counter('oncall_escalator_heartbeat_send_failures_total');
    const sentBefore = await counter('oncall_escalator_heartbeat_signals_total', { status: 'firing' });

    await nats.down();
    clock.advance(61_000);
    await expect.poll(() => counter('oncall_escalator_heartbeat_send_failures_total'), { timeout: 15_000 }).toBeGreaterThan(failuresBefore);
    await nats.up();
    // The checks go on while the server is away; one after it is back sends the expiry.
    const deadline = Date.now() + 20_000;
    while ((await counter('oncall_escalator_heartbeat_signals_total', { status: 'firing' })) === sentBefore && Date.now() < deadline) {
      clock.advance(1000);
      await new Promise((r) => setTimeout(r, 200));
    }
    const [stored] = await intake.waitFor((e) => e.type === 'SignalsReceived' && e.data.source === 'heartbeat', 1, 10_000);
    expect((stored as EventOf<'SignalsReceived'>).data.signals).toMatchObject([
      { fingerprint: 'heartbeat:nightly-backup', status: 'firing' },
    ]);
    expect(await counter('oncall_escalator_heartbeat_signals_total', { status: 'firing' })).toBe(sentBefore + 1);

    // Later checks send nothing more: the expiry is stored, and the monitor is marked.
    clock.advance(5000);
    await new Promise((r) => setTimeout(r, 500));
    expect(intake.events.filter((e) => e.type === 'SignalsReceived')).toHaveLength(1);
    stop.abort();
    await running;
  }, 60_000);
});
