import { createSign } from 'node:crypto';

/** Salesforce refuses a bearer assertion whose `exp` is more than 3 minutes away. */
export const JWT_LIFETIME_SECONDS = 180;

export interface JwtBearerClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
}

/** The claims of the OAuth 2.0 JWT bearer assertion: the Connected App, the user, the login host, ≤ 3 minutes. Pure. */
export function jwtBearerClaims(auth: { clientId: string; username: string; audience: string }, now: Date): JwtBearerClaims {
  return { iss: auth.clientId, sub: auth.username, aud: auth.audience, exp: Math.floor(now.getTime() / 1000) + JWT_LIFETIME_SECONDS };
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** The compact RS256 JWT for `claims`, signed with the Connected App certificate's private key (PEM). */
export function signJwt(claims: JwtBearerClaims, privateKeyPem: string): string {
  const input = `${base64url(JSON.stringify({ alg: 'RS256' }))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(privateKeyPem);
  return `${input}.${base64url(signature)}`;
}
