import { ProviderError } from '../types.js';
import { retryAfterMs } from '@oncall/shared';

/**
 * Turning Jira's answers into ProviderErrors. Pure: the caller passes the time. Messages carry the
 * user name, the status and Jira's own error text, never a token.
 */

/** Jira's error body `{ errorMessages: [...], errors: { field: message } }` as one sentence. */
export function jiraErrorText(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const { errorMessages, errors } = body as { errorMessages?: unknown; errors?: unknown };
  const parts: string[] = Array.isArray(errorMessages) ? errorMessages.map(String) : [];
  if (typeof errors === 'object' && errors !== null) {
    for (const [field, message] of Object.entries(errors)) parts.push(`${field}: ${String(message)}`);
  }
  return parts.join('; ');
}

export interface FailedAnswer {
  status: number;
  retryAfter: string | null;
  body: unknown;
  /** What was asked, e.g. "create issue in OPS". */
  action: string;
  /** Who signed in: the user name, or "a bearer token". */
  who: string;
}

export function errorForAnswer(answer: FailedAnswer, now: Date): ProviderError {
  const { status, action, who } = answer;
  const text = jiraErrorText(answer.body);
  const said = text === '' ? '' : `: ${text}`;
  if (status === 401 || status === 403) {
    const what = status === 401 ? 'refused the credentials for' : 'denied the permission to';
    return new ProviderError(`Jira ${what} ${who} (HTTP ${status}, ${action})${said}`, false, status);
  }
  if (status === 429 || status >= 500) {
    const wait = retryAfterMs(answer.retryAfter, now);
    const label = status === 429 ? 'rate-limited' : 'failed';
    return new ProviderError(`Jira ${label} ${action} (HTTP ${status})${said}`, true, status, wait);
  }
  if (status === 404) return new ProviderError(`Jira found nothing to ${action} (HTTP 404)${said}`, false, status);
  return new ProviderError(`Jira rejected ${action} (HTTP ${status})${said}`, false, status);
}

/** A request that got no answer: refused connection, reset, timeout. Always retryable. */
export function errorForNoAnswer(err: unknown, action: string, baseUrl: string): ProviderError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const reason =
    e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timed out' : (e.cause?.code ?? e.cause?.message ?? e.message ?? 'no answer');
  return new ProviderError(`Jira at ${baseUrl} did not answer (${action}): ${reason}`, true, null);
}
