import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local Opsgenie for tests and benchmarks: the Alert API v2 (create, get by id/alias/tiny,
 * list, acknowledge, unacknowledge, close, notes) with `GenieKey` auth, asynchronous processing
 * (202 + requestId, GET /v2/alerts/requests/{id} answering 404 until processed), alias
 * deduplication of open alerts, Opsgenie's error body and 422 field checks, a rate limit answering
 * 429 with X-RateLimit-* headers and no Retry-After, and the outgoing webhook a person's action
 * sends (with the custom token header the integration is set up with).
 */

export interface StandInAlert {
  id: string;
  tinyId: string;
  alias: string;
  message: string;
  description: string;
  priority: string;
  tags: string[];
  details: Record<string, string>;
  entity: string;
  source: string;
  responders: unknown[];
  status: 'open' | 'closed';
  acknowledged: boolean;
  count: number;
  notes: { user: string; note: string }[];
  /** Every action on the alert, in order, with who made it. */
  log: { action: string; user: string; source: string }[];
  createdAt: string;
  updatedAt: string;
}

export interface OpsgenieStandInOptions {
  apiKey: string;
  /** Requests are processed this long after they are accepted (default 20 ms). */
  processDelayMs?: number;
  /** At most this many API calls per second; more are answered 429. */
  ratePerSecond?: number;
  now?: () => Date;
}

export interface OpsgenieStandIn {
  url: string;
  alerts: Map<string, StandInAlert>;
  /** Bodies of the create requests, as sent. */
  creates: unknown[];
  /** The next API calls fail with these answers, in order; 'hang' never answers (until close). */
  failNext(status: number | 'hang', headers?: Record<string, string>, body?: unknown): void;
  /** A person acts on the alert in Opsgenie; the outgoing webhook posts the action to `to.url` with the token; the HTTP status it got. */
  act(
    alias: string,
    action: 'Acknowledge' | 'UnAcknowledge' | 'Close' | 'AddNote',
    by: string,
    to: { url: string; token?: string; header?: string; note?: string },
  ): Promise<number>;
  close(): Promise<void>;
}

const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ ...body, took: 0.01, requestId: randomUUID() }));
}

/** A 422 for the first field check that fails, in Opsgenie's words; null when the body is fine. */
function createProblem(body: Record<string, unknown>): string | null {
  const { message, alias, description, priority, tags, details, responders } = body;
  if (typeof message !== 'string' || message.trim() === '') return 'Message can not be empty.';
  if (message.length > 130) return 'Message can not be longer than 130 characters.';
  if (alias !== undefined && (typeof alias !== 'string' || alias.length > 512))
    return 'Alias should be a string of at most 512 characters.';
  if (description !== undefined && (typeof description !== 'string' || description.length > 15000))
    return 'Description should be a string of at most 15000 characters.';
  if (priority !== undefined && !PRIORITIES.includes(priority as string)) return 'Priority should be one of [P1, P2, P3, P4, P5]';
  if (tags !== undefined && (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))) return 'Tags should be a list of strings.';
  if (
    details !== undefined &&
    (typeof details !== 'object' || details === null || Object.values(details).some((v) => typeof v !== 'string'))
  ) {
    return 'Details should be a map of strings.';
  }
  if (
    responders !== undefined &&
    (!Array.isArray(responders) || responders.some((r) => typeof (r as { type?: unknown }).type !== 'string'))
  ) {
    return 'Responders should have a type.';
  }
  return null;
}

export async function startOpsgenieStandIn(opts: OpsgenieStandInOptions): Promise<OpsgenieStandIn> {
  const now = opts.now ?? (() => new Date());
  const alerts = new Map<string, StandInAlert>();
  const creates: unknown[] = [];
  const processed = new Map<string, Record<string, unknown>>();
  const timers = new Set<NodeJS.Timeout>();
  const failures: { status: number | 'hang'; headers: Record<string, string>; body: unknown }[] = [];
  let nextTiny = 1;
  let window = { second: 0, count: 0 };

  function later(requestId: string, work: () => Record<string, unknown>): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      processed.set(requestId, { ...work(), processedAt: now().toISOString(), integrationId: 'stand-in-integration' });
    }, opts.processDelayMs ?? 20);
    timers.add(timer);
  }

  function accepted(res: ServerResponse, work: () => Record<string, unknown>): void {
    const requestId = randomUUID();
    later(requestId, work);
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ result: 'Request will be processed', took: 0.01, requestId }));
  }

  function lookup(identifier: string, type: string | null): StandInAlert | undefined {
    const all = [...alerts.values()];
    if (type === 'alias')
      return all.filter((a) => a.alias === identifier).sort((a, b) => Number(b.status === 'open') - Number(a.status === 'open'))[0];
    if (type === 'tiny') return all.find((a) => a.tinyId === identifier);
    return alerts.get(identifier);
  }

  function record(alert: StandInAlert, action: string, user: string, source: string, note?: string): void {
    if (action === 'Acknowledge') alert.acknowledged = true;
    if (action === 'UnAcknowledge') alert.acknowledged = false;
    if (action === 'Close') alert.status = 'closed';
    if (note) alert.notes.push({ user, note });
    alert.log.push({ action, user, source });
    alert.updatedAt = now().toISOString();
  }

  function create(body: Record<string, unknown>): Record<string, unknown> {
    const alias = typeof body.alias === 'string' ? body.alias : randomUUID();
    const open = [...alerts.values()].find((a) => a.alias === alias && a.status === 'open');
    if (open) {
      open.count += 1;
      return { success: true, action: 'Create', isSuccess: true, status: 'Alert is deduplicated', alertId: open.id, alias };
    }
    const stamp = now().toISOString();
    const alert: StandInAlert = {
      id: randomUUID(),
      tinyId: String(nextTiny++),
      alias,
      message: body.message as string,
      description: (body.description as string | undefined) ?? '',
      priority: (body.priority as string | undefined) ?? 'P3',
      tags: (body.tags as string[] | undefined) ?? [],
      details: (body.details as Record<string, string> | undefined) ?? {},
      entity: (body.entity as string | undefined) ?? '',
      source: (body.source as string | undefined) ?? '',
      responders: (body.responders as unknown[] | undefined) ?? [],
      status: 'open',
      acknowledged: false,
      count: 1,
      notes: [],
      log: [],
      createdAt: stamp,
      updatedAt: stamp,
    };
    alerts.set(alert.id, alert);
    record(alert, 'Create', (body.user as string | undefined) ?? '', alert.source, body.note as string | undefined);
    return { success: true, action: 'Create', isSuccess: true, status: 'Created alert', alertId: alert.id, alias };
  }

  function view(alert: StandInAlert): Record<string, unknown> {
    const { notes: _notes, log: _log, ...rest } = alert;
    return { ...rest, isSeen: false, snoozed: false, owner: '', integration: { id: 'stand-in-integration', name: 'oncall', type: 'API' } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const raw = await readBody(req);
    if (req.headers.authorization !== `GenieKey ${opts.apiKey}`) return send(res, 401, { message: 'Could not authenticate' });
    const failure = failures.shift();
    if (failure?.status === 'hang') return;
    if (failure)
      return send(
        res,
        failure.status,
        (failure.body as Record<string, unknown> | undefined) ?? { message: 'Internal Server Error' },
        failure.headers,
      );
    if (opts.ratePerSecond !== undefined) {
      const second = Math.floor(now().getTime() / 1000);
      window = window.second === second ? { second, count: window.count + 1 } : { second, count: 1 };
      if (window.count > opts.ratePerSecond) {
        const headers = { 'x-ratelimit-state': 'THROTTLED', 'x-ratelimit-reason': 'INTEGRATION', 'x-ratelimit-period-in-sec': '1' };
        return send(res, 429, { message: 'You are making too many requests! To avoid errors, we recommend you limit requests.' }, headers);
      }
    }
    let body: Record<string, unknown> = {};
    if (req.method === 'POST') {
      if (req.headers['content-type']?.split(';')[0] !== 'application/json')
        return send(res, 415, { message: 'Content-Type must be application/json' });
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return send(res, 400, { message: 'Request body is not valid JSON' });
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        return send(res, 422, { message: 'Request body is not processable.' });
    }
    const path = url.pathname;
    if (req.method === 'POST' && path === '/v2/alerts') {
      const problem = createProblem(body);
      if (problem !== null)
        return send(res, 422, { message: 'Request body is not processable. Please check the errors.', errors: { message: problem } });
      creates.push(body);
      return accepted(res, () => create(body));
    }
    if (req.method === 'GET' && path === '/v2/alerts') {
      const limit = Number(url.searchParams.get('limit') ?? '20');
      return send(res, 200, { data: [...alerts.values()].slice(0, limit).map(view) });
    }
    const requestStatus = /^\/v2\/alerts\/requests\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && requestStatus) {
      const result = processed.get(decodeURIComponent(requestStatus[1] ?? ''));
      return result ? send(res, 200, { data: result }) : send(res, 404, { message: 'Request not found. It might not be processed, yet.' });
    }
    const action = /^\/v2\/alerts\/([^/]+)(?:\/(acknowledge|unacknowledge|close|notes))?$/.exec(path);
    if (!action) return send(res, 404, { message: `No API at ${path}` });
    const type = url.searchParams.get('identifierType');
    if (type !== null && !['id', 'alias', 'tiny'].includes(type))
      return send(res, 422, { message: 'Identifier type is not valid', errors: { identifierType: type } });
    const alert = lookup(decodeURIComponent(action[1] ?? ''), type);
    if (req.method === 'GET' && action[2] === undefined)
      return alert ? send(res, 200, { data: view(alert) }) : send(res, 404, { message: 'Alert does not exist' });
    if (req.method !== 'POST' || action[2] === undefined) return send(res, 405, { message: 'Method not allowed' });
    const names = { acknowledge: 'Acknowledge', unacknowledge: 'UnAcknowledge', close: 'Close', notes: 'AddNote' } as const;
    const verb = action[2] as keyof typeof names;
    if (verb === 'notes' && (typeof body.note !== 'string' || body.note === '')) {
      return send(res, 422, {
        message: 'Request body is not processable. Please check the errors.',
        errors: { note: 'Note can not be empty.' },
      });
    }
    for (const field of ['user', 'source', 'note']) {
      if (body[field] !== undefined && typeof body[field] !== 'string')
        return send(res, 422, { message: 'Request body is not processable.', errors: { [field]: 'should be a string' } });
    }
    // Like Opsgenie, a missing alert is only found out when the request is processed.
    return accepted(res, () => {
      if (!alert) return { success: false, action: names[verb], isSuccess: false, status: 'Alert does not exist' };
      record(
        alert,
        names[verb],
        (body.user as string | undefined) ?? '',
        (body.source as string | undefined) ?? '',
        body.note as string | undefined,
      );
      return { success: true, action: names[verb], isSuccess: true, status: 'Succeeded', alertId: alert.id, alias: alert.alias };
    });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    alerts,
    creates,
    failNext(status, headers = {}, body) {
      failures.push({ status, headers, body });
    },
    async act(alias, action, by, to) {
      const alert = lookup(alias, 'alias');
      if (!alert) throw new Error(`stand-in has no alert with alias ${alias}`);
      record(alert, action, by, 'web', to.note);
      const payload = {
        source: { name: '', type: 'web' },
        alert: {
          updatedAt: now().getTime() * 1_000_000 + alert.log.length,
          tags: alert.tags,
          teams: [],
          recipients: [],
          message: alert.message,
          username: by,
          alertId: alert.id,
          source: alert.source,
          alias: alert.alias,
          tinyId: alert.tinyId,
          createdAt: Date.parse(alert.createdAt),
          userId: randomUUID(),
          entity: alert.entity,
          ...(to.note === undefined ? {} : { note: to.note }),
        },
        action,
        integrationId: randomUUID(),
        integrationName: 'oncall outgoing webhook',
      };
      const res = await fetch(to.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(to.token === undefined ? {} : { [to.header ?? 'X-Oncall-Token']: to.token }) },
        body: JSON.stringify(payload),
      });
      await res.body?.cancel();
      return res.status;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
