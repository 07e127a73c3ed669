import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS, decodeEvent, durableConsumer, STREAMS, subjects } from '@oncall/contracts';
import {
  closeOnAbort,
  consumeOptions,
  ensureConsumer,
  registry,
  superviseLoop,
  type ContactVerifications,
  type Logger,
} from '@oncall/shared';
import { Counter } from 'prom-client';
import { verificationMessage } from '../domain/verification-message.js';
import { DeliveryError, type Notifier, type Notifiers } from '../notifiers/index.js';

const sent = new Counter({
  name: 'oncall_dispatcher_verification_codes_total',
  help: 'Contact verification codes, by channel and outcome (sent, console, expired, failed, retry, skipped)',
  labelNames: ['channel', 'outcome'],
  registers: [registry],
});

const RETRY_DELAY_MS = 15_000;
const MAX_DELIVERIES = 5;

export type VerificationsDeps = Readonly<{
  nc: NatsConnection;
  notifiers: Notifiers;
  verifications: ContactVerifications;
  log: Logger;
  now: () => number;
  /** The console channel (oncall up): a channel without a provider prints the code instead. */
  consoleWrite: ((text: string) => void) | null;
}>;

/**
 * Sends the code of each ContactVerificationRequested (CONFIG, `config.contact.>`) to the method it
 * names. The code is not in the event: it is read from the KV bucket `oncall-verification-codes`,
 * which forgets it after 10 minutes or once it is confirmed; a request whose code is gone (or that
 * expired) is skipped. A retryable failure is tried again 15 s later, up to 5 times.
 */
export async function runVerifications(deps: VerificationsDeps, stop: AbortSignal): Promise<void> {
  const jsm = await jetstreamManager(deps.nc);
  const js = jetstream(deps.nc);
  const log = deps.log.child({ stage: 'verifications' });
  await superviseLoop({ name: CONSUMERS.dispatcherVerifications, log, stop }, async () => {
    await ensureConsumer(jsm, STREAMS.config, {
      ...durableConsumer(CONSUMERS.dispatcherVerifications, subjects.contactVerificationsAll, 16),
      durable_name: CONSUMERS.dispatcherVerifications,
    });
    const messages = await (await js.consumers.get(STREAMS.config, CONSUMERS.dispatcherVerifications)).consume(consumeOptions(16));
    const forget = closeOnAbort(messages, stop);
    try {
      for await (const m of messages) await handle(m, deps, log);
    } finally {
      forget();
    }
  });
}

async function handle(m: JsMsg, deps: VerificationsDeps, log: Logger): Promise<void> {
  const event = decodeEvent(m.data, { trusted: true });
  if (event.type !== 'ContactVerificationRequested') return void m.ack();
  const { requestId, userId, channel, address, expiresAt } = event.data;
  const at = { requestId, userId, channel };
  const code = deps.now() < Date.parse(expiresAt) ? await deps.verifications.codeOf(requestId) : null;
  if (code === null) {
    sent.inc({ channel, outcome: 'expired' });
    log.info(at, 'verification code not sent: expired or already confirmed');
    return void m.ack();
  }
  const message = verificationMessage(channel, code);
  if (message === null) {
    sent.inc({ channel, outcome: 'skipped' });
    return void m.ack();
  }
  const notifier: Notifier<unknown> | undefined = deps.notifiers[channel];
  if (!notifier) {
    if (deps.consoleWrite) {
      deps.consoleWrite(
        `── verification code for ${userId} by ${channel} ${address} (console channel: no ${channel} provider)\n` +
          `Your on-call verification code is ${code}\n` +
          `confirm: npx oncall contact confirm ${userId} ${channel} ${code}\n`,
      );
      sent.inc({ channel, outcome: 'console' });
    } else {
      sent.inc({ channel, outcome: 'skipped' });
      log.warn(at, 'verification code not sent: the channel has no provider');
    }
    return void m.ack();
  }
  try {
    await notifier.notify(message, address, { idempotencyKey: `verify:${requestId}` });
    sent.inc({ channel, outcome: 'sent' });
    log.info(at, 'verification code sent');
    m.ack();
  } catch (err) {
    const retryable = !(err instanceof DeliveryError) || err.retryable;
    sent.inc({ channel, outcome: retryable ? 'retry' : 'failed' });
    log.warn({ ...at, err, retryable }, 'verification code not sent');
    if (retryable && m.info.deliveryCount < MAX_DELIVERIES) m.nak(RETRY_DELAY_MS);
    else m.ack();
  }
}
