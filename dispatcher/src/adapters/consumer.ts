import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS, durableConsumer, STREAMS, subjects } from '@oncall/contracts';
import { consumeInHand, ensureConsumer, type Logger } from '@oncall/shared';

const NS_PER_MS = 1_000_000;
/** How often the consumer's ack floor is read: where a recreated consumer starts. */
const FLOOR_EVERY_MS = 5000;

/**
 * Where the dispatcher's consumer stood, to recreate it there: every message up to `floor` was
 * acked (as last read from the server, so it may lag: what is delivered again is settled by the
 * delivery records), in the stream created at `created`.
 */
type Position = { floor: number | null; created: string | null };

/**
 * The dispatcher's durable consumer `dispatcher-v1` on `escalations.>`, shared by every
 * replica: up to `concurrency` messages in hand at once, each handled by `handle` (which never
 * throws). While a message is in hand JetStream is told so every third of the ack wait, however
 * long a bundle window or a rate limit holds it, so it is not redelivered to another replica.
 *
 * When the consumer is deleted, or its stream deleted and created again, consuming ends with an
 * error and starts again after a back-off with jitter (superviseLoop): the consumer is created
 * again where it stood (the last ack floor read), or from the start of a new stream. The loop
 * itself (in hand, working(), stopping) is the shared consumeInHand.
 */
export async function consumeEscalations(opts: {
  nc: NatsConnection;
  log: Logger;
  stop: AbortSignal;
  concurrency: number;
  ackWaitMs: number;
  handle: (m: JsMsg) => Promise<void>;
}): Promise<void> {
  const { nc, log } = opts;
  const jsm = await jetstreamManager(nc);
  const position: Position = { floor: null, created: null };
  await consumeInHand({
    js: jetstream(nc),
    log,
    stop: opts.stop,
    stream: STREAMS.escalations,
    consumer: CONSUMERS.dispatcher,
    concurrency: opts.concurrency,
    ensure: () => ensureAt(jsm, position, opts.ackWaitMs, log),
    during: () => {
      const floor = setInterval(() => void readFloor(jsm, position).catch(() => undefined), FLOOR_EVERY_MS);
      return () => clearInterval(floor);
    },
    handle: opts.handle,
  });
}

/** Creates the consumer unless it exists, where it stood; returns its ack wait. */
async function ensureAt(jsm: JetStreamManager, position: Position, ackWaitMs: number, log: Logger): Promise<number> {
  const { created } = await jsm.streams.info(STREAMS.escalations);
  if (position.created !== null && created !== position.created) {
    log.warn({ stream: STREAMS.escalations }, 'the stream was created again; reading it from its start');
    position.floor = null;
  }
  position.created = created;
  const from = position.floor === null ? {} : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: position.floor + 1 };
  const config = { ...durableConsumer(CONSUMERS.dispatcher, subjects.escalationsAll, 1000), ack_wait: ackWaitMs * NS_PER_MS, ...from };
  if ((await ensureConsumer(jsm, STREAMS.escalations, { ...config, durable_name: CONSUMERS.dispatcher })) && position.floor !== null)
    log.warn({ consumer: CONSUMERS.dispatcher, from: position.floor + 1 }, 'the consumer was gone; created it again where it stood');
  let info = await jsm.consumers.info(STREAMS.escalations, CONSUMERS.dispatcher);
  if (info.config.ack_wait !== ackWaitMs * NS_PER_MS) {
    // Set when the consumer was created by an earlier release (it was 60 s): messages a dead replica held come back after it.
    info = await jsm.consumers.update(STREAMS.escalations, CONSUMERS.dispatcher, { ack_wait: ackWaitMs * NS_PER_MS });
    log.info({ consumer: CONSUMERS.dispatcher, ackWaitMs }, 'ack wait of the consumer brought up to date');
  }
  position.floor = info.ack_floor.stream_seq;
  return (info.config.ack_wait ?? ackWaitMs * NS_PER_MS) / NS_PER_MS;
}

async function readFloor(jsm: JetStreamManager, position: Position): Promise<void> {
  position.floor = (await jsm.consumers.info(STREAMS.escalations, CONSUMERS.dispatcher)).ack_floor.stream_seq;
}
