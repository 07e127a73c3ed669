import { LIVE_PULL } from './consumer.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { decodeEvent, STREAMS, type ConfigEvent } from '@oncall/contracts';
import { evolveConfig, initialConfigState, type ConfigState } from './domain/config.js';

export type LastWriter = Readonly<{ actor: string; at: string }>;

/** Configuration folded from the CONFIG stream, kept current while the process runs. */
export type ConfigView = {
  readonly state: () => ConfigState;
  /** Stream sequence of the last configuration event applied. */
  readonly lastSeq: () => number;
  /** Last sequence per configuration subject, for appends that expect it. */
  readonly subjectSeq: () => ReadonlyMap<string, number>;
  readonly stop: () => Promise<void>;
};

/**
 * Reads the CONFIG stream from the start and keeps following it. Resolves once every event
 * that existed at call time is applied, so a caller never answers from a half-read config.
 */
export async function watchConfig(nc: NatsConnection): Promise<ConfigView> {
  return watch(nc);
}

/** The view, and who wrote each subject's last event (its correlation id: `oncall-apply`, `api:<caller>`) and when. */
async function watch(nc: NatsConnection): Promise<ConfigView & { lastWriters: () => ReadonlyMap<string, LastWriter> }> {
  const jsm = await jetstreamManager(nc);
  const target = (await jsm.streams.info(STREAMS.config)).state.last_seq;
  const consumer = await jetstream(nc).consumers.get(STREAMS.config, { deliver_policy: DeliverPolicy.All });
  let state = initialConfigState();
  let lastSeq = 0;
  const subjectSeq = new Map<string, number>();
  const lastWriters = new Map<string, LastWriter>();
  let markReady!: () => void;
  let fail!: (err: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    fail = reject;
  });
  if (target === 0) markReady();
  const messages: ConsumerMessages = await consumer.consume(LIVE_PULL);
  const loop = (async () => {
    for await (const m of messages) {
      const event = decodeEvent(m.data) as ConfigEvent;
      state = evolveConfig(state, event);
      lastSeq = m.seq;
      subjectSeq.set(m.subject, m.seq);
      lastWriters.set(m.subject, { actor: event.correlationId, at: event.occurredAt });
      if (lastSeq >= target) markReady();
    }
  })();
  loop.catch(fail);
  await ready;
  return {
    state: () => state,
    lastSeq: () => lastSeq,
    subjectSeq: () => subjectSeq,
    lastWriters: () => lastWriters,
    stop: async () => {
      await messages.close();
      await loop.catch(() => undefined);
    },
  };
}

/** One-shot read of the whole configuration (for `oncall apply`). */
export async function loadConfig(nc: NatsConnection): Promise<{
  state: ConfigState;
  lastSeq: number;
  subjectSeq: ReadonlyMap<string, number>;
  lastWriters: ReadonlyMap<string, LastWriter>;
}> {
  const view = await watch(nc);
  const result = {
    state: view.state(),
    lastSeq: view.lastSeq(),
    subjectSeq: new Map(view.subjectSeq()),
    lastWriters: new Map(view.lastWriters()),
  };
  await view.stop();
  return result;
}
