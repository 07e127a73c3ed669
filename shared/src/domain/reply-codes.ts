/**
 * Reply codes, GoAlert style: each page sent to a phone number carries a short number ("4"), and
 * the person answers "4a" (acknowledge), "4c" (close: resolve) or "4e" (escalate). Codes are per
 * destination number, so a reply is understood only from the number the page went to. Pure: the
 * book of one number's codes is loaded and saved by shared/reply-codes.ts.
 */

/** What a reply code stands for: one alert, paged to one person at one number. */
export type ReplyTarget = Readonly<{
  alertId: string;
  serviceId: string;
  fingerprint: string;
  /** The paged user: who acts when the reply comes. */
  userId: string | null;
  /** For the answer ("Acknowledged: <summary>"), cut to SUMMARY_CHARS. */
  summary: string;
}>;

export type ReplyCode = ReplyTarget &
  Readonly<{
    code: number;
    /** The E.164 number the page went to; replies must come from it. */
    to: string;
    /** Epoch ms of the last page that used the code. */
    issuedAt: number;
  }>;

/** One number's codes. */
export type ReplyBook = Readonly<{ codes: readonly ReplyCode[] }>;

export type ReplyLimits = Readonly<{
  /** Codes are 1…max; when all are taken the oldest is reused. */
  max: number;
  /** A code not used by a page for this long is forgotten. */
  ttlMs: number;
}>;

export const DEFAULT_REPLY_LIMITS: ReplyLimits = { max: 50, ttlMs: 3 * 24 * 3600_000 };
export const SUMMARY_CHARS = 100;
export const EMPTY_BOOK: ReplyBook = { codes: [] };

const E164 = /^\+[1-9]\d{1,14}$/;

/** The number as a KV key (`p15551234567`), or null when it is not E.164. */
export function phoneKey(number: string): string | null {
  return E164.test(number) ? `p${number.slice(1)}` : null;
}

/**
 * The code for `target` at `to`: the one already used for the same alert and user (a re-page
 * keeps its code), else the smallest free one; with every code taken, the least recently used.
 * Expired codes are dropped on the way.
 */
export function allocate(
  book: ReplyBook,
  target: ReplyTarget,
  to: string,
  now: number,
  limits: ReplyLimits = DEFAULT_REPLY_LIMITS,
): { code: number; book: ReplyBook } {
  const live = book.codes.filter((c) => now - c.issuedAt < limits.ttlMs);
  const same = live.find((c) => c.alertId === target.alertId && c.userId === target.userId);
  const summary = target.summary.slice(0, SUMMARY_CHARS);
  let code: number;
  let rest: ReplyCode[];
  if (same !== undefined) {
    code = same.code;
    rest = live.filter((c) => c !== same);
  } else {
    const taken = new Set(live.map((c) => c.code));
    let free = 0;
    for (let n = 1; n <= limits.max && free === 0; n++) if (!taken.has(n)) free = n;
    if (free !== 0) {
      code = free;
      rest = live;
    } else {
      const oldest = live.reduce((a, b) => (b.issuedAt < a.issuedAt ? b : a));
      code = oldest.code;
      rest = live.filter((c) => c !== oldest);
    }
  }
  const entry: ReplyCode = { ...target, summary, code, to, issuedAt: now };
  return { code, book: { codes: [...rest, entry].sort((a, b) => a.code - b.code) } };
}

/** The live code `code` of the book, or null. */
export function lookup(book: ReplyBook, code: number, now: number, limits: ReplyLimits = DEFAULT_REPLY_LIMITS): ReplyCode | null {
  return book.codes.find((c) => c.code === code && now - c.issuedAt < limits.ttlMs) ?? null;
}

export type ReplyAction = 'acknowledge' | 'resolve' | 'escalate';

/** The letters after the code: a = acknowledge, c = close (resolve), e = escalate. */
export const REPLY_LETTERS: Readonly<Record<string, ReplyAction>> = { a: 'acknowledge', c: 'resolve', e: 'escalate' };

/** The digits a call gathers: 1 acknowledge, 2 resolve, 3 escalate. */
export const VOICE_DIGITS: Readonly<Record<string, ReplyAction>> = { '1': 'acknowledge', '2': 'resolve', '3': 'escalate' };

export type SmsKeyword = 'stop' | 'start' | 'help';

/** Carrier keywords (CTIA): what Twilio itself acts on for standard numbers, matched the same way. */
const KEYWORDS: Readonly<Record<string, SmsKeyword>> = {
  STOP: 'stop',
  STOPALL: 'stop',
  UNSUBSCRIBE: 'stop',
  CANCEL: 'stop',
  END: 'stop',
  QUIT: 'stop',
  START: 'start',
  YES: 'start',
  UNSTOP: 'start',
  HELP: 'help',
  INFO: 'help',
};

export type ParsedReply =
  | Readonly<{ kind: 'keyword'; keyword: SmsKeyword }>
  | Readonly<{ kind: 'code'; code: number; action: ReplyAction }>
  | Readonly<{ kind: 'unknown' }>;

/** What an inbound SMS says: a carrier keyword (the whole message, any case), "<n><letter>", or nothing we know. */
export function parseReply(body: string): ParsedReply {
  const text = body.trim();
  const keyword = KEYWORDS[text.toUpperCase()];
  if (keyword !== undefined) return { kind: 'keyword', keyword };
  const m = /^(\d{1,4})\s*([a-z])$/i.exec(text);
  const action = m?.[2] === undefined ? undefined : REPLY_LETTERS[m[2].toLowerCase()];
  if (m?.[1] === undefined || action === undefined) return { kind: 'unknown' };
  return { kind: 'code', code: Number(m[1]), action };
}

/** The line a page SMS ends with. */
export function replyInstructions(code: number): string {
  return `Reply ${code}a to acknowledge, ${code}c to resolve, ${code}e to escalate.`;
}
