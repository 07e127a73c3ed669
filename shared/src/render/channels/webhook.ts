import type { RenderContext } from '../context.js';
import { TemplateError } from '../errors.js';
import { safeJson } from '../escape.js';
import type { Formatted } from '../types.js';

export type WebhookContent = Readonly<{ contentType: 'application/json'; body: string }>;

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
    throw new TemplateError({
      code: 'INVALID_OUTPUT',
      message: 'the webhook template must render a JSON object or array',
      channel: 'webhook',
      field: 'webhook',
    });
  }
  return { content: { contentType: 'application/json', body: safeJson(rendered ?? defaultWebhookPayload(ctx)) }, warnings: [] };
}
