import { DeliveryError, sanitizeCause } from './errors.js';

export const DEFAULT_AUTHORITY_URL = 'https://login.microsoftonline.com';
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
/** A token is renewed this long before it expires, so no request goes out with one about to lapse. */
export const REFRESH_BEFORE_MS = 5 * 60_000;

export interface ClientCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Token endpoint base, default https://login.microsoftonline.com (a local stand-in in tests). */
  authorityUrl?: string;
  timeoutMs?: number;
  /** Passed to fetch (an undici `dispatcher` trusting a test certificate). */
  fetchOptions?: { dispatcher?: unknown };
  now?: () => number;
}

/** Access tokens for the app itself (OAuth 2.0 client credentials), cached until shortly before they expire. */
export interface TokenSource {
  /** A current token: the cached one, or a new one when it is missing or about to expire. */
  get(): Promise<string>;
  /** Forgets `token` (Graph answered 401 with it), so the next `get` fetches a new one. */
  invalidate(token: string): void;
  /** Every token handed out so far and the client secret: kept out of errors and logs. */
  secrets(): readonly string[];
}

type Cached = { token: string; refreshAt: number };

/**
 * Client credentials against Microsoft Entra ID (`POST {authority}/{tenant}/oauth2/v2.0/token`,
 * scope `https://graph.microsoft.com/.default`). Concurrent callers share one request. A refused
 * request is a DeliveryError: `unauthorized` (not retryable) for a 400/401 — a wrong secret stays
 * wrong — else retryable.
 */
export function clientCredentialsTokens(c: ClientCredentials): TokenSource {
  const now = c.now ?? Date.now;
  const url = `${(c.authorityUrl ?? DEFAULT_AUTHORITY_URL).replace(/\/+$/, '')}/${encodeURIComponent(c.tenantId)}/oauth2/v2.0/token`;
  const seen = [c.clientSecret];
  let cached: Cached | null = null;
  let pending: Promise<Cached> | null = null;

  const fetchToken = async (): Promise<Cached> => {
    const body = new URLSearchParams({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      scope: GRAPH_SCOPE,
      grant_type: 'client_credentials',
    });
    const requestedAt = now();
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(c.timeoutMs ?? 10_000),
        ...(c.fetchOptions as RequestInit),
      });
    } catch (err) {
      throw new DeliveryError({
        channel: 'teams',
        reason: 'network',
        retryable: true,
        providerCode: 'token_request',
        cause: sanitizeCause(err, seen),
      });
    }
    const json = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown };
    if (!res.ok || typeof json.access_token !== 'string') {
      const refused = res.status === 400 || res.status === 401;
      throw new DeliveryError({
        channel: 'teams',
        reason: refused ? 'unauthorized' : 'provider_unavailable',
        retryable: !refused,
        status: res.status,
        providerCode: typeof json.error === 'string' ? json.error : 'token_request',
      });
    }
    const expiresIn = typeof json.expires_in === 'number' ? json.expires_in : Number(json.expires_in ?? 3599);
    seen.push(json.access_token);
    const lifetimeMs = (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3599) * 1000;
    // Short-lived tokens are renewed at half their life rather than never being reused.
    return { token: json.access_token, refreshAt: requestedAt + lifetimeMs - Math.min(REFRESH_BEFORE_MS, lifetimeMs / 2) };
  };

  return {
    async get() {
      if (cached && now() < cached.refreshAt) return cached.token;
      pending ??= fetchToken().finally(() => {
        pending = null;
      });
      cached = await pending;
      return cached.token;
    },
    invalidate(token) {
      if (cached?.token === token) cached = null;
    },
    secrets: () => seen,
  };
}
