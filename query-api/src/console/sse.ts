/**
 * Server-sent event frames (text/event-stream). Data is JSON (no newlines), so one `data:` line.
 */
export function sseEvent(event: string, id: string | null, data: string | null): string {
  return `event: ${event}\n${id === null ? '' : `id: ${id}\n`}data: ${data ?? ''}\n\n`;
}

/** A comment line: keeps proxies and the browser from timing the stream out. */
export const SSE_HEARTBEAT = ': heartbeat\n\n';

/**
 * When a connection may get its next delta: at most one per `intervalMs`, so a storm's commits
 * reach each browser merged. Now, when the last was long enough ago; else when the interval ends.
 */
export const nextSendAt = (lastSentAt: number | null, now: number, intervalMs: number): number =>
  lastSentAt === null ? now : Math.max(now, lastSentAt + intervalMs);
