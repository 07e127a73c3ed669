import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { LEASE_BUCKET } from '@oncall/contracts';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

/** A lease not renewed within this time expires and another replica may take it over. */
export const LEASE_TTL_MS = 15_000;
const RENEW_EVERY_MS = LEASE_TTL_MS / 3;

export async function leaseBucket(nc: NatsConnection, replicas = 1): Promise<KV> {
  return new Kvm(nc).create(LEASE_BUCKET, { history: 1, ttl: LEASE_TTL_MS, replicas });
}

/**
 * Runs `work` while this process holds the lease `key` (a KV entry that expires unless renewed),
 * so exactly one replica owns a partition at a time. `work` gets a signal aborted when the lease
 * is lost; it must stop writing then. Writers still expect subject sequences, so a paused
 * ex-owner that wakes up cannot append behind a new owner's back.
 */
export function holdLease(
  kv: KV,
  key: string,
  owner: string,
  work: (lost: AbortSignal) => Promise<void>,
  opts: { clock: Clock; log: Logger; stop: AbortSignal },
): Promise<void> {
  return new Promise<void>((resolve) => {
    let revision = 0;
    let running: { abort: AbortController; done: Promise<void> } | null = null;
    let cancel = (): void => undefined;
    const schedule = (ms: number) => {
      cancel = opts.clock.at(opts.clock.now() + ms, () => void tick());
    };
    const release = async () => {
      running?.abort.abort();
      await running?.done;
      running = null;
    };
    const tick = async () => {
      if (opts.stop.aborted) return;
      try {
        if (running) {
          revision = await kv.update(key, owner, revision);
        } else {
          revision = await claim(kv, key, owner);
          const abort = new AbortController();
          opts.log.info({ lease: key, owner }, 'lease acquired');
          running = {
            abort,
            done: work(abort.signal).catch((err: unknown) => opts.log.error({ err, lease: key }, 'work under lease failed')),
          };
        }
      } catch (err) {
        if (running) {
          opts.log.warn({ err, lease: key }, 'lease lost; stopping its work');
          await release();
        }
      }
      schedule(RENEW_EVERY_MS);
    };
    opts.stop.addEventListener(
      'abort',
      () => {
        cancel();
        void (async () => {
          await release();
          if (revision) await kv.delete(key, { previousSeq: revision }).catch(() => undefined);
          resolve();
        })();
      },
      { once: true },
    );
    void tick();
  });
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
