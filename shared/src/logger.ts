import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; `service` is bound on every line. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
}
