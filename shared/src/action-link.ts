import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { Surface } from '@oncall/contracts';

/**
 * Signed, expiring action links (`<public url>/a/<token>`): a capability URL for one paged person
 * and one alert. The token is `<payload>.<signature>`, both base64url: the payload is compact JSON
 * naming the alert (id, service, fingerprint), the user it was sent to and when it expires; the
 * signature is HMAC-SHA256 of the payload text with ONCALL_ACTION_SECRET. Nothing is stored: the
 * ingest that receives the link checks the signature and the expiry.
 */
export type ActionLink = Readonly<{
  alertId: string;
  serviceId: string;
  fingerprint: string;
  /** Who the page went to; null: sent to a Slack channel or a webhook, so the page only shows the alert. */
  userId: string | null;
  /** Epoch seconds after which the link is refused. */
  expiresAt: number;
  /** The surface the link was sent through (email, slack, sms, …): commands from the page say so. */
  via: Surface;
}>;

/** Links are valid this long unless told otherwise: a page can sit in a mailbox over a weekend. */
export const ACTION_LINK_TTL_SECONDS = 7 * 86_400;
/** A secret shorter than this is refused: the links are only as strong as it. */
export const MIN_ACTION_SECRET_LENGTH = 32;

export type ActionLinkProblem = 'malformed' | 'forged' | 'expired';

export type VerifiedLink = Readonly<{ ok: true; link: ActionLink }> | Readonly<{ ok: false; problem: ActionLinkProblem }>;

const Payload = z
  .object({
    v: z.literal(1),
    a: z.string().min(1).max(200),
    s: z.string().min(1).max(200),
    f: z.string().min(1).max(500),
    u: z.string().min(1).max(200).nullable(),
    e: z.number().int().positive(),
    c: Surface,
  })
  .strict();

const B64URL = /^[A-Za-z0-9_-]+$/;
/** Tokens longer than this are not ours (a URL stays well under 2 KB). */
const MAX_TOKEN_LENGTH = 1500;

function sign(payload: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

/** The token for `link`, signed with `secret`. */
export function makeActionToken(link: ActionLink, secret: string): string {
  const payload = Buffer.from(
    JSON.stringify({ v: 1, a: link.alertId, s: link.serviceId, f: link.fingerprint, u: link.userId, e: link.expiresAt, c: link.via }),
  ).toString('base64url');
  return `${payload}.${sign(payload, secret).toString('base64url')}`;
}

/**
 * Checks a token against the current secret and any previous ones (rotation: links signed with
 * the previous secret keep working until they expire). The signature is checked before anything
 * in the payload is believed, in constant time.
 */
export function verifyActionToken(token: string, secrets: readonly string[], nowMs: number): VerifiedLink {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, problem: 'malformed' };
  const parts = token.split('.');
  const [payload, signature] = parts;
  if (parts.length !== 2 || !payload || !signature || !B64URL.test(payload) || !B64URL.test(signature))
    return { ok: false, problem: 'malformed' };
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== 32) return { ok: false, problem: 'malformed' };
  if (!secrets.some((s) => timingSafeEqual(sign(payload, s), given))) return { ok: false, problem: 'forged' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, problem: 'malformed' };
  }
  const p = Payload.safeParse(parsed);
  if (!p.success) return { ok: false, problem: 'malformed' };
  if (p.data.e * 1000 <= nowMs) return { ok: false, problem: 'expired' };
  return {
    ok: true,
    link: { alertId: p.data.a, serviceId: p.data.s, fingerprint: p.data.f, userId: p.data.u, expiresAt: p.data.e, via: p.data.c },
  };
}

/** The page's URL for `link`: `<publicUrl>/a/<token>`. */
export function actionUrl(publicUrl: string, link: ActionLink, secret: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/a/${makeActionToken(link, secret)}`;
}

/** The secret setting: long enough to resist guessing. */
export const actionSecretEnv = z
  .string()
  .min(MIN_ACTION_SECRET_LENGTH, `must be at least ${MIN_ACTION_SECRET_LENGTH} characters (e.g. openssl rand -hex 32)`)
  .optional();
