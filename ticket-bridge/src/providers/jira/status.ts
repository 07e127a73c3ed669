import type { TicketState } from '@oncall/contracts';

/** What Jira says about a status: its name and its category key (new, indeterminate, done, undefined). */
export interface JiraStatus {
  name: string;
  categoryKey: string | null;
}

const BY_CATEGORY: Record<string, TicketState> = { new: 'open', indeterminate: 'in_progress', done: 'resolved' };

/**
 * Our state for a Jira status: the status map by status name (case-insensitive), then by category
 * key, then the default by category (new → open, indeterminate → in_progress, done → resolved);
 * a status without a known category is open. Pure.
 */
export function stateOf(status: JiraStatus, statusMap: Readonly<Record<string, TicketState>>): TicketState {
  const byLowerName = new Map(Object.entries(statusMap).map(([k, v]) => [k.toLowerCase(), v]));
  return (
    byLowerName.get(status.name.toLowerCase()) ??
    (status.categoryKey === null ? undefined : (byLowerName.get(status.categoryKey.toLowerCase()) ?? BY_CATEGORY[status.categoryKey])) ??
    'open'
  );
}
