import cookie from '@fastify/cookie';
import fastify, { type FastifyInstance } from 'fastify';
import type { QueryApiDeps } from '../shared-deps.js';
import type { FailureLimit } from '../domain/rate-limit.js';
import { registerAlertRoutes } from './alert-routes.js';
import { ConsoleAuth, sessionView } from './auth.js';
import { readChanges, readCursor } from './board-read.js';
import { registerBoardRoutes } from './board-routes.js';
import type { BoardCursor } from './cursor.js';
import { registerHealthRoutes } from './health.js';
import { registerOnCallRoutes } from './oncall-routes.js';
import { HttpError, toHttpError } from './http-errors.js';
import { BoardHub } from './hub.js';
import { consoleRequests } from './metrics.js';
import { allowedOrigin, isJson } from './session.js';
import { SessionStore } from './session-store.js';
import { DEFAULT_CONSOLE_DIST, registerStatic } from './static.js';

export type ConsoleServerOptions = Readonly<{
  shared: QueryApiDeps;
  port: number;
  host: string;
  /** The built console (default console/dist of this repository). */
  dist?: string;
  /** ONCALL_CONSOLE_URL: the console's address as people reach it, also an allowed Origin. */
  consoleUrl?: string | null;
  /** ONCALL_TRACE_URL: the tracing UI's trace link, `{traceId}` replaced. */
  traceUrl?: string | null;
  /** Replicas of the session bucket (ONCALL_REPLICAS). */
  replicas?: number;
  /** Failed sign-ins per client address before it is refused unchecked (default 20 a minute). */
  loginFailureLimit?: FailureLimit;
  /** The live board's delta interval (default 250 ms). */
  deltaIntervalMs?: number;
}>;

export type ConsoleServer = Readonly<{ port: number; url: string; app: FastifyInstance; stop: () => Promise<void> }>;

/** docs/console.md: strict CSP, no framing; the API is never cached. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** How long stop() lets in-flight requests finish before it closes every connection. */
const CLOSE_GRACE_MS = 1000;

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The NOC console's HTTP server (docs/console.md): the built browser app and its JSON API, on the
 * query-api's shared pool, projection feed, command path and tokens.
 */
export async function startConsoleServer(opts: ConsoleServerOptions): Promise<ConsoleServer> {
  const { shared } = opts;
  const { log } = shared;
  if (!shared.nc) throw new Error('the console needs NATS (its sessions are in a KV bucket)');
  const sessions = await SessionStore.open(shared.nc, { replicas: opts.replicas ?? 1 });
  const auth = new ConsoleAuth({
    sessions,
    tokens: shared.tokens,
    users: shared.users,
    log,
    failureLimit: opts.loginFailureLimit ?? { max: 20, windowMs: 60_000 },
    now: shared.now,
  });
  const reads = { cursor: () => readCursor(shared.listPool), changes: (after: BoardCursor) => readChanges(shared.listPool, after) };
  const hub = shared.feed ? new BoardHub({ reads, feed: shared.feed, log, intervalMs: opts.deltaIntervalMs ?? 250 }) : null;
  const consoleUrl = opts.consoleUrl ?? null;

  const app = fastify({ logger: false, bodyLimit: 64 * 1024, trustProxy: false });
  await app.register(cookie);

  app.addHook('onRequest', async (req, reply) => {
    void reply.headers(SECURITY_HEADERS);
    if (!req.url.startsWith('/api/') && req.url !== '/api') return;
    void reply.header('cache-control', 'no-store');
    if (!STATE_CHANGING.has(req.method)) return;
    // Cross-site requests cannot act, whatever the cookie's SameSite does in that browser.
    if (!allowedOrigin(req.headers.origin, req.headers.host, req.protocol, consoleUrl))
      throw new HttpError(403, "cross-origin request refused: the Origin header must be this console's");
    const hasBody =
      req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    if ((req.method !== 'DELETE' || hasBody) && !isJson(req.headers['content-type']))
      throw new HttpError(415, 'send Content-Type: application/json');
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url;
    consoleRequests.inc({ route: route === undefined ? 'not_found' : route === '/*' ? 'static' : route, status: reply.statusCode });
  });
  app.setErrorHandler((err, req, reply) => {
    const e = toHttpError(err);
    if (e.status >= 500) log.error({ err, method: req.method, url: req.url.split('?')[0] }, 'console request failed');
    void reply.code(e.status).header('cache-control', 'no-store').send(e.body());
  });

  const pages = await registerStatic(app, opts.dist ?? DEFAULT_CONSOLE_DIST);
  if (!pages.built)
    log.warn({ dist: opts.dist ?? DEFAULT_CONSOLE_DIST }, 'console not built: pages answer 503 (run npm run build:console)');
  app.setNotFoundHandler((req, reply) => {
    if (pages.fallback(req, reply)) return;
    void reply.code(404).send(new HttpError(404, `no route ${req.method} ${req.url.split('?')[0]}`).body());
  });

  app.post('/api/session', async (req, reply) => auth.login(req, reply));
  app.get('/api/session', async (req, reply) => sessionView(await auth.current(req, reply)));
  app.delete('/api/session', async (req, reply) => {
    await auth.logout(req, reply);
    return reply.code(204).send();
  });
  registerBoardRoutes(app, { auth, listPool: shared.listPool, hub, log });
  registerAlertRoutes(app, { auth, pool: shared.pool, commands: shared.commands, traceUrl: opts.traceUrl ?? null });
  registerOnCallRoutes(app, {
    auth,
    pool: shared.pool,
    users: shared.users,
    consistency: shared.consistency,
    writes: { nc: shared.nc, users: shared.users, consistency: shared.consistency, log, now: shared.now },
    log,
    now: shared.now,
  });
  registerHealthRoutes(app, { auth, pool: shared.pool });

  let port: number;
  try {
    await app.listen({ port: opts.port, host: opts.host });
    const address = app.server.address();
    port = typeof address === 'object' && address !== null ? address.port : opts.port;
  } catch (err) {
    hub?.close();
    await app.close();
    throw err;
  }
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  log.info({ port, host: opts.host, built: pages.built, live: hub !== null }, 'console listening');
  return {
    port,
    url,
    app,
    stop: async () => {
      // Live streams never end on their own: end them, or close() waits for them.
      hub?.close();
      // A browser's keep-alive connection that was busy when close() began (an ended live stream
      // among them) keeps close() waiting: in-flight requests get a second, then every connection goes.
      const force = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
      await app.close();
      clearTimeout(force);
    },
  };
}
