import type { ApiScope } from '@oncall/contracts';

/** Who is calling: the token's id, the user it acts as (null: a service token) and its scopes. */
export type Caller = Readonly<{ tokenId: string; userId: string | null; scopes: readonly ApiScope[] }>;

/** A stored token as authentication needs it (shared's ApiToken fits). */
export type StoredToken = Readonly<{
  tokenId: string;
  /** The name it was created with (`oncall token create --name`), shown by the console. */
  name?: string;
  tokenHash: string;
  scopes: readonly ApiScope[];
  userId: string | null;
  expiresAt: string | null;
  revoked: boolean;
}>;

/** What a method needs: a scope, and the request field naming the acting user, if it has one. */
export type MethodRule = Readonly<{ scope: ApiScope; actor?: string }>;

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'wrong_secret' | 'revoked' | 'expired';
export type Refusal = 'scope' | 'actor' | 'unknown_method';

/** The presented bearer token: its id (null when the text is not a token of ours) and its hash. */
export type Presented = Readonly<{ tokenId: string | null; hash: string }> | null;

/** Checks a presented token against the stored ones; `now` is epoch ms. */
export function authenticate(
  presented: Presented,
  lookup: (tokenId: string) => StoredToken | undefined,
  now: number,
): { ok: true; caller: Caller } | { ok: false; reason: AuthFailure; tokenId: string | null } {
  if (!presented) return { ok: false, reason: 'missing', tokenId: null };
  const { tokenId } = presented;
  if (tokenId === null) return { ok: false, reason: 'malformed', tokenId };
  const stored = lookup(tokenId);
  if (!stored) return { ok: false, reason: 'unknown', tokenId };
  if (stored.tokenHash !== presented.hash) return { ok: false, reason: 'wrong_secret', tokenId };
  if (stored.revoked) return { ok: false, reason: 'revoked', tokenId };
  if (stored.expiresAt !== null && Date.parse(stored.expiresAt) <= now) return { ok: false, reason: 'expired', tokenId };
  return { ok: true, caller: { tokenId, userId: stored.userId, scopes: stored.scopes } };
}

/** `admin` holds every scope. */
export const hasScope = (caller: Caller, scope: ApiScope): boolean => caller.scopes.includes('admin') || caller.scopes.includes(scope);

/**
 * Whether the caller may call a method with this request, and the request to run (the actor field
 * filled in with a user-bound token's user when empty). Only `admin` names any user as the actor;
 * a user-bound token acts as its own user only; a token bound to no user names nobody.
 */
export function authorize<Req extends object>(
  rule: MethodRule | undefined,
  caller: Caller,
  request: Req,
): { ok: true; request: Req } | { ok: false; reason: Refusal; message: string } {
  if (!rule) return { ok: false, reason: 'unknown_method', message: 'this method is not in the scope table' };
  if (!hasScope(caller, rule.scope)) return { ok: false, reason: 'scope', message: `this token lacks the "${rule.scope}" scope` };
  if (rule.actor === undefined) return { ok: true, request };
  const named = (request as Record<string, unknown>)[rule.actor];
  const actor = typeof named === 'string' ? named : '';
  if (actor === '') return { ok: true, request: caller.userId === null ? request : { ...request, [rule.actor]: caller.userId } };
  if (actor === caller.userId || caller.scopes.includes('admin')) return { ok: true, request };
  const field = rule.actor.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return {
    ok: false,
    reason: 'actor',
    message:
      caller.userId === null
        ? `${field}: a token bound to no user needs the "admin" scope to act as a user`
        : `${field}: this token acts as "${caller.userId}" only; acting as another user needs the "admin" scope`,
  };
}
