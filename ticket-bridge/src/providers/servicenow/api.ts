import { z } from 'zod';
import { ProviderError, type ProviderContext } from '../types.js';
import { serviceNowError, unreachable } from './errors.js';
import type { ServiceNowSettings } from './settings.js';

/**
 * ServiceNow's Table API over plain fetch: it is plain REST with JSON, and no well-kept Node client
 * exists that accepts a local base URL and OAuth client credentials (docs/tickets.md).
 */

const TokenAnswer = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive(), token_type: z.string() });

/** Access tokens by provider and client, reused until a minute before they expire. */
const tokens = new Map<string, { token: string; expiresAt: number }>();

async function send(ctx: ProviderContext, url: string, init: RequestInit): Promise<Response> {
  try {
    return await ctx.fetch(url, init);
  } catch (err) {
    throw unreachable('ServiceNow', err);
  }
}

async function failure(ctx: ProviderContext, res: Response): Promise<ProviderError> {
  return serviceNowError(res.status, res.headers.get('retry-after'), await res.text(), ctx.now());
}

async function oauthToken(ctx: ProviderContext, fresh: boolean): Promise<string> {
  const { auth, providerId } = ctx.config;
  if (auth.kind !== 'oauth-client-credentials') throw new Error('oauthToken needs oauth-client-credentials');
  const cacheKey = `${providerId}\n${auth.tokenUrl}\n${auth.clientId}`;
  const cached = tokens.get(cacheKey);
  if (!fresh && cached && cached.expiresAt > ctx.now().getTime()) return cached.token;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: auth.clientId,
    client_secret: ctx.secret(auth.clientSecret),
  });
  if (auth.scope !== undefined) form.set('scope', auth.scope);
  const res = await send(ctx, auth.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form.toString(),
  });
  if (!res.ok) {
    const err = await failure(ctx, res);
    // oauth_token.do answers 401 with `{ error: 'access_denied' }` for a wrong client: say which credential failed.
    if (res.status === 400 || res.status === 401) {
      throw new ProviderError(
        `ServiceNow refused the OAuth client ${auth.clientId} at ${auth.tokenUrl} (HTTP ${res.status}): check clientId and clientSecret`,
        false,
        res.status,
      );
    }
    throw err;
  }
  const answer = TokenAnswer.safeParse(await res.json());
  if (!answer.success) throw new ProviderError(`ServiceNow's token answer at ${auth.tokenUrl} has no access_token`, false, res.status);
  tokens.set(cacheKey, { token: answer.data.access_token, expiresAt: ctx.now().getTime() + (answer.data.expires_in - 60) * 1000 });
  return answer.data.access_token;
}

async function authorization(ctx: ProviderContext, fresh: boolean): Promise<string> {
  const { auth } = ctx.config;
  if (auth.kind === 'basic') return `Basic ${Buffer.from(`${auth.username}:${ctx.secret(auth.password)}`).toString('base64')}`;
  if (auth.kind === 'oauth-client-credentials') return `Bearer ${await oauthToken(ctx, fresh)}`;
  throw new ProviderError(`ServiceNow signs in with basic or oauth-client-credentials, not ${auth.kind}`, false);
}

/**
 * One Table API call; the `result` of the answer. An OAuth token ServiceNow no longer accepts is
 * fetched again once; any other failure is a ProviderError (serviceNowError).
 */
export async function tableCall(
  ctx: ProviderContext,
  settings: ServiceNowSettings,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  query: Record<string, string>,
  body?: Record<string, string>,
): Promise<unknown> {
  const url = `${settings.instanceUrl}/api/now/table/${settings.table}${path}?${new URLSearchParams({ sysparm_display_value: 'false', ...query }).toString()}`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
  let res = await send(ctx, url, { ...init, headers: { ...headers, authorization: await authorization(ctx, false) } });
  if (res.status === 401 && ctx.config.auth.kind === 'oauth-client-credentials') {
    await res.body?.cancel();
    res = await send(ctx, url, { ...init, headers: { ...headers, authorization: await authorization(ctx, true) } });
  }
  if (!res.ok) throw await failure(ctx, res);
  const answer = (await res.json()) as { result?: unknown };
  if (answer.result === undefined)
    throw new ProviderError(`ServiceNow answered ${method} ${settings.table} without a result`, false, res.status);
  return answer.result;
}
