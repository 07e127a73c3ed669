import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeEvent, encodeEvent, makeEvent, STREAMS, subjects, type ContactChannel, type Surface } from '@oncall/contracts';
import { phoneKey } from './domain/reply-codes.js';
import {
  checkCode,
  codeHash,
  refusalText,
  VERIFIABLE_CHANNELS,
  VERIFICATION_MAX_ATTEMPTS,
  VERIFICATION_TTL_MS,
  type CheckRefusal,
  type ContactVerified,
  type VerificationRequest,
} from './domain/verification.js';

/**
 * KV bucket carrying what must not be in the log: each pending request's code (for the dispatcher to
 * send) and its count of tries (`r.<requestId>`), and which request an SMS reply from a number
 * confirms (`sms.p<digits>`). Entries live 10 minutes, as the codes do.
 */
export const VERIFICATION_BUCKET = 'oncall-verification-codes';

type CodeEntry = { code: string; attempts: number };
type SmsEntry = { userId: string; requestId: string };

export type Refused = { ok: false; reason: CheckRefusal | 'already_verified'; message: string };
export type ConfirmResult = { ok: true; verified: ContactVerified } | Refused;

export class VerificationError extends Error {
  override readonly name = 'VerificationError';
}

const wrongLastSequence = (err: unknown): boolean =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

const TRIES = 10;

/**
 * Requests and confirms contact-method verifications (docs/notification-rules.md#contact-verification):
 * the CLI requests and confirms, the dispatcher reads the code to send it, ingest confirms SMS replies.
 * Each method is one subject `config.contact.<user>.<channel>`; its last event says whether a code is
 * pending, and a confirmation is appended expecting that event to still be the last.
 */
export class ContactVerifications {
  private constructor(
    private readonly kv: KV,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  static async open(nc: NatsConnection, opts: { replicas?: number } = {}): Promise<ContactVerifications> {
    const kv = await new Kvm(nc).create(VERIFICATION_BUCKET, {
      history: 1,
      ttl: VERIFICATION_TTL_MS,
      replicas: opts.replicas ?? 1,
      maxValueSize: 1024,
    });
    return new ContactVerifications(kv, jetstream(nc), await jetstreamManager(nc));
  }

  /** Makes a code for the method, keeps it for the dispatcher and appends the request (hash only). */
  async request(input: { userId: string; channel: ContactChannel; address: string; now: number }): Promise<VerificationRequest> {
    if (!VERIFIABLE_CHANNELS.includes(input.channel))
      throw new VerificationError(`${input.channel} cannot be verified: use one of ${VERIFIABLE_CHANNELS.join(', ')}`);
    if (input.address === '') throw new VerificationError(`${input.userId} has no ${input.channel} address`);
    const { code, salt } = newCode();
    const requestId = randomUUID();
    const data: VerificationRequest = {
      requestId,
      userId: input.userId,
      channel: input.channel,
      address: input.address,
      salt,
      codeHash: codeHash(salt, code),
      expiresAt: new Date(input.now + VERIFICATION_TTL_MS).toISOString(),
      maxAttempts: VERIFICATION_MAX_ATTEMPTS,
    };
    // The code first: the dispatcher reads it when it sees the request.
    await this.kv.put(codeKey(requestId), JSON.stringify({ code, attempts: 0 } satisfies CodeEntry));
    const sms = input.channel === 'sms' ? phoneKey(input.address) : null;
    if (sms !== null) await this.kv.put(`sms.${sms}`, JSON.stringify({ userId: input.userId, requestId } satisfies SmsEntry));
    const event = makeEvent('ContactVerificationRequested', data, {
      id: requestId,
      occurredAt: new Date(input.now).toISOString(),
      causationId: null,
      correlationId: requestId,
    });
    await this.js.publish(subjects.contactVerification(input.userId, input.channel), encodeEvent(event), { msgID: requestId });
    return data;
  }

  /** The code of a pending request, for the dispatcher to send; null once confirmed or expired. */
  async codeOf(requestId: string): Promise<string | null> {
    const entry = await this.kv.get(codeKey(requestId));
    return entry?.operation === 'PUT' ? entry.json<CodeEntry>().code : null;
  }

  /** The user whose SMS verification is pending for this number (an SMS reply confirms it). */
  async pendingSms(from: string): Promise<string | null> {
    const key = phoneKey(from);
    if (key === null) return null;
    const entry = await this.kv.get(`sms.${key}`);
    return entry?.operation === 'PUT' ? entry.json<SmsEntry>().userId : null;
  }

  /**
   * Confirms the method's pending request with `code`. A try is counted (compare-and-set on the
   * request's entry) before the code is compared, so parallel guesses cannot exceed the limit.
   * Refused: nothing is appended. Accepted: ContactMethodVerified, appended once even if two
   * confirmations race (it expects the request to be the subject's last event).
   */
  async confirm(input: { userId: string; channel: ContactChannel; code: string; via: Surface; now: number }): Promise<ConfirmResult> {
    const subject = subjects.contactVerification(input.userId, input.channel);
    for (let i = 0; i < TRIES; i++) {
      const last = await this.jsm.streams.getMessage(STREAMS.config, { last_by_subj: subject });
      const event = last ? decodeEvent(last.data) : null;
      if (event?.type === 'ContactMethodVerified') return refused('already_verified', 0);
      const request = event?.type === 'ContactVerificationRequested' ? event.data : null;
      const entry = request ? await this.kv.get(codeKey(request.requestId)) : null;
      const attempts = entry?.operation === 'PUT' ? entry.json<CodeEntry>().attempts : (request?.maxAttempts ?? 0);
      const check = checkCode(request, input.code, input.now, attempts);
      if (!check.ok && check.reason !== 'wrong_code') return refused(check.reason, 0);
      if (!(await this.countTry(entry!, attempts))) continue;
      if (!check.ok) return refused('wrong_code', request!.maxAttempts - attempts - 1);
      const verified: ContactVerified = {
        userId: input.userId,
        channel: input.channel,
        address: request!.address,
        requestId: request!.requestId,
        via: input.via,
      };
      const out = makeEvent('ContactMethodVerified', verified, {
        id: randomUUID(),
        occurredAt: new Date(input.now).toISOString(),
        causationId: request!.requestId,
        correlationId: request!.requestId,
      });
      try {
        await this.js.publish(subject, encodeEvent(out), { expect: { lastSubjectSequence: last!.seq } });
      } catch (err) {
        if (wrongLastSequence(err)) continue;
        throw err;
      }
      await this.kv.delete(codeKey(request!.requestId));
      const sms = input.channel === 'sms' ? phoneKey(request!.address) : null;
      if (sms !== null) await this.kv.delete(`sms.${sms}`);
      return { ok: true, verified };
    }
    throw new VerificationError(`could not confirm ${input.userId}'s ${input.channel}: the method changed under every try`);
  }

  private async countTry(entry: KvEntry, attempts: number): Promise<boolean> {
    try {
      const value = { ...entry.json<CodeEntry>(), attempts: attempts + 1 } satisfies CodeEntry;
      await this.kv.put(entry.key, JSON.stringify(value), { previousSeq: entry.revision });
      return true;
    } catch (err) {
      if (wrongLastSequence(err)) return false;
      throw err;
    }
  }
}

/** A fresh 6-digit code (leading zeros kept) and a 16-byte salt for its hash. */
export function newCode(): { code: string; salt: string } {
  return { code: String(randomInt(0, 1_000_000)).padStart(6, '0'), salt: randomBytes(16).toString('hex') };
}

const codeKey = (requestId: string): string => `r.${requestId}`;

function refused(reason: Refused['reason'], attemptsLeft: number): Refused {
  const message = reason === 'already_verified' ? 'this contact method is already verified' : refusalText(reason, attemptsLeft);
  return { ok: false, reason, message };
}
