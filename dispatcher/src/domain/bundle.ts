import type { NotificationRequested } from './plan.js';

/**
 * One notification standing for several to the same destination (a storm to one person): the
 * first one's recipient and contacts, a summary that counts them ("12 new alerts on Checkout")
 * and the summaries listed in the details. The most severe alert gives the severity. Pure.
 */
export function bundle(items: readonly NotificationRequested[]): NotificationRequested {
  const first = items[0];
  if (!first) throw new Error('nothing to bundle');
  if (items.length === 1) return first;
  const services = [...new Set(items.map((n) => n.alert.serviceName))];
  const where = services.length === 1 ? services[0] : `${services.length} services`;
  const resolved = items.every((n) => n.kind === 'resolved');
  const summary = `${items.length} ${resolved ? 'alerts resolved' : 'new alerts'} on ${where}`;
  const lines = items.slice(0, 20).map((n) => `• [${n.alert.severity}] ${n.alert.summary}`);
  if (items.length > 20) lines.push(`… and ${items.length - 20} more`);
  const rank = ['critical', 'error', 'warning', 'info', 'unknown'];
  const severity = [...items].sort((a, b) => rank.indexOf(a.alert.severity) - rank.indexOf(b.alert.severity))[0]!.alert.severity;
  return {
    ...first,
    alert: { ...first.alert, summary, details: lines.join('\n'), severity, labels: {}, annotations: {}, links: [] },
  };
}
