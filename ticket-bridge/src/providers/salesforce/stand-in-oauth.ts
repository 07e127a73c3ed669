import { createVerify, randomBytes } from 'node:crypto';

/** What the stand-in's token endpoint accepts: one Connected App, its client-credentials Run As user and its JWT certificate. */
export interface StandInApp {
  clientId: string;
  clientSecret: string;
  /** The client credentials flow runs as this user. */
  runAsUsername: string;
  /** JWT bearer: the certificate's public key (PEM), the pre-authorised user and the expected `aud`. */
  jwt: { publicKey: string; username: string; audience: string } | null;
}

export type TokenOutcome = { ok: true; username: string } | { ok: false; error: string; description: string };

/** Checks a token request the way Salesforce's `/services/oauth2/token` does. */
export function checkTokenRequest(
  app: StandInApp,
  form: URLSearchParams,
  basic: { id: string; secret: string } | null,
  nowMs: number,
): TokenOutcome {
  const grant = form.get('grant_type');
  if (grant === 'client_credentials') {
    const id = basic?.id ?? form.get('client_id');
    const secret = basic?.secret ?? form.get('client_secret');
    if (id !== app.clientId || secret !== app.clientSecret)
      return { ok: false, error: 'invalid_client', description: 'invalid client credentials' };
    return { ok: true, username: app.runAsUsername };
  }
  if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') return checkAssertion(app, form.get('assertion') ?? '', nowMs);
  return { ok: false, error: 'unsupported_grant_type', description: 'grant type not supported' };
}

function checkAssertion(app: StandInApp, assertion: string, nowMs: number): TokenOutcome {
  const invalid = (description: string): TokenOutcome => ({ ok: false, error: 'invalid_grant', description });
  if (app.jwt === null) return invalid('no certificate uploaded for this app');
  const parts = assertion.split('.');
  if (parts.length !== 3) return invalid('invalid assertion');
  const [header, payload, signature] = parts as [string, string, string];
  let alg: unknown;
  let claims: Record<string, unknown>;
  try {
    alg = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: unknown }).alg;
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  } catch {
    return invalid('invalid assertion');
  }
  if (alg !== 'RS256') return invalid('invalid assertion: alg must be RS256');
  const signed = createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(app.jwt.publicKey, Buffer.from(signature, 'base64url'));
  if (!signed) return invalid('invalid assertion: signature does not match the certificate');
  if (claims.iss !== app.clientId) return { ok: false, error: 'invalid_client_id', description: 'client identifier invalid' };
  if (claims.aud !== app.jwt.audience) return invalid('audience is invalid');
  if (claims.sub !== app.jwt.username) return invalid('user hasn’t approved this consumer');
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : NaN;
  if (!(exp > nowMs)) return invalid('expired authorization code');
  if (exp > nowMs + 3 * 60_000 + 5_000) return invalid('invalid assertion: exp is more than 3 minutes away');
  return { ok: true, username: app.jwt.username };
}

export const newToken = () => `00D!${randomBytes(24).toString('base64url')}`;
