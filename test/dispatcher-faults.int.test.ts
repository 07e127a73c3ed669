import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS, encodeEvent, STREAMS, streamConfigs, subjects, type DomainEvent, type EventOf } from '@oncall/contracts';
import { startDispatcher } from '@oncall/dispatcher';
import { registry } from '@oncall/shared';
import type { Notifier, SlackMessage } from '../dispatcher/src/notifiers/index.js';
import { slackNotifierFor } from './dispatcher-setup.js';
import { followStream, type FollowedStream } from './escalation-log.js';
import { startSlackFake, type SlackFake } from './fakes/index.js';
import { prepareTopology, startTestNats, testLog, type TestNats } from './harness.js';
import { escalation, eventFactory } from './projection-events.js';

/** How many messages the dispatcher parked for `reason`, from the process's metrics. */
async function parkedCount(reason: string): Promise<number> {
  const metric = await registry.getSingleMetric('oncall_parked_messages_total')?.get();
  return metric?.values.find((v) => v.labels.consumer === CONSUMERS.dispatcher && v.labels.reason === reason)?.value ?? 0;
}

describe('the dispatcher under faults', () => {
  let nats: TestNats;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  let slack: SlackFake;
  let deliveries: FollowedStream;
  let parked: FollowedStream;
  let stop: () => Promise<void>;
  /** A notifier bug, thrown instead of sending to the channel `#bug` while set (only there, so a page published
   *  right after it cannot meet the bug before the test clears it). */
  let bug: Error | null = null;
  const f = eventFactory(Date.now());
  let n = 0;

  /** Publishes a NotificationRequested to a Slack channel; returns it and its stream sequence. */
  const page = async (name: string) => {
    const event = escalation(f, `${name}-${n++}`).requested('noc', { type: 'slack', channel: `#${name}` });
    const { seq } = await jetstream(admin).publish(subjects.escalation(0, event.data.alertId), encodeEvent(event));
    return { event, seq };
  };
  const delivered = async (event: EventOf<'NotificationRequested'>) => {
    const mine = (e: DomainEvent) => e.type === 'NotificationDelivered' && e.data.notificationId === event.data.notificationId;
    await deliveries.waitFor(mine, 1, 20_000);
  };
  const slackCalls = (channel: string) => slack.calls.items.filter((c) => c.args.channel === channel).length;

  beforeAll(async () => {
    nats = await startTestNats();
    admin = await nats.connect('admin');
    jsm = await jetstreamManager(admin);
    await prepareTopology(admin, 1);
    slack = await startSlackFake();
    deliveries = await followStream(admin, STREAMS.deliveries);
    parked = await followStream(admin, STREAMS.parked);
    const real = slackNotifierFor(slack);
    const buggy: Notifier<SlackMessage> = {
      channel: 'slack',
      notify: (message, destination, opts) =>
        bug && destination === '#bug' ? Promise.reject(bug) : real.notify(message, destination, opts),
    };
    ({ stop } = await startDispatcher({
      nc: await nats.connect('dispatcher'),
      notifiers: { slack: buggy },
      log: testLog,
      options: { retryBaseMs: 100, retryMaxMs: 1000, ackWaitMs: 1000 },
    }));
  });

  afterAll(async () => {
    await stop?.();
    await Promise.all([deliveries?.close(), parked?.close()]);
    await slack?.close();
    await nats?.stop();
  });

  it('a message that is not an event is parked once, and the notifications after it are delivered', async () => {
    const before = await parkedCount('undecodable');
    const garbage = await jetstream(admin).publish(subjects.escalation(0, '7f1c2a4e-1111-4c6b-9d7e-0a1b2c3d4e5f'), 'not an event \u0000');
    const after = await page('after-garbage');
    await delivered(after.event);
    const [event] = await parked.waitFor((e) => e.type === 'MessageParked' && e.data.seq === garbage.seq);
    expect(event?.data).toMatchObject({ consumer: CONSUMERS.dispatcher, stream: STREAMS.escalations, reason: 'undecodable' });
    // Acked for good (terminated), not redelivered: parked once.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await parkedCount('undecodable')).toBe(before + 1);
    expect((await jsm.consumers.info(STREAMS.escalations, CONSUMERS.dispatcher)).num_ack_pending).toBe(0);
    expect(slackCalls('#after-garbage')).toBe(1);
  });

  it('a notification a bug stopped is parked, and a retry after the fix delivers it once', async () => {
    bug = new TypeError("Cannot read properties of undefined (reading 'ts')");
    const broken = await page('bug');
    const [event] = await parked.waitFor((e) => e.type === 'MessageParked' && e.data.seq === broken.seq);
    expect(event?.data).toMatchObject({ reason: 'undeliverable', error: expect.stringContaining('TypeError') as unknown });
    const next = await page('not-stuck');
    expect(slackCalls('#bug')).toBe(0);

    bug = null;
    await delivered(next.event);
    const retry = async () =>
      JSON.parse(
        (
          await admin.request(
            subjects.parkedRetry(CONSUMERS.dispatcher),
            JSON.stringify({ stream: STREAMS.escalations, seq: broken.seq }),
            {
              timeout: 10_000,
            },
          )
        ).string(),
      ) as unknown;
    expect(await retry()).toEqual({ outcome: 'applied', error: null });
    await delivered(broken.event);
    expect(slackCalls('#bug')).toBe(1);
    // Asking again changes nothing: the delivery is recorded.
    expect(await retry()).toEqual({ outcome: 'applied', error: null });
    expect(slackCalls('#bug')).toBe(1);
  });

  it('the consumer deleted under the dispatcher is created again where it stood; nothing is sent twice', async () => {
    const before = await page('before-delete');
    await delivered(before.event);
    await jsm.consumers.delete(STREAMS.escalations, CONSUMERS.dispatcher);
    const after = await page('after-delete');
    await delivered(after.event);
    const { config } = await jsm.consumers.info(STREAMS.escalations, CONSUMERS.dispatcher);
    expect(config).toMatchObject({ deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: expect.any(Number) as unknown });
    // From the ack floor last read (every 5 s): never past a message not handled yet.
    expect(config.opt_start_seq).toBeLessThanOrEqual(after.seq);
    await new Promise((r) => setTimeout(r, 1500));
    expect([slackCalls('#before-delete'), slackCalls('#after-delete')]).toStrictEqual([1, 1]);
  });

  it('the stream deleted and created again is read from its start', async () => {
    await jsm.streams.delete(STREAMS.escalations);
    const config = streamConfigs(1).find((c) => c.name === STREAMS.escalations)!;
    await jsm.streams.add(config);
    const fresh = await page('new-stream');
    await delivered(fresh.event);
    expect(slackCalls('#new-stream')).toBe(1);
  });
});
