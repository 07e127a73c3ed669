import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { Counter, Histogram } from 'prom-client';
import { registry, sha256Hex, type ConfigView, type Logger } from '@oncall/shared';
import type { AlertSource } from '@oncall/contracts';
import { AlertmanagerPayload, normaliseAlertmanager } from '../sources/alertmanager.js';
import { IntakeUnavailableError, type IntakePublisher } from '../adapters/intake-publisher.js';
import { HttpError, invalidPayload } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    bodyHash?: string;
    serviceId?: string;
  }
}

export type IngestDeps = {
  config: ConfigView;
  publisher: IntakePublisher;
  log: Logger;
  bodyLimitBytes: number;
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
const latency = new Histogram({
  name: 'oncall_ingest_request_duration_seconds',
  help: 'Time from request to answer, including the JetStream acknowledgement',
  labelNames: ['source'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
  registers: [registry],
});

const RETRY_AFTER_SECONDS = '5';

export function buildServer(deps: IngestDeps): FastifyInstance {
  const now = deps.now ?? (() => new Date());
  const app = fastify({ bodyLimit: deps.bodyLimitBytes, logger: false });

  // Parse JSON ourselves to hash the exact bytes: the hash is the request's idempotency id.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    req.bodyHash = sha256Hex(body);
    try {
      done(null, sjson.parse(body.toString('utf8'), undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (err) {
      done(new HttpError(400, 'invalid_json', `body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    const e = toHttpError(err);
    if (e.status >= 500) deps.log.error({ err, url: req.url }, 'request failed');
    void reply.code(e.status).headers(e.headers).send(e.body());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(new HttpError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`).body());
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  const authenticate = async (req: FastifyRequest): Promise<void> => {
    const key = integrationKey(req);
    if (!key) throw new HttpError(401, 'missing_integration_key', 'send the integration key as "Authorization: Bearer <key>" or ?token=<key>');
    const serviceId = deps.config.state().serviceByKeyHash.get(sha256Hex(key));
    if (!serviceId) throw new HttpError(401, 'unknown_integration_key', 'the integration key matches no service');
    req.serviceId = serviceId;
  };

  const webhook = (source: AlertSource, handle: (req: FastifyRequest) => Promise<object>) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const end = latency.startTimer({ source });
      try {
        const answer = await handle(req);
        requests.inc({ source, status: 202 });
        return await reply.code(202).send(answer);
      } catch (err) {
        requests.inc({ source, status: toHttpError(err).status });
        throw err;
      } finally {
        end();
      }
    };

  app.post(
    '/api/v1/webhook/alertmanager',
    { onRequest: authenticate },
    webhook('alertmanager', async (req) => {
      const parsed = AlertmanagerPayload.safeParse(req.body);
      if (!parsed.success) throw invalidPayload(parsed.error);
      const { signals, context } = normaliseAlertmanager(parsed.data);
      const serviceId = req.serviceId!;
      const requestId = sha256Hex(`${serviceId}\nalertmanager\n${req.bodyHash ?? ''}`);
      const result = signals.length === 0
        ? { messages: 0, duplicate: false }
        : await deps.publisher.append({ serviceId, source: 'alertmanager', requestId, signals, context }, now());
      signalsAccepted.inc({ source: 'alertmanager' }, result.duplicate ? 0 : signals.length);
      return { status: 'accepted', requestId, alerts: signals.length, duplicate: result.duplicate };
    }),
  );

  return app;
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

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof IntakeUnavailableError) {
    return new HttpError(503, 'intake_unavailable', 'the event log did not confirm the append; retry later', undefined, {
      'retry-after': RETRY_AFTER_SECONDS,
    });
  }
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'payload_too_large', 'body is larger than the limit');
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
