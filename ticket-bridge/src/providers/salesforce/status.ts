import type { TicketState } from '@oncall/contracts';

/**
 * A Case Status in our words: the configured map first; a status it does not name is `closed` when
 * Salesforce says the Case is closed (custom closed statuses), else `in_progress` (someone moved it,
 * and it must never resolve an alert by accident). Pure.
 */
export function caseState(status: string, isClosed: boolean | null, statusMap: Readonly<Record<string, TicketState>>): TicketState {
  const mapped = statusMap[status];
  if (mapped !== undefined) return mapped;
  return isClosed === true ? 'closed' : 'in_progress';
}
