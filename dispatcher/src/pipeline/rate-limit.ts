import type { ContactChannel } from '@oncall/contracts';
import type { Clock } from '@oncall/shared';
import { take, type Bucket, type BucketConfig } from '../domain/limits.js';
import type { Stage } from './attempt.js';

export type RateLimitOptions = Readonly<{ perProvider: Readonly<Partial<Record<ContactChannel, BucketConfig>>>; retryBaseMs: number }>;

/**
 * The per-provider rate limit (Slack's workspace budget, Twilio's messages per second): a
 * message waits for its provider's token bucket. A wait cut short (the process stops, the claim
 * was taken over) hands the attempt back to be tried again.
 */
export function rateLimit(clock: Clock, opts: RateLimitOptions, stopping: AbortSignal): Stage {
  const buckets = new Map<ContactChannel, Bucket>();
  return async (a, next) => {
    const channel = a.delivery.channel;
    const cfg = opts.perProvider[channel];
    while (cfg) {
      const r = take(buckets.get(channel), cfg, clock.now());
      buckets.set(channel, r.bucket);
      if (r.ok) break;
      if (!(await waitUntil(clock, r.nextTokenAt, [stopping, a.signal]))) return { kind: 'retry', inMs: opts.retryBaseMs };
    }
    return next(a);
  };
}

/** True at `time`, false when one of `signals` aborts first. */
function waitUntil(clock: Clock, time: number, signals: readonly AbortSignal[]): Promise<boolean> {
  if (signals.some((s) => s.aborted)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const end = (reached: boolean) => {
      cancel();
      for (const s of signals) s.removeEventListener('abort', onAbort);
      resolve(reached);
    };
    const onAbort = () => end(false);
    const cancel = clock.at(time, () => end(true));
    for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
  });
}
