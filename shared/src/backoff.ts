/**
 * Exponential back-off with full jitter (AWS's "full jitter"): attempt 1 waits up to `baseMs`,
 * each further attempt up to twice as long, never more than `maxMs`. `random` in [0, 1) is passed
 * in, so the schedule is a pure function (tests give it; callers give Math.random()).
 */
export type Backoff = Readonly<{ baseMs: number; maxMs: number }>;

export const DEFAULT_BACKOFF: Backoff = { baseMs: 250, maxMs: 15_000 };

export function backoffMs(attempt: number, random: number, b: Backoff = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  // Never zero: a tight loop on a persistent failure would burn a core.
  return Math.max(Math.min(b.baseMs, 10), Math.floor(random * ceiling));
}
