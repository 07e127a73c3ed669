import type { TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { ProviderError, type ProviderContext } from '../types.js';
import { networkError, tokenError } from './errors.js';
import { jwtBearerClaims, signJwt } from './jwt.js';
import { salesforceSettings } from './settings.js';

/** A signed-in session: what REST calls and the Pub/Sub API need. */
export interface Session {
  accessToken: string;
  /** REST and Pub/Sub `instanceurl`: the configured instanceUrl, else the token response's. */
  instanceUrl: string;
  /** The org id (Pub/Sub `tenantid`), from the identity URL `…/id/<orgId>/<userId>` of the token response. */
  tenantId: string | null;
  /** Salesforce sends no expiry with its tokens (the session timeout applies): null = until a 401. */
  expiresAt: number | null;
}

// Process-wide, keyed by provider and credentials: a token is only ever reused by the same sign-in.
const sessions = new Map<string, Session>();
const pending = new Map<string, Promise<Session>>();

const cacheKey = (config: TicketProviderConfig) => `${config.providerId}\u0000${JSON.stringify(config.auth)}`;

/** The cached session, or a new one from the token endpoint (one request however many callers wait). */
export async function session(ctx: ProviderContext): Promise<Session> {
  const key = cacheKey(ctx.config);
  const cached = sessions.get(key);
  if (cached && (cached.expiresAt === null || cached.expiresAt > ctx.now().getTime() + 60_000)) return cached;
  let request = pending.get(key);
  if (!request) {
    request = requestToken(ctx).finally(() => pending.delete(key));
    pending.set(key, request);
  }
  const fresh = await request;
  sessions.set(key, fresh);
  return fresh;
}

/** Forgets `stale` after Salesforce refused it (401 INVALID_SESSION_ID), so the next call signs in again. */
export function invalidate(ctx: ProviderContext, stale: Session): void {
  const key = cacheKey(ctx.config);
  if (sessions.get(key) === stale) sessions.delete(key);
}

function tokenForm(ctx: ProviderContext): { tokenUrl: string; form: URLSearchParams } {
  const auth = ctx.config.auth;
  switch (auth.kind) {
    case 'oauth-client-credentials': {
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: auth.clientId,
        client_secret: ctx.secret(auth.clientSecret),
      });
      if (auth.scope) form.set('scope', auth.scope);
      return { tokenUrl: auth.tokenUrl, form };
    }
    case 'oauth-jwt-bearer': {
      const assertion = signJwt(jwtBearerClaims(auth, ctx.now()), ctx.secret(auth.privateKey));
      return {
        tokenUrl: auth.tokenUrl,
        form: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
      };
    }
    default:
      throw new ProviderError(`Salesforce needs oauth-client-credentials or oauth-jwt-bearer auth, not ${auth.kind}`, false);
  }
}

async function requestToken(ctx: ProviderContext): Promise<Session> {
  const { tokenUrl, form } = tokenForm(ctx);
  let response: Response;
  let body: string;
  try {
    response = await ctx.fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    body = await response.text();
  } catch (err) {
    throw networkError('token request', err);
  }
  if (!response.ok) throw tokenError({ status: response.status, body, retryAfter: response.headers.get('retry-after') }, ctx.now());
  return sessionFrom(body, salesforceSettings(ctx.config).instanceUrl ?? null, ctx.now());
}

/** Reads a token response (`access_token`, `instance_url`, `id`, optional `expires_in`). Pure. */
export function sessionFrom(body: string, configuredInstanceUrl: string | null, now: Date): Session {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new ProviderError('Salesforce token response is not JSON', true);
  }
  const { access_token: accessToken, instance_url: instanceUrl, id, expires_in: expiresIn } = parsed;
  if (typeof accessToken !== 'string' || accessToken === '')
    throw new ProviderError('Salesforce token response has no access_token', false);
  const base = configuredInstanceUrl ?? (typeof instanceUrl === 'string' ? instanceUrl : null);
  if (base === null) throw new ProviderError('Salesforce token response has no instance_url and settings.instanceUrl is not set', false);
  const tenantId = typeof id === 'string' ? (/\/id\/([A-Za-z0-9]{15,18})\//.exec(id)?.[1] ?? null) : null;
  const seconds = typeof expiresIn === 'number' ? expiresIn : typeof expiresIn === 'string' ? Number(expiresIn) : NaN;
  return {
    accessToken,
    instanceUrl: base.replace(/\/+$/, ''),
    tenantId,
    expiresAt: Number.isFinite(seconds) ? now.getTime() + seconds * 1000 : null,
  };
}
