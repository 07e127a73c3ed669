import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TicketProvider as TicketProviderConfig, TicketAuth } from '@oncall/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InboundRejected, ProviderError, type InboundChange, type ProviderContext, type TicketAlert } from '../types.js';
import { jiraProvider } from './index.js';
import { startJiraStandIn, type JiraStandIn } from './stand-in.js';
import { toAdf } from './text.js';

/** The provider against the stand-in over real HTTP: v3 with an API token, v2 with a bearer token. */

const ALERT_ID = '3f1c9d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f';
const KEY = `oncall-${ALERT_ID}`;
const SECRETS: Record<string, string> = { JIRA_TOKEN: 'api-token-1', JIRA_PAT: 'pat-1', JIRA_WEBHOOK_SECRET: 'whsec-1', WRONG: 'nope' };

const alert: TicketAlert = {
  alertId: ALERT_ID,
  serviceId: 'svc-api',
  serviceName: 'API',
  fingerprint: 'fp',
  summary: 'API down',
  details: 'Error rate 40%\n\nsince 02:58',
  severity: 'critical',
  status: 'triggered',
  labels: { team: 'core' },
  annotations: {},
  links: [],
  startsAt: null,
  url: 'https://oncall.acme.io/alerts/3f1c',
};

function context(baseUrl: string, apiVersion: '2' | '3', auth: TicketAuth, timeoutMs = 2000): ProviderContext {
  const config: TicketProviderConfig = {
    providerId: 'jira',
    type: 'jira',
    name: 'Jira',
    settings: { baseUrl, apiVersion, project: 'OPS', issueType: 'Incident', customFields: { service: 'customfield_10010' } },
    auth,
    fields: { summary: 'alert.summary' },
    sync: {
      onAcknowledge: { transition: 'Start Progress', comment: true },
      onResolve: { transition: 'Done', comment: true },
      onReopen: { transition: null, comment: false },
      resolveAlertOn: ['resolved'],
      mirrorComments: true,
      pollSeconds: null,
    },
    inboundSecret: { env: 'JIRA_WEBHOOK_SECRET' },
  };
  return {
    config,
    secret: (ref) => ('env' in ref ? (SECRETS[ref.env] ?? '') : ''),
    fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
    now: () => new Date(),
  };
}

const BASIC: TicketAuth = { kind: 'basic', username: 'bot@acme.io', password: { env: 'JIRA_TOKEN' } };
const BEARER: TicketAuth = { kind: 'bearer', token: { env: 'JIRA_PAT' } };

async function failure(call: Promise<unknown>): Promise<ProviderError> {
  const err = await call.then(() => null).catch((e: unknown) => e);
  if (!(err instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(err)}`);
  return err;
}

/** The bridge's inbound endpoint as far as the provider is concerned: receive() answers 200, InboundRejected its status. */
async function startInbound(
  ctx: () => ProviderContext,
): Promise<{ url: string; changes: InboundChange[]; arrived: (count: number) => Promise<void>; close: () => Promise<void> }> {
  const changes: InboundChange[] = [];
  const events = new EventEmitter();
  const arrived = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (changes.length < count) return;
        events.off('change', check);
        resolve();
      };
      events.on('change', check);
      check();
    });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://bridge');
      jiraProvider.receive!(ctx(), {
        method: req.method ?? 'POST',
        path: url.pathname,
        headers: req.headers,
        query: url.searchParams,
        body: Buffer.concat(chunks),
      })
        .then((got) => {
          changes.push(...got);
          res.writeHead(200).end();
          events.emit('change');
        })
        .catch((err: unknown) => res.writeHead(err instanceof InboundRejected ? err.httpStatus : 500).end(String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/tickets/jira/events`;
  return { url, changes, arrived, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('Jira Cloud (REST v3, API token)', () => {
  let jira: JiraStandIn;
  let ctx: ProviderContext;
  let inbound: Awaited<ReturnType<typeof startInbound>>;
  beforeAll(async () => {
    jira = await startJiraStandIn({ apiVersion: '3', auth: { kind: 'basic', username: 'bot@acme.io', password: 'api-token-1' } });
    ctx = context(jira.url, '3', BASIC);
    inbound = await startInbound(() => ctx);
  });
  afterAll(async () => {
    await inbound?.close();
    await jira?.close();
  });

  it('creates the issue with project, type, priority, labels with the key, custom fields and an ADF description linking the alert', async () => {
    const ref = await jiraProvider.create(ctx, {
      alert,
      fields: {
        summary: '[API] API down',
        priority: 'Highest',
        labels: ['oncall', 'team core'],
        service: 'api',
        customfield_10011: { value: 'P1' },
      },
      idempotencyKey: KEY,
    });
    expect(ref).toEqual({ key: 'OPS-1', externalId: '10001', url: `${jira.url}/browse/OPS-1` });
    const issue = jira.issues.get('OPS-1')!;
    expect(issue.fields).toMatchObject({
      project: { key: 'OPS' },
      issuetype: { name: 'Incident' },
      summary: '[API] API down',
      priority: { name: 'Highest' },
      labels: ['oncall', 'team-core', KEY],
      customfield_10010: 'api',
      customfield_10011: { value: 'P1' },
      description: toAdf(alert.details, [{ text: 'Open the alert', href: alert.url! }]),
    });
    expect(jira.requests.at(-1)?.headers.authorization).toBe(`Basic ${Buffer.from('bot@acme.io:api-token-1').toString('base64')}`);
  });

  it('finds the issue by its label with /search/jql; another key finds nothing', async () => {
    expect(await jiraProvider.find(ctx, KEY)).toEqual({ key: 'OPS-1', externalId: '10001', url: `${jira.url}/browse/OPS-1` });
    expect(jira.requests.at(-1)?.path).toContain('/rest/api/3/search/jql?');
    expect(await jiraProvider.find(ctx, 'oncall-00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it("a field Jira refuses is a non-retryable error carrying Jira's words", async () => {
    const err = await jiraProvider
      .create(ctx, { alert, fields: { summary: 's', priority: 'Urgent' }, idempotencyKey: 'oncall-2' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'ProviderError',
      retryable: false,
      httpStatus: 400,
      message: "Jira rejected create an issue in OPS (HTTP 400): priority: Priority name 'Urgent' is not valid",
    });
  });

  it('the stand-in refuses what Jira refuses: no credentials, a text description in v3, no summary, the removed /search', async () => {
    const auth = {
      authorization: `Basic ${Buffer.from('bot@acme.io:api-token-1').toString('base64')}`,
      'content-type': 'application/json',
    };
    const post = (fields: unknown, headers: Record<string, string> = auth) =>
      fetch(`${jira.url}/rest/api/3/issue`, { method: 'POST', headers, body: JSON.stringify({ fields }) });
    const good = { project: { key: 'OPS' }, issuetype: { name: 'Task' }, summary: 's' };
    expect((await post(good, { 'content-type': 'application/json' })).status).toBe(401);
    expect(await (await post({ ...good, description: 'text' })).json()).toEqual({
      errorMessages: [],
      errors: { description: 'Operation value must be an Atlassian Document (see the Atlassian Document Format)' },
    });
    expect(await (await post({ ...good, summary: undefined, labels: ['a b'] })).json()).toMatchObject({
      errors: { summary: 'You must specify a summary of the issue.', labels: "The label 'a b' contains spaces which is invalid." },
    });
    expect((await fetch(`${jira.url}/rest/api/3/search?jql=x`, { headers: auth })).status).toBe(410);
  });

  it('moves the issue by transition name, comments in ADF, and leaves an issue already there alone', async () => {
    const ref = { key: 'OPS-1', externalId: '10001', url: null };
    await jiraProvider.update(ctx, ref, { kind: 'acknowledged', transition: 'Start Progress', comment: 'Acknowledged by Ada' });
    expect(jira.issues.get('OPS-1')?.fields.status.name).toBe('In Progress');
    expect(jira.issues.get('OPS-1')?.comments.map((c) => c.body)).toEqual([toAdf('Acknowledged by Ada')]);
    await jiraProvider.update(ctx, ref, { kind: 'resolved', transition: 'done', comment: null });
    expect(jira.issues.get('OPS-1')?.fields.status.name).toBe('Done');
    await jiraProvider.update(ctx, ref, { kind: 'resolved', transition: 'Done', comment: null });
    expect(jira.issues.get('OPS-1')?.changelog).toHaveLength(2);
  });

  it('a transition the workflow does not offer is a clear non-retryable error', async () => {
    const err = await jiraProvider
      .update(ctx, { key: 'OPS-1', externalId: '10001', url: null }, { kind: 'acknowledged', transition: 'Start Progress', comment: null })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toContain('Jira has no transition "Start Progress" for OPS-1 in status "Done" (available: "Reopen")');
  });

  it('checks the credentials with /myself; wrong ones are a non-retryable error naming the user', async () => {
    await expect(jiraProvider.check(ctx)).resolves.toBeUndefined();
    const wrong = context(jira.url, '3', { kind: 'basic', username: 'bot@acme.io', password: { env: 'WRONG' } });
    const err = await failure(jiraProvider.check(wrong));
    expect(err).toMatchObject({ retryable: false, httpStatus: 401 });
    expect(err.message).toContain('Jira refused the credentials for bot@acme.io');
  });

  it('429 carries Retry-After; 5xx, a dropped connection and a timeout are retryable', async () => {
    jira.failNext({ status: 429, headers: { 'retry-after': '7' } });
    await expect(jiraProvider.find(ctx, KEY)).rejects.toMatchObject({ retryable: true, httpStatus: 429, retryAfterMs: 7000 });
    jira.failNext({ status: 503 });
    await expect(jiraProvider.find(ctx, KEY)).rejects.toMatchObject({ retryable: true, httpStatus: 503 });
    jira.failNext({ drop: true });
    await expect(jiraProvider.find(ctx, KEY)).rejects.toMatchObject({ retryable: true, httpStatus: null });
    jira.failNext({ hang: true });
    const err = await failure(jiraProvider.find(context(jira.url, '3', BASIC, 200), KEY));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('timed out');
  });

  it('a person resolving the issue in Jira reaches the bridge as a verified change; a forged call is refused', async () => {
    await jira.resolveIssue('OPS-1', { webhookUrl: inbound.url, secret: 'whsec-1', by: 'Ada Lovelace' });
    expect(inbound.changes.at(-1)).toMatchObject({
      ticketKey: 'OPS-1',
      alertId: ALERT_ID,
      status: 'Done',
      state: 'resolved',
      actor: 'Ada Lovelace',
    });
    const before = inbound.changes.length;
    const forged = await fetch(inbound.url, { method: 'POST', headers: { 'x-hub-signature': `sha256=${'0'.repeat(64)}` }, body: '{}' });
    expect(forged.status).toBe(401);
    const unsigned = await fetch(inbound.url, { method: 'POST', body: '{}' });
    expect(unsigned.status).toBe(401);
    await expect(jira.resolveIssue('OPS-1', { webhookUrl: inbound.url, secret: 'guessed' })).rejects.toThrow('HTTP 401');
    expect(inbound.changes).toHaveLength(before);
  });
});

describe('Jira Server / Data Center (REST v2, bearer token)', () => {
  let jira: JiraStandIn;
  let ctx: ProviderContext;
  beforeAll(async () => {
    jira = await startJiraStandIn({ apiVersion: '2', auth: { kind: 'bearer', token: 'pat-1' } });
    ctx = context(jira.url, '2', BEARER);
  });
  afterAll(async () => jira?.close());

  it('creates with a wiki description, finds with /search, comments with text', async () => {
    const ref = await jiraProvider.create(ctx, { alert, fields: { summary: 'API down', assignee: 'jdoe' }, idempotencyKey: KEY });
    expect(jira.issues.get(ref.key)?.fields).toMatchObject({
      description: 'Error rate 40%\n\nsince 02:58\n\n[Open the alert|https://oncall.acme.io/alerts/3f1c]',
      assignee: { name: 'jdoe' },
    });
    expect(await jiraProvider.find(ctx, KEY)).toMatchObject({ key: ref.key });
    expect(jira.requests.at(-1)?.path).toMatch(/^\/rest\/api\/2\/search\?/);
    expect(jira.requests.at(-1)?.headers.authorization).toBe('Bearer pat-1');
  });

  it('comments as wiki text', async () => {
    await jiraProvider.update(
      ctx,
      { key: 'OPS-1', externalId: '10001', url: null },
      { kind: 'comment', transition: null, comment: 'Still on it' },
    );
    expect(jira.issues.get('OPS-1')?.comments.map((c) => c.body)).toEqual(['Still on it']);
  });

  it('a Server webhook with ?secret= is accepted; one with the wrong token is not', async () => {
    const inbound = await startInbound(() => ctx);
    try {
      await jira.resolveIssue('OPS-1', { webhookUrl: inbound.url, secret: 'whsec-1', signing: 'query' });
      expect(inbound.changes).toMatchObject([{ ticketKey: 'OPS-1', state: 'resolved', actor: 'Oncall Bot' }]);
      await expect(jira.resolveIssue('OPS-1', { webhookUrl: inbound.url, secret: 'whsec-2', signing: 'query' })).rejects.toThrow(
        'HTTP 401',
      );
    } finally {
      await inbound.close();
    }
  });
});

describe('Jira echoing the changes the bridge made', () => {
  it('a transition and a comment through the API come back as webhooks by the bot user', async () => {
    let ctx: ProviderContext | null = null;
    const inbound = await startInbound(() => ctx!);
    const jira = await startJiraStandIn({
      auth: { kind: 'basic', username: 'bot@acme.io', password: 'api-token-1' },
      webhook: { url: inbound.url, secret: 'whsec-1' },
    });
    try {
      ctx = context(jira.url, '3', BASIC);
      const ref = await jiraProvider.create(ctx, { alert, fields: { summary: 'API down' }, idempotencyKey: KEY });
      await jiraProvider.update(ctx, ref, { kind: 'acknowledged', transition: 'In Progress', comment: 'On it' });
      await inbound.arrived(2);
      const common = { ticketKey: 'OPS-1', alertId: ALERT_ID, status: 'In Progress', state: 'in_progress', actor: 'Oncall Bot' };
      expect(inbound.changes.find((c) => c.comment === null)).toMatchObject(common);
      expect(inbound.changes.find((c) => c.comment === 'On it')).toMatchObject(common);
      expect(inbound.changes.find((c) => c.comment === 'On it')?.changeId).toMatch(/^10001:comment:\d+$/);
    } finally {
      await jira.close();
      await inbound.close();
    }
  });
});

describe('Jira rate-limited', () => {
  it('beyond the limit Jira answers 429 with Retry-After, surfaced as retryAfterMs', async () => {
    const jira = await startJiraStandIn({ apiVersion: '2', auth: { kind: 'bearer', token: 'pat-1' }, rateLimitPerSecond: 3 });
    try {
      const ctx = context(jira.url, '2', BEARER);
      const results = await Promise.allSettled([1, 2, 3, 4].map(() => jiraProvider.check(ctx)));
      const limited = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
      expect(limited).toEqual([expect.objectContaining({ retryable: true, httpStatus: 429, retryAfterMs: 1000 })]);
    } finally {
      await jira.close();
    }
  });
});

describe('Jira not running', () => {
  it('a refused connection is retryable and says so', async () => {
    const jira = await startJiraStandIn({ auth: { kind: 'bearer', token: 'pat-1' } });
    await jira.close();
    const err = await failure(jiraProvider.check(context(jira.url, '3', BEARER)));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('ECONNREFUSED');
  });
});
