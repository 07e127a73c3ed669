import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { LEASE_BUCKET } from '@oncall/contracts';
import { backoffMs, type Backoff } from './backoff.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

/** A lease not renewed within this time expires and another replica may take it over. */
export const LEASE_TTL_MS = 15_000;
const RENEW_EVERY_MS = LEASE_TTL_MS / 3;
/** Before claiming a lease again after its work ended or failed; grows while the work keeps failing soon after it starts. */
const RECLAIM_BACKOFF: Backoff = { baseMs: 1000, maxMs: 60_000 };
/** Work that ran this long before it ended was healthy: the next back-off starts over. */
const HEALTHY_AFTER_MS = 60_000;

export async function leaseBucket(nc: NatsConnection, replicas = 1): Promise<KV> {
  return new Kvm(nc).create(LEASE_BUCKET, { history: 1, ttl: LEASE_TTL_MS, replicas });
}

/** The lease a holder's work runs under. */
export type Lease = Readonly<{
  key: string;
  owner: string;
  /**
   * Whether this holder still holds the lease: the entry is the one its last claim or renewal
   * wrote. For work that must not act on a lease lost unnoticed (a pause longer than the TTL):
   * nobody else can have held it between this holder's claim and a true answer.
   */
  held: () => Promise<boolean>;
}>;

export type LeaseOptions = Readonly<{
  clock: Clock;
  log: Logger;
  /** Aborted: the work is stopped, the lease released, and the returned promise resolves. */
  stop: AbortSignal;
  /** How often the lease is renewed (and, while another replica holds it, claimed); default a third of its TTL. */
  renewEveryMs?: number;
  /** Back-off before claiming the lease again after its work ended or failed. */
  backoff?: Backoff;
  random?: () => number;
}>;

/**
 * Runs `work` while this process holds the lease `key` (a KV entry that expires unless renewed),
 * so one replica at a time owns a partition. `work` gets the Lease (to ask whether it is still
 * held) and a signal aborted when the lease is lost
 * (a renewal failed: the entry expired, or another replica holds it) or on `stop`; it must stop
 * writing then. The lease is no fence by itself: writers still expect subject sequences, so a
 * paused ex-owner that wakes up cannot append behind a new owner's back.
 *
 * Work that ends or throws while the lease is held gives the lease up: it is released at once
 * (so another replica can take the work over within one renewal period, instead of a dead
 * holder renewing it forever) and this holder claims it again after a back-off with jitter. On
 * `stop` the work is stopped and the lease released; the promise resolves after that.
 */
export async function holdLease(
  kv: KV,
  key: string,
  owner: string,
  work: (lost: AbortSignal, lease: Lease) => Promise<void>,
  opts: LeaseOptions,
): Promise<void> {
  const renewEveryMs = opts.renewEveryMs ?? RENEW_EVERY_MS;
  const log = opts.log.child({ lease: key, owner });
  let failures = 0;
  while (!opts.stop.aborted) {
    let revision: number;
    try {
      revision = await claim(kv, key, owner);
    } catch {
      await pause(opts.clock, renewEveryMs, opts.stop);
      continue;
    }
    log.info('lease acquired');
    const lost = new AbortController();
    const started = Date.now();
    let outcome: { failed: boolean; err?: unknown } | null = null;
    // The entry's revisions this holder wrote lately: a read that crosses a renewal sees either.
    const written = [revision];
    let renewing = false;
    const stillHeld = async (): Promise<boolean> => {
      const entry = await kv.get(key);
      if (entry?.operation !== 'PUT') return false;
      // Also while a stopping holder finishes its work: the entry is released only after. While a
      // renewal is on its way the entry may already be its write, ahead of `revision`.
      return written.includes(entry.revision) || (renewing && entry.revision > revision && entry.string() === owner);
    };
    const done = work(lost.signal, { key, owner, held: stillHeld }).then(
      () => void (outcome = { failed: false }),
      (err: unknown) => void (outcome = { failed: true, err }),
    );
    let held = true;
    while (outcome === null && !opts.stop.aborted) {
      await Promise.race([done, pause(opts.clock, renewEveryMs, opts.stop)]);
      if (outcome !== null || opts.stop.aborted) break;
      try {
        renewing = true;
        revision = await kv.update(key, owner, revision);
        written.push(revision);
        if (written.length > 3) written.shift();
      } catch (err) {
        log.warn({ err }, 'lease lost; stopping its work');
        held = false;
        break;
      } finally {
        renewing = false;
      }
    }
    lost.abort();
    await done;
    if (held) await kv.delete(key, { previousSeq: revision }).catch((err: unknown) => log.warn({ err }, 'could not release the lease'));
    if (opts.stop.aborted) break;
    if (!held) continue;
    const ended: { failed: boolean; err?: unknown } = outcome ?? { failed: false };
    failures = Date.now() - started >= HEALTHY_AFTER_MS ? 1 : failures + 1;
    const retryInMs = backoffMs(failures, (opts.random ?? Math.random)(), opts.backoff ?? RECLAIM_BACKOFF);
    if (ended.failed) log.error({ err: ended.err, retryInMs }, 'work under lease failed; lease released');
    else log.warn({ retryInMs }, 'work under lease ended; lease released');
    await pause(opts.clock, retryInMs, opts.stop);
  }
}

/** Creates the lease, or takes it back when it is already ours (a restart after kill -9 under the same id). */
async function claim(kv: KV, key: string, owner: string): Promise<number> {
  try {
    return await kv.create(key, owner);
  } catch (err) {
    const entry = await kv.get(key);
    if (entry && entry.operation === 'PUT' && entry.string() === owner) return kv.update(key, owner, entry.revision);
    throw err;
  }
}

/** Resolves after `ms` on `clock`, or at once when `stop` aborts. */
function pause(clock: Clock, ms: number, stop: AbortSignal): Promise<void> {
  if (stop.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      cancel();
      stop.removeEventListener('abort', done);
      resolve();
    };
    const cancel = clock.at(clock.now() + ms, done);
    stop.addEventListener('abort', done, { once: true });
  });
}
