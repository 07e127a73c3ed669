import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): `webhook-id`,
 * `webhook-timestamp` (seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>">`. The dispatcher signs its outgoing webhooks with it, the ticket
 * bridge its generic webhook tickets and checks the calls coming back. A `whsec_` prefix means
 * the rest of the secret is base64.
 */

const keyOf = (secret: string): Buffer =>
  secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');

/** `v1,<signature>` over `${id}.${timestampSeconds}.${body}`. */
export function standardWebhookSignature(secret: string, id: string, timestampSeconds: number, body: string | Uint8Array): string {
  const hmac = createHmac('sha256', keyOf(secret)).update(`${id}.${timestampSeconds}.`);
  hmac.update(body);
  return `v1,${hmac.digest('base64')}`;
}

/** The headers of a signed request. */
export function standardWebhookHeaders(secret: string, id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': standardWebhookSignature(secret, id, timestampSeconds, body),
  };
}

export type SignatureProblem = 'missing-headers' | 'stale-timestamp' | 'bad-signature';

/** How far a signed request's timestamp may be from now (replays are refused after it). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * Checks a signed request: the headers are there, the timestamp is within five minutes of
 * `nowSeconds`, and one of the space-separated `v1,` signatures matches (compared in constant time).
 * Returns null when it verifies, else what is wrong.
 */
export function verifyStandardWebhook(
  secret: string,
  headers: Readonly<{ id: string | undefined; timestamp: string | undefined; signature: string | undefined }>,
  body: Uint8Array,
  nowSeconds: number,
): SignatureProblem | null {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || !/^\d+$/.test(timestamp)) return 'missing-headers';
  const ts = Number(timestamp);
  if (Math.abs(nowSeconds - ts) > SIGNATURE_TOLERANCE_SECONDS) return 'stale-timestamp';
  const expected = Buffer.from(standardWebhookSignature(secret, id, ts, body));
  for (const candidate of signature.split(' ')) {
    const given = Buffer.from(candidate);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
  }
  return 'bad-signature';
}
