import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { standardWebhookHeaders } from '@oncall/shared';
import { InboundRejected, ProviderError, type ProviderContext, type TicketAlert } from '../types.js';
import { webhookProvider } from './index.js';
import { startWebhookStandIn, type WebhookStandIn } from './stand-in.js';

const SECRETS: Record<string, string> = { SIGN: 'sign-1', INBOUND: 'in-1' };
const config = (settings: Record<string, unknown>): TicketProviderConfig => ({
  providerId: 'hooks',
  type: 'webhook',
  name: 'Hooks',
  settings,
  auth: { kind: 'none' },
  fields: {},
  sync: {
    onAcknowledge: { transition: null, comment: true },
    onResolve: { transition: 'resolved', comment: false },
    onReopen: { transition: null, comment: false },
    resolveAlertOn: ['closed'],
    mirrorComments: false,
    pollSeconds: null,
  },
  inboundSecret: { env: 'INBOUND' },
});
// 5 s: the stand-in answers in milliseconds, but unit files share 2 busy cores with the integration suite.
const ctxFor = (c: TicketProviderConfig, timeoutMs = 5000): ProviderContext => ({
  config: c,
  secret: (ref) => SECRETS['env' in ref ? ref.env : ref.file] ?? '',
  fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
  now: () => new Date(),
});
const ALERT: TicketAlert = {
  alertId: '7b0a4c52-8a7c-4a53-9d1e-0f4f0c1e9a11',
  serviceId: 'checkout',
  serviceName: 'Checkout',
  fingerprint: 'fp',
  summary: 'db down',
  details: '',
  severity: 'critical',
  status: 'triggered',
  labels: {},
  annotations: {},
  links: [],
  startsAt: null,
  url: null,
};

describe('webhook provider: configuration', () => {
  it.each([
    ['fine', { url: 'http://x/tickets' }, []],
    ['no url', {}, ['settings.url']],
    ['an unknown setting', { url: 'http://x', colour: 'red' }, ['settings']],
    ['a broken template', { url: 'http://x', bodyTemplate: '{{ alert.summary ' }, ['settings.bodyTemplate']],
  ])('%s', (_, settings, paths) => {
    expect(webhookProvider.validateConfig(config(settings)).map((p) => p.path)).toEqual(paths);
  });
});

describe('webhook provider against the stand-in', () => {
  let standIn: WebhookStandIn;
  let ctx: ProviderContext;
  beforeAll(async () => {
    standIn = await startWebhookStandIn({ signingSecret: 'sign-1' });
    ctx = ctxFor(config({ url: `${standIn.url}/tickets`, lookupUrl: `${standIn.url}/tickets`, signingSecret: { env: 'SIGN' } }));
  });
  afterAll(() => standIn.stop());

  it('creates once per idempotency key, finds it, and updates it', async () => {
    const key = `oncall-${ALERT.alertId}`;
    expect(await webhookProvider.find(ctx, key)).toBeNull();
    const first = await webhookProvider.create(ctx, { alert: ALERT, fields: { x: 1 }, idempotencyKey: key });
    const again = await webhookProvider.create(ctx, { alert: ALERT, fields: { x: 1 }, idempotencyKey: key });
    expect(again).toEqual(first);
    expect(standIn.created).toBe(1);
    expect(await webhookProvider.find(ctx, key)).toEqual(first);
    await webhookProvider.update(ctx, first, { kind: 'resolved', transition: 'resolved', comment: null });
    expect(standIn.tickets.get(key)?.status).toBe('resolved');
  });

  it.each([
    ['429 with Retry-After', 429, 3, true, 3000],
    ['503', 503, undefined, true, null],
    ['400', 400, undefined, false, null],
  ])('a %s is a ProviderError (retryable %s)', async (_, status, retryAfter, retryable, retryAfterMs) => {
    standIn.failNext(1, status, retryAfter);
    const err = (await webhookProvider
      .create(ctx, { alert: ALERT, fields: {}, idempotencyKey: 'oncall-f' })
      .catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect({ retryable: err.retryable, status: err.httpStatus, retryAfterMs: err.retryAfterMs }).toEqual({
      retryable,
      status,
      retryAfterMs,
    });
  });

  it('a wrong signing secret is refused by the receiver: not retryable', async () => {
    const wrong = { ...ctx, secret: () => 'wrong' };
    const err = (await webhookProvider
      .create(wrong, { alert: ALERT, fields: {}, idempotencyKey: 'oncall-w' })
      .catch((e: unknown) => e)) as ProviderError;
    expect({ retryable: err.retryable, status: err.httpStatus }).toEqual({ retryable: false, status: 401 });
    expect(err.message).toContain('check the credentials');
  });

  it('a receiver that does not answer in time is a retryable timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const slow = ctxFor(config({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/tickets` }), 300);
    const err = (await webhookProvider
      .create(slow, { alert: ALERT, fields: {}, idempotencyKey: 'oncall-t' })
      .catch((e: unknown) => e)) as ProviderError;
    expect({ retryable: err.retryable, message: err.message }).toEqual({ retryable: true, message: 'the webhook did not answer in time' });
    silent.closeAllConnections();
    silent.close();
  });
});

describe('webhook provider: inbound', () => {
  const ctx = ctxFor(config({ url: 'http://x/tickets', statusMap: { Done: 'closed' } }));
  const signed = (body: string, secret = 'in-1', at = Math.floor(Date.now() / 1000)) => ({
    method: 'POST',
    path: '/api/v1/tickets/hooks/events',
    headers: standardWebhookHeaders(secret, 'evt-1', at, body),
    query: new URLSearchParams(),
    body: Buffer.from(body),
  });
  const body = JSON.stringify({ id: 'evt-1', ticket: 'WH-1', status: 'Done', actor: 'carol', idempotencyKey: `oncall-${ALERT.alertId}` });

  it('parses a signed change, mapping its status', async () => {
    expect(await webhookProvider.receive!(ctx, signed(body))).toEqual([
      { ticketKey: 'WH-1', alertId: ALERT.alertId, status: 'Done', state: 'closed', actor: 'carol', comment: null, changeId: 'evt-1' },
    ]);
  });

  it.each([
    ['another secret', signed(body, 'nope'), 401],
    ['a replay 10 minutes old', signed(body, 'in-1', Math.floor(Date.now() / 1000) - 600), 401],
    ['no signature', { ...signed(body), headers: {} }, 401],
    ['a status no state maps', signed(JSON.stringify({ id: 'e', ticket: 'WH-1', status: 'Weird' })), 400],
    ['not a ticket event', signed(JSON.stringify({ hello: 1 })), 400],
  ])('refuses %s', async (_, request, status) => {
    const err = (await webhookProvider.receive!(ctx, request).catch((e: unknown) => e)) as InboundRejected;
    expect(err).toBeInstanceOf(InboundRejected);
    expect(err.httpStatus).toBe(status);
  });
});
