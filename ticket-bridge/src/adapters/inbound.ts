import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CommandNotAppended } from '@oncall/shared';
import { InboundRejected } from '../providers/types.js';
import { applyChange, locate } from './changes.js';
import type { Deps } from './deps.js';
import { inboundCalls } from './metrics.js';

const BODY_LIMIT_BYTES = 256 * 1024;
const ROUTE = /^\/api\/v1\/tickets\/([a-z0-9][a-z0-9_-]*)\/events$/;

class TooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT_BYTES) throw new TooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The providers' calls to us: `POST /api/v1/tickets/<providerId>/events`. The provider verifies
 * and parses the call (`receive`: a bad signature is refused with its status, nothing appended);
 * a change of a ticket the bridge does not know is refused (404) and nothing of the call is
 * applied; else each change is applied (changes.ts). Bodies over 256 KiB are refused (413).
 */
export async function serveInbound(d: Deps, port: number, host: string): Promise<{ server: Server; url: string }> {
  const reply = (res: ServerResponse, providerId: string, status: number, body: object) => {
    inboundCalls.inc({ provider: providerId, status: String(status) });
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://bridge');
    const route = ROUTE.exec(url.pathname);
    if (!route) return reply(res, '', 404, { error: 'not found' });
    const providerId = route[1]!;
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return reply(res, providerId, 405, { error: 'POST only' });
    }
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof TooLarge) return reply(res, providerId, 413, { error: `body over ${BODY_LIMIT_BYTES} bytes` });
      throw err;
    }
    const c = d.providers.get(providerId);
    if (c === undefined) return reply(res, providerId, 404, { error: `no ticket provider ${providerId}` });
    if ('error' in c) return reply(res, providerId, 503, { error: `provider ${providerId} is not usable now` });
    if (!c.provider.receive) return reply(res, providerId, 404, { error: `provider ${providerId} takes no inbound calls` });
    let changes;
    try {
      changes = await c.provider.receive(c.ctx, {
        method: req.method,
        path: url.pathname,
        headers: req.headers,
        query: url.searchParams,
        body,
      });
    } catch (err) {
      if (err instanceof InboundRejected) {
        d.log.warn({ providerId, problem: err.message, status: err.httpStatus }, 'inbound ticket call refused');
        return reply(res, providerId, err.httpStatus, { error: err.message });
      }
      throw err;
    }
    const located = await locate(d, providerId, changes);
    if ('unknown' in located) return reply(res, providerId, 404, { error: `unknown ticket ${located.unknown}` });
    let resolved = 0;
    for (const [i, change] of changes.entries()) if ((await applyChange(d, c, change, located[i]!)).resolved) resolved++;
    return reply(res, providerId, 200, { accepted: changes.length, resolved });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const unavailable = err instanceof CommandNotAppended;
      d.log.error({ err }, 'inbound ticket call failed');
      if (!res.headersSent) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
        res.end(JSON.stringify({ error: unavailable ? 'the alert command was not accepted; try again' : 'try again' }));
      }
    });
  });
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}` };
}
