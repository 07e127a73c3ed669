/**
 * Whether a failure to apply events will pass by itself (the database is restarting, a connection
 * dropped, a deadlock: apply the batch again later) or is about the events (PostgreSQL refuses
 * their data, a constraint, an event the code cannot read): retrying cannot help, so the events
 * that cause it are parked and the projection goes on.
 */
export type FailureKind = 'transient' | 'rejected';

/** SQLSTATE classes that are about the server or the session, not the data. */
const TRANSIENT_CLASSES = new Set([
  '08', // connection exception
  '40', // transaction rollback (serialization failure, deadlock)
  '53', // insufficient resources (disk full, out of memory, too many connections)
  '57', // operator intervention (admin shutdown, crash shutdown, cannot connect now, query canceled)
  '58', // system error (I/O)
  'XX', // internal error
]);
const TRANSIENT_STATES = new Set(['55P03', '55006']); // lock not available, object in use
/** Node's errors for sockets that failed or closed. */
const TRANSIENT_SYSCALLS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** Slonik's names for connection-level failures, which carry no SQLSTATE. */
const TRANSIENT_NAMES = new Set([
  'ConnectionError',
  'BackendTerminatedError',
  'BackendTerminatedUnexpectedlyError',
  'StatementTimeoutError',
  'IdleTransactionTimeoutError',
]);

export function failureKind(err: unknown): FailureKind {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof name === 'string' && TRANSIENT_NAMES.has(name)) return 'transient';
    if (typeof code === 'string') {
      if (TRANSIENT_SYSCALLS.has(code)) return 'transient';
      if (/^[0-9A-Z]{5}$/.test(code))
        return TRANSIENT_CLASSES.has(code.slice(0, 2)) || TRANSIENT_STATES.has(code) ? 'transient' : 'rejected';
    }
    const message = (e as { message?: unknown }).message;
    // node-postgres' own wording when the server goes away mid-query.
    if (
      typeof message === 'string' &&
      /Connection terminated|connection is closed|Client has encountered a connection error/i.test(message)
    ) {
      return 'transient';
    }
  }
  return 'rejected';
}
