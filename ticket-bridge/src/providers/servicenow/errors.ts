import { ProviderError } from '../types.js';
import { retryAfterMs } from '@oncall/shared';

/** ServiceNow's error body: `{ error: { message, detail }, status: 'failure' }`. */
function serviceNowMessage(bodyText: string): string | null {
  try {
    const body = JSON.parse(bodyText) as { error?: { message?: unknown; detail?: unknown } };
    const message = typeof body.error?.message === 'string' ? body.error.message : null;
    const detail = typeof body.error?.detail === 'string' && body.error.detail !== '' ? body.error.detail : null;
    if (message === null) return detail;
    return detail === null ? message : `${message}: ${detail}`;
  } catch {
    return null;
  }
}

/**
 * The ProviderError for a ServiceNow answer that is not 2xx. 429 (rate limit rules) and 5xx are
 * retryable (Retry-After honoured); 401/403/400/404 are not: retrying cannot fix credentials, an
 * ACL or a data policy. Pure.
 */
export function serviceNowError(status: number, retryAfter: string | null, bodyText: string, now: Date): ProviderError {
  const said = serviceNowMessage(bodyText);
  const suffix = said === null ? '' : `: ${said}`;
  if (status === 429)
    return new ProviderError(`ServiceNow rate limit reached (HTTP 429)${suffix}`, true, 429, retryAfterMs(retryAfter, now));
  if (status >= 500)
    return new ProviderError(`ServiceNow is failing (HTTP ${status})${suffix}`, true, status, retryAfterMs(retryAfter, now));
  if (status === 401) {
    return new ProviderError(
      `ServiceNow refused the credentials (HTTP 401)${suffix}: check the integration user and its password or OAuth client`,
      false,
      401,
    );
  }
  if (status === 403)
    return new ProviderError(`ServiceNow denied the request (HTTP 403)${suffix}: check the user's roles and ACLs`, false, 403);
  return new ProviderError(`ServiceNow rejected the request (HTTP ${status})${suffix}`, false, status);
}

/** A request that got no HTTP answer (connection refused, reset, timeout): retryable. */
export function unreachable(provider: string, err: unknown): ProviderError {
  const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
  const reason = timedOut ? 'did not answer in time' : `is unreachable (${err instanceof Error ? err.message : String(err)})`;
  return new ProviderError(`${provider} ${reason}`, true, null, null);
}
