import type { Clock } from '@oncall/shared';
import { take, type Bucket, type BucketConfig } from '../domain/limits.js';
import type { ContactChannel } from '@oncall/contracts';
import type { DeliveryAttempt, Next, Outcome, Stage } from './attempt.js';

export type BundleOptions = Readonly<{
  perDestination: Readonly<Partial<Record<ContactChannel, BucketConfig>>>;
  bundleWindowMs: number;
  retryBaseMs: number;
}>;

type Waiting = { a: DeliveryAttempt; resolve: (o: Outcome) => void; reject: (err: unknown) => void };
type Window = { waiting: Waiting[]; next: Next; cancel: () => void };

/**
 * The per-destination rate limit (token buckets per channel and address; `critical` bypasses
 * them). A destination out of tokens collects what comes for it for `bundleWindowMs` and gets
 * one message standing for all of it: the rest of the pipeline runs once, with every
 * notification in `items`, and each collected attempt ends with that run's outcome. An attempt
 * whose claim another process took over meanwhile is left out. When the process stops, what is
 * collected is handed back (retried later, here or by another replica).
 */
export function bundle(clock: Clock, opts: BundleOptions, stopping: AbortSignal): Stage {
  const buckets = new Map<string, Bucket>();
  const windows = new Map<string, Window>();
  const handBack = (w: Waiting) => w.resolve({ kind: 'retry', inMs: opts.retryBaseMs });

  stopping.addEventListener(
    'abort',
    () => {
      for (const w of windows.values()) {
        w.cancel();
        w.waiting.forEach(handBack);
      }
      windows.clear();
    },
    { once: true },
  );

  const flush = (dest: string): void => {
    const w = windows.get(dest);
    windows.delete(dest);
    if (!w) return;
    const live = w.waiting.filter((x) => !x.a.signal.aborted);
    w.waiting.filter((x) => x.a.signal.aborted).forEach(handBack);
    const head = live[0];
    if (!head) return;
    w.next({ ...head.a, items: live.map((x) => x.a.notification) }).then(
      (o) => live.forEach((x) => x.resolve(o)),
      (err: unknown) => live.forEach((x) => x.reject(err)),
    );
  };

  return async (a, next) => {
    const cfg = opts.perDestination[a.delivery.channel];
    if (!cfg || a.notification.priority === 'critical') return next(a);
    const dest = `${a.delivery.channel}:${a.delivery.address}`;
    const r = take(buckets.get(dest), cfg, clock.now());
    buckets.set(dest, r.bucket);
    if (r.ok && !windows.has(dest)) return next(a);
    if (stopping.aborted) return { kind: 'retry', inMs: opts.retryBaseMs };
    return new Promise<Outcome>((resolve, reject) => {
      let w = windows.get(dest);
      if (!w) {
        w = { waiting: [], next, cancel: clock.at(clock.now() + opts.bundleWindowMs, () => flush(dest)) };
        windows.set(dest, w);
      }
      w.waiting.push({ a, resolve, reject });
    });
  };
}
