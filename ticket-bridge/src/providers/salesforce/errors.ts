import { ProviderError } from '../types.js';
import { retryAfterMs } from '@oncall/shared';

/** An HTTP answer as far as error mapping needs it. */
export interface HttpAnswer {
  status: number;
  body: string;
  retryAfter: string | null;
}

/** Error codes Salesforce answers that clear up by themselves (limits, row locks, maintenance). */
const TRANSIENT_CODES = new Set(['REQUEST_LIMIT_EXCEEDED', 'SERVER_UNAVAILABLE', 'UNABLE_TO_LOCK_ROW', 'API_CURRENTLY_DISABLED']);

/** Token endpoint errors that retrying cannot fix: wrong client, key, user or grant. */
const CREDENTIAL_ERRORS = new Set([
  'invalid_client',
  'invalid_client_id',
  'invalid_grant',
  'unsupported_grant_type',
  'invalid_request',
  'unauthorized_client',
]);

interface SalesforceErrorItem {
  message: string;
  errorCode: string;
  fields: string[];
}

/** Salesforce REST errors are `[{ message, errorCode, fields }]`; anything else is kept as text. Pure. */
export function salesforceErrors(body: string): SalesforceErrorItem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  return items.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return [];
    const { message, errorCode, fields } = item as Record<string, unknown>;
    if (typeof errorCode !== 'string') return [];
    return [
      {
        message: typeof message === 'string' ? message : '',
        errorCode,
        fields: Array.isArray(fields) ? fields.filter((f): f is string => typeof f === 'string') : [],
      },
    ];
  });
}

/** A failed REST call as a ProviderError: limits, row locks and 5xx are retryable, the rest is not. Pure. */
export function restError(what: string, answer: HttpAnswer, now: Date): ProviderError {
  const items = salesforceErrors(answer.body);
  const summary =
    items.length > 0
      ? items.map((e) => `${e.errorCode}: ${e.message}${e.fields.length > 0 ? ` (fields: ${e.fields.join(', ')})` : ''}`).join('; ')
      : answer.body.slice(0, 200);
  const retryable = answer.status === 429 || answer.status >= 500 || items.some((e) => TRANSIENT_CODES.has(e.errorCode));
  return new ProviderError(
    `Salesforce ${what} failed: HTTP ${answer.status} ${summary}`.trim(),
    retryable,
    answer.status,
    retryable ? retryAfterMs(answer.retryAfter, now) : null,
  );
}

/** The token endpoint's `{ error, error_description }` as a ProviderError: bad credentials are never retried. Pure. */
export function tokenError(answer: HttpAnswer, now: Date): ProviderError {
  let error = '';
  let description = '';
  try {
    const parsed = JSON.parse(answer.body) as Record<string, unknown>;
    if (typeof parsed.error === 'string') error = parsed.error;
    if (typeof parsed.error_description === 'string') description = parsed.error_description;
  } catch {
    description = answer.body.slice(0, 200);
  }
  if (CREDENTIAL_ERRORS.has(error) || answer.status === 401 || answer.status === 403) {
    return new ProviderError(
      `Salesforce refused the OAuth credentials: ${error || `HTTP ${answer.status}`}${description ? ` (${description})` : ''}; check the Connected App, key and user`,
      false,
      answer.status,
    );
  }
  const retryable = answer.status === 429 || answer.status >= 500;
  return new ProviderError(
    `Salesforce token request failed: HTTP ${answer.status} ${error} ${description}`.trim(),
    retryable,
    answer.status,
    retryable ? retryAfterMs(answer.retryAfter, now) : null,
  );
}

/** A request that never got an answer (refused, reset, timed out): retryable. */
export function networkError(what: string, err: unknown): ProviderError {
  const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  return new ProviderError(`Salesforce ${what} failed: no answer (${reason})`, true);
}
