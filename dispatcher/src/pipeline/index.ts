import type { Clock, ConfigView, Logger } from '@oncall/shared';
import type { Notifiers } from '../notifiers/index.js';
import type { DispatcherOptions } from '../options.js';
import { compose, type Next } from './attempt.js';
import { bundle } from './bundle.js';
import { claim, type Records } from './claim.js';
import { dedupe } from './dedupe.js';
import { expire } from './expire.js';
import { fallback } from './fallback.js';
import { rateLimit } from './rate-limit.js';
import { record, type DeliveryEvents } from './record.js';
import { phone, type PhoneBook } from './phone.js';
import { render } from './render.js';
import { retry } from './retry.js';
import { send } from './send.js';
import { consoleChannel } from './console.js';

export { newAttempt, retryAfter, type DeliveryAttempt, type Next, type Outcome } from './attempt.js';
export { ClaimLost, type Claim, type Records } from './claim.js';
export type { DeliveryEvents } from './record.js';
export type { PhoneBook } from './phone.js';

export type PipelineDeps = Readonly<{
  records: Records;
  events: DeliveryEvents;
  notifiers: Notifiers;
  config: ConfigView;
  clock: Clock;
  log: Logger;
  options: DispatcherOptions;
  /** Reply codes and SMS opt-outs (null: none kept, e.g. without Twilio). */
  phoneBook: PhoneBook | null;
  /** Aborts when the process stops: what waits in a bundle window or for a rate limit is handed back. */
  stopping: AbortSignal;
  /** Where the console channel prints (default: stdout). */
  consoleWrite?: (text: string) => void;
}>;

/**
 * The delivery pipeline, assembled here and only here. Each stage acts on a DeliveryAttempt and
 * passes it on, or ends it with an Outcome; a stage placed before others also sees the outcome
 * they return. In the order they act on a delivery:
 *
 *   claim      one try at a time across replicas; the claim is kept alive while in hand
 *   dedupe     what an earlier try settled is not sent again
 *   expire     a page first tried an hour late is not sent
 *   bundle     per-destination rate limit: a storm to one address becomes one message
 *   rate limit per-provider rate limit: waits for the provider's token
 *   phone      SMS/voice: an opted-out number fails (the call still follows); the page's reply code
 *   render     the escalator's template version, the preview's renderer
 *   send       one notifier call (or, for a channel without one, the console channel when it is on)
 *   retry      (on send's outcome) a retryable failure is tried again later, up to maxAttempts
 *   record     (on the outcome) the delivery's record, then NotificationDelivered / NotificationFailed
 *   fallback   (on the outcome) a delivery failed for good goes on to its fallback (SMS → voice)
 */
export function deliveryPipeline(d: PipelineDeps): Next {
  const o = d.options;
  return compose(
    [
      fallback(d.clock),
      claim(d.records, d.clock, o, d.log),
      record(d.events, d.log),
      dedupe(o),
      expire(d.clock, o),
      bundle(d.clock, o, d.stopping),
      rateLimit(d.clock, o, d.stopping),
      phone(d.phoneBook, d.clock, o.publicUrl, d.log),
      render(d.config, d.clock, o.publicUrl, d.log, o.actionSecret, o.consoleUrl),
      retry(o, d.log),
    ],
    send(
      d.notifiers,
      d.clock,
      o,
      o.consoleChannel
        ? consoleChannel({
            links: o.publicUrl && o.actionSecret ? { publicUrl: o.publicUrl, secret: o.actionSecret } : null,
            log: d.log,
            write: d.consoleWrite,
          })
        : null,
    ),
  );
}
