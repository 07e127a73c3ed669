import { createHmac } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createErrors, isAdfDoc, STATUSES, transitionsFrom, type StandInStatus } from './stand-in-workflow.js';

/**
 * A local Jira for tests and `npm run bench:tickets`: REST v3 (Cloud) or v2 (Server / DC) as the
 * provider uses it. It checks what Jira checks (the Authorization header, JSON content type,
 * required fields and field types, answered with Jira's `{ errorMessages, errors }`), numbers
 * issues OPS-1, OPS-2, …, runs a To Do → In Progress → Done workflow with transition ids, finds
 * issues by `project = "…" AND labels = "…"` JQL, takes comments, answers /myself, and answers
 * 429 with Retry-After beyond `rateLimitPerSecond`. `resolveIssue` plays a person closing the
 * issue in Jira: the transition, then the real signed webhook.
 */

export type StandInAuth = { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

/** Instead of answering: a status (with Jira's error body unless one is given), a dropped connection, or no answer. */
export type StandInFailure = { status: number; headers?: Record<string, string>; body?: unknown } | { drop: true } | { hang: true };

export interface JiraStandInOptions {
  apiVersion?: '2' | '3';
  auth: StandInAuth;
  /** The one project; default OPS. */
  project?: string;
  /** Custom field ids the create screen has; default customfield_10010 and customfield_10011. */
  customFields?: readonly string[];
  rateLimitPerSecond?: number;
  /** The first requests are answered with these, in order. */
  failNext?: readonly StandInFailure[];
  /** Where Jira sends its webhook for changes made through the REST API (the bridge's own changes echo back). */
  webhook?: { url: string; secret: string };
}

export interface StandInIssue {
  id: string;
  key: string;
  fields: Record<string, unknown> & { summary: string; labels: string[]; status: StandInStatus };
  comments: { id: string; body: unknown; author: string }[];
  changelog: { id: string; from: string; to: string }[];
}

export interface StandInRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  /** What the stand-in answered. */
  status: number;
}

export interface JiraStandIn {
  /** Base URL for the provider's `settings.baseUrl`. */
  url: string;
  issues: Map<string, StandInIssue>;
  requests: StandInRequest[];
  failNext(failure: StandInFailure, times?: number): void;
  /** Moves the issue to Done as a person would and POSTs Jira's signed `jira:issue_updated` to `webhookUrl`; rejects unless it got 2xx. */
  resolveIssue(key: string, opts: { webhookUrl: string; secret: string; by?: string; signing?: 'hmac' | 'query' }): Promise<void>;
  close(): Promise<void>;
}

const BOT = { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Oncall Bot' };

export async function startJiraStandIn(opts: JiraStandInOptions): Promise<JiraStandIn> {
  const apiVersion = opts.apiVersion ?? '3';
  const project = opts.project ?? 'OPS';
  const customFields = opts.customFields ?? ['customfield_10010', 'customfield_10011'];
  const expectedAuth =
    opts.auth.kind === 'basic'
      ? `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`
      : `Bearer ${opts.auth.token}`;
  const issues = new Map<string, StandInIssue>();
  const requests: StandInRequest[] = [];
  const failures: StandInFailure[] = [...(opts.failNext ?? [])];
  let seq = 0;
  let window = { start: 0, count: 0 };
  let url = '';

  const api = `/rest/api/${apiVersion}`;
  const browse = (key: string) => `${url}${api}/issue/${key}`;
  const user = (by: string | undefined) => (by === undefined ? BOT : { accountId: `acc-${by.replace(/\W+/g, '-')}`, displayName: by });

  function change(issue: StandInIssue, to: StandInStatus): { id: string; items: unknown[] } {
    const id = String(20000 + ++seq);
    issue.changelog.push({ id, from: issue.fields.status.name, to: to.name });
    const items = [
      {
        field: 'status',
        fieldtype: 'jira',
        fieldId: 'status',
        from: issue.fields.status.id,
        fromString: issue.fields.status.name,
        to: to.id,
        toString: to.name,
      },
    ];
    issue.fields.status = to;
    return { id, items };
  }

  async function sendWebhook(target: { url: string; secret: string; signing?: 'hmac' | 'query' }, payload: unknown): Promise<number> {
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-atlassian-webhook-identifier': String(++seq) };
    let to = target.url;
    if (target.signing === 'query') to += `${to.includes('?') ? '&' : '?'}secret=${encodeURIComponent(target.secret)}`;
    else headers['x-hub-signature'] = `sha256=${createHmac('sha256', target.secret).update(body).digest('hex')}`;
    const res = await fetch(to, { method: 'POST', headers, body });
    await res.arrayBuffer();
    return res.status;
  }

  const webhookIssue = (issue: StandInIssue) => ({ id: issue.id, key: issue.key, self: browse(issue.key), fields: issue.fields });

  function echo(payload: unknown): void {
    if (opts.webhook !== undefined) sendWebhook(opts.webhook, payload).catch(() => undefined);
  }

  function route(method: string, path: string, query: URLSearchParams, body: unknown): [number, unknown] {
    if (method === 'GET' && path === '/myself') {
      return [
        200,
        apiVersion === '3'
          ? { ...BOT, emailAddress: whoami(), active: true }
          : { name: whoami(), key: whoami(), displayName: BOT.displayName, active: true },
      ];
    }
    if (apiVersion === '3' && method === 'GET' && path === '/search') {
      return [
        410,
        { errorMessages: ['The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.'], errors: {} },
      ];
    }
    if (method === 'GET' && path === (apiVersion === '3' ? '/search/jql' : '/search')) return search(query);
    if (method === 'POST' && path === '/issue') return create(body);
    const m = /^\/issue\/([^/]+)(\/transitions|\/comment)?$/.exec(path);
    const issue = m === null ? undefined : issues.get(decodeURIComponent(m[1] ?? ''));
    if (m === null) return [404, { errorMessages: [`No API at ${api}${path}`], errors: {} }];
    if (issue === undefined) return [404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} }];
    if (method === 'GET' && m[2] === undefined)
      return [200, { id: issue.id, key: issue.key, self: browse(issue.key), fields: issue.fields }];
    if (method === 'GET' && m[2] === '/transitions') {
      return [
        200,
        {
          expand: 'transitions',
          transitions: transitionsFrom(issue.fields.status).map((t) => ({ ...t, hasScreen: false, isGlobal: false })),
        },
      ];
    }
    if (method === 'POST' && m[2] === '/transitions') {
      const id = (body as { transition?: { id?: unknown } } | null)?.transition?.id;
      const chosen = transitionsFrom(issue.fields.status).find((t) => t.id === id);
      if (chosen === undefined) return [400, { errorMessages: [`Transition id '${String(id)}' is not valid for this issue.`], errors: {} }];
      const changelog = change(issue, chosen.to);
      echo({
        timestamp: Date.now(),
        webhookEvent: 'jira:issue_updated',
        issue_event_type_name: 'issue_generic',
        user: BOT,
        issue: webhookIssue(issue),
        changelog,
      });
      return [204, null];
    }
    if (method === 'POST' && m[2] === '/comment') return comment(issue, body);
    return [405, { errorMessages: [`${method} is not allowed here`], errors: {} }];
  }

  function whoami(): string {
    return opts.auth.kind === 'basic' ? opts.auth.username : 'pat-user';
  }

  function search(query: URLSearchParams): [number, unknown] {
    const m = /^project = "([^"]+)" AND labels = "([^"]+)"$/.exec(query.get('jql') ?? '');
    if (m === null)
      return [
        400,
        {
          errorMessages: [`Error in the JQL Query: the stand-in reads only project = "X" AND labels = "y", got ${query.get('jql')}`],
          errors: {},
        },
      ];
    const wanted = (query.get('fields') ?? '').split(',').filter((f) => f !== '');
    const found = [...issues.values()]
      .filter((i) => m[1] === project && i.fields.labels.includes(m[2] ?? ''))
      .slice(0, Number(query.get('maxResults') ?? 50))
      .map((i) => ({ id: i.id, key: i.key, self: browse(i.key), fields: Object.fromEntries(wanted.map((f) => [f, i.fields[f]])) }));
    return [
      200,
      apiVersion === '3' ? { issues: found, isLast: true } : { startAt: 0, maxResults: found.length, total: found.length, issues: found },
    ];
  }

  function create(body: unknown): [number, unknown] {
    const fields = (body as { fields?: unknown } | null)?.fields;
    if (typeof fields !== 'object' || fields === null) return [400, { errorMessages: ['Issue must have fields'], errors: {} }];
    const errors = createErrors(fields as Record<string, unknown>, { apiVersion, project, customFields });
    if (Object.keys(errors).length > 0) return [400, { errorMessages: [], errors }];
    const given = fields as Record<string, unknown> & { summary: string; labels?: string[] };
    const n = issues.size + 1;
    const issue: StandInIssue = {
      id: String(10000 + n),
      key: `${project}-${n}`,
      fields: { ...given, summary: given.summary, labels: given.labels ?? [], status: STATUSES.todo },
      comments: [],
      changelog: [],
    };
    issues.set(issue.key, issue);
    return [201, { id: issue.id, key: issue.key, self: browse(issue.key) }];
  }

  function comment(issue: StandInIssue, body: unknown): [number, unknown] {
    const text = (body as { body?: unknown } | null)?.body;
    const ok = apiVersion === '3' ? isAdfDoc(text) : typeof text === 'string' && text.trim() !== '';
    if (!ok)
      return [
        400,
        {
          errorMessages: [],
          errors: { comment: apiVersion === '3' ? 'Comment body must be an Atlassian Document' : 'Comment body can not be empty!' },
        },
      ];
    const saved = { id: String(30000 + ++seq), body: text, author: BOT.displayName };
    issue.comments.push(saved);
    echo({ timestamp: Date.now(), webhookEvent: 'comment_created', comment: { ...saved, author: BOT }, issue: webhookIssue(issue) });
    return [201, { id: saved.id, body: text, author: BOT, created: new Date().toISOString() }];
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const parsed = new URL(req.url ?? '/', 'http://stand-in');
    const method = req.method ?? 'GET';
    const record = (status: number, body: unknown): void => {
      requests.push({ method, path: `${parsed.pathname}${parsed.search}`, headers: req.headers, body, status });
    };
    let body: unknown = null;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        record(400, raw);
        return sendJson(res, 400, { errorMessages: ['Unexpected character in the request body: not JSON'], errors: {} });
      }
    }
    const failure = failures.shift();
    if (failure !== undefined) {
      if ('drop' in failure) return void req.socket.destroy();
      if ('hang' in failure) return;
      record(failure.status, body);
      return sendJson(
        res,
        failure.status,
        failure.body ?? { errorMessages: [`stand-in failure ${failure.status}`], errors: {} },
        failure.headers,
      );
    }
    if (opts.rateLimitPerSecond !== undefined) {
      const now = Date.now();
      if (now - window.start >= 1000) window = { start: now, count: 0 };
      if (++window.count > opts.rateLimitPerSecond) {
        record(429, body);
        const wait = String(Math.max(1, Math.ceil((window.start + 1000 - now) / 1000)));
        return sendJson(res, 429, { errorMessages: ['Rate limit exceeded.'], errors: {} }, { 'retry-after': wait });
      }
    }
    if (req.headers.authorization !== expectedAuth) {
      record(401, body);
      return sendJson(res, 401, { errorMessages: ['Client must be authenticated to access this resource.'], errors: {} });
    }
    if (raw !== '' && !(req.headers['content-type'] ?? '').startsWith('application/json')) {
      record(415, body);
      return sendJson(res, 415, { errorMessages: ['Unsupported Media Type'], errors: {} });
    }
    if (!parsed.pathname.startsWith(`${api}/`)) {
      record(404, body);
      return sendJson(res, 404, { errorMessages: [`This Jira speaks ${api} only`], errors: {} });
    }
    const [status, answer] = route(method, parsed.pathname.slice(api.length), parsed.searchParams, body);
    record(status, body);
    sendJson(res, status, answer);
  }

  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    issues,
    requests,
    failNext: (failure, times = 1) => {
      for (let i = 0; i < times; i += 1) failures.push(failure);
    },
    async resolveIssue(key, o) {
      const issue = issues.get(key);
      if (issue === undefined) throw new Error(`stand-in has no issue ${key}`);
      const actor = user(o.by);
      const changelog = change(issue, STATUSES.done);
      const status = await sendWebhook(
        { url: o.webhookUrl, secret: o.secret, signing: o.signing ?? 'hmac' },
        {
          timestamp: Date.now(),
          webhookEvent: 'jira:issue_updated',
          issue_event_type_name: 'issue_generic',
          user: actor,
          issue: webhookIssue(issue),
          changelog,
        },
      );
      if (status < 200 || status > 299) throw new Error(`webhook for ${key} answered HTTP ${status}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (status === 204) {
    res.writeHead(204, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
