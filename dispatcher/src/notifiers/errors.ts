import type { ContactChannel } from '@oncall/contracts';
import { retryAfterMs } from '@oncall/shared';

/**
 * Why a delivery failed. Closed: it is a metric label and the `reason` of `NotificationFailed`,
 * so a new provider failure maps onto one of these instead of adding a value.
 */
export const DELIVERY_REASONS = [
  'rate_limited',
  'unauthorized',
  'invalid_destination',
  /** The number answered STOP: no SMS may go to it until it answers START. */
  'opted_out',
  'bad_request',
  'provider_unavailable',
  'timeout',
  'network',
  'unknown',
] as const;
export type DeliveryReason = (typeof DELIVERY_REASONS)[number];

export interface DeliveryErrorInit {
  channel: ContactChannel;
  reason: DeliveryReason;
  retryable: boolean;
  /** How long the provider asked us to wait (Retry-After), in milliseconds. */
  retryAfterMs?: number | null;
  /** HTTP status of the provider's answer; absent when there was no HTTP answer (or no HTTP). */
  status?: number;
  /** The provider's own error code (`channel_not_found`, Twilio `21211`, SMTP `550`). */
  providerCode?: string | null;
  /** Pass only what `sanitizeCause` returned: causes end up in logs. */
  cause?: Error;
}

/**
 * The one error a notifier throws. Its message is built from channel, reason, status and
 * provider code only, never from provider text, so it cannot carry a token, a password or a
 * destination URL; `cause` is a sanitised copy of what the SDK threw.
 */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  readonly channel: ContactChannel;
  readonly reason: DeliveryReason;
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;
  readonly status?: number;
  readonly providerCode: string | null;

  constructor(init: DeliveryErrorInit) {
    const providerCode = safeProviderCode(init.providerCode);
    const details = [
      init.status === undefined ? null : `HTTP ${init.status}`,
      providerCode === null ? null : `provider code ${providerCode}`,
      init.retryAfterMs == null ? null : `retry after ${init.retryAfterMs} ms`,
    ].filter((d) => d !== null);
    super(
      `${init.channel} delivery failed: ${init.reason}${details.length > 0 ? ` (${details.join(', ')})` : ''}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.channel = init.channel;
    this.reason = init.reason;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs ?? null;
    if (init.status !== undefined) this.status = init.status;
    this.providerCode = providerCode;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      channel: this.channel,
      reason: this.reason,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      status: this.status ?? null,
      providerCode: this.providerCode,
    };
  }
}

/** Provider codes go into messages and metrics: only short identifier-like codes are kept. */
function safeProviderCode(code: string | null | undefined): string | null {
  if (code === undefined || code === null) return null;
  return /^[A-Za-z0-9_.:-]{1,64}$/.test(code) ? code : null;
}

/** What a failure means for the pipeline's retry stage. */
export interface Classification {
  reason: DeliveryReason;
  retryable: boolean;
  retryAfterMs: number | null;
}

/**
 * The retry classifier every notifier uses: what a provider's HTTP status means.
 *
 * | status        | reason               | retryable                  |
 * | 429           | rate_limited         | yes, Retry-After honoured  |
 * | 408           | timeout              | yes                        |
 * | 5xx           | provider_unavailable | yes, Retry-After honoured  |
 * | 401, 403      | unauthorized         | no                         |
 * | 404, 410      | invalid_destination  | no                         |
 * | other 4xx     | bad_request          | no                         |
 * | anything else | unknown              | no                         |
 */
export function classifyHttpStatus(status: number, retryAfterHeader?: string | null, now?: number): Classification {
  const wait = retryAfterMs(retryAfterHeader, now);
  if (status === 429) return { reason: 'rate_limited', retryable: true, retryAfterMs: wait };
  if (status === 408) return { reason: 'timeout', retryable: true, retryAfterMs: null };
  if (status >= 500 && status <= 599) return { reason: 'provider_unavailable', retryable: true, retryAfterMs: wait };
  if (status === 401 || status === 403) return { reason: 'unauthorized', retryable: false, retryAfterMs: null };
  if (status === 404 || status === 410) return { reason: 'invalid_destination', retryable: false, retryAfterMs: null };
  if (status >= 400 && status <= 499) return { reason: 'bad_request', retryable: false, retryAfterMs: null };
  return { reason: 'unknown', retryable: false, retryAfterMs: null };
}

/** A DeliveryError for a provider's HTTP answer, classified by `classifyHttpStatus`. */
export function httpDeliveryError(
  channel: ContactChannel,
  status: number,
  retryAfterHeader: string | null | undefined,
  opts: { providerCode?: string | null; cause?: Error } = {},
): DeliveryError {
  return new DeliveryError({ channel, status, ...classifyHttpStatus(status, retryAfterHeader), ...opts });
}

/**
 * No HTTP answer at all: the connection failed or the call was aborted. Both are worth
 * another attempt; an abort (our timeout or the caller's signal) is reported as `timeout`.
 */
export function classifyTransportFailure(channel: ContactChannel, err: unknown, secrets: readonly string[]): DeliveryError {
  const cause = sanitizeCause(err, secrets);
  const timedOut = isAbort(err);
  return new DeliveryError({ channel, reason: timedOut ? 'timeout' : 'network', retryable: true, cause });
}

const ABORT_NAMES = new Set(['AbortError', 'TimeoutError', 'CanceledError']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ECONNABORTED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ERR_CANCELED']);

/** Whether an error (or one of its causes) is an abort or a timeout. */
export function isAbort(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth += 1) {
    const { name, code } = e as { name?: unknown; code?: unknown };
    if (typeof name === 'string' && ABORT_NAMES.has(name)) return true;
    // Graph's GraphError keeps the original error's name as its code.
    if (typeof code === 'string' && (TIMEOUT_CODES.has(code) || ABORT_NAMES.has(code))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const REDACTED = '[REDACTED]';
/** Credentials that look the same in every provider: auth headers, Slack tokens, URL passwords, secret query parameters. */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/\bxox[abposre]-[A-Za-z0-9-]+/g, REDACTED],
  [/\bwhsec_[A-Za-z0-9+/=]+/g, REDACTED],
  [/(\/\/[^/\s:@]*:)[^@\s/]+@/g, `$1${REDACTED}@`],
  [/([?&](?:token|secret|sig|signature|password|pass|key|api_key|apikey|access_token|auth)=)[^&#\s]+/gi, `$1${REDACTED}`],
];

/**
 * Removes secrets from text that may be logged: each given secret (and its URL-encoded form)
 * verbatim, then anything shaped like a credential. Secrets shorter than 4 characters are
 * ignored: replacing them would shred ordinary text without protecting anything.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join(REDACTED);
  }
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A copy of what an SDK threw that is safe to log: name, message, code and stack, redacted,
 * with its causes (a few levels). SDK errors carry request configs with auth headers (axios),
 * response bodies and URLs, so the original never leaves the notifier.
 */
export function sanitizeCause(err: unknown, secrets: readonly string[], depth = 0): Error | undefined {
  if (err === undefined || err === null) return undefined;
  const source = err instanceof Error ? err : new Error(typeof err === 'string' ? err : 'non-error thrown');
  const inner = depth < 3 && source.cause !== undefined ? sanitizeCause(source.cause, secrets, depth + 1) : undefined;
  const copy = new Error(redact(source.message, secrets), inner === undefined ? undefined : { cause: inner });
  copy.name = redact(source.name, secrets);
  const code = (source as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') {
    Object.defineProperty(copy, 'code', { value: redact(String(code), secrets), enumerable: true });
  }
  copy.stack = redact(source.stack ?? `${copy.name}: ${copy.message}`, secrets);
  return copy;
}
