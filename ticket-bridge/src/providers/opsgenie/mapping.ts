import type { TicketState } from '@oncall/contracts';
import { z } from 'zod';
import { ProviderError, type InboundChange, type TicketAlert, type TicketChange, type TicketRef } from '../types.js';
import type { OpsgenieSettings } from './settings.js';

/**
 * Pure Opsgenie mapping: Alert API v2 bodies from mapped fields and ticket changes, alerts to
 * ticket refs, outgoing-webhook payloads to inbound changes. No I/O.
 */

const PRIORITIES = new Set(['P1', 'P2', 'P3', 'P4', 'P5']);
const MESSAGE_MAX = 130;
const DESCRIPTION_MAX = 15000;
const NOTE_MAX = 25000;

function text(name: string, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  throw new ProviderError(`Opsgenie field ${name} must be a string, got ${Array.isArray(value) ? 'a list' : typeof value}`, false);
}

function cut(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

function stringList(name: string, value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw new ProviderError(`Opsgenie field ${name} must be a list of strings`, false);
  return value as string[];
}

function stringMap(name: string, value: unknown): Record<string, string> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ProviderError(`Opsgenie field ${name} must be a map of strings`, false);
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, text(`${name}.${k}`, v) ?? '']));
}

/** The POST /v2/alerts body: mapped fields, settings, and the alias that makes the create idempotent. */
export function alertBody(
  settings: OpsgenieSettings,
  alert: TicketAlert,
  fields: Record<string, unknown>,
  idempotencyKey: string,
): Record<string, unknown> {
  const message = text('message', fields.message)?.trim();
  if (!message) throw new ProviderError('Opsgenie field message is required and came out empty', false);
  const priority = text('priority', fields.priority);
  if (priority !== undefined && !PRIORITIES.has(priority))
    throw new ProviderError(`Opsgenie field priority must be one of P1 to P5, got "${priority}"`, false);
  const description = text('description', fields.description) ?? alert.details;
  const entity = text('entity', fields.entity) ?? settings.entity;
  const note = text('note', fields.note);
  return {
    message: cut(message, MESSAGE_MAX),
    alias: idempotencyKey,
    description: cut(description, DESCRIPTION_MAX),
    ...(priority === undefined ? {} : { priority }),
    tags: [...new Set([...settings.tags, ...stringList('tags', fields.tags)])],
    details: {
      ...stringMap('details', fields.details),
      oncallAlertId: alert.alertId,
      oncallService: alert.serviceName,
      ...(alert.url ? { oncallUrl: alert.url } : {}),
    },
    ...(entity ? { entity } : {}),
    ...(settings.responders.length > 0 ? { responders: settings.responders } : {}),
    ...(note === undefined ? {} : { note: cut(note, NOTE_MAX) }),
    source: 'oncall',
    user: settings.user,
  };
}

export type AlertAction = 'acknowledge' | 'unacknowledge' | 'close' | 'notes';

/** The Alert API calls a change makes: an action (with the comment as its note) or a note alone. */
export function alertActions(settings: OpsgenieSettings, change: TicketChange): { action: AlertAction; body: Record<string, string> }[] {
  const base = { user: settings.user, source: 'oncall' };
  const note: Record<string, string> = change.comment === null ? {} : { note: cut(change.comment, NOTE_MAX) };
  if (change.transition === null)
    return change.comment === null ? [] : [{ action: 'notes', body: { ...base, note: cut(change.comment, NOTE_MAX) } }];
  const action = change.transition.trim().toLowerCase();
  if (action !== 'acknowledge' && action !== 'unacknowledge' && action !== 'close') {
    throw new ProviderError(`Opsgenie alerts have no transition "${change.transition}": use acknowledge, unacknowledge or close`, false);
  }
  return [{ action, body: { ...base, ...note } }];
}

/** The alert as GET /v2/alerts/{identifier} returns it (the fields the bridge reads). */
export const OpsgenieAlert = z.object({
  id: z.string(),
  tinyId: z.string().optional(),
  alias: z.string().optional(),
  status: z.string(),
  acknowledged: z.boolean().default(false),
});
export type OpsgenieAlert = z.infer<typeof OpsgenieAlert>;

export function alertRef(settings: OpsgenieSettings, alert: OpsgenieAlert): TicketRef {
  return {
    key: alert.tinyId ?? alert.alias ?? alert.id,
    externalId: alert.id,
    url: settings.webUrl === null ? null : `${settings.webUrl}/alert/detail/${alert.id}/details`,
  };
}

/** Our state and Opsgenie's word for an alert's status. */
export function alertState(alert: { status: string; acknowledged: boolean }): { state: TicketState; status: string } {
  if (alert.status === 'closed') return { state: 'closed', status: 'closed' };
  return alert.acknowledged ? { state: 'in_progress', status: 'acknowledged' } : { state: 'open', status: 'open' };
}

/** The body of Opsgenie's outgoing webhook (alert action data). */
export const WebhookPayload = z.object({
  action: z.string().min(1),
  alert: z.object({
    alertId: z.string().min(1),
    alias: z.string().optional(),
    tinyId: z.string().optional(),
    message: z.string().optional(),
    username: z.string().optional(),
    note: z.string().optional(),
    updatedAt: z.number().optional(),
  }),
  source: z.object({ name: z.string().optional(), type: z.string().optional() }).optional(),
  integrationName: z.string().optional(),
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;

/** The state an action leaves the alert in; null for a note (the alert's state is asked) or an action that changes no state. */
const ACTION_STATES: Record<string, { state: TicketState; status: string }> = {
  Acknowledge: { state: 'in_progress', status: 'acknowledged' },
  UnAcknowledge: { state: 'open', status: 'open' },
  Close: { state: 'closed', status: 'closed' },
};

/** Whether the bridge cares about this action: state changes and notes; Create, AddTags, … are ignored. */
export function isTracked(payload: WebhookPayload): boolean {
  return payload.action in ACTION_STATES || payload.action === 'AddNote';
}

/**
 * The change a webhook reports. `current` is the alert's state, needed for AddNote (the payload
 * does not carry the status).
 */
export function webhookChange(payload: WebhookPayload, current: { state: TicketState; status: string } | null): InboundChange | null {
  const after = ACTION_STATES[payload.action] ?? current;
  if (after === null || !isTracked(payload)) return null;
  const { alert } = payload;
  const correlation = /^oncall-(.+)$/.exec(alert.alias ?? '');
  return {
    ticketKey: alert.alertId,
    alertId: correlation?.[1] ?? null,
    status: after.status,
    state: after.state,
    actor: alert.username || null,
    comment: alert.note?.trim() ? alert.note : null,
    changeId: `${alert.alertId}:${payload.action}:${alert.updatedAt ?? ''}`,
  };
}
