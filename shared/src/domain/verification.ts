import type { ContactChannel, ContactMethod, EventData } from '@oncall/contracts';
import { sha256Hex } from '../hash.js';

/**
 * Contact-method verification, pure (docs/notification-rules.md#contact-verification): a 6-digit
 * code is sent to the method; the person confirms it within 10 minutes and within a few tries.
 * The log holds only a salted hash of the code.
 */

export type VerificationRequest = EventData<'ContactVerificationRequested'>;
export type ContactVerified = EventData<'ContactMethodVerified'>;

export const VERIFICATION_TTL_MS = 10 * 60_000;
export const VERIFICATION_MAX_ATTEMPTS = 5;
/** Channels a code can be sent to (a webhook has nobody to read it). */
export const VERIFIABLE_CHANNELS: readonly ContactChannel[] = ['sms', 'voice', 'email', 'slack', 'teams'];

export const codeHash = (salt: string, code: string): string => sha256Hex(`${salt}:${code}`);

/** A code as people type it: spaces and dashes ignored ("123 456", "123-456"). Null when it is not 6 digits. */
export function normalizeCode(input: string): string | null {
  const code = input.replace(/[\s-]/g, '');
  return /^\d{6}$/.test(code) ? code : null;
}

export type CheckRefusal = 'no_request' | 'expired' | 'too_many_attempts' | 'not_a_code' | 'wrong_code';
export type CheckResult = { ok: true } | { ok: false; reason: CheckRefusal };

/**
 * Whether `input` confirms `request` at `now`, after `attempts` wrong codes were already given for
 * it. The checks are in this order: a request at all, expiry, attempts used up, the code's shape,
 * the code (compared as salted hashes, without an early exit).
 */
export function checkCode(request: VerificationRequest | null, input: string, now: number, attempts: number): CheckResult {
  if (request === null) return { ok: false, reason: 'no_request' };
  if (now >= Date.parse(request.expiresAt)) return { ok: false, reason: 'expired' };
  if (attempts >= request.maxAttempts) return { ok: false, reason: 'too_many_attempts' };
  const code = normalizeCode(input);
  if (code === null) return { ok: false, reason: 'not_a_code' };
  return sameHex(codeHash(request.salt, code), request.codeHash) ? { ok: true } : { ok: false, reason: 'wrong_code' };
}

/** Equal hex digests, compared without stopping at the first difference. */
function sameHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** What the person is told when a code is refused (the CLI prints it; the SMS reply says it). */
export function refusalText(reason: CheckRefusal, attemptsLeft: number): string {
  switch (reason) {
    case 'no_request':
      return 'no verification code is pending for this contact method; request one first';
    case 'expired':
      return 'the verification code has expired; request a new one';
    case 'too_many_attempts':
      return 'too many wrong codes; request a new one';
    case 'not_a_code':
      return 'a verification code is 6 digits';
    case 'wrong_code':
      return attemptsLeft > 0
        ? `wrong verification code (${attemptsLeft} ${attemptsLeft === 1 ? 'try' : 'tries'} left)`
        : 'wrong verification code; no tries left, request a new one';
  }
}

/** The text sent to the contact method. */
export const verificationText = (code: string): string =>
  `Your on-call verification code is ${code}. It expires in 10 minutes. If you did not ask for it, ignore this message.`;

/** Key of a verified method in ConfigState.verifiedContacts (per user). */
export const contactKey = (channel: ContactChannel, address: string): string => `${channel} ${address}`;

/**
 * Whether the log verified `c` for `userId` (a ContactMethodVerified for the same channel and
 * address: a changed address is not verified until confirmed again).
 */
export function verifiedByLog(verified: ReadonlyMap<string, ReadonlySet<string>>, userId: string, c: ContactMethod): boolean {
  return verified.get(userId)?.has(contactKey(c.channel, c.address)) ?? false;
}

/** The user's contacts with the log's verifications applied: a method the directory marks unverified but the log verified loses the mark. */
export function withLogVerifications(
  verified: ReadonlyMap<string, ReadonlySet<string>>,
  userId: string,
  contacts: readonly ContactMethod[],
): readonly ContactMethod[] {
  if (!contacts.some((c) => c.verified === false && verifiedByLog(verified, userId, c))) return contacts;
  return contacts.map((c) => (c.verified === false && verifiedByLog(verified, userId, c) ? { channel: c.channel, address: c.address } : c));
}
