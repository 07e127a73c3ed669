import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { durableConsumer } from '@oncall/contracts';
import { consumeOptions, ensureConsumer, superviseLoop, type Logger } from '@oncall/shared';

const NS_PER_MS = 1_000_000;

/**
 * A durable consumer shared by every bridge replica: up to `concurrency` messages in hand, each
 * handled by `handle` (which acks, naks with a delay, or leaves nothing to chance: it never
 * throws). While a message is in hand JetStream is told so every third of the ack wait, so a slow
 * provider call is not redelivered to another replica; a process killed mid-call leaves its
 * messages to come back after the ack wait. Restarts after failures with back-off (superviseLoop).
 */
export async function consumeDurable(opts: {
  nc: NatsConnection;
  log: Logger;
  stop: AbortSignal;
  stream: string;
  consumer: string;
  filter: string;
  concurrency: number;
  ackWaitMs: number;
  handle: (m: JsMsg) => Promise<void>;
}): Promise<void> {
  const { nc, log, stop } = opts;
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const inHand = new Set<JsMsg>();
  const running = new Set<Promise<void>>();
  const working = setInterval(() => inHand.forEach((m) => m.working()), Math.max(100, opts.ackWaitMs / 3));
  await superviseLoop({ name: opts.consumer, log, stop }, async () => {
    // Many messages may wait for a retry (nak with delay) at once: they must not hold the consumer up.
    const config = { ...durableConsumer(opts.consumer, opts.filter, 20_000), ack_wait: opts.ackWaitMs * NS_PER_MS };
    await ensureConsumer(jsm, opts.stream, { ...config, durable_name: opts.consumer });
    const messages = await (await js.consumers.get(opts.stream, opts.consumer)).consume(consumeOptions(opts.concurrency));
    const close = () => void messages.close();
    stop.addEventListener('abort', close, { once: true });
    if (stop.aborted) close();
    try {
      for await (const m of messages) {
        while (running.size >= opts.concurrency) await Promise.race(running);
        inHand.add(m);
        const p: Promise<void> = opts
          .handle(m)
          .catch((err: unknown) => {
            log.error({ err, consumer: opts.consumer, seq: m.seq }, 'handling a message failed; it comes back later');
            m.nak(5000);
          })
          .finally(() => {
            inHand.delete(m);
            running.delete(p);
          });
        running.add(p);
      }
    } finally {
      stop.removeEventListener('abort', close);
    }
  });
  await Promise.allSettled(running);
  clearInterval(working);
}
