import { createHmac, timingSafeEqual } from 'node:crypto';
import { InboundRejected, type InboundRequest } from '../types.js';
import { IncidentRecord } from './mapping.js';

/**
 * The signed call a ServiceNow Business Rule makes (docs/tickets.md, "ServiceNow"):
 * `X-Oncall-Timestamp: <unix seconds>` and `X-Oncall-Signature: sha256=<hex HMAC-SHA256 of
 * "<timestamp>.<raw body>" with the inbound secret>`. The timestamp is inside the signature so a
 * captured call cannot be replayed with a fresh one; calls older than five minutes are refused.
 */

export const SIGNATURE_HEADER = 'x-oncall-signature';
export const TIMESTAMP_HEADER = 'x-oncall-timestamp';
const WINDOW_SECONDS = 300;

export function header(request: InboundRequest, name: string): string | null {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? (value[0] ?? null) : value;
  }
  return null;
}

/** `sha256=<hex>` for a body sent at `timestampSeconds`: what the Business Rule computes. */
export function signServiceNowCall(secret: string, timestampSeconds: number, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex')}`;
}

/** Throws InboundRejected unless the call is signed with `secret` within the window around `now`. */
export function verifyServiceNowCall(secret: string, request: InboundRequest, now: Date): void {
  const timestamp = header(request, TIMESTAMP_HEADER);
  const signature = header(request, SIGNATURE_HEADER);
  if (timestamp === null || signature === null) throw new InboundRejected('missing X-Oncall-Timestamp or X-Oncall-Signature', 401);
  if (!/^\d{1,12}$/.test(timestamp)) throw new InboundRejected('X-Oncall-Timestamp is not unix seconds', 401);
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > WINDOW_SECONDS)
    throw new InboundRejected('X-Oncall-Timestamp is more than 5 minutes away from now', 401);
  const expected = Buffer.from(signServiceNowCall(secret, Number(timestamp), request.body));
  const given = Buffer.from(signature.trim());
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new InboundRejected('X-Oncall-Signature does not match the body', 401);
}

/** The record a verified call carries; InboundRejected 400 when it is not one. */
export function parseServiceNowCall(body: Buffer): IncidentRecord {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new InboundRejected('body is not JSON', 400);
  }
  const record = IncidentRecord.safeParse(json);
  if (!record.success) {
    const first = record.error.issues[0];
    throw new InboundRejected(
      `body is not a ServiceNow record: ${first ? `${first.path.join('.') || 'body'}: ${first.message}` : 'invalid'}`,
      400,
    );
  }
  return record.data;
}
