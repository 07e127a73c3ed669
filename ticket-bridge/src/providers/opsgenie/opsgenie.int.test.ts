import type { SecretRef } from '@oncall/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProviderContext, TicketAlert } from '../types.js';
import { opsgenieProvider } from './index.js';
import { startOpsgenieStandIn, type OpsgenieStandIn } from './stand-in.js';
import { failureOf, inboundEndpoint } from '../testing.js';

const SECRETS: Record<string, string> = { OPSGENIE_KEY: 'key-1', WRONG_KEY: 'key-2', OPSGENIE_INBOUND: 'inbound-1' };
const ALERT_ID = '0b0f8a7e-2d1c-4d55-9a43-000000000001';
const KEY = `oncall-${ALERT_ID}`;
const alert: TicketAlert = {
  alertId: ALERT_ID,
  serviceId: 'svc-db',
  serviceName: 'Database',
  fingerprint: 'f1',
  summary: 'Disk full on db-1',
  details: '95% used',
  severity: 'critical',
  status: 'triggered',
  labels: {},
  annotations: {},
  links: [],
  startsAt: null,
  url: null,
};
const fields = { message: 'Disk full on db-1', priority: 'P1', tags: ['db'], details: { site: 'fra1' } };

function context(url: string, key = 'OPSGENIE_KEY'): ProviderContext {
  return {
    config: {
      providerId: 'opsgenie',
      type: 'opsgenie',
      name: 'Opsgenie',
      settings: { apiUrl: url, responders: [{ type: 'team', name: 'NOC' }], tags: ['oncall'], webUrl: 'https://acme.app.opsgenie.com' },
      auth: { kind: 'genie-key', key: { env: key } },
      fields: {},
      sync: {
        onAcknowledge: { transition: 'acknowledge', comment: false },
        onResolve: { transition: 'close', comment: true },
        onReopen: { transition: null, comment: true },
        resolveAlertOn: ['closed'],
        mirrorComments: true,
        pollSeconds: null,
      },
      inboundSecret: { env: 'OPSGENIE_INBOUND' },
    },
    secret: (ref: SecretRef) => {
      const value = 'env' in ref ? SECRETS[ref.env] : undefined;
      if (value === undefined) throw new Error(`no secret ${JSON.stringify(ref)}`);
      return value;
    },
    fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(2_000) }),
    now: () => new Date(),
  };
}

describe('Opsgenie provider against the stand-in', () => {
  let standIn: OpsgenieStandIn;
  let ctx: ProviderContext;

  beforeEach(async () => {
    standIn = await startOpsgenieStandIn({ apiKey: 'key-1' });
    ctx = context(standIn.url);
  });
  afterEach(() => standIn.close());

  it('creates the alert once it is processed, with the fields, and finds it by alias', async () => {
    expect(await opsgenieProvider.find(ctx, KEY)).toBeNull();
    const ref = await opsgenieProvider.create(ctx, { alert, fields, idempotencyKey: KEY });
    const stored = standIn.alerts.get(ref.externalId);
    expect(ref).toEqual({
      key: stored?.tinyId,
      externalId: stored?.id,
      url: `https://acme.app.opsgenie.com/alert/detail/${stored?.id}/details`,
    });
    expect(stored).toMatchObject({
      message: 'Disk full on db-1',
      alias: KEY,
      description: '95% used',
      priority: 'P1',
      tags: ['oncall', 'db'],
      details: { site: 'fra1', oncallAlertId: ALERT_ID, oncallService: 'Database' },
      responders: [{ type: 'team', name: 'NOC' }],
      source: 'oncall',
    });
    expect(await opsgenieProvider.find(ctx, KEY)).toEqual(ref);
  });

  it('makes one alert when a create is retried (alias dedup)', async () => {
    const first = await opsgenieProvider.create(ctx, { alert, fields, idempotencyKey: KEY });
    const again = await opsgenieProvider.create(ctx, { alert, fields, idempotencyKey: KEY });
    expect(again).toEqual(first);
    expect(standIn.alerts.size).toBe(1);
    expect(standIn.alerts.get(first.externalId)?.count).toBe(2);
  });

  it('says a create still unprocessed is retryable', async () => {
    await standIn.close();
    standIn = await startOpsgenieStandIn({ apiKey: 'key-1', processDelayMs: 60_000 });
    ctx = context(standIn.url);
    const err = await failureOf(opsgenieProvider.create(ctx, { alert, fields, idempotencyKey: KEY }));
    expect([err.retryable, err.retryAfterMs]).toEqual([true, 1000]);
    expect(err.message).toMatch(/has not processed request/);
  });

  it('acknowledges, notes and closes the alert', async () => {
    const ref = await opsgenieProvider.create(ctx, { alert, fields, idempotencyKey: KEY });
    await opsgenieProvider.update(ctx, ref, { kind: 'acknowledged', transition: 'acknowledge', comment: null });
    await opsgenieProvider.update(ctx, ref, { kind: 'comment', transition: null, comment: 'Escalated to Bob' });
    await opsgenieProvider.update(ctx, ref, { kind: 'resolved', transition: 'close', comment: 'Resolved by Ann in oncall' });
    const stored = standIn.alerts.get(ref.externalId)!;
    expect(stored.log.map((l) => l.action)).toEqual(['Create', 'Acknowledge', 'AddNote', 'Close']);
    expect(stored).toMatchObject({ status: 'closed', acknowledged: true });
    expect(stored.notes).toEqual([
      { user: 'oncall', note: 'Escalated to Bob' },
      { user: 'oncall', note: 'Resolved by Ann in oncall' },
    ]);
    expect(stored.log.every((l) => l.source === 'oncall')).toBe(true);
  });

  it('says an action on an alert Opsgenie does not have failed, once it is processed', async () => {
    const ghost = { key: '999', externalId: '6f9619ff-8b86-d011-b42d-00c04fc964ff', url: null };
    const err = await failureOf(opsgenieProvider.update(ctx, ghost, { kind: 'resolved', transition: 'close', comment: null }));
    expect([err.retryable, err.message]).toEqual([false, 'Opsgenie could not close alert 999: Alert does not exist']);
  });

  it('gives 429 without Retry-After the default back-off, 5xx retryable, 401 and 422 permanent with the words', async () => {
    standIn.failNext(429, { 'x-ratelimit-state': 'THROTTLED' }, { message: 'You are making too many requests!' });
    const limited = await failureOf(opsgenieProvider.check(ctx));
    expect([limited.retryable, limited.httpStatus, limited.retryAfterMs]).toEqual([true, 429, 5000]);
    standIn.failNext(429, { 'retry-after': '2' });
    expect((await failureOf(opsgenieProvider.check(ctx))).retryAfterMs).toBe(2000);
    standIn.failNext(503);
    const down = await failureOf(opsgenieProvider.find(ctx, KEY));
    expect([down.retryable, down.httpStatus]).toEqual([true, 503]);
    const refused = await failureOf(opsgenieProvider.create(context(standIn.url, 'WRONG_KEY'), { alert, fields, idempotencyKey: KEY }));
    expect([refused.retryable, refused.httpStatus, refused.message]).toEqual([
      false,
      401,
      'Opsgenie refused the API key (HTTP 401): Could not authenticate: check that auth.key is an API integration key',
    ]);
    standIn.failNext(
      422,
      {},
      { message: 'Request body is not processable. Please check the errors.', errors: { message: 'Message can not be empty.' } },
    );
    const rejected = await failureOf(opsgenieProvider.create(ctx, { alert, fields, idempotencyKey: KEY }));
    expect([rejected.retryable, rejected.httpStatus]).toEqual([false, 422]);
    expect(rejected.message).toMatch(/Message can not be empty/);
    expect(standIn.alerts.size).toBe(0);
  });

  it('says a call that gets no answer is retryable', async () => {
    standIn.failNext('hang');
    const err = await failureOf(
      opsgenieProvider.find({ ...ctx, fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(200) }) }, KEY),
    );
    expect([err.retryable, err.httpStatus, err.message]).toEqual([true, null, 'Opsgenie did not answer in time']);
  });

  it('hits the integration rate limit as 429', async () => {
    await standIn.close();
    standIn = await startOpsgenieStandIn({ apiKey: 'key-1', ratePerSecond: 1, now: () => new Date('2026-12-06T03:00:00Z') });
    ctx = context(standIn.url);
    await opsgenieProvider.check(ctx);
    const err = await failureOf(opsgenieProvider.check(ctx));
    expect([err.retryable, err.httpStatus, err.retryAfterMs]).toEqual([true, 429, 5000]);
  });

  it('the stand-in refuses what Opsgenie refuses: an empty message, a priority out of P1-P5', async () => {
    for (const body of [{ message: '' }, { message: 'x', priority: 'P0' }]) {
      const res = await fetch(`${standIn.url}/v2/alerts`, {
        method: 'POST',
        headers: { authorization: 'GenieKey key-1', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(422);
      const answer = (await res.json()) as { message: unknown; took: unknown; requestId: unknown };
      expect([answer.message, typeof answer.took, typeof answer.requestId]).toEqual([
        'Request body is not processable. Please check the errors.',
        'number',
        'string',
      ]);
    }
  });

  it('takes acknowledge, note and close from the outgoing webhook with the token, and refuses forged calls', async () => {
    const endpoint = await inboundEndpoint(opsgenieProvider, ctx, 'opsgenie');
    try {
      const ref = await opsgenieProvider.create(ctx, { alert, fields, idempotencyKey: KEY });
      expect(await standIn.act(KEY, 'Acknowledge', 'ann@example.com', { url: endpoint.url, token: 'inbound-1' })).toBe(200);
      expect(await standIn.act(KEY, 'AddNote', 'ann@example.com', { url: `${endpoint.url}?token=inbound-1`, note: 'on it' })).toBe(200);
      expect(await standIn.act(KEY, 'Close', 'ann@example.com', { url: endpoint.url, token: 'inbound-1' })).toBe(200);
      expect(endpoint.changes.map((c) => [c.ticketKey, c.alertId, c.status, c.state, c.actor, c.comment])).toEqual([
        [ref.externalId, ALERT_ID, 'acknowledged', 'in_progress', 'ann@example.com', null],
        [ref.externalId, ALERT_ID, 'acknowledged', 'in_progress', 'ann@example.com', 'on it'],
        [ref.externalId, ALERT_ID, 'closed', 'closed', 'ann@example.com', null],
      ]);
      expect(new Set(endpoint.changes.map((c) => c.changeId)).size).toBe(3);
      expect(await standIn.act(KEY, 'Close', 'mallory', { url: endpoint.url, token: 'guessed' })).toBe(401);
      expect(await standIn.act(KEY, 'Close', 'mallory', { url: endpoint.url })).toBe(401);
      expect(endpoint.changes).toHaveLength(3);
    } finally {
      await endpoint.close();
    }
  });
});
