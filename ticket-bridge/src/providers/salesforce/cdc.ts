import type { TicketState } from '@oncall/contracts';
import type { InboundChange } from '../types.js';
import { caseState } from './status.js';

/** The part of a decoded Change Data Capture event this provider reads. */
export interface ChangeEvent {
  ChangeEventHeader: {
    entityName: string;
    recordIds: string[];
    changeType: string;
    /** Bitmaps as the Pub/Sub API sends them ('0x…' for top-level fields, 'n-0x…' for fields of field n). */
    changedFields: string[];
    commitUser: string;
  };
  [field: string]: unknown;
}

/**
 * Field names from the Pub/Sub API's bitmap encoding: bit i of the top-level bitmap (least
 * significant first) stands for field i of the event schema; 'n-0x…' entries name subfields of the
 * compound field n, reported here as field n itself. Pure.
 */
export function bitmapFields(bitmaps: readonly string[], schemaFields: readonly string[]): string[] {
  const names = new Set<string>();
  for (const entry of bitmaps) {
    const nested = /^(\d+)-0x[0-9a-fA-F]+$/.exec(entry);
    if (nested) {
      const parent = schemaFields[Number(nested[1])];
      if (parent !== undefined) names.add(parent);
    } else if (/^0x[0-9a-fA-F]+$/.test(entry)) {
      const bits = BigInt(entry);
      schemaFields.forEach((name, i) => {
        if ((bits >> BigInt(i)) & 1n) names.add(name);
      });
    } else {
      names.add(entry);
    }
  }
  return [...names];
}

const IDEMPOTENCY_PREFIX = 'oncall-';

/** The alert id behind an idempotency key `oncall-<alertId>`, or null for a Case we did not open. Pure. */
export function alertIdFromKey(key: unknown): string | null {
  return typeof key === 'string' && key.startsWith(IDEMPOTENCY_PREFIX) ? key.slice(IDEMPOTENCY_PREFIX.length) : null;
}

/**
 * The status changes in one Case change event: a created Case, or an update whose changed fields
 * include Status, one per record id. `actor` is the committing user's id (resolved to a name by
 * the caller); `changeId` the event's replay id with the record. Other entities, deletes and
 * updates that leave Status alone give nothing. Pure.
 */
export function caseChanges(
  event: ChangeEvent,
  schemaFields: readonly string[],
  replayIdHex: string,
  opts: { statusMap: Readonly<Record<string, TicketState>>; externalIdField: string },
): InboundChange[] {
  const header = event.ChangeEventHeader;
  if (header.entityName !== 'Case') return [];
  const status = event.Status;
  if (typeof status !== 'string') return [];
  if (header.changeType === 'UPDATE') {
    if (!bitmapFields(header.changedFields, schemaFields).includes('Status')) return [];
  } else if (header.changeType !== 'CREATE') {
    return [];
  }
  const isClosed = typeof event.IsClosed === 'boolean' ? event.IsClosed : null;
  return header.recordIds.map((recordId) => ({
    ticketKey: recordId,
    alertId: alertIdFromKey(event[opts.externalIdField]),
    status,
    state: caseState(status, isClosed, opts.statusMap),
    actor: header.commitUser || null,
    comment: null,
    changeId: `cdc:${replayIdHex}:${recordId}`,
  }));
}
