import { createHash, timingSafeEqual } from 'node:crypto';
import { InboundRejected, type InboundRequest } from '../types.js';
import { WebhookPayload } from './mapping.js';

/**
 * Opsgenie's outgoing webhooks are not signed. The integration sends a custom header (default
 * `X-Oncall-Token`) holding the inbound secret, or the URL carries `?token=`; either is compared
 * with the secret in constant time (docs/tickets.md, "Opsgenie").
 */

function header(request: InboundRequest, name: string): string | null {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? (value[0] ?? null) : value;
  }
  return null;
}

function sameSecret(given: string, secret: string): boolean {
  // Digests have one length, so the comparison takes the same time whatever was sent.
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(secret).digest());
}

/** Throws InboundRejected 401 unless the call carries the secret in `headerName` or `?token=`. */
export function verifyOpsgenieCall(secret: string, headerName: string, request: InboundRequest): void {
  const given = header(request, headerName) ?? request.query.get('token');
  if (given === null || given === '') throw new InboundRejected(`missing ${headerName} header (or ?token=)`, 401);
  if (!sameSecret(given, secret)) throw new InboundRejected(`${headerName} does not match the inbound secret`, 401);
}

/** The webhook body; InboundRejected 400 when it is not Opsgenie's alert action data. */
export function parseOpsgenieCall(body: Buffer): WebhookPayload {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new InboundRejected('body is not JSON', 400);
  }
  const payload = WebhookPayload.safeParse(json);
  if (!payload.success) {
    const first = payload.error.issues[0];
    throw new InboundRejected(
      `body is not an Opsgenie webhook: ${first ? `${first.path.join('.') || 'body'}: ${first.message}` : 'invalid'}`,
      400,
    );
  }
  return payload.data;
}
