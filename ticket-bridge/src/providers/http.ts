import { ProviderError } from './types.js';
import { retryAfterMs } from '@oncall/shared';

export function httpProviderError(what: string, status: number, retryAfter: string | null, detail = ''): ProviderError {
  const retryable = status === 408 || status === 429 || status >= 500;
  const why = status === 401 || status === 403 ? ' (check the credentials)' : '';
  const text = detail === '' ? '' : `: ${detail.slice(0, 300)}`;
  return new ProviderError(`${what} answered HTTP ${status}${why}${text}`, retryable, status, retryable ? retryAfterMs(retryAfter) : null);
}

export function transportProviderError(what: string, err: unknown): ProviderError {
  const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
  const cause =
    err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : err instanceof Error ? `: ${err.message}` : '';
  return new ProviderError(timeout ? `${what} did not answer in time` : `${what} could not be reached${cause}`, true);
}

/** Reads a JSON answer, or throws a non-retryable ProviderError naming what was wrong with it. */
export async function jsonBody(what: string, response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProviderError(`${what} answered HTTP ${response.status} with a body that is not JSON`, false, response.status);
  }
}
