import type { TicketState } from '@oncall/contracts';
import type { InboundChange } from '../types.js';
import { alertIdFromKey } from './cdc.js';
import { caseState } from './status.js';

/** A SOQL string literal: quotes and backslashes escaped, control characters refused. Pure. */
export function soqlString(value: string): string {
  if ([...value].some((ch) => ch.charCodeAt(0) < 0x20)) throw new Error('a SOQL string may not contain control characters');
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * A SOQL datetime literal for an ISO time, cut to whole seconds: `SystemModstamp > t` then
 * repeats changes within the cursor's second (dropped by their change id) and never skips one. Pure.
 */
export function soqlDateTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) throw new Error(`not a time: ${iso}`);
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const POLL_LIMIT = 200;

/** Cases changed after `since`, oldest first. Pure. */
export function pollQuery(since: string, externalIdField: string): string {
  return (
    `SELECT Id, CaseNumber, Status, IsClosed, ${externalIdField}, LastModifiedBy.Username, SystemModstamp FROM Case ` +
    `WHERE SystemModstamp > ${soqlDateTime(since)} ORDER BY SystemModstamp ASC LIMIT ${POLL_LIMIT}`
  );
}

export interface PolledCase {
  Id: string;
  Status: string;
  IsClosed?: boolean | null;
  SystemModstamp: string;
  LastModifiedBy?: { Username?: string | null } | null;
  [field: string]: unknown;
}

/** Polled Cases as changes (the last modifier as the actor) and the cursor after them. Pure. */
export function polledChanges(
  records: readonly PolledCase[],
  since: string,
  opts: { statusMap: Readonly<Record<string, TicketState>>; externalIdField: string },
): { changes: InboundChange[]; cursor: string } {
  const changes = records.map((r) => ({
    ticketKey: r.Id,
    alertId: alertIdFromKey(r[opts.externalIdField]),
    status: r.Status,
    state: caseState(r.Status, typeof r.IsClosed === 'boolean' ? r.IsClosed : null, opts.statusMap),
    actor: r.LastModifiedBy?.Username ?? null,
    comment: null,
    changeId: `poll:${r.Id}:${r.SystemModstamp}`,
  }));
  const last = records.at(-1);
  return { changes, cursor: last ? new Date(last.SystemModstamp.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')).toISOString() : since };
}
