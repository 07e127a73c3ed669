import { createLogger, type Logger } from './logger.js';

/**
 * The shape of every service main: start, log, and on SIGINT/SIGTERM stop gracefully.
 * A start-up failure is one clear log line and exit code 1.
 */
export async function runUntilSignal(
  service: string,
  start: (log: Logger) => Promise<() => Promise<void>>,
  makeLogger: (service: string) => Logger = createLogger,
): Promise<void> {
  const log = makeLogger(service);
  let stop: () => Promise<void>;
  try {
    stop = await start(log);
  } catch (err) {
    log.fatal({ err }, `${service} failed to start: ${(err as Error).message}`);
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${service} stopping`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, `${service} did not stop cleanly`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
