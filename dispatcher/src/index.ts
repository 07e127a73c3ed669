import type { Logger } from '@oncall/shared';

/**
 * dispatcher is not built yet: this stub starts and stops cleanly so the runtime can already
 * include it. Its issue replaces it.
 */
export async function startDispatcher(opts: { log: Logger }): Promise<{ stop: () => Promise<void> }> {
  opts.log.info('dispatcher is a stub: nothing to do yet');
  return { stop: async () => undefined };
}
