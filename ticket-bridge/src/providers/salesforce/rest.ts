import { ProviderError, type ProviderContext } from '../types.js';
import { invalidate, session } from './auth.js';
import { networkError, restError } from './errors.js';
import { salesforceSettings } from './settings.js';

export interface RestAnswer {
  status: number;
  /** Parsed JSON, or null for an empty answer (204). */
  json: unknown;
}

/**
 * One REST call under `/services/data/v<apiVersion>` with the session's bearer token. A 401 (expired
 * or revoked session) signs in again and repeats the call once; other failures throw ProviderError.
 * `notFoundIsNull`: a 404 answers null instead of throwing (lookups).
 */
export async function rest(
  ctx: ProviderContext,
  what: string,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  opts: { body?: unknown; notFoundIsNull?: boolean } = {},
): Promise<RestAnswer | null> {
  const version = salesforceSettings(ctx.config).apiVersion;
  for (let attempt = 1; ; attempt++) {
    const current = await session(ctx);
    let response: Response;
    let text: string;
    try {
      response = await ctx.fetch(`${current.instanceUrl}/services/data/v${version}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${current.accessToken}`,
          accept: 'application/json',
          ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
      text = await response.text();
    } catch (err) {
      throw networkError(what, err);
    }
    if (response.status === 401 && attempt === 1) {
      invalidate(ctx, current);
      continue;
    }
    if (response.status === 404 && opts.notFoundIsNull) return null;
    if (!response.ok)
      throw restError(what, { status: response.status, body: text, retryAfter: response.headers.get('retry-after') }, ctx.now());
    try {
      return { status: response.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
    } catch {
      throw new ProviderError(`Salesforce ${what}: HTTP ${response.status} with a body that is not JSON`, true, response.status);
    }
  }
}
