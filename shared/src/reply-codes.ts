import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  allocate,
  DEFAULT_REPLY_LIMITS,
  EMPTY_BOOK,
  lookup,
  phoneKey,
  type ReplyBook,
  type ReplyCode,
  type ReplyLimits,
  type ReplyTarget,
  type SmsKeyword,
} from './domain/reply-codes.js';

/** KV bucket of reply codes: one entry per destination number (its book of codes). */
export const REPLY_CODE_BUCKET = 'oncall-reply-codes';
/** KV bucket of numbers that sent STOP: no SMS goes to them until they send START. Never expires. */
export const SMS_OPT_OUT_BUCKET = 'oncall-sms-opt-outs';

/** A book is a few KiB at most (50 codes of ~250 bytes). */
const MAX_VALUE_BYTES = 32 * 1024;
const CAS_TRIES = 20;

export class ReplyCodeError extends Error {
  override readonly name = 'ReplyCodeError';
}

/** The number is not E.164: no code can be kept for it. */
export class NotAPhoneNumber extends ReplyCodeError {}

/** Another writer won every compare-and-set for the number's book. */
export class ReplyCodeContention extends ReplyCodeError {}

const wrongLastSequence = (err: unknown): boolean =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

function keyOf(number: string): string {
  const key = phoneKey(number);
  if (key === null) throw new NotAPhoneNumber(`${JSON.stringify(number)} is not an E.164 phone number`);
  return key;
}

/**
 * The reply codes of every number (pure rules in domain/reply-codes.ts). A book is rewritten
 * with compare-and-set on its revision, so two dispatchers allocating for one number at once
 * never hand out one code twice: the loser reads the winner's book and allocates again.
 */
export class ReplyCodes {
  private constructor(
    private readonly kv: KV,
    private readonly limits: ReplyLimits,
  ) {}

  static async open(nc: NatsConnection, opts: { replicas?: number; limits?: ReplyLimits } = {}): Promise<ReplyCodes> {
    const limits = opts.limits ?? DEFAULT_REPLY_LIMITS;
    // An entry not rewritten for the codes' lifetime holds only expired codes.
    const kv = await new Kvm(nc).create(REPLY_CODE_BUCKET, {
      history: 1,
      ttl: limits.ttlMs,
      replicas: opts.replicas ?? 1,
      maxValueSize: MAX_VALUE_BYTES,
    });
    return new ReplyCodes(kv, limits);
  }

  /** The code the page for `target` to `to` carries (see `allocate`). */
  async allocate(to: string, target: ReplyTarget, now: number): Promise<number> {
    const key = keyOf(to);
    for (let i = 0; i < CAS_TRIES; i++) {
      const { book, revision } = await this.read(key);
      const next = allocate(book, target, to, now, this.limits);
      try {
        await this.kv.put(key, JSON.stringify(next.book), { previousSeq: revision });
        return next.code;
      } catch (err) {
        if (!wrongLastSequence(err)) throw err;
      }
    }
    throw new ReplyCodeContention(`could not allocate a reply code for ${key} after ${CAS_TRIES} tries`);
  }

  /** The live code `code` sent to `from`, or null (unknown number, unknown or expired code). */
  async lookup(from: string, code: number, now: number): Promise<ReplyCode | null> {
    const key = phoneKey(from);
    if (key === null) return null;
    return lookup((await this.read(key)).book, code, now, this.limits);
  }

  private async read(key: string): Promise<{ book: ReplyBook; revision: number }> {
    const entry = await this.kv.get(key);
    if (entry === null) return { book: EMPTY_BOOK, revision: 0 };
    if (entry.operation !== 'PUT') return { book: EMPTY_BOOK, revision: entry.revision };
    return { book: entry.json<ReplyBook>(), revision: entry.revision };
  }
}

export type OptOut = Readonly<{ keyword: string; at: string }>;

/** Numbers that answered STOP (or another opt-out keyword); START takes them off. */
export class SmsOptOuts {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, opts: { replicas?: number } = {}): Promise<SmsOptOuts> {
    const kv = await new Kvm(nc).create(SMS_OPT_OUT_BUCKET, { history: 1, replicas: opts.replicas ?? 1, maxValueSize: 1024 });
    return new SmsOptOuts(kv);
  }

  async get(number: string): Promise<OptOut | null> {
    const key = phoneKey(number);
    if (key === null) return null;
    const entry = await this.kv.get(key);
    return entry?.operation === 'PUT' ? entry.json<OptOut>() : null;
  }

  /** Records the opt-out (or the opt-in: `start`). Idempotent. */
  async record(number: string, keyword: Exclude<SmsKeyword, 'help'>, word: string, at: number): Promise<void> {
    const key = keyOf(number);
    if (keyword === 'start') {
      await this.kv.delete(key);
      return;
    }
    const value: OptOut = { keyword: word, at: new Date(at).toISOString() };
    await this.kv.put(key, JSON.stringify(value));
  }
}
