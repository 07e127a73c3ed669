import type { Logger } from '@oncall/shared';

/**
 * escalator is not built yet: this stub starts and stops cleanly so the runtime can already
 * include it. Its issue replaces it.
 */
export async function startEscalator(opts: { log: Logger }): Promise<{ stop: () => Promise<void> }> {
  opts.log.info('escalator is a stub: nothing to do yet');
  return { stop: async () => undefined };
}
