import type { Clock, Logger } from '@oncall/shared';
import type { DeliveryRecord } from '../domain/record.js';
import type { HeldClaim, Outcome, Stage } from './attempt.js';

/** A claim this process holds on a delivery's record; `revision` moves with every write. */
export type Claim = { readonly key: string; revision: number };

/** The delivery records as the claim stage uses them (adapters/records.ts keeps them in KV). */
export interface Records {
  /** Claims the delivery, or returns what an earlier try, another replica or a crashed process left. */
  claim(idempotencyKey: string): Promise<{ claimed: Claim; takenOver?: boolean } | { found: DeliveryRecord }>;
  /** Marks the claim as still in hand; throws ClaimLost when another process holds it now. */
  refresh(claim: Claim): Promise<void>;
  /** Writes the delivery's outcome. */
  settle(claim: Claim, record: DeliveryRecord): Promise<void>;
  /** Gives the claim up without an outcome, so a retry can claim again (unless another process holds it now). */
  release(claim: Claim): Promise<void>;
}

/** Another process took the claim over (it thought this one had stopped). */
export class ClaimLost extends Error {
  override readonly name = 'ClaimLost';
}

/**
 * Exactly one try of a delivery at a time, across replicas. A copy of a delivery already in
 * hand in this process joins it; otherwise the delivery's record is claimed. The claim is kept
 * alive while the rest of the pipeline works, however long a bundle window or a rate limit
 * makes it wait: refreshed every third of `claimStaleMs`, so no other replica takes it over as
 * the claim of a process that stopped mid-send. If one does anyway (this process was paused
 * longer than that), the attempt's signal aborts and nothing is sent. A claim that ends without
 * an outcome (a retry, an error) is released.
 */
export function claim(records: Records, clock: Clock, opts: { claimStaleMs: number }, log: Logger): Stage {
  const inHand = new Map<string, Promise<Outcome>>();
  return (a, next) => {
    const key = a.delivery.idempotencyKey;
    const joined = inHand.get(key);
    if (joined) return joined;
    const run = (async () => {
      const c = await records.claim(key);
      if ('found' in c) return next({ ...a, earlier: c.found });
      const held = new KeptClaim(records, c.claimed, clock, opts.claimStaleMs, log);
      try {
        const o = await next({ ...a, claim: held, signal: held.signal, takenOver: c.takenOver === true });
        if (o.kind === 'retry') await held.release();
        return o;
      } catch (err) {
        await held.release();
        throw err;
      }
    })().finally(() => inHand.delete(key));
    inHand.set(key, run);
    return run;
  };
}

class KeptClaim implements HeldClaim {
  private readonly lost = new AbortController();
  private ended = false;
  private refreshing: Promise<void> = Promise.resolve();
  private refreshedAt: number;
  private cancel: () => void = () => undefined;

  constructor(
    private readonly records: Records,
    private readonly claim: Claim,
    private readonly clock: Clock,
    private readonly staleMs: number,
    private readonly log: Logger,
  ) {
    this.refreshedAt = clock.now();
    this.schedule();
  }

  get signal(): AbortSignal {
    return this.lost.signal;
  }

  async settle(record: DeliveryRecord): Promise<void> {
    await this.end();
    await this.records.settle(this.claim, record);
  }

  /** Releases the claim unless the outcome was written (or tried to be: a send is never released for an immediate retry). */
  async release(): Promise<void> {
    if (this.ended) return;
    await this.end();
    await this.records
      .release(this.claim)
      .catch((err: unknown) => this.log.warn({ err, key: this.claim.key }, 'could not release a claim; it goes stale and is taken over'));
  }

  private async end(): Promise<void> {
    this.ended = true;
    this.cancel();
    await this.refreshing;
  }

  private schedule(): void {
    this.cancel = this.clock.at(this.clock.now() + this.staleMs / 3, () => {
      this.refreshing = this.refresh();
    });
  }

  private async refresh(): Promise<void> {
    if (this.ended) return;
    try {
      await this.records.refresh(this.claim);
      this.refreshedAt = this.clock.now();
    } catch (err) {
      if (err instanceof ClaimLost || this.clock.now() - this.refreshedAt >= this.staleMs) {
        this.log.warn({ err, key: this.claim.key }, 'claim lost to another process; this one sends nothing');
        this.lost.abort(err);
        return;
      }
      this.log.warn({ err, key: this.claim.key }, 'could not refresh a claim; trying again');
    }
    if (!this.ended) this.schedule();
  }
}
