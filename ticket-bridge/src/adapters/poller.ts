import { setTimeout as sleep } from 'node:timers/promises';
import { applyChange, locate } from './changes.js';
import { timed } from './creator.js';
import type { Deps } from './deps.js';

const TICK_MS = 5000;

/**
 * Fallback polling for providers that can poll (`poll` capability) and have `sync.pollSeconds`:
 * every pollSeconds the changes since the cursor (kept in KV) are applied like inbound calls, then
 * the cursor moves on by compare and set — two replicas polling at once apply the same changes
 * (deduplicated by change id) and only one moves the cursor.
 */
export async function runPolling(d: Deps, stop: AbortSignal): Promise<void> {
  const due = new Map<string, number>();
  while (!stop.aborted) {
    for (const providerId of d.providers.ids()) {
      const c = d.providers.get(providerId);
      if (!c || 'error' in c || !c.provider.poll || !c.provider.capabilities.includes('poll') || c.config.sync.pollSeconds === null)
        continue;
      const now = d.now();
      if ((due.get(providerId) ?? 0) > now) continue;
      due.set(providerId, now + c.config.sync.pollSeconds * 1000);
      const poll = c.provider.poll.bind(c.provider);
      try {
        const cursor = await d.records.cursor(providerId);
        const { changes, cursor: next } = await timed(providerId, 'poll', () => poll(c.ctx, cursor.value));
        for (const change of changes) {
          const located = await locate(d, providerId, [change]);
          if ('unknown' in located) continue;
          await applyChange(d, c, change, located[0]!);
        }
        if (next !== null && next !== cursor.value) await d.records.moveCursor(providerId, next, cursor.revision);
      } catch (err) {
        d.log.warn({ err, providerId }, 'polling the ticket provider failed; trying at the next interval');
      }
    }
    await sleep(TICK_MS, undefined, { signal: stop }).catch(() => undefined);
  }
}
