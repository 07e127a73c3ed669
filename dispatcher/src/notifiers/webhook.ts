import { standardWebhookSignature } from '@oncall/shared';
import { classifyTransportFailure, DeliveryError, httpDeliveryError } from './errors.js';
import { requestFetch } from './request-fetch.js';
import type { Notifier, NotifyOptions, NotifyResult, WebhookMessage } from './types.js';

export interface WebhookConfig {
  /** Per-request timeout, default 10 s. */
  timeoutMs?: number;
  /**
   * Signs every request the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
   * `webhook-signature: v1,<base64 HMAC-SHA256>`). A `whsec_` prefix means the rest is base64.
   */
  signingSecret?: string;
  /** Transport override (tests, proxies); default `requestFetch` (fetch semantics over undici's request). */
  fetch?: typeof fetch;
  /** Clock for the signature timestamp, default `Date.now`. */
  now?: () => number;
}

/** Standard Webhooks signing lives in shared (the ticket bridge signs and checks the same way). */
export { standardWebhookSignature };

class WebhookNotifierImpl implements Notifier<WebhookMessage> {
  readonly channel = 'webhook' as const;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly config: WebhookConfig) {
    this.timeoutMs = config.timeoutMs ?? 10_000;
    this.fetchImpl = config.fetch ?? requestFetch;
    this.now = config.now ?? Date.now;
  }

  async notify(message: WebhookMessage, destination: string, opts: NotifyOptions): Promise<NotifyResult> {
    const secrets = [destination, ...(this.config.signingSecret === undefined ? [] : [this.config.signingSecret])];
    const url = URL.canParse(destination) ? new URL(destination) : null;
    if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new DeliveryError({ channel: 'webhook', reason: 'invalid_destination', retryable: false, providerCode: 'destination_format' });
    }
    const headers = new Headers(message.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    headers.set('idempotency-key', opts.idempotencyKey);
    if (this.config.signingSecret !== undefined) {
      const timestamp = Math.floor(this.now() / 1000);
      headers.set('webhook-id', opts.idempotencyKey);
      headers.set('webhook-timestamp', String(timestamp));
      headers.set('webhook-signature', standardWebhookSignature(this.config.signingSecret, opts.idempotencyKey, timestamp, message.body));
    }
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal === undefined ? timeout : AbortSignal.any([timeout, opts.signal]);
    let response: Response;
    try {
      // A redirect is answered as its 3xx status: following it would re-send (or drop) the body elsewhere.
      response = await this.fetchImpl(url, { method: 'POST', headers, body: message.body, signal, redirect: 'manual' });
    } catch (err) {
      throw classifyTransportFailure('webhook', err, secrets);
    }
    // Only the status matters; the body is read to free the connection (and bounded by the signal).
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 200 && response.status <= 299) {
      return { providerMessageId: response.headers.get('x-request-id') };
    }
    throw httpDeliveryError('webhook', response.status, response.headers.get('retry-after'));
  }
}

/** POSTs the rendered body to the destination URL with an `Idempotency-Key` header. */
export function webhookNotifier(config: WebhookConfig = {}): Notifier<WebhookMessage> {
  return new WebhookNotifierImpl(config);
}
