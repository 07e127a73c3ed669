import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Request headers that carry secrets (bearer tokens, cookies, webhook signatures). */
const SECRET_HEADERS = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-slack-signature',
  'x-twilio-signature',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-grafana-signature',
  'x-pagerduty-signature',
  'x-signature',
];
const HEADER_HOLDERS = ['headers', 'req.headers', 'request.headers', '*.headers'];

/** Where logged objects keep a secret or a URL that may carry one. */
export const REDACT_PATHS: readonly string[] = [
  ...HEADER_HOLDERS.flatMap((h) => SECRET_HEADERS.map((name) => `${h}["${name}"]`)),
  'authorization',
  'token',
  '*.token',
  'url',
  'req.url',
  'request.url',
  '*.url',
];

/** A URL without its secrets: `token`, `key` and `signature` query values, and action-link tokens (`/a/<token>`). */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|key|api_key|signature)=)[^&#]*/gi, '$1[redacted]').replace(/\/a\/[^/?#]+/, '/a/[redacted]');
}

const censor = (value: unknown, path: string[]): unknown =>
  path[path.length - 1] === 'url' ? (typeof value === 'string' ? redactUrl(value) : value) : '[redacted]';

/**
 * JSON logs on stdout; `service` is bound on every line. A process running several services
 * (`oncall up`) passes no service and binds it on a child logger per service. Secrets in request
 * headers and URLs are redacted on every line (REDACT_PATHS).
 */
export function createLogger(service?: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: service === undefined ? {} : { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor },
  };
  return destination ? pino(options, destination) : pino(options);
}
