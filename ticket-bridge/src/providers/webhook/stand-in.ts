import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { standardWebhookHeaders, verifyStandardWebhook } from '@oncall/shared';

/**
 * A local receiver of generic webhook tickets, for tests and benchmarks. It checks what a careful
 * receiver checks: the Standard Webhooks signature (when it has a secret), an `Idempotency-Key`
 * on creates, a JSON object body; and stores tickets by idempotency key, so a repeated create
 * answers the ticket it made (200) instead of a second one (201). Faults can be queued
 * (`failNext`: status and Retry-After). `sendChange` posts a signed status change to the bridge,
 * as the receiver would when someone closes the ticket; `changeQuietly` records a change only for
 * `GET /changes?since=<cursor>` (what a polling provider reads).
 */

export type StandInTicket = { key: string; id: string; idempotencyKey: string; status: string; body: unknown; updates: unknown[] };

export type WebhookStandIn = {
  url: string;
  tickets: Map<string, StandInTicket>;
  /** Creates that made a new ticket. */
  readonly created: number;
  /** Every request, in order: method, path, status answered. */
  readonly requests: { method: string; path: string; status: number; at: number }[];
  failNext: (count: number, status: number, retryAfterSeconds?: number) => void;
  /** Creates store the ticket at once and answer after this long (a provider slow to answer). */
  answerCreatesAfterMs: number;
  /** Resolves when the next create request has stored its ticket. */
  nextCreate: () => Promise<StandInTicket>;
  /** Changes the ticket's status at the receiver without telling the bridge (it finds out by polling `GET /changes?since=`). */
  changeQuietly: (change: { ticket: string; status: string; actor?: string }) => void;
  /** Posts a signed status change of `ticket` to the bridge's inbound endpoint; returns the HTTP status. */
  sendChange: (
    bridgeUrl: string,
    providerId: string,
    secret: string,
    change: { ticket: string; status: string; actor?: string; id?: string },
  ) => Promise<number>;
  stop: () => Promise<void>;
};

const readBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export async function startWebhookStandIn(opts: { signingSecret?: string } = {}): Promise<WebhookStandIn> {
  const tickets = new Map<string, StandInTicket>();
  const byKey = new Map<string, StandInTicket>();
  const requests: WebhookStandIn['requests'] = [];
  const faults: { status: number; retryAfter: number | undefined }[] = [];
  let created = 0;
  let url = '';
  let createDelayMs = 0;
  const createWaiters: Array<(t: StandInTicket) => void> = [];
  const changes: { seq: number; id: string; ticket: string; status: string; actor: string | null; idempotencyKey: string | undefined }[] =
    [];

  const answer = (req: IncomingMessage, res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', status, at: Date.now() });
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body === undefined ? '' : JSON.stringify(body));
  };
  const ticketJson = (t: StandInTicket) => ({ key: t.key, id: t.id, url: `${url}/browse/${t.key}` });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const fault = faults.shift();
    if (fault)
      return answer(
        req,
        res,
        fault.status,
        { error: 'injected' },
        fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) },
      );
    if (opts.signingSecret !== undefined) {
      const problem = verifyStandardWebhook(
        opts.signingSecret,
        { id: header(req, 'webhook-id'), timestamp: header(req, 'webhook-timestamp'), signature: header(req, 'webhook-signature') },
        body,
        Math.floor(Date.now() / 1000),
      );
      if (problem !== null) return answer(req, res, 401, { error: `signature: ${problem}` });
    }
    const u = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && u.pathname === '/tickets') {
      const t = tickets.get(u.searchParams.get('idempotency_key') ?? '');
      return t ? answer(req, res, 200, ticketJson(t)) : answer(req, res, 404, { error: 'no such ticket' });
    }
    if (req.method === 'GET' && u.pathname === '/changes') {
      const since = Number(u.searchParams.get('since') ?? '0');
      return answer(req, res, 200, { changes: changes.filter((c) => c.seq > since), cursor: String(changes.length) });
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(req, res, 400, { error: 'body is not JSON' });
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return answer(req, res, 400, { error: 'a JSON object expected' });
    if (req.method === 'POST' && u.pathname === '/tickets') {
      const key = header(req, 'idempotency-key');
      if (!key) return answer(req, res, 400, { error: 'Idempotency-Key header required' });
      const had = tickets.get(key);
      if (had) return answer(req, res, 200, ticketJson(had));
      const t: StandInTicket = {
        key: `WH-${tickets.size + 1}`,
        id: randomUUID(),
        idempotencyKey: key,
        status: 'open',
        body: json,
        updates: [],
      };
      tickets.set(key, t);
      byKey.set(t.key, t);
      created++;
      for (const w of createWaiters.splice(0)) w(t);
      if (createDelayMs > 0) await new Promise((r) => setTimeout(r, createDelayMs));
      return answer(req, res, 201, ticketJson(t));
    }
    const m = /^\/tickets\/([^/]+)$/.exec(u.pathname);
    if (req.method === 'PUT' && m) {
      const t = byKey.get(decodeURIComponent(m[1]!));
      if (!t) return answer(req, res, 404, { error: 'no such ticket' });
      t.updates.push(json);
      const transition = (json as { transition?: unknown }).transition;
      if (typeof transition === 'string') t.status = transition;
      return answer(req, res, 200, ticketJson(t));
    }
    return answer(req, res, 404, { error: 'no such route' });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    tickets,
    get created() {
      return created;
    },
    requests,
    get answerCreatesAfterMs() {
      return createDelayMs;
    },
    set answerCreatesAfterMs(ms: number) {
      createDelayMs = ms;
    },
    nextCreate: () => new Promise<StandInTicket>((resolve) => createWaiters.push(resolve)),
    failNext: (count, status, retryAfterSeconds) => {
      for (let i = 0; i < count; i++) faults.push({ status, retryAfter: retryAfterSeconds });
    },
    changeQuietly: (change) => {
      const t = byKey.get(change.ticket);
      if (t) t.status = change.status;
      changes.push({
        seq: changes.length + 1,
        id: randomUUID(),
        ticket: change.ticket,
        status: change.status,
        actor: change.actor ?? null,
        idempotencyKey: t?.idempotencyKey,
      });
    },
    sendChange: async (bridgeUrl, providerId, secret, change) => {
      const t = byKey.get(change.ticket);
      if (t) t.status = change.status;
      const id = change.id ?? randomUUID();
      const body = JSON.stringify({
        id,
        ticket: change.ticket,
        status: change.status,
        actor: change.actor ?? null,
        idempotencyKey: t?.idempotencyKey,
      });
      const headers = { 'content-type': 'application/json', ...standardWebhookHeaders(secret, id, Math.floor(Date.now() / 1000), body) };
      const res = await fetch(`${bridgeUrl}/api/v1/tickets/${providerId}/events`, { method: 'POST', headers, body });
      await res.arrayBuffer();
      return res.status;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
