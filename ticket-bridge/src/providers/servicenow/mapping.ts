import { z } from 'zod';
import { ProviderError, type InboundChange, type TicketChange, type TicketRef } from '../types.js';
import { stateName, stateOf, transitionCode, type ServiceNowSettings } from './settings.js';

/**
 * Pure ServiceNow mapping: Table API bodies from mapped fields and ticket changes, records to
 * ticket refs and inbound changes, and the polling cursor. No I/O.
 */

const CHOICE_1_TO_3 = new Set(['1', '2', '3']);
/** The columns the bridge reads back (find, poll). */
export const RECORD_FIELDS = 'sys_id,number,state,sys_updated_by,sys_updated_on,sys_mod_count,correlation_id';
/** ServiceNow's date-time format in the Table API (UTC for an integration user in GMT). */
const SN_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** The Table API body that creates the incident: mapped fields, settings, and the correlation. */
export function incidentBody(
  settings: ServiceNowSettings,
  fields: Record<string, unknown>,
  idempotencyKey: string,
): Record<string, string> {
  const body: Record<string, string> = {};
  if (settings.assignmentGroup !== null) body.assignment_group = settings.assignmentGroup;
  if (settings.caller !== null) body.caller_id = settings.caller;
  for (const [name, value] of Object.entries(fields)) {
    if (value === null || value === undefined) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'boolean') {
      throw new ProviderError(
        `ServiceNow field ${name} must be a string, number or boolean, got ${Array.isArray(value) ? 'a list' : typeof value}`,
        false,
      );
    }
    body[name] = String(value);
  }
  for (const name of ['urgency', 'impact'] as const) {
    const value = body[name];
    if (value !== undefined && !CHOICE_1_TO_3.has(value))
      throw new ProviderError(`ServiceNow field ${name} must be 1, 2 or 3, got "${value}"`, false);
  }
  if (!body.short_description?.trim()) throw new ProviderError('ServiceNow field short_description is required and came out empty', false);
  body.correlation_id = idempotencyKey;
  body.correlation_display = 'oncall';
  return body;
}

/** The PATCH body for a change: state (with the resolution fields ServiceNow requires) and/or a work note. */
export function updateBody(settings: ServiceNowSettings, change: TicketChange): Record<string, string> {
  const body: Record<string, string> = {};
  if (change.transition !== null) {
    const code = transitionCode(settings, change.transition);
    if (code === null) {
      throw new ProviderError(
        `ServiceNow has no state "${change.transition}": use a state code or one of New, In Progress, On Hold, Resolved, Closed, Canceled`,
        false,
      );
    }
    body.state = code;
    const state = stateOf(settings, code);
    if (state === 'resolved' || state === 'closed') {
      body.close_code = settings.resolve.closeCode;
      body.close_notes = change.comment ?? settings.resolve.closeNotes;
    }
  }
  if (change.comment !== null) body.work_notes = change.comment;
  return body;
}

/** The ticket a Table API record is. */
export function incidentRef(settings: ServiceNowSettings, record: { sys_id: string; number: string }): TicketRef {
  return {
    key: record.number,
    externalId: record.sys_id,
    url: `${settings.instanceUrl}/nav_to.do?uri=${settings.table}.do?sys_id=${record.sys_id}`,
  };
}

/**
 * A record as the Business Rule posts it and as polling reads it (sysparm_display_value=false:
 * codes, not labels; times in 'YYYY-MM-DD HH:mm:ss').
 */
export const IncidentRecord = z.object({
  sys_id: z.string().regex(/^[0-9a-f]{32}$/, 'sys_id is 32 hex digits'),
  number: z.string().min(1),
  state: z.union([z.string(), z.number()]).transform(String),
  sys_updated_by: z.string(),
  sys_updated_on: z.string().regex(SN_TIME, "sys_updated_on is 'YYYY-MM-DD HH:mm:ss'"),
  sys_mod_count: z.union([z.string(), z.number()]).transform(String).optional(),
  correlation_id: z.string().default(''),
  work_notes: z.string().optional(),
});
export type IncidentRecord = z.infer<typeof IncidentRecord>;

/** The record's change id: the modification count when sent, else the update time. */
export function changeIdOf(record: IncidentRecord): string {
  return record.sys_mod_count === undefined ? `${record.sys_id}@${record.sys_updated_on}` : `${record.sys_id}#${record.sys_mod_count}`;
}

/** What a record says about its ticket; null for a state code neither the defaults nor stateMap know. */
export function inboundChange(settings: ServiceNowSettings, record: IncidentRecord): InboundChange | null {
  const state = stateOf(settings, record.state);
  if (state === null) return null;
  const correlation = /^oncall-(.+)$/.exec(record.correlation_id);
  return {
    ticketKey: record.number,
    alertId: correlation?.[1] ?? null,
    status: stateName(record.state),
    state,
    actor: record.sys_updated_by || null,
    comment: record.work_notes?.trim() ? record.work_notes : null,
    changeId: changeIdOf(record),
  };
}

/**
 * The polling cursor: the last sys_updated_on seen and the change ids seen at that second.
 * ServiceNow times have whole seconds, so the next poll asks `>=` that second and skips what it
 * already reported: nothing updated later in the same second is lost, nothing is reported twice.
 */
export interface PollCursor {
  time: string;
  seen: string[];
}

export function parseCursor(cursor: string): PollCursor {
  const [time = '', seen = ''] = cursor.split('|');
  if (!SN_TIME.test(time)) throw new ProviderError(`ServiceNow poll cursor "${cursor}" is not 'YYYY-MM-DD HH:mm:ss'`, false);
  return { time, seen: seen === '' ? [] : seen.split(',') };
}

export function formatCursor(cursor: PollCursor): string {
  return cursor.seen.length === 0 ? cursor.time : `${cursor.time}|${cursor.seen.join(',')}`;
}

/** The encoded query of one poll: our incidents updated at or after the cursor, oldest first. */
export function pollQuery(cursor: PollCursor): string {
  return `sys_updated_on>=${cursor.time}^correlation_idSTARTSWITHoncall-^ORDERBYsys_updated_on^ORDERBYsys_id`;
}

/** The records of one poll page that are new, and the cursor after them. */
export function pollStep(cursor: PollCursor, records: IncidentRecord[]): { fresh: IncidentRecord[]; cursor: PollCursor } {
  const seen = new Set(cursor.seen);
  const fresh = records.filter((r) => !(r.sys_updated_on === cursor.time && seen.has(changeIdOf(r))));
  const last = records.at(-1);
  if (last === undefined) return { fresh, cursor };
  const time = last.sys_updated_on;
  const atTime = records.filter((r) => r.sys_updated_on === time).map(changeIdOf);
  const carried = time === cursor.time ? cursor.seen : [];
  return { fresh, cursor: { time, seen: [...new Set([...carried, ...atTime])] } };
}
