import { setTimeout as sleep } from 'node:timers/promises';
import type { TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import type { InboundChange } from '../providers/types.js';
import { applyChange, locate } from './changes.js';
import type { Deps } from './deps.js';
import type { Configured } from './providers.js';

/** How often the configuration is looked at for providers whose subscription must start, restart or stop (in memory, no I/O). */
const CHECK_MS = 500;

/** A provider's configuration asks for a push stream: it has `subscribe` and `settings.pubSub` is set. */
const wantsStream = (c: Configured): boolean =>
  c.provider.subscribe !== undefined && (c.config.settings as { pubSub?: unknown }).pubSub != null;

/**
 * Applies one batch of pushed changes like inbound calls (changes.ts: recorded, echo detection,
 * the alert resolved through the command path, deduplicated by change id), then persists the
 * replay id after it. A change of a ticket the bridge does not know is skipped (a Case someone
 * made by hand). A throw leaves the replay id where it was: the provider offers the batch again.
 */
async function applyBatch(d: Deps, c: Configured, changes: readonly InboundChange[], replayId: Buffer): Promise<void> {
  const { providerId } = c.config;
  for (const change of changes) {
    const located = await locate(d, providerId, [change]);
    if ('unknown' in located) {
      d.log.debug({ providerId, ticketKey: change.ticketKey }, 'a pushed change of a ticket the bridge does not know; skipped');
      continue;
    }
    await applyChange(d, c, change, located[0]!);
  }
  await d.records.saveReplayId(providerId, replayId);
}

/**
 * One push subscription (Salesforce Pub/Sub CDC) per provider that asks for one, in every bridge
 * process: applying a change twice is harmless (deduplicated by change id), so replicas need no
 * lease. Resumes after the replay id kept in KV; restarted when the provider's configuration
 * changes, stopped when it is removed or the bridge stops.
 */
export async function runSubscriptions(d: Deps, stop: AbortSignal): Promise<void> {
  const running = new Map<string, { source: TicketProviderConfig; handle: Promise<{ stop(): Promise<void> }> }>();
  const end = async (providerId: string) => {
    const had = running.get(providerId);
    running.delete(providerId);
    if (had)
      await had.handle.then((h) => h.stop()).catch((err: unknown) => d.log.warn({ err, providerId }, 'stopping a subscription failed'));
  };
  const start = async (c: Configured): Promise<{ stop(): Promise<void> }> => {
    const { providerId } = c.config;
    const replayId = await d.records.replayId(providerId);
    d.log.info({ providerId, resumes: replayId !== null }, 'subscribing to ticket changes');
    return c.provider.subscribe!(c.ctx, {
      replayId,
      onChanges: (changes, next) => applyBatch(d, c, changes, next),
      log: d.log,
    });
  };
  while (!stop.aborted) {
    const ids = new Set(d.providers.ids());
    for (const providerId of running.keys()) if (!ids.has(providerId)) await end(providerId);
    for (const providerId of ids) {
      const c = d.providers.get(providerId);
      const usable = c !== undefined && !('error' in c) && wantsStream(c) ? c : null;
      const had = running.get(providerId);
      if (had && had.source === usable?.config) continue;
      if (had) await end(providerId);
      if (usable === null) continue;
      const handle = start(usable);
      running.set(providerId, { source: usable.config, handle });
      handle.catch((err: unknown) => {
        d.log.error({ err, providerId }, 'the ticket change subscription could not start; trying again');
        if (running.get(providerId)?.handle === handle) running.delete(providerId);
      });
    }
    await sleep(CHECK_MS, undefined, { signal: stop }).catch(() => undefined);
  }
  await Promise.allSettled([...running.keys()].map(end));
}
