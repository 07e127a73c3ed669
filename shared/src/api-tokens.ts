import { randomBytes, randomUUID } from 'node:crypto';
import { InterceptingCall, type ClientOptions, type Interceptor } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { encodeEvent, makeEvent, subjects, type ApiScope } from '@oncall/contracts';
import { sha256Hex } from './hash.js';

/**
 * API tokens of the gRPC API (docs/query-api.md#authentication): `oc_<tokenId>_<secret>`. The id
 * may be logged and listed; the log holds only the SHA-256 of the whole token.
 */
const TOKEN = /^oc_([a-z0-9]{8,32})_([A-Za-z0-9_-]{32,})$/;

/** The token id of a well-formed token, or null. */
export function apiTokenId(token: string): string | null {
  return TOKEN.exec(token)?.[1] ?? null;
}

/** The hash stored for a token (hex SHA-256 of the whole token). */
export const apiTokenHash = (token: string): string => sha256Hex(token);

/** A fresh token: 12 hex characters of id, 32 random bytes of secret. */
export function newApiToken(): { tokenId: string; token: string } {
  const tokenId = randomBytes(6).toString('hex');
  return { tokenId, token: `oc_${tokenId}_${randomBytes(32).toString('base64url')}` };
}

export type NewApiToken = Readonly<{ name: string; scopes: readonly ApiScope[]; userId: string | null; expiresAt: Date | null }>;

/** Appends ApiTokenCreated to CONFIG and returns the token, which exists nowhere else: show it once. */
export async function createApiToken(
  nc: NatsConnection,
  input: NewApiToken,
  now = new Date(),
): Promise<{ tokenId: string; token: string }> {
  const created = newApiToken();
  const event = makeEvent(
    'ApiTokenCreated',
    {
      tokenId: created.tokenId,
      name: input.name,
      scopes: [...new Set(input.scopes)],
      userId: input.userId,
      tokenHash: apiTokenHash(created.token),
      createdAt: now.toISOString(),
      expiresAt: input.expiresAt?.toISOString() ?? null,
    },
    { id: randomUUID(), occurredAt: now.toISOString(), causationId: null, correlationId: 'oncall-token' },
  );
  await jetstream(nc).publish(subjects.config('token', created.tokenId), encodeEvent(event), { expect: { lastSubjectSequence: 0 } });
  return created;
}

/** Appends ApiTokenRevoked: the token answers UNAUTHENTICATED once query-api has read it. */
export async function revokeApiToken(nc: NatsConnection, tokenId: string, now = new Date()): Promise<void> {
  const event = makeEvent(
    'ApiTokenRevoked',
    { tokenId },
    { id: randomUUID(), occurredAt: now.toISOString(), causationId: null, correlationId: 'oncall-token' },
  );
  await jetstream(nc).publish(subjects.config('token', tokenId), encodeEvent(event));
}

/** Client options that send `authorization: Bearer <token>` on every call (none without a token). */
export function bearerToken(token: string | undefined): ClientOptions {
  if (!token) return {};
  const interceptor: Interceptor = (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
  return { interceptors: [interceptor] };
}
