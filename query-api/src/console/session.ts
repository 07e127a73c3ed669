import type { ApiScope } from '@oncall/contracts';
import { authenticate, hasScope, type AuthFailure, type Presented, type StoredToken } from '../domain/auth.js';

export const SESSION_COOKIE = 'oncall_session';
export const SESSION_TTL_MS = 12 * 3600_000;

/** What the session bucket keeps per session: the token's id and hash, never the token. */
export type SessionRecord = Readonly<{
  tokenId: string;
  tokenHash: string;
  tokenName: string;
  /** The user the session acts as: the token's own user, or the admin's `actAs`; null: sees only. */
  userId: string | null;
  createdAt: string;
  expiresAt: string;
}>;

/** The signed-in caller of one request, checked against the token as it is now. */
export type ConsoleCaller = Readonly<{
  tokenId: string;
  tokenName: string;
  userId: string | null;
  scopes: readonly ApiScope[];
  expiresAt: string;
}>;

export type Refused = Readonly<{ ok: false; status: number; error: string; field?: string; reason: string }>;

const AUTH_MESSAGE: Record<AuthFailure, string> = {
  missing: 'sign in with an API token (oncall token create)',
  malformed: 'invalid token',
  unknown: 'invalid token',
  wrong_secret: 'invalid token',
  revoked: 'token revoked',
  expired: 'token expired',
};

/**
 * A login: the token must authenticate; the session acts as the token's user, or, for an admin
 * token bound to no user, as `actAs` (the CLI's --user). Other tokens bound to no user sign in
 * to see only. The caller checks `actAs` against the UserService.
 */
export function login(
  presented: Presented,
  actAs: string | undefined,
  lookup: (tokenId: string) => StoredToken | undefined,
  now: number,
): { ok: true; record: SessionRecord; actAsToCheck: string | null } | Refused {
  const auth = authenticate(presented, lookup, now);
  if (!auth.ok) return { ok: false, status: 401, error: AUTH_MESSAGE[auth.reason], field: 'token', reason: auth.reason };
  const { caller } = auth;
  const stored = lookup(caller.tokenId)!;
  let userId = caller.userId;
  if (userId !== null) {
    if (actAs !== undefined && actAs !== userId)
      return { ok: false, status: 403, error: `this token acts as "${userId}" only`, field: 'actAs', reason: 'actor' };
  } else if (caller.scopes.includes('admin')) {
    if (actAs === undefined)
      return {
        ok: false,
        status: 400,
        error: 'an admin token bound to no user signs in with the user to act as',
        field: 'actAs',
        reason: 'actor',
      };
    userId = actAs;
  } else if (actAs !== undefined) {
    return { ok: false, status: 403, error: 'acting as a user needs a token with the "admin" scope', field: 'actAs', reason: 'actor' };
  }
  const expires = Math.min(now + SESSION_TTL_MS, stored.expiresAt === null ? Infinity : Date.parse(stored.expiresAt));
  return {
    ok: true,
    actAsToCheck: caller.userId === null && userId !== null ? userId : null,
    record: {
      tokenId: caller.tokenId,
      tokenHash: stored.tokenHash,
      tokenName: stored.name ?? caller.tokenId,
      userId,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(expires).toISOString(),
    },
  };
}

/** A session's caller now: its token still valid (not revoked, not expired) and the session not expired. */
export function sessionCaller(
  record: SessionRecord,
  lookup: (tokenId: string) => StoredToken | undefined,
  now: number,
): { ok: true; caller: ConsoleCaller } | Refused {
  if (Date.parse(record.expiresAt) <= now) return { ok: false, status: 401, error: 'session expired; sign in again', reason: 'expired' };
  const auth = authenticate({ tokenId: record.tokenId, hash: record.tokenHash }, lookup, now);
  if (!auth.ok) return { ok: false, status: 401, error: `${AUTH_MESSAGE[auth.reason]}; sign in again`, reason: auth.reason };
  return {
    ok: true,
    caller: {
      tokenId: record.tokenId,
      tokenName: record.tokenName,
      userId: record.userId,
      scopes: auth.caller.scopes,
      expiresAt: record.expiresAt,
    },
  };
}

/** What a console request needs: `read` to see, `respond` to act on alerts, `write` to change schedules; admin holds all. */
export function permits(caller: ConsoleCaller, scope: ApiScope): boolean {
  return hasScope({ tokenId: caller.tokenId, userId: caller.userId, scopes: caller.scopes }, scope);
}

/** Whether the caller may act (respond / write): the scope and a user to act as. */
export function mayAct(caller: ConsoleCaller, scope: 'respond' | 'write'): { ok: true; userId: string } | Refused {
  if (!permits(caller, scope)) return { ok: false, status: 403, error: `this token lacks the "${scope}" scope`, reason: 'scope' };
  if (caller.userId === null)
    return {
      ok: false,
      status: 403,
      error: 'this session acts as no user: sign in with a user-bound token, or an admin token and actAs',
      reason: 'actor',
    };
  return { ok: true, userId: caller.userId };
}

/**
 * The origins a state-changing request may come from: the console's own (as the browser reached
 * it: the Host header) and ONCALL_CONSOLE_URL's. A request without Origin is refused: browsers
 * send it on every POST and DELETE, so only a non-browser client lacks it, and it can send it.
 */
export function allowedOrigin(origin: string | undefined, host: string | undefined, protocol: string, consoleUrl: string | null): boolean {
  if (origin === undefined || origin === '' || origin === 'null') return false;
  const own: string[] = [];
  if (host) own.push(`${protocol}://${host}`.toLowerCase());
  if (consoleUrl) {
    try {
      own.push(new URL(consoleUrl).origin.toLowerCase());
    } catch {
      // config.ts checked it is a URL
    }
  }
  return own.includes(origin.toLowerCase());
}

/** Whether a Content-Type header is JSON (`application/json`, parameters allowed). */
export const isJson = (contentType: string | undefined): boolean => /^application\/json\s*(;|$)/i.test(contentType ?? '');
