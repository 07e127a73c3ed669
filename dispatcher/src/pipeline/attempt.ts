import type { ContactChannel } from '@oncall/contracts';
import type { TraceHeaders } from '@oncall/shared';
import type { Delivery, NotificationRequested } from '../domain/plan.js';
import type { DeliveryRecord } from '../domain/record.js';
import type { ChannelMessages, DeliveryError } from '../notifiers/index.js';

/**
 * Which try of a delivery this is: `delivery` is the message's JetStream delivery count, `base`
 * the delivery count at which this delivery began (1, or for a fallback the delivery at which
 * its primary failed for good), so this is attempt `delivery - base + 1` of it.
 */
export type Try = Readonly<{ delivery: number; base: number }>;
export const attemptOf = (t: Try): number => t.delivery - t.base + 1;

/** The delivery's claim, held while the pipeline works on it; the record stage settles it. */
export interface HeldClaim {
  /** Writes the delivery's outcome into its record (the claim ends). */
  settle(record: DeliveryRecord): Promise<void>;
}

/**
 * One delivery on its way through the pipeline: one notification to one address on one channel.
 * Stages pass on a copy with what they add; the value is never changed in place.
 */
export type DeliveryAttempt = Readonly<{
  notification: NotificationRequested;
  delivery: Delivery;
  partition: number;
  try: Try;
  /** When the notification was requested (epoch ms), or when the fallback began. */
  requestedAt: number;
  /** A page never tried before may be too old to send (the dispatcher was down); fallbacks and retries by hand are not. */
  mayExpire: boolean;
  /** Claim: what an earlier try, another replica or a crashed process recorded. */
  earlier: DeliveryRecord | null;
  /** Claim: held by this attempt (null when it found a record instead). */
  claim: HeldClaim | null;
  /** Claim: aborted when another process took the claim over; nothing may be sent then. */
  signal: AbortSignal;
  /**
   * Claim: taken over from a process that stopped mid-send, which may have sent it: the send
   * stage asks the provider first where it can (a notifier's `find`).
   */
  takenOver: boolean;
  /** Bundle: the notifications one message stands for (this one alone unless bundled). */
  items: readonly NotificationRequested[];
  /** Phone: the reply code and Twilio callback URLs of an SMS or a call (null on other channels). */
  phone: PhoneReply | null;
  /** Render: what the channel's notifier sends. */
  message: ChannelMessages[ContactChannel] | null;
  /** The delivery's `dispatch` span context (tracing on): its NotificationDelivered / NotificationFailed carries it. */
  trace?: TraceHeaders | undefined;
}>;

/** What the phone stage adds to an SMS or a call. */
export type PhoneReply = Readonly<{
  /** The page's reply code at this number (null: none, e.g. a resolution notice or a bundle). */
  code: number | null;
  /** Where the call posts the pressed digit. */
  gatherUrl: string | null;
  /** Where Twilio reports the message's or the call's later status. */
  statusCallbackUrl: string | null;
}>;

/**
 * How an attempt ended. `recorded`/`recordedAt`: an earlier try already wrote this outcome into
 * the delivery's record (at the message's `recordedAt`-th delivery), so only its event is missing.
 */
export type Outcome =
  | Readonly<{ kind: 'sent'; providerMessageId: string | null; bundled: number; recorded: boolean }>
  | Readonly<{ kind: 'failed'; reason: string; error: DeliveryError; fallback: boolean; recordedAt: number | null }>
  | Readonly<{ kind: 'retry'; inMs: number }>;

export type Next = (a: DeliveryAttempt) => Promise<Outcome>;
/** A stage acts on the attempt and calls `next` with it, or ends it with an outcome; some act on what `next` returns. */
export type Stage = (a: DeliveryAttempt, next: Next) => Promise<Outcome>;

/** Stages in order, ending in `last`. */
export function compose(stages: readonly Stage[], last: Next): Next {
  return stages.reduceRight<Next>((next, stage) => (a) => stage(a, next), last);
}

const NEVER = new AbortController().signal;

export function newAttempt(
  o: Pick<DeliveryAttempt, 'notification' | 'delivery' | 'partition' | 'try' | 'requestedAt' | 'mayExpire' | 'trace'>,
): DeliveryAttempt {
  return { ...o, earlier: null, claim: null, signal: NEVER, takenOver: false, items: [o.notification], phone: null, message: null };
}

/** The latest retry the outcomes ask for, or null when every delivery is settled. */
export function retryAfter(outcomes: readonly Outcome[]): number | null {
  let longest: number | null = null;
  for (const o of outcomes) if (o.kind === 'retry') longest = Math.max(longest ?? 0, o.inMs);
  return longest;
}
