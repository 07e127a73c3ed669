import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { CONSUMERS, encodeEvent, STREAMS, type EventOf } from '@oncall/contracts';
import { startDispatcher } from '@oncall/dispatcher';
import { slackNotifierFor } from './dispatcher-setup.js';
import { followStream, type FollowedStream } from './escalation-log.js';
import { startSlackFake, type SlackFake } from './fakes/index.js';
import { prepareTopology, startTestNats, testLog, type TestNats } from './harness.js';
import { escalation, eventFactory } from './projection-events.js';

const CLAIM_STALE_MS = 1000;
const ACK_WAIT_MS = 1000;

/**
 * Two dispatchers share the durable consumer on one nats-server, each sending to a Slack fake
 * of its own. A bundle window (3 s) and a provider rate limit (a message every 2 s per process)
 * hold notifications longer than a claim lasts without refresh and longer than JetStream waits
 * for an ack: claims kept alive and `working()` keep the other dispatcher from sending them too.
 */
describe('two dispatchers, notifications held longer than a claim lasts', () => {
  let nats: TestNats;
  let slacks: SlackFake[];
  let deliveries: FollowedStream;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    nats = await startTestNats();
    const admin = await nats.connect('admin');
    await prepareTopology(admin, 2);
    slacks = await Promise.all([startSlackFake(), startSlackFake()]);
    deliveries = await followStream(admin, STREAMS.deliveries);
    for (const slack of slacks) {
      const d = await startDispatcher({
        nc: await nats.connect('dispatcher'),
        notifiers: { slack: slackNotifierFor(slack) },
        log: testLog,
        options: {
          claimStaleMs: CLAIM_STALE_MS,
          ackWaitMs: ACK_WAIT_MS,
          retryBaseMs: 100,
          retryMaxMs: 500,
          concurrency: 4,
          bundleWindowMs: 3000,
          perDestination: { slack: { capacity: 1, perMinute: 1 } },
          perProvider: { slack: { capacity: 1, perMinute: 30 } },
        },
      });
      stops.push(d.stop);
    }
    // Both are pulling before anything is published, so both get a share.
    const jsm = await jetstreamManager(admin);
    for (let i = 0; (await jsm.consumers.info(STREAMS.escalations, CONSUMERS.dispatcher).catch(() => null))?.num_waiting !== 2; i++) {
      if (i > 200) throw new Error('the dispatchers never pulled');
      await new Promise((r) => setTimeout(r, 25));
    }
  });

  afterAll(async () => {
    for (const stop of stops) await stop();
    await deliveries?.close();
    await Promise.all(slacks.map((s) => s.close()));
    await nats?.stop();
  });

  it('each notification is sent exactly once', async () => {
    const f = eventFactory(Date.now());
    const requests: Array<EventOf<'NotificationRequested'>> = [];
    for (let i = 0; i < 10; i++) {
      const e = escalation(f, `replica-${i}`);
      // Six to one channel (bundled), four to channels of their own (the provider limit waits).
      const page = e.requested('noc', { type: 'slack', channel: i < 6 ? '#noc' : `#team-${i}` });
      requests.push({ ...page, data: { ...page.data, priority: 'high', alert: { ...page.data.alert, summary: `page-${i}-end` } } });
    }
    const js = jetstream(await nats.connect('escalator'));
    for (const r of requests) await js.publish(`escalations.${requests.indexOf(r) % 2}.${r.data.alertId}`, encodeEvent(r));

    await deliveries.waitFor((e) => e.type === 'NotificationDelivered', requests.length, 30_000);
    // Long enough for a redelivery, or a take-over of a claim gone stale, to have sent a copy.
    await new Promise((r) => setTimeout(r, 3 * (CLAIM_STALE_MS + ACK_WAIT_MS)));

    const sent = slacks.map((s) => s.calls.items.map((c) => JSON.stringify(c.args)));
    expect(sent.map((calls) => calls.length > 0)).toStrictEqual([true, true]);
    const copies = requests.map((_, i) => sent.flat().filter((args) => args.includes(`page-${i}-end`)).length);
    expect(copies).toStrictEqual(requests.map(() => 1));
    // The storm to #noc went out as bundles: fewer messages than notifications.
    expect(sent.flat().filter((args) => args.includes('#noc')).length).toBeLessThan(6);
    const delivered = deliveries.events.filter((e) => e.type === 'NotificationDelivered');
    expect(new Set(delivered.map((e) => e.data.notificationId)).size).toBe(requests.length);
  }, 60_000);
});
