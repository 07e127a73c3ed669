import type { SecretRef, TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProviderContext, TicketAlert } from '../types.js';
import { serviceNowProvider } from './index.js';
import { startServiceNowStandIn, type ServiceNowStandIn } from './stand-in.js';
import { failureOf, inboundEndpoint } from '../testing.js';

const SECRETS: Record<string, string> = { SN_PASSWORD: 'pw-1', SN_CLIENT_SECRET: 'cs-1', SN_INBOUND: 'inbound-1' };
const ALERT_ID = '0b0f8a7e-2d1c-4d55-9a43-000000000001';
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
const fields = { short_description: 'Disk full on db-1', description: '95% used', urgency: 1, impact: 2 };

function context(url: string, auth: TicketProviderConfig['auth']): ProviderContext {
  return {
    config: {
      providerId: 'snow',
      type: 'servicenow',
      name: 'ServiceNow',
      settings: { instanceUrl: url, assignmentGroup: 'NOC', caller: 'oncall.integration' },
      auth,
      fields: {},
      sync: {
        onAcknowledge: { transition: 'In Progress', comment: true },
        onResolve: { transition: 'Resolved', comment: true },
        onReopen: { transition: 'In Progress', comment: true },
        resolveAlertOn: ['resolved', 'closed'],
        mirrorComments: true,
        pollSeconds: 60,
      },
      inboundSecret: { env: 'SN_INBOUND' },
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

const basic: TicketProviderConfig['auth'] = { kind: 'basic', username: 'oncall.integration', password: { env: 'SN_PASSWORD' } };

describe('ServiceNow provider against the stand-in', () => {
  let standIn: ServiceNowStandIn;
  let ctx: ProviderContext;

  beforeEach(async () => {
    standIn = await startServiceNowStandIn({
      username: 'oncall.integration',
      password: 'pw-1',
      clientId: 'oncall-client',
      clientSecret: 'cs-1',
    });
    ctx = context(standIn.url, basic);
  });
  afterEach(() => standIn.close());

  it('creates the incident with the mapped fields and finds it by correlation_id', async () => {
    expect(await serviceNowProvider.find(ctx, `oncall-${ALERT_ID}`)).toBeNull();
    const ref = await serviceNowProvider.create(ctx, { alert, fields, idempotencyKey: `oncall-${ALERT_ID}` });
    expect(ref.key).toBe('INC0010001');
    expect(ref.url).toBe(`${standIn.url}/nav_to.do?uri=incident.do?sys_id=${ref.externalId}`);
    expect(standIn.records.get(ref.externalId)).toMatchObject({
      short_description: 'Disk full on db-1',
      description: '95% used',
      urgency: '1',
      impact: '2',
      priority: '2',
      assignment_group: 'NOC',
      caller_id: 'oncall.integration',
      correlation_id: `oncall-${ALERT_ID}`,
      correlation_display: 'oncall',
      sys_updated_by: 'oncall.integration',
    });
    expect(await serviceNowProvider.find(ctx, `oncall-${ALERT_ID}`)).toEqual(ref);
    expect(await serviceNowProvider.find(ctx, 'oncall-another')).toBeNull();
    expect((await failureOf(serviceNowProvider.find(ctx, 'oncall-x^ORDERBYnumber'))).message).toMatch(/cannot go into a ServiceNow query/);
  });

  it('moves the state with work notes, and resolves with the fields the data policy asks for', async () => {
    const ref = await serviceNowProvider.create(ctx, { alert, fields, idempotencyKey: `oncall-${ALERT_ID}` });
    await serviceNowProvider.update(ctx, ref, {
      kind: 'acknowledged',
      transition: 'In Progress',
      comment: 'Acknowledged by Ann in oncall',
    });
    const row = standIn.records.get(ref.externalId)!;
    expect(row.state).toBe('2');
    expect(row.journal.map((j) => j.text)).toEqual(['Acknowledged by Ann in oncall']);
    await serviceNowProvider.update(ctx, ref, { kind: 'resolved', transition: 'Resolved', comment: 'Resolved by Ann in oncall' });
    expect(row).toMatchObject({ state: '6', close_code: 'Solution provided', close_notes: 'Resolved by Ann in oncall' });
    await serviceNowProvider.update(ctx, ref, { kind: 'comment', transition: null, comment: 'post-mortem scheduled' });
    expect(row.journal.map((j) => j.text)).toEqual(['Acknowledged by Ann in oncall', 'Resolved by Ann in oncall', 'post-mortem scheduled']);
  });

  it('signs in with OAuth client credentials, fetching one token for many calls', async () => {
    const oauthCtx = context(standIn.url, {
      kind: 'oauth-client-credentials',
      tokenUrl: `${standIn.url}/oauth_token.do`,
      clientId: 'oncall-client',
      clientSecret: { env: 'SN_CLIENT_SECRET' },
    });
    oauthCtx.config.providerId = 'snow-oauth';
    const ref = await serviceNowProvider.create(oauthCtx, { alert, fields, idempotencyKey: `oncall-${ALERT_ID}` });
    await serviceNowProvider.check(oauthCtx);
    expect(standIn.records.get(ref.externalId)?.sys_updated_by).toBe('oauth.integration');
    expect(new Set(standIn.requests.map((r) => r.authorization)).size).toBe(1);
    expect(standIn.requests[0]?.authorization).toMatch(/^Bearer /);
  });

  it('fetches a new token once when ServiceNow stops accepting the old one', async () => {
    const oauthCtx = context(standIn.url, {
      kind: 'oauth-client-credentials',
      tokenUrl: `${standIn.url}/oauth_token.do`,
      clientId: 'oncall-client',
      clientSecret: { env: 'SN_CLIENT_SECRET' },
    });
    oauthCtx.config.providerId = 'snow-revoked';
    await serviceNowProvider.check(oauthCtx);
    standIn.revokeTokens();
    await serviceNowProvider.check(oauthCtx);
    const used = standIn.requests.map((r) => r.authorization);
    expect(used).toHaveLength(3);
    expect(used[1]).toBe(used[0]);
    expect(used[2]).not.toBe(used[1]);
  });

  it('says a call that gets no answer or no connection is retryable', async () => {
    standIn.failNext('hang');
    const slow = await failureOf(
      serviceNowProvider.check({ ...ctx, fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(200) }) }),
    );
    expect([slow.retryable, slow.httpStatus, slow.message]).toEqual([true, null, 'ServiceNow did not answer in time']);
    const closed = context('http://127.0.0.1:1', basic);
    const refused = await failureOf(serviceNowProvider.check(closed));
    expect([refused.retryable, refused.httpStatus]).toEqual([true, null]);
    expect(refused.message).toMatch(/^ServiceNow is unreachable/);
  });

  it('says which OAuth client was refused, not retryable', async () => {
    const wrong = context(standIn.url, {
      kind: 'oauth-client-credentials',
      tokenUrl: `${standIn.url}/oauth_token.do`,
      clientId: 'oncall-client',
      clientSecret: { env: 'SN_PASSWORD' },
    });
    wrong.config.providerId = 'snow-wrong-oauth';
    const err = await failureOf(serviceNowProvider.check(wrong));
    expect([err.retryable, err.httpStatus]).toEqual([false, 401]);
    expect(err.message).toMatch(/refused the OAuth client oncall-client/);
  });

  it('gives 429 as retryable with the Retry-After, 5xx as retryable, 401 as a clear permanent error', async () => {
    standIn.failNext(
      429,
      { 'retry-after': '12' },
      { error: { message: 'Rate limit exceeded', detail: 'rule: oncall' }, status: 'failure' },
    );
    const limited = await failureOf(serviceNowProvider.check(ctx));
    expect([limited.retryable, limited.httpStatus, limited.retryAfterMs]).toEqual([true, 429, 12_000]);
    standIn.failNext(503);
    const down = await failureOf(serviceNowProvider.check(ctx));
    expect([down.retryable, down.httpStatus]).toEqual([true, 503]);
    const bad = context(standIn.url, { kind: 'basic', username: 'oncall.integration', password: { env: 'SN_CLIENT_SECRET' } });
    const refused = await failureOf(serviceNowProvider.create(bad, { alert, fields, idempotencyKey: 'oncall-x' }));
    expect([refused.retryable, refused.httpStatus]).toEqual([false, 401]);
    expect(refused.message).toBe(
      'ServiceNow refused the credentials (HTTP 401): User Not Authenticated: Required to provide Auth information: check the integration user and its password or OAuth client',
    );
    expect(standIn.records.size).toBe(0);
  });

  it('hits the instance rate limit as 429 with Retry-After', async () => {
    await standIn.close();
    standIn = await startServiceNowStandIn({
      username: 'oncall.integration',
      password: 'pw-1',
      ratePerSecond: 2,
      now: () => new Date('2026-12-06T03:00:00Z'),
    });
    ctx = context(standIn.url, basic);
    await serviceNowProvider.check(ctx);
    await serviceNowProvider.check(ctx);
    const err = await failureOf(serviceNowProvider.check(ctx));
    expect([err.retryable, err.httpStatus, err.retryAfterMs]).toEqual([true, 429, 1000]);
  });

  it('refuses a resolve the data policy would refuse, with its words', async () => {
    const ref = await serviceNowProvider.create(ctx, { alert, fields, idempotencyKey: `oncall-${ALERT_ID}` });
    const res = await fetch(`${standIn.url}/api/now/table/incident/${ref.externalId}`, {
      method: 'PATCH',
      headers: {
        authorization: `Basic ${Buffer.from('oncall.integration:pw-1').toString('base64')}`,
        accept: 'application/json',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ state: '6' }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      error: {
        message: 'Operation Failed',
        detail: 'Data Policy Exception: \n Resolution code is mandatory\n Resolution notes is mandatory',
      },
      status: 'failure',
    });
  });

  it('takes a resolve from the Business Rule when signed, and refuses a forged one', async () => {
    const endpoint = await inboundEndpoint(serviceNowProvider, ctx, 'snow');
    try {
      const ref = await serviceNowProvider.create(ctx, { alert, fields, idempotencyKey: `oncall-${ALERT_ID}` });
      expect(await standIn.resolve(ref.externalId, 'jane.doe', { url: endpoint.url, secret: 'inbound-1' })).toBe(200);
      expect(endpoint.changes).toEqual([
        {
          ticketKey: ref.key,
          alertId: ALERT_ID,
          status: 'Resolved',
          state: 'resolved',
          actor: 'jane.doe',
          comment: null,
          changeId: `${ref.externalId}#1`,
        },
      ]);
      expect(await standIn.notify(ref.externalId, { url: endpoint.url, secret: 'guessed' })).toBe(401);
      const stale = Math.floor(Date.now() / 1000) - 600;
      expect(await standIn.notify(ref.externalId, { url: endpoint.url, secret: 'inbound-1', timestampSeconds: stale })).toBe(401);
      expect(endpoint.changes).toHaveLength(1);
    } finally {
      await endpoint.close();
    }
  });

  it('polls our incidents by sys_updated_on, each change once, with a cursor in ServiceNow time', async () => {
    let clock = new Date('2026-12-06T03:00:00Z');
    await standIn.close();
    standIn = await startServiceNowStandIn({ username: 'oncall.integration', password: 'pw-1', now: () => clock });
    ctx = context(standIn.url, basic);
    expect(await serviceNowProvider.poll!(ctx, null)).toEqual({ changes: [], cursor: null });
    const first = await serviceNowProvider.create(ctx, { alert, fields, idempotencyKey: `oncall-${ALERT_ID}` });
    const start = await serviceNowProvider.poll!(ctx, null);
    expect(start).toEqual({ changes: [], cursor: `2026-12-06 03:00:00|${first.externalId}#0` });
    await serviceNowProvider.create(ctx, { alert, fields: { short_description: 'Not ours' }, idempotencyKey: 'manual' });
    const second = await serviceNowProvider.create(ctx, { alert, fields, idempotencyKey: 'oncall-0b0f8a7e-2d1c-4d55-9a43-000000000002' });
    standIn.change(first.externalId, { state: '2', by: 'jane.doe' });
    const page = await serviceNowProvider.poll!(ctx, start.cursor);
    // Same second: ServiceNow orders them by sys_id, which is random.
    expect(page.changes.map((c) => [c.ticketKey, c.status, c.actor]).sort()).toEqual([
      [first.key, 'In Progress', 'jane.doe'],
      [second.key, 'New', 'oncall.integration'],
    ]);
    clock = new Date('2026-12-06T03:00:07Z');
    standIn.change(first.externalId, { state: '7', by: 'jane.doe', closeCode: 'Solution provided', closeNotes: 'done' });
    const next = await serviceNowProvider.poll!(ctx, page.cursor);
    expect(next.changes.map((c) => [c.ticketKey, c.state, c.alertId])).toEqual([[first.key, 'closed', ALERT_ID]]);
    expect(next.cursor).toBe(`2026-12-06 03:00:07|${first.externalId}#2`);
    expect(await serviceNowProvider.poll!(ctx, next.cursor)).toEqual({ changes: [], cursor: next.cursor });
    expect(standIn.requests.at(-1)?.query.get('sysparm_query')).toBe(
      'sys_updated_on>=2026-12-06 03:00:07^correlation_idSTARTSWITHoncall-^ORDERBYsys_updated_on^ORDERBYsys_id',
    );
  });
});
