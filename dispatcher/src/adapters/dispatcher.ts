import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JsMsg } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Counter, Histogram } from 'prom-client';
import {
  buildEvent,
  CONSUMERS,
  decodeEvent,
  durableConsumer,
  encodeEvent,
  partitionOfSubject,
  stableUuid,
  STREAMS,
  subjects,
  type ContactChannel,
  type DeliveryEvent,
  type EventData,
} from '@oncall/contracts';
import { AppendFailed, registry, StreamAppender, templateVersionKey, type Clock, type ConfigView, type Logger } from '@oncall/shared';
import { bundle } from '../domain/bundle.js';
import { retryDelay, take, type Bucket, type BucketConfig } from '../domain/limits.js';
import { fallbackOf, maskAddress, planDeliveries, type Delivery, type NotificationRequested } from '../domain/plan.js';
import { formatRecord, parseRecord, type DeliveryRecord } from '../domain/record.js';
import { DeliveryError, type ChannelMessages, type Notifier, type Notifiers } from '../notifiers/index.js';
import { buildRenderContext, renderNotification, type RenderTemplate } from '../render/index.js';
import { toMessage } from './messages.js';

const deliveriesTotal = new Counter({
  name: 'oncall_dispatcher_deliveries_total',
  help: 'Delivery outcomes by channel',
  labelNames: ['channel', 'outcome', 'reason'],
  registers: [registry],
});
const latency = new Histogram({
  name: 'oncall_dispatcher_request_to_delivery_seconds',
  help: 'From NotificationRequested to the provider accepting the message',
  labelNames: ['channel'],
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const DELIVERY_BUCKET = 'oncall-deliveries';

export type DispatcherOptions = Readonly<{
  /** Attempts per delivery before NotificationFailed (and the fallback). */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** A page older than this when first tried is recorded as failed (expired), not sent. */
  staleAfterMs: number;
  /** Per destination (channel + address); critical notifications bypass it. */
  perDestination: Readonly<Partial<Record<ContactChannel, BucketConfig>>>;
  /** Per provider (channel); waits rather than bundles. */
  perProvider: Readonly<Partial<Record<ContactChannel, BucketConfig>>>;
  /** How long a rate-limited destination collects notifications into one bundled message. */
  bundleWindowMs: number;
  /** A delivery claimed longer ago than this by a send that never finished is taken over. */
  claimStaleMs: number;
  /** How long JetStream waits for an ack before redelivering (set when the consumer is created). */
  ackWaitMs: number;
  concurrency: number;
  publicUrl: string | null;
}>;

export const DEFAULT_OPTIONS: DispatcherOptions = {
  maxAttempts: 5,
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  staleAfterMs: 60 * 60_000,
  perDestination: {
    sms: { capacity: 3, perMinute: 2 },
    voice: { capacity: 2, perMinute: 1 },
    email: { capacity: 10, perMinute: 20 },
    slack: { capacity: 10, perMinute: 30 },
    teams: { capacity: 10, perMinute: 30 },
  },
  perProvider: {
    slack: { capacity: 50, perMinute: 3000 },
    sms: { capacity: 50, perMinute: 3000 },
    voice: { capacity: 20, perMinute: 600 },
  },
  bundleWindowMs: 10_000,
  claimStaleMs: 60_000,
  ackWaitMs: 60_000,
  concurrency: 256,
  publicUrl: null,
};

type Outcome = { retryInMs: number } | 'done';
/**
 * Which try of a delivery this is: `delivery` is the message's JetStream delivery count, `base`
 * the delivery count at which this delivery began (1, or when its primary failed for good, for a
 * fallback), so this is attempt `delivery - base + 1` of it.
 */
type Try = Readonly<{ delivery: number; base: number }>;
const attemptOf = (t: Try) => t.delivery - t.base + 1;
type Held = {
  items: Array<{ n: NotificationRequested; d: Delivery; partition: number; t: Try; done: (o: Outcome) => void }>;
  timer: () => void;
};

/**
 * The delivery pipeline: dedup → render → rate limit → send → record. It reads the escalator's
 * NotificationRequested events (replicas share one durable consumer), and for each planned
 * delivery checks the idempotency record (KV, per notification and channel), renders with the
 * template version the escalator chose, waits for the provider's and the destination's token
 * buckets (bundling a storm to one destination into one message), sends through the channel's
 * notifier, and records the outcome: the KV entry first, then NotificationDelivered or, after
 * bounded retries with backoff (JetStream redelivery), NotificationFailed and the fallback.
 */
export class Dispatcher {
  private readonly js;
  private kv!: KV;
  /** KV writes and delivery events go out as core publishes with replies (see StreamAppender). */
  private readonly appender: StreamAppender;
  private readonly destinations = new Map<string, Bucket>();
  private readonly providers = new Map<ContactChannel, Bucket>();
  private readonly held = new Map<string, Held>();
  private readonly inFlightKeys = new Map<string, Promise<Outcome>>();
  private inFlight = 0;
  private readonly log: Logger;

  constructor(
    private readonly deps: {
      nc: NatsConnection;
      notifiers: Notifiers;
      config: ConfigView;
      clock: Clock;
      log: Logger;
      options: DispatcherOptions;
      replicas?: number;
    },
  ) {
    this.js = jetstream(deps.nc);
    this.appender = new StreamAppender(deps.nc, 10_000);
    this.log = deps.log;
  }

  async run(stop: AbortSignal): Promise<void> {
    this.kv = await new Kvm(this.deps.nc).create(DELIVERY_BUCKET, {
      history: 1,
      ttl: 7 * 24 * 3600_000,
      replicas: this.deps.replicas ?? 1,
    });
    await ensureConsumer(this.deps.nc, this.deps.options.ackWaitMs);
    const consumer = await this.js.consumers.get(STREAMS.escalations, CONSUMERS.dispatcher);
    const running = new Set<Promise<void>>();
    while (!stop.aborted) {
      try {
        const messages = await consumer.consume({ max_messages: this.deps.options.concurrency });
        stop.addEventListener('abort', () => void messages.close(), { once: true });
        for await (const m of messages) {
          while (this.inFlight >= this.deps.options.concurrency) await Promise.race(running);
          const p = this.handle(m).catch((err: unknown) => {
            this.log.error({ err, seq: m.seq }, 'notification handling failed; it will be redelivered');
            m.nak(this.deps.options.retryBaseMs);
          });
          running.add(p);
          this.inFlight++;
          void p.finally(() => {
            running.delete(p);
            this.inFlight--;
          });
        }
      } catch (err) {
        if (stop.aborted) break;
        this.log.error({ err }, 'dispatcher consumer failed; resuming');
        await sleep(1000);
      }
    }
    for (const h of this.held.values()) h.timer();
    await Promise.allSettled(running);
    await this.appender.close();
  }

  private async handle(m: JsMsg): Promise<void> {
    const event = decodeEvent(m.data, { trusted: true });
    if (event.type !== 'NotificationRequested') {
      m.ack();
      return;
    }
    const n = event.data;
    const partition = partitionOfSubject(m.subject);
    const age = this.deps.clock.now() - Date.parse(event.occurredAt);
    const plan = planDeliveries(n);
    if (plan.length === 0) {
      deliveriesTotal.inc({ channel: 'none', outcome: 'failed', reason: 'no_contact_method' });
      this.log.warn(
        { alertId: n.alertId, notificationId: n.notificationId, recipient: n.recipient },
        'recipient has no contact method; nothing sent',
      );
      m.ack();
      return;
    }
    const t: Try = { delivery: m.info.deliveryCount, base: 1 };
    const outcomes = await Promise.all(plan.map((d) => this.deliver(n, d, partition, t, age, Date.parse(event.occurredAt))));
    const retries = outcomes.filter((o): o is { retryInMs: number } => o !== 'done');
    if (retries.length === 0) m.ack();
    else m.nak(Math.max(...retries.map((r) => r.retryInMs)));
  }

  private async deliver(
    n: NotificationRequested,
    d: Delivery,
    partition: number,
    t: Try,
    age: number,
    requestedAt: number,
  ): Promise<Outcome> {
    // dedup: a copy of this delivery in flight here, or recorded by an earlier attempt, another
    // replica, or a process that crashed
    const local = this.inFlightKeys.get(d.idempotencyKey);
    if (local) return local;
    const claimed = await this.claim(d.idempotencyKey);
    if (claimed !== 'claimed') return this.resume(n, d, partition, t, claimed);
    const run = this.deliverClaimed(n, d, partition, t, age, requestedAt);
    this.inFlightKeys.set(d.idempotencyKey, run);
    try {
      const outcome = await run;
      // A retry must be able to claim again.
      if (outcome !== 'done') await this.kv.delete(kvKey(d.idempotencyKey)).catch(() => undefined);
      return outcome;
    } finally {
      this.inFlightKeys.delete(d.idempotencyKey);
    }
  }

  /**
   * Claims a delivery in the KV record: exactly one attempt at a time, across replicas. A claim
   * older than `claimStaleMs` belongs to a process that died mid-send: it is taken over and the
   * message sent again (at least once: whether the provider got the first send is unknown).
   */
  private async claim(idempotencyKey: string): Promise<DeliveryRecord | 'claimed'> {
    const key = kvKey(idempotencyKey);
    const mark = formatRecord({ state: 'sending', since: this.deps.clock.now() });
    try {
      // kv.create, as one publish expecting the key's subject to be empty
      await this.appender.append(kvSubject(key), encoder.encode(mark), { expectLastSubjectSequence: 0 });
      return 'claimed';
    } catch (err) {
      if (!(
        err instanceof AppendFailed &&
        err.cause instanceof JetStreamApiError &&
        err.cause.code === JetStreamApiCodes.StreamWrongLastSequence
      ))
        throw err;
      const entry = await this.kv.get(key);
      if (entry && entry.operation !== 'PUT') {
        // Deleted by a retry: claimed again on top of the delete marker.
        await this.kv.update(key, mark, entry.revision);
        return 'claimed';
      }
      if (!entry) return 'claimed';
      const record = parseRecord(entry.string());
      if (record.state !== 'sending' || this.deps.clock.now() - record.since < this.deps.options.claimStaleMs) return record;
      await this.kv.update(key, mark, entry.revision);
      this.log.warn({ idempotencyKey }, 'took over a delivery claimed by a process that stopped mid-send; sending again');
      return 'claimed';
    }
  }

  /**
   * A delivery an earlier try already settled, or is still sending. The record is written before
   * the event, so a process that stopped between the two left the event unwritten: it is
   * written again (the same event id, so JetStream's duplicate window drops a second copy), and a
   * fallback that had not been sent yet is sent now.
   */
  private async resume(n: NotificationRequested, d: Delivery, partition: number, t: Try, record: DeliveryRecord): Promise<Outcome> {
    switch (record.state) {
      case 'sending':
        return { retryInMs: this.deps.options.retryBaseMs };
      case 'sent':
        await this.recordDelivered(n, d, partition, Math.max(1, attemptOf(t) - 1), record.providerMessageId, 1);
        return 'done';
      case 'failed': {
        const err = new DeliveryError({ channel: d.channel, reason: 'unknown', retryable: false });
        await this.recordFailed(n, d, partition, Math.max(1, record.delivery - t.base + 1), err, record.reason);
        return this.fallback(n, d, partition, { delivery: t.delivery, base: record.delivery });
      }
    }
  }

  private async deliverClaimed(
    n: NotificationRequested,
    d: Delivery,
    partition: number,
    t: Try,
    age: number,
    requestedAt: number,
  ): Promise<Outcome> {
    if (age > this.deps.options.staleAfterMs && t.delivery === 1) {
      // Too old to be worth a page (the dispatcher was down): recorded, and no fallback either.
      return this.fail(
        n,
        { ...d, fallback: null },
        partition,
        t,
        new DeliveryError({ channel: d.channel, reason: 'unknown', retryable: false }),
        'expired',
      );
    }
    // rate limit: the destination's bucket bundles, the provider's bucket waits
    if (n.priority !== 'critical') {
      const cfg = this.deps.options.perDestination[d.channel];
      const dest = `${d.channel}:${d.address}`;
      if (cfg) {
        const r = take(this.destinations.get(dest), cfg, this.deps.clock.now());
        this.destinations.set(dest, r.bucket);
        if (!r.ok || this.held.has(dest)) return this.hold(dest, n, d, partition, t);
      }
    }
    await this.providerToken(d.channel);
    return this.send([n], d, partition, t, requestedAt);
  }

  /** Sends one message standing for `items` (one notification, or a bundle) and records each. */
  private async send(items: NotificationRequested[], d: Delivery, partition: number, t: Try, requestedAt: number): Promise<Outcome> {
    const n = bundle(items);
    // The channel's notifier takes the channel's message, which toMessage produces for it.
    const notifier: Notifier<ChannelMessages[ContactChannel]> | undefined = this.deps.notifiers[d.channel];
    if (!notifier) {
      const err = new DeliveryError({ channel: d.channel, reason: 'unknown', retryable: false });
      return this.failAll(items, d, partition, t, err, 'channel_not_configured');
    }
    try {
      const message = toMessage(this.render(n, d.channel));
      const result = await notifier.notify(message, d.address, { idempotencyKey: d.idempotencyKey });
      latency.observe({ channel: d.channel }, Math.max(0, this.deps.clock.now() - requestedAt) / 1000);
      for (const item of items)
        await this.delivered(
          item,
          { ...d, idempotencyKey: `${item.notificationId}:${d.channel}` },
          partition,
          attemptOf(t),
          result.providerMessageId,
          items.length,
        );
      return 'done';
    } catch (err) {
      if (!(err instanceof DeliveryError)) throw err;
      const attempt = attemptOf(t);
      if (err.retryable && attempt < this.deps.options.maxAttempts) {
        deliveriesTotal.inc({ channel: d.channel, outcome: 'retry', reason: err.reason });
        this.log.warn({ alertId: n.alertId, channel: d.channel, reason: err.reason, attempt }, 'delivery failed; will retry');
        return {
          retryInMs: retryDelay(attempt, Math.random(), {
            baseMs: this.deps.options.retryBaseMs,
            maxMs: this.deps.options.retryMaxMs,
            retryAfterMs: err.retryAfterMs,
          }),
        };
      }
      return this.failAll(items, d, partition, t, err, err.reason);
    }
  }

  /**
   * Renders with the template version the escalator chose. A part that fails to render is
   * replaced by the built-in default (the renderer's fallback): a broken template never stops a page.
   */
  private render(n: NotificationRequested, channel: ContactChannel) {
    const context = buildRenderContext(n, { now: new Date(this.deps.clock.now()).toISOString(), publicUrl: this.deps.options.publicUrl });
    const version =
      n.templateId && n.templateVersion
        ? this.deps.config.state().templateVersions.get(templateVersionKey(n.templateId, n.templateVersion))
        : undefined;
    const template: RenderTemplate | null = version
      ? { templateId: version.templateId, version: version.version, channels: version.channels, variables: version.variables }
      : null;
    const rendered = renderNotification(template, channel, context);
    for (const w of rendered.warnings)
      if (w.code === 'TEMPLATE_FALLBACK')
        this.log.error(
          { templateId: template?.templateId, version: template?.version, channel, warning: w.message },
          'template part failed to render; sent the default',
        );
    return rendered;
  }

  private hold(dest: string, n: NotificationRequested, d: Delivery, partition: number, t: Try): Promise<Outcome> {
    return new Promise((resolve) => {
      let h = this.held.get(dest);
      if (!h) {
        const flushAt = this.deps.clock.now() + this.deps.options.bundleWindowMs;
        const cancel = this.deps.clock.at(flushAt, () => void this.flush(dest));
        h = { items: [], timer: cancel };
        this.held.set(dest, h);
      }
      h.items.push({ n, d, partition, t, done: resolve });
    });
  }

  private async flush(dest: string): Promise<void> {
    const h = this.held.get(dest);
    this.held.delete(dest);
    if (!h || h.items.length === 0) return;
    const first = h.items[0]!;
    await this.providerToken(first.d.channel);
    const outcome = await this.send(
      h.items.map((i) => i.n),
      first.d,
      first.partition,
      first.t,
      this.deps.clock.now(),
    ).catch((err: unknown) => {
      this.log.error({ err, dest: maskAddress(first.d.channel, first.d.address) }, 'bundle failed');
      return { retryInMs: this.deps.options.retryBaseMs };
    });
    for (const i of h.items) i.done(outcome);
  }

  private async providerToken(channel: ContactChannel): Promise<void> {
    const cfg = this.deps.options.perProvider[channel];
    if (!cfg) return;
    for (;;) {
      const r = take(this.providers.get(channel), cfg, this.deps.clock.now());
      this.providers.set(channel, r.bucket);
      if (r.ok) return;
      await new Promise<void>((resolve) => this.deps.clock.at(r.nextTokenAt, resolve));
    }
  }

  private async delivered(
    n: NotificationRequested,
    d: Delivery,
    partition: number,
    attempts: number,
    providerMessageId: string | null,
    bundled: number,
  ): Promise<void> {
    await this.putRecord(d.idempotencyKey, { state: 'sent', providerMessageId });
    deliveriesTotal.inc({ channel: d.channel, outcome: 'delivered', reason: '' });
    await this.recordDelivered(n, d, partition, attempts, providerMessageId, bundled);
  }

  private recordDelivered(
    n: NotificationRequested,
    d: Delivery,
    partition: number,
    attempts: number,
    providerMessageId: string | null,
    bundled: number,
  ): Promise<void> {
    return this.record(partition, 'NotificationDelivered', {
      alertId: n.alertId,
      serviceId: n.serviceId,
      notificationId: n.notificationId,
      idempotencyKey: d.idempotencyKey,
      channel: d.channel,
      destination: maskAddress(d.channel, d.address),
      providerMessageId,
      attempts,
      templateId: n.templateId,
      templateVersion: n.templateVersion,
      bundled,
    });
  }

  /** Each notification of a (bundled) message failed for good; each goes on to its fallback. */
  private async failAll(
    items: NotificationRequested[],
    d: Delivery,
    partition: number,
    t: Try,
    err: DeliveryError,
    reason: string,
  ): Promise<Outcome> {
    const outcomes = [];
    for (const item of items)
      outcomes.push(await this.fail(item, { ...d, idempotencyKey: `${item.notificationId}:${d.channel}` }, partition, t, err, reason));
    const retries = outcomes.filter((o): o is { retryInMs: number } => o !== 'done');
    return retries.length === 0 ? 'done' : { retryInMs: Math.max(...retries.map((r) => r.retryInMs)) };
  }

  private async fail(
    n: NotificationRequested,
    d: Delivery,
    partition: number,
    t: Try,
    err: DeliveryError,
    reason: string,
  ): Promise<Outcome> {
    await this.putRecord(d.idempotencyKey, { state: 'failed', delivery: t.delivery, reason });
    deliveriesTotal.inc({ channel: d.channel, outcome: 'failed', reason });
    this.log.warn({ alertId: n.alertId, channel: d.channel, reason, fallback: d.fallback?.channel ?? null }, 'delivery failed for good');
    await this.recordFailed(n, d, partition, attemptOf(t), err, reason);
    return this.fallback(n, d, partition, { delivery: t.delivery, base: t.delivery });
  }

  private recordFailed(
    n: NotificationRequested,
    d: Delivery,
    partition: number,
    attempts: number,
    err: DeliveryError,
    reason: string,
  ): Promise<void> {
    return this.record(partition, 'NotificationFailed', {
      alertId: n.alertId,
      serviceId: n.serviceId,
      notificationId: n.notificationId,
      idempotencyKey: d.idempotencyKey,
      channel: d.channel,
      destination: maskAddress(d.channel, d.address),
      reason,
      retryable: err.retryable,
      attempts,
      error: err.message,
      fallback: d.fallback?.channel ?? null,
    });
  }

  /** The delivery's fallback (SMS → voice), claimed like any delivery; `t.base` is where it began. */
  private fallback(n: NotificationRequested, d: Delivery, partition: number, t: Try): Promise<Outcome> {
    const next = fallbackOf(n, d);
    if (!next) return Promise.resolve('done');
    return this.deliver(n, next, partition, t, 0, this.deps.clock.now());
  }

  /** kv.put of the delivery's record, as one publish. */
  private async putRecord(idempotencyKey: string, record: DeliveryRecord): Promise<void> {
    await this.appender.append(kvSubject(kvKey(idempotencyKey)), encoder.encode(formatRecord(record)));
  }

  private async record<T extends DeliveryEvent['type']>(partition: number, type: T, data: EventData<T>): Promise<void> {
    const id = stableUuid(`${type}:${data.idempotencyKey}`);
    const event = buildEvent(type, data, {
      id,
      occurredAt: new Date(this.deps.clock.now()).toISOString(),
      causationId: data.notificationId,
      correlationId: data.alertId,
    });
    await this.appender.append(subjects.delivery(partition, data.alertId), encodeEvent(event), { msgID: id });
  }
}

const encoder = new TextEncoder();
/** The subject a KV entry of the delivery bucket is stored under. */
const kvSubject = (key: string): string => `$KV.${DELIVERY_BUCKET}.${key}`;

/** The delivery record's KV key (KV keys allow letters, digits and `-/_=.`). */
export const kvKey = (idempotencyKey: string): string => idempotencyKey.replace(/[^A-Za-z0-9_=/-]/g, '.');

async function ensureConsumer(nc: NatsConnection, ackWaitMs: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.consumers.info(STREAMS.escalations, CONSUMERS.dispatcher);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(STREAMS.escalations, {
      ...durableConsumer(CONSUMERS.dispatcher, subjects.escalationsAll, 1000),
      ack_wait: ackWaitMs * 1_000_000,
    });
  }
}
