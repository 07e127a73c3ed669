import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout; `service` is bound on every line. A process running several services
 * (`oncall up`) passes no service and binds it on a child logger per service.
 */
export function createLogger(service?: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: service === undefined ? {} : { service }, timestamp: pino.stdTimeFunctions.isoTime });
}
