import { Metadata, ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor } from '@grpc/grpc-js';
import { Counter } from 'prom-client';
import { apiTokenHash, apiTokenId, registry, type Logger } from '@oncall/shared';
import { authenticate, authorize, type AuthFailure, type Caller, type Presented, type StoredToken } from '../domain/auth.js';
import { blocked, peerAddress, recordFailure, type FailureLimit, type Failures } from '../domain/rate-limit.js';
import { METHOD_RULES, OPEN_SERVICES } from './scopes.js';

const failures = new Counter({
  name: 'oncall_api_auth_failures_total',
  help: 'gRPC calls refused: UNAUTHENTICATED (missing, malformed, unknown, wrong_secret, revoked, expired), PERMISSION_DENIED (scope, actor, unknown_method), RESOURCE_EXHAUSTED (rate_limited)',
  labelNames: ['reason'],
  registers: [registry],
});

/** The caller authenticated for a call, by the call's request metadata (handlers.ts reads it into CallContext). */
const callers = new WeakMap<Metadata, Caller>();
export const callerOf = (metadata: Metadata): Caller | null => callers.get(metadata) ?? null;

export type AuthOptions = Readonly<{
  /** The stored token of an id (the CONFIG stream's ApiTokenCreated/ApiTokenRevoked, folded). */
  tokens: (tokenId: string) => StoredToken | undefined;
  log: Logger;
  /** Failed authentications per client address before it is refused unchecked. */
  failureLimit: FailureLimit;
  now?: () => number;
}>;

/** What the caller is told; an unknown id and a wrong secret read the same, so ids cannot be probed. */
const DETAILS: Partial<Record<AuthFailure, string>> = {
  missing: 'send "authorization: Bearer <token>" (see oncall token create)',
  revoked: 'token revoked',
  expired: 'token expired',
};

export const DEFAULT_FAILURE_LIMIT: FailureLimit = { max: 20, windowMs: 60_000 };

function presented(metadata: Metadata): Presented {
  const [header] = metadata.get('authorization');
  if (header === undefined) return null;
  const token = /^Bearer\s+(\S+)\s*$/i.exec(String(header))?.[1] ?? '';
  return { tokenId: apiTokenId(token), hash: apiTokenHash(token) };
}

/**
 * Authentication and authorization of every call (docs/query-api.md#authentication): the bearer
 * token must be known, not revoked, not expired, hold the method's scope, and name no actor but
 * its own user (unless admin). Refusals are logged with the token id, never the token, and counted.
 */
export function authInterceptor(opts: AuthOptions): ServerInterceptor {
  const now = opts.now ?? Date.now;
  const byAddress = new Map<string, Failures>();
  const refuse = (code: status, reason: string, details: string, fields: Record<string, unknown>) => {
    failures.inc({ reason });
    opts.log.warn({ ...fields, reason }, 'gRPC call refused');
    return { code, details };
  };

  return (method, call) => {
    if (OPEN_SERVICES.some((prefix) => method.path.startsWith(prefix))) return new ServerInterceptingCall(call);
    const rule = METHOD_RULES[method.path];
    let caller: Caller | null = null;
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const address = peerAddress(call.getPeer());
        const at = now();
        const fields = { method: method.path, peer: address };
        if (blocked(byAddress.get(address), at, opts.failureLimit)) {
          call.sendStatus(
            refuse(status.RESOURCE_EXHAUSTED, 'rate_limited', 'too many failed authentications from this address; retry later', fields),
          );
          return;
        }
        const auth = authenticate(presented(metadata), opts.tokens, at);
        if (!auth.ok) {
          byAddress.set(address, recordFailure(byAddress.get(address), at, opts.failureLimit));
          if (byAddress.size > 10_000) for (const [a, f] of byAddress) if (!blocked(f, at, opts.failureLimit)) byAddress.delete(a);
          const details = DETAILS[auth.reason] ?? 'invalid token';
          call.sendStatus(refuse(status.UNAUTHENTICATED, auth.reason, details, { ...fields, tokenId: auth.tokenId }));
          return;
        }
        caller = auth.caller;
        const allowed = authorize(rule, caller, {});
        if (!allowed.ok) {
          call.sendStatus(refuse(status.PERMISSION_DENIED, allowed.reason, allowed.message, { ...fields, tokenId: caller.tokenId }));
          return;
        }
        callers.set(metadata, caller);
        next(metadata);
      })
      .withOnReceiveMessage((message: object, next) => {
        const allowed = authorize(rule, caller!, message);
        if (!allowed.ok) {
          const fields = { method: method.path, peer: peerAddress(call.getPeer()), tokenId: caller!.tokenId };
          call.sendStatus(refuse(status.PERMISSION_DENIED, allowed.reason, allowed.message, fields));
          return;
        }
        next(allowed.request);
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
