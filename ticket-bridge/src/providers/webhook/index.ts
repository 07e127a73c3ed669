import { TicketState } from '@oncall/contracts';
import { standardWebhookHeaders, verifyStandardWebhook } from '@oncall/shared';
import { Liquid, type Template } from 'liquidjs';
import { httpProviderError, jsonBody, transportProviderError } from '../http.js';
import {
  InboundRejected,
  ProviderError,
  type InboundChange,
  type InboundRequest,
  type ProviderContext,
  type TicketProvider,
  type TicketRef,
} from '../types.js';
import { DEFAULT_BODY, DEFAULT_UPDATE_BODY, InboundEvent, TicketAnswer, WebhookSettings } from './settings.js';

/**
 * The generic webhook provider: creates a ticket by POSTing a liquid-rendered JSON body to a URL,
 * changes it with a PUT, each request signed like our outgoing webhooks (Standard Webhooks) and
 * carrying `Idempotency-Key: oncall-<alertId>`; inbound status changes come back signed with the
 * provider's `inboundSecret`. Plain fetch: there is no SDK for "any HTTP endpoint".
 */

const liquid = new Liquid({ ownPropertyOnly: true, strictFilters: true });
const parsed = new Map<string, Template[]>();
const template = (source: string): Template[] => {
  let t = parsed.get(source);
  if (!t) parsed.set(source, (t = liquid.parse(source)));
  return t;
};

async function renderJson(what: string, source: string, scope: object): Promise<string> {
  const text = String(await liquid.render(template(source), scope));
  try {
    JSON.parse(text);
  } catch {
    throw new ProviderError(`the webhook's ${what} did not render JSON: ${text.slice(0, 200)}`, false);
  }
  return text;
}

const settingsOf = (ctx: ProviderContext): WebhookSettings => WebhookSettings.parse(ctx.config.settings);

function signedHeaders(ctx: ProviderContext, s: WebhookSettings, id: string, body: string): Headers {
  const h = new Headers(s.headers);
  h.set('content-type', 'application/json');
  if (s.signingSecret) {
    const headers = standardWebhookHeaders(ctx.secret(s.signingSecret), id, Math.floor(ctx.now().getTime() / 1000), body);
    for (const [k, v] of Object.entries(headers)) h.set(k, v);
  }
  return h;
}

async function call(ctx: ProviderContext, what: string, url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await ctx.fetch(url, { ...init, redirect: 'manual' });
  } catch (err) {
    throw transportProviderError(what, err);
  }
  return response;
}

function ticketOf(what: string, body: unknown): TicketRef {
  const t = TicketAnswer.safeParse(body);
  if (!t.success) throw new ProviderError(`${what} answered without a ticket key ({"key": "…"} expected)`, false);
  return { key: t.data.key, externalId: t.data.id ?? t.data.key, url: t.data.url ?? null };
}

const header = (h: InboundRequest['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

export const webhookProvider: TicketProvider = {
  type: 'webhook',
  capabilities: ['create', 'update', 'sync', 'webhook'],
  requiredFields: [],

  validateConfig(config) {
    const problems: { path: string; message: string }[] = [];
    const s = WebhookSettings.safeParse(config.settings);
    if (!s.success) {
      for (const i of s.error.issues) problems.push({ path: ['settings', ...i.path].join('.'), message: i.message });
      return problems;
    }
    for (const key of ['bodyTemplate', 'updateBodyTemplate', 'updateUrl'] as const) {
      const source = s.data[key];
      if (source === undefined) continue;
      try {
        liquid.parse(source);
      } catch (err) {
        problems.push({ path: `settings.${key}`, message: `not a liquid template: ${(err as Error).message.split('\n')[0]}` });
      }
    }
    if (config.auth.kind !== 'none')
      problems.push({ path: 'auth', message: 'the webhook signs its requests (settings.signingSecret): use auth kind none' });
    return problems;
  },

  async find(ctx, idempotencyKey) {
    const s = settingsOf(ctx);
    if (s.lookupUrl === undefined) return null;
    const url = new URL(s.lookupUrl);
    url.searchParams.set('idempotency_key', idempotencyKey);
    const response = await call(ctx, 'the webhook lookup', url.toString(), {
      method: 'GET',
      headers: signedHeaders(ctx, s, `${idempotencyKey}-find`, ''),
    });
    if (response.status === 404) {
      await response.arrayBuffer();
      return null;
    }
    if (!response.ok)
      throw httpProviderError('the webhook lookup', response.status, response.headers.get('retry-after'), await response.text());
    return ticketOf('the webhook lookup', await jsonBody('the webhook lookup', response));
  },

  async create(ctx, { alert, fields, idempotencyKey }) {
    const s = settingsOf(ctx);
    const body = await renderJson('bodyTemplate', s.bodyTemplate ?? DEFAULT_BODY, { alert, fields, idempotencyKey });
    const headers = signedHeaders(ctx, s, idempotencyKey, body);
    headers.set('idempotency-key', idempotencyKey);
    const response = await call(ctx, 'the webhook', s.url, { method: s.createMethod, headers, body });
    if (!response.ok) throw httpProviderError('the webhook', response.status, response.headers.get('retry-after'), await response.text());
    return ticketOf('the webhook', await jsonBody('the webhook', response));
  },

  async update(ctx, ticket, change) {
    const s = settingsOf(ctx);
    const url =
      s.updateUrl === undefined
        ? `${s.url.replace(/\/$/, '')}/${encodeURIComponent(ticket.key)}`
        : String(await liquid.render(template(s.updateUrl), { ticket }));
    const body = await renderJson('updateBodyTemplate', s.updateBodyTemplate ?? DEFAULT_UPDATE_BODY, { ticket, change });
    const id = `${ticket.key}-${change.kind}-${ctx.now().getTime()}`;
    const headers = signedHeaders(ctx, s, id, body);
    headers.set('idempotency-key', id);
    const response = await call(ctx, 'the webhook', url, { method: s.updateMethod, headers, body });
    const text = await response.text();
    if (!response.ok) throw httpProviderError('the webhook', response.status, response.headers.get('retry-after'), text);
  },

  async receive(ctx, request) {
    if (request.method !== 'POST') throw new InboundRejected('POST expected', 400);
    if (ctx.config.inboundSecret === null)
      throw new InboundRejected('this provider takes no inbound calls (no inboundSecret configured)', 403);
    const problem = verifyStandardWebhook(
      ctx.secret(ctx.config.inboundSecret),
      {
        id: header(request.headers, 'webhook-id'),
        timestamp: header(request.headers, 'webhook-timestamp'),
        signature: header(request.headers, 'webhook-signature'),
      },
      request.body,
      Math.floor(ctx.now().getTime() / 1000),
    );
    if (problem !== null) throw new InboundRejected(`signature check failed: ${problem}`, 401);
    let raw: unknown;
    try {
      raw = JSON.parse(request.body.toString('utf8'));
    } catch {
      throw new InboundRejected('the body is not JSON', 400);
    }
    const events = InboundEvent.array().safeParse(Array.isArray(raw) ? raw : [raw]);
    if (!events.success) throw new InboundRejected(`not a ticket event: ${events.error.issues[0]?.message ?? 'invalid'}`, 400);
    const s = settingsOf(ctx);
    return events.data.map((e): InboundChange => {
      const state = s.statusMap[e.status] ?? TicketState.safeParse(e.status).data;
      if (state === undefined) throw new InboundRejected(`status ${e.status} maps to no ticket state (settings.statusMap)`, 400);
      const alertId = e.idempotencyKey?.startsWith('oncall-') ? e.idempotencyKey.slice('oncall-'.length) : null;
      return { ticketKey: e.ticket, alertId, status: e.status, state, actor: e.actor ?? null, comment: e.comment ?? null, changeId: e.id };
    });
  },

  async check(ctx) {
    const s = settingsOf(ctx);
    if (s.signingSecret) ctx.secret(s.signingSecret);
    if (s.lookupUrl !== undefined) await webhookProvider.find(ctx, 'oncall-check');
  },
};
