import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's requests older (or newer) than this are refused: a captured request cannot be replayed later. */
export const SLACK_MAX_SKEW_SECONDS = 5 * 60;

export type SignatureProblem = 'missing' | 'malformed' | 'stale' | 'mismatch';

/** Slack's v0 signature of a request: `v0=` + hex HMAC-SHA256(secret, `v0:<timestamp>:<raw body>`). */
export function slackSignature(secret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/**
 * Checks `X-Slack-Signature` and `X-Slack-Request-Timestamp` over the raw body: null when the
 * request is Slack's, else why not. The timestamp is signed, so a replay with a changed body or
 * a fresh timestamp does not match; an old one is refused by its age.
 */
export function checkSlackSignature(
  secret: string,
  headers: Readonly<{ signature: string | undefined; timestamp: string | undefined }>,
  rawBody: string,
  nowMs: number,
): SignatureProblem | null {
  const { signature, timestamp } = headers;
  if (signature === undefined || timestamp === undefined || signature === '' || timestamp === '') return 'missing';
  if (!/^\d{1,12}$/.test(timestamp) || !/^v0=[0-9a-f]{64}$/.test(signature)) return 'malformed';
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > SLACK_MAX_SKEW_SECONDS) return 'stale';
  const expected = Buffer.from(slackSignature(secret, timestamp, rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? null : 'mismatch';
}
