import { createLogger, type Logger } from './logger.js';
import { startTracing, stopTracing } from './tracing.js';

/**
 * How long a service may take to stop once asked before it exits anyway (code 1). Stopping is
 * draining what is in hand (HTTP requests, appends, the NATS connection): milliseconds when the
 * servers are there, and not worth waiting for when they are gone. `oncall up` gives each part
 * 3 s before it kills it.
 */
export const STOP_DEADLINE_MS = 2500;

/** What a service tells `oncall up` over the IPC channel it was started with. */
export type SupervisorMessage = { type: 'ready' };

/**
 * The shape of every service main: start, log, and on SIGINT/SIGTERM stop gracefully within
 * STOP_DEADLINE_MS. A start-up failure is one clear log line and exit code 1.
 *
 * Tracing (docs/observability.md#tracing) starts here, named after the service, when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set, and is flushed when the service has stopped.
 *
 * Started by `oncall up` (with an IPC channel), the service says when it is ready and stops by
 * itself when the channel closes: the supervisor is gone, even by kill -9, and nothing would
 * stop or restart this process any more.
 */
export async function runUntilSignal(
  service: string,
  start: (log: Logger) => Promise<() => Promise<void>>,
  makeLogger: (service: string) => Logger = createLogger,
): Promise<void> {
  const log = makeLogger(service);
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const finish = (stopService: () => Promise<void>) =>
    stopService()
      // The spans still buffered are exported before the process ends (within the stop deadline).
      .then(stopTracing)
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, `${service} did not stop cleanly`);
          process.exit(1);
        },
      );
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, `${service} stopping`);
    setTimeout(() => {
      log.error({ deadlineMs: STOP_DEADLINE_MS }, `${service} did not stop in time; exiting`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    // Still starting: it stops as soon as start() returns.
    if (stop) void finish(stop);
  };
  // `on`, not `once`: a second signal (systemd and `oncall up` both sending one) must not kill it mid-stop.
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.once('disconnect', () => shutdown('supervisor gone'));
  try {
    if (await startTracing(service)) log.info({ endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'exporting traces');
    stop = await start(log);
  } catch (err) {
    log.fatal({ err }, `${service} failed to start: ${(err as Error).message}`);
    process.exit(1);
  }
  if (stopping) {
    void finish(stop);
    return;
  }
  const ready: SupervisorMessage = { type: 'ready' };
  process.send?.(ready, undefined, undefined, (err: Error | null) => {
    if (err) log.warn({ err }, 'could not tell oncall up that the service is ready');
  });
}
