import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RenderContext } from '../context.js';
import { TemplateError } from '../errors.js';
import { safeJson } from '../escape.js';
import type { Formatted } from '../types.js';

export type WebhookContent = Readonly<{ contentType: 'application/json'; body: string }>;

export const WEBHOOK_SIGNATURE_HEADER = 'X-Oncall-Signature';

/** The default body: the whole render context under a versioned envelope. */
export function defaultWebhookPayload(ctx: RenderContext): Record<string, unknown> {
  return {
    version: 1,
    event: ctx.notification.kind === 'resolved' ? 'alert.resolved' : 'alert.notification',
    notification: ctx.notification,
    alert: ctx.alert,
    labels: ctx.labels,
    annotations: ctx.annotations,
    service: ctx.service,
    links: ctx.links,
    escalation: ctx.escalation,
    sent_at: ctx.now,
  };
}

/**
 * The JSON body: the rendered webhook template (parsed, so it is valid JSON; re-serialised
 * compactly) or the default payload.
 */
export function formatWebhook(rendered: unknown, ctx: RenderContext): Formatted<WebhookContent> {
  if (rendered !== null && (typeof rendered !== 'object' || rendered === null)) {
    throw new TemplateError({ code: 'INVALID_OUTPUT', message: 'the webhook template must render a JSON object or array', channel: 'webhook', field: 'webhook' });
  }
  return { content: { contentType: 'application/json', body: safeJson(rendered ?? defaultWebhookPayload(ctx)) }, warnings: [] };
}

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the value of `X-Oncall-Signature`.
 * The timestamp is passed in; receivers reject stale ones to stop replays.
 */
export function signWebhook(body: string, secret: string, timestampSeconds: number): string {
  const t = Math.floor(timestampSeconds);
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

/** Headers for a signed webhook delivery. */
export function webhookHeaders(content: WebhookContent, secret: string, timestampSeconds: number): Record<string, string> {
  return { 'Content-Type': content.contentType, [WEBHOOK_SIGNATURE_HEADER]: signWebhook(content.body, secret, timestampSeconds) };
}

/**
 * Checks a signature header the way a receiver should: constant-time comparison of any `v1`
 * value, and a timestamp within `toleranceSeconds` of `nowSeconds`.
 */
export function verifyWebhookSignature(body: string, header: string, secret: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = header.split(',').map((p) => p.trim().split('=', 2) as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(secret, t, body), 'hex');
  return parts.some(([k, v]) => {
    if (k !== 'v1' || v === undefined || !/^[0-9a-f]{64}$/i.test(v)) return false;
    return timingSafeEqual(expected, Buffer.from(v, 'hex'));
  });
}
