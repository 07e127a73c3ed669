import { gatherUrl, statusCallbackUrl, type Clock, type Logger, type ReplyTarget } from '@oncall/shared';
import { maskAddress } from '../domain/plan.js';
import { DeliveryError } from '../notifiers/index.js';
import type { PhoneReply, Stage } from './attempt.js';

/** What the phone stage needs of the reply-code and opt-out buckets (shared/reply-codes.ts). */
export interface PhoneBook {
  /** Whether the number answered STOP (and not START since). */
  optedOut(number: string): Promise<boolean>;
  /** The reply code of a page to `to` (compare-and-set: never one code twice for one number). */
  allocate(to: string, target: ReplyTarget, now: number): Promise<number>;
}

/**
 * SMS and calls only. An SMS to a number that opted out (STOP) fails for good with `opted_out`,
 * so its fallback (a call) still happens. A page to one person gets its reply code at the
 * number ("Reply 4a to acknowledge"; the call gathers its digit at our voice URL), and with a
 * public URL every SMS and call asks Twilio to report its later status there.
 */
export function phone(book: PhoneBook | null, clock: Clock, publicUrl: string | null, log: Logger): Stage {
  return async (a, next) => {
    const channel = a.delivery.channel;
    if (channel !== 'sms' && channel !== 'voice') return next(a);
    const to = a.delivery.address;
    if (channel === 'sms' && book !== null && (await book.optedOut(to))) {
      const error = new DeliveryError({ channel, reason: 'opted_out', retryable: false });
      return { kind: 'failed', reason: 'opted_out', error, fallback: true, recordedAt: null };
    }
    const n = a.notification;
    const target = replyTarget(a.items.length, n);
    let code: number | null = null;
    if (book !== null && target !== null && publicUrl !== null) {
      try {
        code = await book.allocate(to, target, clock.now());
      } catch (err) {
        // A page without a reply code still pages: the person answers elsewhere.
        log.warn({ err, alertId: n.alertId, channel }, 'no reply code for this page');
      }
    }
    const reply: PhoneReply = {
      code,
      gatherUrl: code !== null && publicUrl !== null ? gatherUrl(publicUrl, code) : null,
      statusCallbackUrl:
        publicUrl === null
          ? null
          : statusCallbackUrl(publicUrl, {
              notificationId: n.notificationId,
              alertId: n.alertId,
              serviceId: n.serviceId,
              fingerprint: n.alert.fingerprint,
              channel,
              destination: maskAddress(channel, to),
            }),
    };
    return next({ ...a, phone: reply });
  };
}

/** A page to one user about one alert has a reply code; bundles and resolution notices do not. */
function replyTarget(items: number, n: Parameters<Stage>[0]['notification']): ReplyTarget | null {
  if (items !== 1 || n.kind !== 'page' || n.recipient.type !== 'user') return null;
  return {
    alertId: n.alertId,
    serviceId: n.serviceId,
    fingerprint: n.alert.fingerprint,
    userId: n.recipient.userId,
    summary: n.alert.summary,
  };
}
