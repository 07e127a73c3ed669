import type { Logger } from '@oncall/shared';

/**
 * ticket-bridge is not built yet: this stub starts and stops cleanly so the runtime can already
 * include it. Its issue replaces it.
 */
export async function startTicketBridge(opts: { log: Logger }): Promise<{ stop: () => Promise<void> }> {
  opts.log.info('ticket-bridge is a stub: nothing to do yet');
  return { stop: async () => undefined };
}
