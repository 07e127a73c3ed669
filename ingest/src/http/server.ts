import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import sjson from 'secure-json-parse';
import { Counter, Histogram } from 'prom-client';
import { AppendFailed, hopFromHttp, inHop, registry, type Hop, sha256Hex, type ConfigView, type Logger } from '@oncall/shared';
import { mayHoldUnstorableText, toStorable, type AlertSource } from '@oncall/contracts';
import { IntakeUnavailableError, type IntakePublisher } from '../adapters/intake-publisher.js';
import type { HeartbeatPublisher } from '../adapters/heartbeat-publisher.js';
import type { StreamCapacity } from '../adapters/stream-capacity.js';
import { HttpError, invalidPayload } from './errors.js';
import { SOURCE_ROUTES, type SourceRoute } from './sources.js';
import { registerResponders, type ResponderDeps } from '../responders/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    bodyHash?: string;
    serviceId?: string;
    keyHash?: string;
    /** The request's span, when tracing is on. */
    hop?: Hop;
  }
}

export type IngestDeps = {
  config: ConfigView;
  publisher: IntakePublisher;
  heartbeats: HeartbeatPublisher;
  log: Logger;
  bodyLimitBytes: number;
  /** Requests per second per integration key; 0 turns the limit off. */
  rateLimitPerSecond: number;
  /** How full the streams are; without it, no early 503 (JetStream's own refusal still gives one). */
  capacity?: StreamCapacity;
  /** Where people answer pages (Slack, Twilio, action links); without it those routes are absent. */
  responders?: ResponderDeps;
  now?: () => Date;
};

const requests = new Counter({
  name: 'oncall_ingest_requests_total',
  help: 'Webhook requests by source and HTTP status',
  labelNames: ['source', 'status'],
  registers: [registry],
});
const signalsAccepted = new Counter({
  name: 'oncall_ingest_signals_total',
  help: 'Alerts accepted into the intake stream, by source',
  labelNames: ['source'],
  registers: [registry],
});
const textReplaced = new Counter({
  name: 'oncall_ingest_unstorable_text_replaced_total',
  help: 'Strings of webhook bodies whose NUL characters or lone surrogates were replaced by U+FFFD (PostgreSQL cannot store them)',
  registers: [registry],
});
const refused = new Counter({
  name: 'oncall_ingest_refused_total',
  help: 'Requests answered 503 because the log could not take them, by reason (intake_full, intake_unavailable)',
  labelNames: ['reason'],
  registers: [registry],
});
const latency = new Histogram({
  name: 'oncall_ingest_request_duration_seconds',
  help: 'Time from request to answer, including the JetStream acknowledgement',
  labelNames: ['source'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
  registers: [registry],
});

const RETRY_AFTER_SECONDS = '5';

export async function buildServer(deps: IngestDeps): Promise<FastifyInstance> {
  const now = deps.now ?? (() => new Date());
  // Action-link tokens (/a/<token>) are a few hundred characters; the default allows 100.
  const app = fastify({ bodyLimit: deps.bodyLimitBytes, logger: false, routerOptions: { maxParamLength: 2048 } });

  // Parse JSON ourselves to hash the exact bytes: the hash is the request's idempotency id.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    req.bodyHash = sha256Hex(body);
    const text = body.toString('utf8');
    let parsed: unknown;
    try {
      parsed = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch (err) {
      done(new HttpError(400, 'invalid_json', `body is not valid JSON: ${(err as Error).message}`), undefined);
      return;
    }
    // Legal JSON, but PostgreSQL refuses NUL and lone surrogates: stored as U+FFFD instead.
    if (mayHoldUnstorableText(text)) {
      const storable = toStorable(parsed);
      textReplaced.inc(storable.replaced);
      parsed = storable.value;
    }
    done(null, parsed);
  });

  await app.register(rateLimit, {
    global: false,
    max: Math.max(deps.rateLimitPerSecond, 1),
    timeWindow: 1000,
    keyGenerator: (req) => req.keyHash ?? req.ip,
    errorResponseBuilder: (_req, ctx) =>
      new HttpError(
        429,
        'rate_limited',
        `more than ${ctx.max} requests per second for this integration key; retry in ${ctx.after}`,
        undefined,
        {
          'retry-after': String(Math.max(1, Math.ceil(ctx.ttl / 1000))),
        },
      ),
  });
  const limiter = deps.rateLimitPerSecond > 0 ? app.rateLimit() : undefined;
  /** 429 with Retry-After once an integration key sends more than the limit per second. */
  const limit = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (limiter) await limiter.call(app, req, reply);
  };

  app.setErrorHandler((err: unknown, req, reply) => {
    const e = toHttpError(err, deps.bodyLimitBytes);
    if (e.status >= 500) deps.log.error({ err, url: req.url }, 'request failed'); // the logger redacts ?token=
    void reply.code(e.status).headers(e.headers).send(e.body());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(new HttpError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`).body());
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  /** Finds the service of an integration key; 401 when there is none. */
  const authenticate = (req: FastifyRequest, key: string | undefined): void => {
    if (!key)
      throw new HttpError(401, 'missing_integration_key', 'send the integration key as "Authorization: Bearer <key>" or ?token=<key>');
    const keyHash = sha256Hex(key);
    const serviceId = deps.config.state().serviceByKeyHash.get(keyHash);
    if (!serviceId) throw new HttpError(401, 'unknown_integration_key', 'the integration key matches no service');
    const notAfter = deps.config.state().keyNotAfter.get(keyHash);
    if (notAfter !== undefined && Date.parse(notAfter) <= now().getTime())
      throw new HttpError(401, 'expired_integration_key', `the integration key stopped working at ${notAfter}; use the service's new key`);
    req.serviceId = serviceId;
    req.keyHash = keyHash;
  };
  const headerAuth = async (req: FastifyRequest) => authenticate(req, integrationKey(req));

  const timed =
    (source: AlertSource | 'heartbeat', handle: (req: FastifyRequest, reply: FastifyReply) => Promise<object>) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const end = latency.startTimer({ source });
      try {
        const answer = await handle(req, reply);
        requests.inc({ source, status: 202 });
        return await reply.code(202).send(answer);
      } catch (err) {
        requests.inc({ source, status: toHttpError(err, deps.bodyLimitBytes).status });
        throw err;
      } finally {
        end();
      }
    };

  const webhook = (route: SourceRoute) => {
    const spanAttributes = { 'oncall.service': 'ingest', 'oncall.source': route.source };
    const accept = timed(route.source, async (req, reply) => {
      const parsed = route.parse(req.body, req.bodyHash ?? '');
      if (!parsed.ok) throw invalidPayload(parsed.error);
      if (route.keyInBody) authenticate(req, parsed.integrationKey);
      await limit(req, reply);
      const full = deps.capacity?.intakeFull();
      if (full != null) throw intakeFull(`the intake log is ${Math.round(full * 100)}% full`);
      const serviceId = req.serviceId!;
      const key = idempotencyKey(req);
      const requestId = sha256Hex(`${serviceId}\n${route.source}\n${key === undefined ? (req.bodyHash ?? '') : `key:${key}`}`);
      const { signals, context } = parsed;
      const result =
        signals.length === 0
          ? { messages: 0, duplicate: false }
          : await deps.publisher.append(
              { serviceId, source: route.source, requestId, signals, context, dedupe: key !== undefined },
              now(),
              req.hop?.headers,
            );
      signalsAccepted.inc({ source: route.source }, result.duplicate ? 0 : signals.length);
      req.hop?.set('oncall.service_id', serviceId);
      req.hop?.set('oncall.signals', signals.length);
      req.hop?.set('oncall.duplicate', result.duplicate);
      return parsed.answer ?? { status: 'accepted', requestId, alerts: signals.length, duplicate: result.duplicate };
    });
    /**
     * One span per webhook request, a child of the caller's `traceparent` (else a new trace); its
     * context goes on every SignalsReceived the request appends. Off, hopFromHttp is a constant.
     */
    return async (req: FastifyRequest, reply: FastifyReply) => {
      const hop = hopFromHttp('ingest webhook', req.headers, spanAttributes);
      if (hop.headers) req.hop = hop;
      return inHop(
        hop,
        () => accept(req, reply),
        () => hop.set('http.response.status_code', reply.statusCode),
      );
    };
  };

  for (const route of SOURCE_ROUTES) {
    for (const path of route.paths) {
      app.post(path, route.keyInBody ? {} : { onRequest: headerAuth }, webhook(route));
    }
  }

  // A beat carries no data: any body of any type (or none, as `curl -X POST` sends) is ignored.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));
    scope.post<{ Params: { id: string } }>(
      '/api/v1/heartbeat/:id',
      { onRequest: headerAuth },
      timed('heartbeat', async (req, reply) => {
        const { id } = req.params as { id: string };
        const monitor = deps.config.state().heartbeats.get(id);
        // A monitor of another service is reported as missing: keys must not probe other services.
        if (!monitor || monitor.serviceId !== req.serviceId)
          throw new HttpError(404, 'unknown_heartbeat', `no heartbeat monitor "${id}" for this integration key`);
        await limit(req, reply);
        await deps.heartbeats.beat(monitor.monitorId, monitor.serviceId, now());
        return { status: 'accepted', monitorId: monitor.monitorId };
      }),
    );
  });

  if (deps.responders) await registerResponders(app, deps.responders);

  return app;
}

/**
 * The caller's `Idempotency-Key`: requests with the same key (per service and source) within the
 * duplicate window are one request, appended once. Without one, every request is a new fact and the
 * alert's state absorbs retries (see docs/reliability.md).
 */
function idempotencyKey(req: FastifyRequest): string | undefined {
  const key = req.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.length < 1 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new HttpError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 visible ASCII characters', 'Idempotency-Key');
  }
  return key;
}

function integrationKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1];
  }
  const token = (req.query as Record<string, unknown> | undefined)?.token;
  return typeof token === 'string' && token.length > 0 ? token : undefined;
}

const INTAKE_FULL_RETRY_SECONDS = '30';

/** 503 + Retry-After: the log is (nearly) full and refuses more until it is cleared or grown. */
function intakeFull(why: string): HttpError {
  return new HttpError(503, 'intake_full', `${why}; retry later (operators: see oncall_stream_fill_ratio)`, undefined, {
    'retry-after': INTAKE_FULL_RETRY_SECONDS,
  });
}

function toHttpError(err: unknown, bodyLimitBytes: number): HttpError {
  if (err instanceof HttpError) {
    if (err.code === 'intake_full') refused.inc({ reason: 'intake_full' });
    return err;
  }
  if (
    err instanceof IntakeUnavailableError &&
    err.cause instanceof AppendFailed &&
    /maximum (bytes|messages)|insufficient/i.test(err.cause.message)
  ) {
    refused.inc({ reason: 'intake_full' });
    return intakeFull('the intake log is full');
  }
  if (err instanceof IntakeUnavailableError) {
    refused.inc({ reason: 'intake_unavailable' });
    return new HttpError(503, 'intake_unavailable', 'the event log did not confirm the append; retry later', undefined, {
      'retry-after': RETRY_AFTER_SECONDS,
    });
  }
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'payload_too_large', `body is larger than the limit of ${bodyLimitBytes} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'invalid_json', 'body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError(400, 'invalid_request', 'content-length does not match the body');
    default:
      return new HttpError(500, 'internal', 'internal error');
  }
}
