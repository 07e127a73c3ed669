import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signServiceNowCall } from './inbound.js';

/**
 * A local ServiceNow instance for tests and benchmarks: the Table API on `incident`
 * (GET/POST/PATCH with sysparm_query, sysparm_limit, sysparm_fields), `/oauth_token.do` client
 * credentials, ServiceNow's error body, a rate limit answering 429 with Retry-After, and the
 * Business Rule's signed call. It checks what a real instance checks (credentials, the data
 * policy of resolution fields, choice values) and is stricter where a real one silently ignores
 * mistakes: unknown columns and query terms are refused, so a wrong request fails the test.
 */

export interface IncidentRow {
  sys_id: string;
  number: string;
  state: string;
  short_description: string;
  description: string;
  urgency: string;
  impact: string;
  priority: string;
  assignment_group: string;
  caller_id: string;
  correlation_id: string;
  correlation_display: string;
  close_code: string;
  close_notes: string;
  sys_created_on: string;
  sys_updated_on: string;
  sys_updated_by: string;
  sys_mod_count: string;
  [custom: `u_${string}`]: string;
  /** Journal entries (work notes), newest last; the Table API returns '' for the journal field itself. */
  journal: { by: string; on: string; text: string }[];
}

export interface StandInRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | null;
  body: unknown;
}

export interface ServiceNowStandInOptions {
  /** The integration user (Basic) and/or OAuth client the instance accepts. */
  username?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
  /** At most this many API calls per second; more are answered 429 with Retry-After. */
  ratePerSecond?: number;
  now?: () => Date;
}

export interface ServiceNowStandIn {
  url: string;
  records: Map<string, IncidentRow>;
  requests: StandInRequest[];
  /** Forgets every OAuth access token issued (as when an admin revokes them). */
  revokeTokens(): void;
  /** The next API calls fail with these answers, in order; 'hang' never answers (until close). */
  failNext(status: number | 'hang', headers?: Record<string, string>, body?: unknown): void;
  /** A person changes the incident in ServiceNow (no call to us). */
  change(sysId: string, change: { state?: string; by: string; workNotes?: string; closeCode?: string; closeNotes?: string }): IncidentRow;
  /** The Business Rule: posts the record, signed with `secret`, to `url`; the HTTP status it got back. */
  notify(sysId: string, to: { url: string; secret: string; workNotes?: string; timestampSeconds?: number }): Promise<number>;
  /** A person resolves the incident and the Business Rule tells oncall. */
  resolve(sysId: string, by: string, to: { url: string; secret: string }): Promise<number>;
  close(): Promise<void>;
}

const COLUMNS = new Set([
  'short_description',
  'description',
  'urgency',
  'impact',
  'assignment_group',
  'caller_id',
  'correlation_id',
  'correlation_display',
  'state',
  'work_notes',
  'close_code',
  'close_notes',
]);
const CHOICES: Record<string, Set<string>> = {
  urgency: new Set(['1', '2', '3']),
  impact: new Set(['1', '2', '3']),
  state: new Set(['1', '2', '3', '6', '7', '8']),
};

function snTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

function snError(res: ServerResponse, status: number, message: string, detail: string | null, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { message, detail }, status: 'failure' }));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

type Term = { field: string; op: '=' | '>=' | '>' | 'STARTSWITH'; value: string } | { orderBy: string; desc: boolean };

/** sysparm_query terms the bridge uses; anything else is refused (a real instance would ignore it). */
function parseQuery(query: string): Term[] | null {
  const terms: Term[] = [];
  for (const part of query === '' ? [] : query.split('^')) {
    const order = /^ORDERBY(DESC)?([a-z_]+)$/.exec(part);
    if (order) {
      terms.push({ orderBy: order[2] ?? '', desc: order[1] !== undefined });
      continue;
    }
    const cond = /^([a-z_]+)(>=|>|=|STARTSWITH)(.*)$/.exec(part);
    if (!cond) return null;
    terms.push({ field: cond[1] ?? '', op: cond[2] as '=' | '>=' | '>' | 'STARTSWITH', value: cond[3] ?? '' });
  }
  return terms;
}

function column(row: IncidentRow, field: string): string {
  const value = (row as unknown as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : '';
}

function matches(row: IncidentRow, terms: Term[]): boolean {
  return terms.every((t) => {
    if ('orderBy' in t) return true;
    const value = column(row, t.field);
    if (t.op === '=') return value === t.value;
    if (t.op === '>=') return value >= t.value;
    if (t.op === '>') return value > t.value;
    return value.startsWith(t.value);
  });
}

function view(row: IncidentRow, fields: string | null): Record<string, string> {
  const { journal: _journal, ...columns } = row;
  const all: Record<string, string> = { ...columns, work_notes: '' };
  if (fields === null) return all;
  return Object.fromEntries(fields.split(',').map((f) => [f, all[f] ?? '']));
}

export async function startServiceNowStandIn(opts: ServiceNowStandInOptions = {}): Promise<ServiceNowStandIn> {
  const now = opts.now ?? (() => new Date());
  const records = new Map<string, IncidentRow>();
  const requests: StandInRequest[] = [];
  const failures: { status: number | 'hang'; headers: Record<string, string>; body: unknown }[] = [];
  const accessTokens = new Set<string>();
  let nextNumber = 10001;
  let window = { second: 0, count: 0 };

  function userOf(authorization: string | null): string | null {
    if (authorization === null) return null;
    if (authorization.startsWith('Bearer ')) return accessTokens.has(authorization.slice(7)) ? 'oauth.integration' : null;
    if (!authorization.startsWith('Basic ') || opts.username === undefined) return null;
    const [user, ...rest] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':');
    return user === opts.username && rest.join(':') === opts.password ? user : null;
  }

  function apply(row: IncidentRow, body: Record<string, string>, by: string): void {
    const target = row as unknown as Record<string, string>;
    for (const [field, value] of Object.entries(body)) {
      if (field === 'work_notes') row.journal.push({ by, on: snTime(now()), text: value });
      else target[field] = value;
    }
    row.priority = String(Number(row.impact) + Number(row.urgency) - 1);
    row.sys_updated_on = snTime(now());
    row.sys_updated_by = by;
    row.sys_mod_count = String(Number(row.sys_mod_count) + 1);
  }

  /** The checks a write goes through; an error answer or null. */
  function refuseWrite(body: unknown, row: IncidentRow | null): [number, string, string] | null {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return [400, 'Invalid request body', 'expected a JSON object'];
    for (const [field, value] of Object.entries(body)) {
      if (!COLUMNS.has(field) && !field.startsWith('u_')) return [400, 'Invalid field', `incident has no column ${field}`];
      if (typeof value !== 'string') return [400, 'Invalid value', `${field} must be a string, got ${typeof value}`];
      if (CHOICES[field] && !CHOICES[field].has(value)) return [400, 'Invalid choice', `${field} has no choice ${value}`];
    }
    const fields = body as Record<string, string>;
    if (row === null && !fields.short_description)
      return [403, 'Operation Failed', 'Data Policy Exception: \n Short description is mandatory'];
    const state = fields.state ?? row?.state;
    if (state === '6' || state === '7') {
      const missing = [
        (fields.close_code ?? row?.close_code) ? null : 'Resolution code',
        (fields.close_notes ?? row?.close_notes) ? null : 'Resolution notes',
      ].filter((m) => m !== null);
      if (missing.length > 0)
        return [403, 'Operation Failed', `Data Policy Exception: \n${missing.map((m) => ` ${m} is mandatory`).join('\n')}`];
    }
    return null;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const raw = await readBody(req);
    if (url.pathname === '/oauth_token.do' && req.method === 'POST') {
      const form = new URLSearchParams(raw);
      const ok =
        form.get('grant_type') === 'client_credentials' &&
        opts.clientId !== undefined &&
        form.get('client_id') === opts.clientId &&
        form.get('client_secret') === opts.clientSecret;
      if (!ok) return json(res, 401, { error_description: 'access_denied', error: 'server_error' });
      const token = randomBytes(24).toString('base64url');
      accessTokens.add(token);
      return json(res, 200, { access_token: token, scope: 'useraccount', token_type: 'Bearer', expires_in: 1799 });
    }
    const authorization = req.headers.authorization ?? null;
    let body: unknown = null;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        return snError(res, 400, 'Exception while reading request', 'The payload is not valid JSON.');
      }
    }
    requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, authorization, body });
    const user = userOf(authorization);
    if (user === null) return snError(res, 401, 'User Not Authenticated', 'Required to provide Auth information');
    const failure = failures.shift();
    if (failure?.status === 'hang') return;
    if (failure) {
      res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
      res.end(JSON.stringify(failure.body ?? { error: { message: 'Internal server error', detail: null }, status: 'failure' }));
      return;
    }
    if (opts.ratePerSecond !== undefined) {
      const second = Math.floor(now().getTime() / 1000);
      window = window.second === second ? { second, count: window.count + 1 } : { second, count: 1 };
      if (window.count > opts.ratePerSecond) {
        return snError(res, 429, 'Rate limit exceeded', `more than ${opts.ratePerSecond} requests per second`, { 'retry-after': '1' });
      }
    }
    const route = /^\/api\/now\/table\/incident(?:\/([0-9a-f]{32}))?$/.exec(url.pathname);
    if (!route) return snError(res, 400, 'Invalid table', `no table at ${url.pathname}`);
    if (req.headers.accept !== 'application/json') return snError(res, 406, 'Not Acceptable', 'send Accept: application/json');
    const fields = url.searchParams.get('sysparm_fields');
    const sysId = route[1];
    if (req.method === 'GET' && sysId === undefined) {
      const terms = parseQuery(url.searchParams.get('sysparm_query') ?? '');
      if (terms === null) return snError(res, 400, 'Invalid query', url.searchParams.get('sysparm_query'));
      const limit = Number(url.searchParams.get('sysparm_limit') ?? '10000');
      let rows = [...records.values()].filter((r) => matches(r, terms));
      for (const t of [...terms].reverse()) {
        if (!('orderBy' in t)) continue;
        rows = rows.sort((a, b) => column(a, t.orderBy).localeCompare(column(b, t.orderBy)) * (t.desc ? -1 : 1));
      }
      return json(res, 200, { result: rows.slice(0, limit).map((r) => view(r, fields)) });
    }
    if (req.headers['content-type']?.split(';')[0] !== 'application/json') return snError(res, 415, 'Unsupported Media Type', 'send JSON');
    if (req.method === 'POST' && sysId === undefined) {
      const refused = refuseWrite(body, null);
      if (refused) return snError(res, ...refused);
      const stamp = snTime(now());
      const row: IncidentRow = {
        sys_id: randomBytes(16).toString('hex'),
        number: `INC${String(nextNumber++).padStart(7, '0')}`,
        state: '1',
        short_description: '',
        description: '',
        urgency: '3',
        impact: '3',
        priority: '5',
        assignment_group: '',
        caller_id: '',
        correlation_id: '',
        correlation_display: '',
        close_code: '',
        close_notes: '',
        sys_created_on: stamp,
        sys_updated_on: stamp,
        sys_updated_by: user,
        sys_mod_count: '-1',
        journal: [],
      };
      apply(row, body as Record<string, string>, user);
      records.set(row.sys_id, row);
      return json(res, 201, { result: view(row, fields) });
    }
    if (req.method === 'PATCH' && sysId !== undefined) {
      const row = records.get(sysId);
      if (!row) return snError(res, 404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
      const refused = refuseWrite(body, row);
      if (refused) return snError(res, ...refused);
      apply(row, body as Record<string, string>, user);
      return json(res, 200, { result: view(row, fields) });
    }
    return snError(res, 405, 'Method not Supported', `${req.method} ${url.pathname}`);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => snError(res, 500, 'Stand-in failed', String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function row(sysId: string): IncidentRow {
    const found = records.get(sysId);
    if (!found) throw new Error(`stand-in has no incident ${sysId}`);
    return found;
  }

  const standIn: ServiceNowStandIn = {
    url,
    records,
    requests,
    revokeTokens() {
      accessTokens.clear();
    },
    failNext(status, headers = {}, body) {
      failures.push({ status, headers, body });
    },
    change(sysId, change) {
      const target = row(sysId);
      const body: Record<string, string> = {};
      if (change.state !== undefined) body.state = change.state;
      if (change.workNotes !== undefined) body.work_notes = change.workNotes;
      if (change.closeCode !== undefined) body.close_code = change.closeCode;
      if (change.closeNotes !== undefined) body.close_notes = change.closeNotes;
      apply(target, body, change.by);
      return target;
    },
    async notify(sysId, to) {
      const target = row(sysId);
      const record = {
        sys_id: target.sys_id,
        number: target.number,
        state: target.state,
        sys_updated_by: target.sys_updated_by,
        sys_updated_on: target.sys_updated_on,
        sys_mod_count: target.sys_mod_count,
        correlation_id: target.correlation_id,
        ...(to.workNotes === undefined ? {} : { work_notes: to.workNotes }),
      };
      const body = JSON.stringify(record);
      const timestamp = to.timestampSeconds ?? Math.floor(now().getTime() / 1000);
      const res = await fetch(to.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-oncall-timestamp': String(timestamp),
          'x-oncall-signature': signServiceNowCall(to.secret, timestamp, body),
        },
        body,
      });
      await res.body?.cancel();
      return res.status;
    },
    async resolve(sysId, by, to) {
      standIn.change(sysId, { state: '6', by, closeCode: 'Solution provided', closeNotes: `Resolved by ${by}` });
      return standIn.notify(sysId, to);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return standIn;
}
