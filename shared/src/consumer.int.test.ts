import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { startTestNats, testLog, type TestNats } from '../../test/harness.js';
import { consumeInHand, ensureConsumer, type InHandOptions } from './consumer.js';

const NS_PER_MS = 1_000_000;
const STREAM = 'INHAND';

/** A promise and the function that settles it. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('consumeInHand on a real nats-server', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAM, subjects: ['inhand.>'] });
  });
  afterAll(async () => {
    await nats?.stop();
  });

  /** The loop on consumer `name` (subject `inhand.<name>`), counting how often it ensured the consumer. */
  const loop = (name: string, stop: AbortController, over: Partial<InHandOptions> & Pick<InHandOptions, 'handle'>, ackWaitMs = 30_000) => {
    const ensured = { count: 0 };
    const done = consumeInHand({
      js,
      log: testLog,
      stop: stop.signal,
      stream: STREAM,
      consumer: name,
      concurrency: 3,
      ensure: async () => {
        ensured.count++;
        const config = {
          durable_name: name,
          filter_subject: `inhand.${name}`,
          ack_policy: AckPolicy.Explicit,
          ack_wait: ackWaitMs * NS_PER_MS,
        };
        await ensureConsumer(jsm, STREAM, config);
        return ackWaitMs;
      },
      ...over,
    });
    return { done, ensured };
  };
  const publish = async (name: string, n: number) => {
    for (let i = 0; i < n; i++) await js.publish(`inhand.${name}`, String(i));
  };

  it('runs at most `concurrency` handlers at once, each message once, and waits for running handlers when stopped', async () => {
    const stop = new AbortController();
    const release = gate();
    const seen: string[] = [];
    let now = 0;
    let most = 0;
    let finished = 0;
    const { done } = loop('limit', stop, {
      handle: async (m) => {
        seen.push(m.string());
        most = Math.max(most, ++now);
        await release.opened;
        now--;
        m.ack();
        finished++;
      },
    });
    await publish('limit', 10);
    await expect.poll(() => seen.length).toBe(3);
    release.open();
    await expect.poll(() => seen.length).toBe(10);
    expect(most).toBe(3);
    expect([...seen].sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

    // Stopping with a handler running: the loop ends only after it.
    const last = gate();
    const stopping = loop('stopping', stop, {
      handle: async (m) => {
        await last.opened;
        m.ack();
        finished++;
      },
    });
    await publish('stopping', 1);
    await expect.poll(async () => (await jsm.consumers.info(STREAM, 'stopping')).num_ack_pending).toBe(1);
    stop.abort();
    let ended = false;
    void Promise.all([done, stopping.done]).then(() => (ended = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    last.open();
    await Promise.all([done, stopping.done]);
    expect(finished).toBe(11);
    await expect.poll(async () => (await jsm.consumers.info(STREAM, 'stopping')).num_ack_pending, { timeout: 5000 }).toBe(0);
  });

  it('keeps a message in hand past its ack wait (working()), so it is not delivered again', async () => {
    const stop = new AbortController();
    const deliveries: number[] = [];
    const { done } = loop(
      'slow',
      stop,
      {
        handle: async (m: JsMsg) => {
          deliveries.push(m.info.deliveryCount);
          // Three ack waits: without working() every third of it, JetStream would deliver it again meanwhile.
          await new Promise((resolve) => setTimeout(resolve, 1500));
          m.ack();
        },
      },
      500,
    );
    await publish('slow', 1);
    await expect.poll(async () => (await jsm.consumers.info(STREAM, 'slow')).ack_floor.stream_seq, { timeout: 5000 }).toBeGreaterThan(0);
    expect(deliveries).toEqual([1]);
    expect((await jsm.consumers.info(STREAM, 'slow')).num_redelivered).toBe(0);
    stop.abort();
    await done;
  });

  it('ensures the consumer again after it was deleted, and a handler that throws gets its message back', async () => {
    const stop = new AbortController();
    const got: Array<[string, number]> = [];
    const { done, ensured } = loop('again', stop, {
      handle: async (m) => {
        got.push([m.string(), m.info.deliveryCount]);
        if (m.string() === 'boom' && m.info.deliveryCount === 1) throw new Error('handler trouble');
        m.ack();
      },
    });
    await expect.poll(() => ensured.count).toBe(1);
    await js.publish('inhand.again', 'before');
    await expect.poll(() => got).toEqual([['before', 1]]);
    await jsm.consumers.delete(STREAM, 'again');
    await expect.poll(() => ensured.count, { timeout: 10_000 }).toBe(2);
    await js.publish('inhand.again', 'boom');
    // The new consumer delivers the stream from its start: 'before' again, then 'boom' twice (nak after the throw).
    await expect
      .poll(() => got, { timeout: 15_000 })
      .toEqual([
        ['before', 1],
        ['before', 1],
        ['boom', 1],
        ['boom', 2],
      ]);
    stop.abort();
    await done;
  }, 30_000);
});
