import type { ContactChannel } from '@oncall/contracts';
import type { Clock } from '@oncall/shared';
import { bundle as bundleOf } from '../domain/bundle.js';
import { requestToDelivery } from '../metrics.js';
import { DeliveryError, type ChannelMessages, type Notifier, type Notifiers } from '../notifiers/index.js';
import type { Next } from './attempt.js';
import type { ConsoleChannel } from './console.js';

/**
 * The last stage: one call of the channel's notifier. A DeliveryError is the outcome (the retry
 * stage decides whether to try again); anything else a notifier throws is a bug and propagates.
 * Nothing is sent once another process has taken the claim over: that one sends. A delivery
 * taken over from a process that stopped mid-send is looked up first where the notifier can.
 */
export function send(notifiers: Notifiers, clock: Clock, opts: { retryBaseMs: number }, console: ConsoleChannel | null = null): Next {
  return async (a) => {
    const channel = a.delivery.channel;
    // The channel's notifier takes the channel's message, which the render stage produced for it.
    const notifier: Notifier<ChannelMessages[ContactChannel]> | undefined = notifiers[channel];
    if (!notifier && console) {
      if (a.signal.aborted) return { kind: 'retry', inMs: opts.retryBaseMs };
      const id = console.print(bundleOf(a.items), a.delivery, a.items.length, clock.now());
      return { kind: 'sent', providerMessageId: id, bundled: a.items.length, recorded: false };
    }
    if (!notifier) {
      const error = new DeliveryError({ channel, reason: 'unknown', retryable: false });
      return { kind: 'failed', reason: 'channel_not_configured', error, fallback: true, recordedAt: null };
    }
    if (a.message === null) throw new Error('the send stage was reached without a rendered message');
    if (a.signal.aborted) return { kind: 'retry', inMs: opts.retryBaseMs };
    try {
      // Taken over from a process that stopped mid-send: it may have sent this already.
      const earlier =
        a.takenOver && notifier.find ? await notifier.find(a.delivery.address, a.delivery.idempotencyKey, a.requestedAt - 1000) : null;
      if (earlier) return { kind: 'sent', providerMessageId: earlier.providerMessageId, bundled: a.items.length, recorded: false };
      const result = await notifier.notify(a.message, a.delivery.address, { idempotencyKey: a.delivery.idempotencyKey });
      requestToDelivery.observe({ channel }, Math.max(0, clock.now() - a.requestedAt) / 1000);
      return { kind: 'sent', providerMessageId: result.providerMessageId, bundled: a.items.length, recorded: false };
    } catch (err) {
      if (!(err instanceof DeliveryError)) throw err;
      return { kind: 'failed', reason: err.reason, error: err, fallback: true, recordedAt: null };
    }
  };
}
