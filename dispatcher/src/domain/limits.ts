/**
 * A token bucket, pure: `capacity` messages at once, refilled at `perMinute`. Time is passed in.
 */
export type Bucket = Readonly<{ tokens: number; at: number }>;
export type BucketConfig = Readonly<{ capacity: number; perMinute: number }>;

export function take(bucket: Bucket | undefined, cfg: BucketConfig, now: number): { bucket: Bucket; ok: boolean; nextTokenAt: number } {
  const refilled = bucket ? Math.min(cfg.capacity, bucket.tokens + ((now - bucket.at) * cfg.perMinute) / 60_000) : cfg.capacity;
  if (refilled >= 1) return { bucket: { tokens: refilled - 1, at: now }, ok: true, nextTokenAt: now };
  const wait = Math.ceil(((1 - refilled) * 60_000) / cfg.perMinute);
  return { bucket: { tokens: refilled, at: now }, ok: false, nextTokenAt: now + wait };
}

/**
 * Retry delay for attempt `attempt` (1 = the first retry): exponential from `baseMs`, capped,
 * with full jitter from `random` in [0, 1) so a storm's retries spread out; a provider's
 * Retry-After wins when it is longer.
 */
export function retryDelay(attempt: number, random: number, opts: { baseMs: number; maxMs: number; retryAfterMs: number | null }): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(ceiling / 2 + (random * ceiling) / 2);
  return Math.max(jittered, opts.retryAfterMs ?? 0);
}
