/**
 * Milliseconds to wait from a Retry-After header (RFC 9110 §10.2.3): delay-seconds (a decimal
 * fraction, which some providers send, is accepted) or an HTTP date; a date in the past means 0.
 * Absent, empty or unreadable means no advice: null. One reading for the dispatcher's channels
 * and every ticket provider. Pure: the caller passes the time.
 */
export function retryAfterMs(header: string | null | undefined, now: number | Date = Date.now()): number | null {
  if (header === undefined || header === null) return null;
  const value = header.trim();
  if (value === '') return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // Date.parse accepts bare numbers and other loose forms; an HTTP date starts with a day name.
  if (!/^[A-Za-z]{3},/.test(value)) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - (typeof now === 'number' ? now : now.getTime()));
}
