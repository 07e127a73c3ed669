import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS, decodeEvent, durableConsumer, STREAMS } from '@oncall/contracts';
import { closeOnAbort, consumeOptions, ensureConsumer, registry, superviseLoop, type Logger } from '@oncall/shared';
import { Counter } from 'prom-client';
import { handoffMessage, type HandoffSummary } from '../domain/handoff-message.js';
import { DeliveryError, type Notifier, type Notifiers } from '../notifiers/index.js';

const sent = new Counter({
  name: 'oncall_dispatcher_handoffs_total',
  help: 'Shift handoff summaries, by channel and outcome (sent, printed on the console, skipped, failed, retry)',
  labelNames: ['channel', 'outcome'],
  registers: [registry],
});

/** Subjects of the escalator's handoff summaries (escalations.handoffs.<schedule>). */
const HANDOFFS = 'escalations.handoffs.>';
const RETRY_DELAY_MS = 30_000;
/** Tries of one summary before it is given up (logged and counted). */
const MAX_DELIVERIES = 10;

export type HandoffsDeps = Readonly<{
  nc: NatsConnection;
  notifiers: Notifiers;
  log: Logger;
  /** The console channel (oncall up): a channel without a provider prints the summary instead. */
  consoleWrite: ((text: string) => void) | null;
}>;

/**
 * Sends the escalator's shift handoff summaries (HandoffSummaryRequested) to the incoming and the
 * outgoing people, each by their first notification rule's method (docs/notification-rules.md).
 * A durable consumer: a summary is acknowledged once every recipient's send ended; a retryable
 * failure sends the summary again later (at least once per recipient: a recipient sent before the
 * failure may get it twice).
 */
export async function runHandoffs(deps: HandoffsDeps, stop: AbortSignal): Promise<void> {
  const jsm = await jetstreamManager(deps.nc);
  const js = jetstream(deps.nc);
  const log = deps.log.child({ stage: 'handoffs' });
  await superviseLoop({ name: CONSUMERS.dispatcherHandoffs, log, stop }, async () => {
    await ensureConsumer(jsm, STREAMS.escalations, {
      ...durableConsumer(CONSUMERS.dispatcherHandoffs, HANDOFFS, 16),
      durable_name: CONSUMERS.dispatcherHandoffs,
    });
    const messages = await (await js.consumers.get(STREAMS.escalations, CONSUMERS.dispatcherHandoffs)).consume(consumeOptions(16));
    const forget = closeOnAbort(messages, stop);
    try {
      for await (const m of messages) await handle(m, deps, log);
    } finally {
      forget();
    }
  });
}

async function handle(m: JsMsg, deps: HandoffsDeps, log: Logger): Promise<void> {
  const event = decodeEvent(m.data, { trusted: true });
  if (event.type !== 'HandoffSummaryRequested') return void m.ack();
  const summary: HandoffSummary = event.data;
  let retry = false;
  for (const r of summary.recipients) {
    const out = handoffMessage(summary, r);
    const at = { scheduleId: summary.scheduleId, userId: r.userId, role: r.role };
    if ('skip' in out) {
      sent.inc({ channel: r.channel, outcome: 'skipped' });
      log.warn({ ...at, reason: out.skip }, 'handoff summary not sent');
      continue;
    }
    const notifier: Notifier<unknown> | undefined = deps.notifiers[out.channel];
    if (!notifier) {
      if (deps.consoleWrite) {
        deps.consoleWrite(
          `── handoff summary for ${r.userId} (${r.role}, console channel: no ${out.channel} provider)\n${summary.text[r.role]}\n`,
        );
        sent.inc({ channel: out.channel, outcome: 'console' });
      } else {
        sent.inc({ channel: out.channel, outcome: 'skipped' });
        log.warn({ ...at, channel: out.channel }, 'handoff summary not sent: the channel has no provider');
      }
      continue;
    }
    try {
      await notifier.notify(out.message, out.address, { idempotencyKey: `handoff:${event.id}:${r.userId}:${out.channel}` });
      sent.inc({ channel: out.channel, outcome: 'sent' });
      log.info({ ...at, channel: out.channel }, 'handoff summary sent');
    } catch (err) {
      const retryable = !(err instanceof DeliveryError) || err.retryable;
      if (retryable && m.info.deliveryCount < MAX_DELIVERIES) retry = true;
      sent.inc({ channel: out.channel, outcome: retryable ? 'retry' : 'failed' });
      log.warn({ ...at, channel: out.channel, err, retryable }, 'handoff summary failed');
    }
  }
  if (retry) m.nak(RETRY_DELAY_MS);
  else m.ack();
}
