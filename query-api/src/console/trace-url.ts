/**
 * The tracing UI's link to a trace (ONCALL_TRACE_URL with `{traceId}`), or null when either is
 * unknown or the id is not a W3C trace id (32 hex digits, not all zero).
 */
export function traceUrlOf(template: string | null, traceId: string | null): string | null {
  if (template === null || traceId === null) return null;
  if (!/^[0-9a-f]{32}$/.test(traceId) || /^0+$/.test(traceId)) return null;
  return template.replaceAll('{traceId}', traceId);
}
