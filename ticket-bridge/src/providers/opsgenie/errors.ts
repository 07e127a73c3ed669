import { ProviderError } from '../types.js';
import { retryAfterMs } from '@oncall/shared';

/** Opsgenie's 429 often carries only X-RateLimit-* headers: wait this long then. */
export const DEFAULT_RATE_LIMIT_BACKOFF_MS = 5_000;

/** Opsgenie's error body: `{ message, took, requestId }`, with `errors` for a 422. */
function opsgenieMessage(bodyText: string): string | null {
  try {
    const body = JSON.parse(bodyText) as { message?: unknown; errors?: unknown };
    const message = typeof body.message === 'string' ? body.message : null;
    const errors =
      typeof body.errors === 'object' && body.errors !== null
        ? Object.entries(body.errors as Record<string, unknown>)
            .map(([field, said]) => `${field}: ${String(said)}`)
            .join('; ')
        : '';
    if (message === null) return errors || null;
    return errors ? `${message} (${errors})` : message;
  } catch {
    return null;
  }
}

/**
 * The ProviderError for an Opsgenie answer that is not 2xx. 429 and 5xx are retryable (Retry-After
 * when sent, else the default back-off for 429); 401, 403 and 422 are not. Pure.
 */
export function opsgenieError(status: number, retryAfter: string | null, bodyText: string, now: Date): ProviderError {
  const said = opsgenieMessage(bodyText);
  const suffix = said === null ? '' : `: ${said}`;
  if (status === 429) {
    return new ProviderError(
      `Opsgenie rate limit reached (HTTP 429)${suffix}`,
      true,
      429,
      retryAfterMs(retryAfter, now) ?? DEFAULT_RATE_LIMIT_BACKOFF_MS,
    );
  }
  if (status >= 500) return new ProviderError(`Opsgenie is failing (HTTP ${status})${suffix}`, true, status, retryAfterMs(retryAfter, now));
  if (status === 401)
    return new ProviderError(`Opsgenie refused the API key (HTTP 401)${suffix}: check that auth.key is an API integration key`, false, 401);
  if (status === 403)
    return new ProviderError(`Opsgenie denied the request (HTTP 403)${suffix}: the integration needs create and update rights`, false, 403);
  return new ProviderError(`Opsgenie rejected the request (HTTP ${status})${suffix}`, false, status);
}

/** A request that got no HTTP answer (connection refused, reset, timeout): retryable. */
export function unreachable(err: unknown): ProviderError {
  const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
  return new ProviderError(
    `Opsgenie ${timedOut ? 'did not answer in time' : `is unreachable (${err instanceof Error ? err.message : String(err)})`}`,
    true,
  );
}
