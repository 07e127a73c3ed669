import type { EventData, TicketState, TicketSync } from '@oncall/contracts';

/**
 * The bridge's decisions, pure: what an alert event asks of its tickets, whether a failed call is
 * tried again and when, and what an inbound ticket change does. No I/O, no clock: `now` is data.
 */

/** The bridge's idempotency key for an alert's ticket: the provider stores it where `find` can search it. */
export const idempotencyKeyOf = (alertId: string): string => `oncall-${alertId}`;

/** A routing decision that asks for a ticket → the TicketRequested to append; null = no ticket asked. */
export function requestOf(routedEventId: string, routed: EventData<'AlertRouted'>): EventData<'TicketRequested'> | null {
  if (routed.ticket === null) return null;
  return {
    alertId: routed.alertId,
    serviceId: routed.serviceId,
    providerId: routed.ticket,
    requestedBy: 'rule',
    userId: null,
    requestId: routedEventId,
  };
}

/** An alert lifecycle event as the sync rules see it. */
export type AlertMove = Readonly<{
  type: 'AlertAcknowledged' | 'AlertResolved' | 'AlertUnacknowledged';
  /** Where the person acted; `ticket` = the change came from a ticket and is not pushed back. */
  via: string | null;
  userId: string | null;
  note: string;
}>;

export type SyncAction = Readonly<{
  kind: 'acknowledged' | 'resolved' | 'reopened';
  transition: string | null;
  comment: string | null;
  /** The state the ticket is moved to (null: a comment only). */
  state: TicketState | null;
}>;

const MOVE: Readonly<
  Record<AlertMove['type'], { kind: SyncAction['kind']; key: 'onAcknowledge' | 'onResolve' | 'onReopen'; state: TicketState }>
> = {
  AlertAcknowledged: { kind: 'acknowledged', key: 'onAcknowledge', state: 'in_progress' },
  AlertResolved: { kind: 'resolved', key: 'onResolve', state: 'resolved' },
  AlertUnacknowledged: { kind: 'reopened', key: 'onReopen', state: 'open' },
};

const commentText = (kind: SyncAction['kind'], move: AlertMove): string => {
  const who = move.userId === null ? '' : ` by ${move.userId}`;
  const where = move.via === null ? '' : ` (via ${move.via})`;
  const note = move.note === '' ? '' : `: ${move.note}`;
  return `Alert ${kind}${who}${where}${note}`;
};

/**
 * What an alert change does to its ticket: the configured transition and/or a comment; null =
 * nothing (neither configured, or the change came from the ticket itself — pushing it back would
 * loop).
 */
export function syncActionFor(move: AlertMove, sync: TicketSync): SyncAction | null {
  if (move.via === 'ticket') return null;
  const m = MOVE[move.type];
  const rule = sync[m.key];
  if (rule.transition === null && !rule.comment) return null;
  return {
    kind: m.kind,
    transition: rule.transition,
    comment: rule.comment ? commentText(m.kind, move) : null,
    state: rule.transition === null ? null : m.state,
  };
}

export type RetryPolicy = Readonly<{ maxAttempts: number; baseMs: number; maxMs: number }>;

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseMs: 1000, maxMs: 5 * 60_000 };

/** A failed provider call as the retry rule sees it. */
export type Failure = Readonly<{ retryable: boolean; retryAfterMs: number | null }>;

/** A failed call with its HTTP status, as the rate-limit rule sees it. */
export type CallFailure = Failure & Readonly<{ httpStatus: number | null }>;

export type RateLimitDecision = Readonly<{ kind: 'rate-limited'; pauseMs: number; until: number }>;

/**
 * A 429 is the provider asking everyone to slow down, not this ticket failing: the provider's lane
 * pauses until its Retry-After (or `policy.baseMs` when it sent none; at most `policy.maxMs`) and
 * the ticket's attempt does not count. Any other failure: null (the retry rule decides).
 */
export function rateLimitDecision(failure: CallFailure, policy: RetryPolicy, now: number): RateLimitDecision | null {
  if (failure.httpStatus !== 429) return null;
  const pauseMs = Math.min(policy.maxMs, Math.max(failure.retryAfterMs ?? policy.baseMs, 1));
  return { kind: 'rate-limited', pauseMs, until: now + pauseMs };
}

/**
 * When work that finds its provider's lane paused comes again: after the pause, spread over
 * `spreadMs` (`random` in [0,1)) so the waiting work does not all return at the same instant.
 */
export function resumeDelayMs(pausedUntil: number, now: number, spreadMs: number, random: number): number {
  return Math.max(0, pausedUntil - now) + Math.floor(random * spreadMs);
}

export type RetryDecision = Readonly<{ kind: 'retry'; delayMs: number; retryAt: string }> | Readonly<{ kind: 'give-up'; why: string }>;

/**
 * After attempt `attempt` (1-based) failed: try again after an exponential back-off with jitter
 * (`random` in [0,1)), or after the provider's Retry-After when it said one (never sooner, and
 * capped at `maxMs`) — or give up: the error is not retryable, or attempts are used up.
 */
export function retryDecision(failure: Failure, attempt: number, policy: RetryPolicy, now: number, random: number): RetryDecision {
  if (!failure.retryable) return { kind: 'give-up', why: 'not retryable' };
  if (attempt >= policy.maxAttempts) return { kind: 'give-up', why: `${attempt} attempts failed` };
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30));
  const backoff = Math.max(policy.baseMs / 2, Math.floor(ceiling / 2 + (random * ceiling) / 2));
  const delayMs = failure.retryAfterMs === null ? backoff : Math.min(policy.maxMs, Math.max(failure.retryAfterMs, 1));
  return { kind: 'retry', delayMs, retryAt: new Date(now + delayMs).toISOString() };
}

/** The state the bridge last moved a ticket to, and when. */
export type LastSet = Readonly<{ state: TicketState; at: number }>;

/** A change the bridge made comes back within this window as the provider's echo. */
export const ECHO_WINDOW_MS = 10 * 60_000;

/** An inbound change is our own echo: it reports the state the bridge set on the ticket, recently. */
export function isEcho(state: TicketState, lastSet: LastSet | null, now: number, windowMs = ECHO_WINDOW_MS): boolean {
  return lastSet !== null && lastSet.state === state && now - lastSet.at <= windowMs;
}

export type InboundAction = Readonly<{ echo: boolean; resolveAlert: boolean }>;

/** What an inbound ticket change does: recorded always; resolves the alert when configured and not an echo. */
export function inboundAction(state: TicketState, lastSet: LastSet | null, sync: TicketSync, now: number): InboundAction {
  const echo = isEcho(state, lastSet, now);
  return { echo, resolveAlert: !echo && sync.resolveAlertOn.includes(state) };
}
