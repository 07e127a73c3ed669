import type { TicketAlert } from '../types.js';
import { CUSTOM_FIELD_ID, type JiraSettings } from './settings.js';
import { toAdf, toWiki, type TextLink } from './text.js';

/**
 * The `fields` of Jira's create-issue request from the mapped fields (CEL results): project and
 * issue type from the settings, the idempotency label added to the mapped labels, the description
 * as ADF (v3) or wiki text (v2) with the alert's link, custom fields by id or by their configured
 * name. Pure.
 */
export function createFields(
  settings: JiraSettings,
  alert: TicketAlert,
  mapped: Record<string, unknown>,
  idempotencyKey: string,
): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    project: { key: settings.project },
    issuetype: { name: settings.issueType },
    summary: oneLine(scalar(mapped.summary) ?? alert.summary),
    description: description(settings.apiVersion, stringOr(mapped.description, alert.details), alertLinks(alert)),
    labels: labels(mapped.labels, idempotencyKey),
  };
  const priority = scalar(mapped.priority);
  if (priority !== null && priority !== '') fields.priority = { name: priority };
  if (Array.isArray(mapped.components)) fields.components = mapped.components.map((name) => ({ name: String(name) }));
  if (typeof mapped.assignee === 'string' && mapped.assignee !== '') {
    fields.assignee = settings.apiVersion === '3' ? { accountId: mapped.assignee } : { name: mapped.assignee };
  }
  if (typeof mapped.duedate === 'string' && mapped.duedate !== '') fields.duedate = mapped.duedate;
  for (const [name, value] of Object.entries(mapped)) {
    const id = CUSTOM_FIELD_ID.test(name) ? name : settings.customFields[name];
    if (id !== undefined && value !== null && value !== undefined) fields[id] = value;
  }
  return fields;
}

export function description(apiVersion: '2' | '3', text: string, links: readonly TextLink[]): unknown {
  return apiVersion === '3' ? toAdf(text, links) : toWiki(text, links);
}

/** Jira labels may not hold spaces: whitespace becomes '-'; empty ones go, duplicates once, the key last. */
export function labels(mapped: unknown, idempotencyKey: string): string[] {
  const given = Array.isArray(mapped) ? mapped : typeof mapped === 'string' && mapped !== '' ? [mapped] : [];
  const cleaned = given.map((l) => String(l).trim().replace(/\s+/g, '-').slice(0, 255)).filter((l) => l !== '');
  return [...new Set([...cleaned, idempotencyKey])];
}

function alertLinks(alert: TicketAlert): TextLink[] {
  const links: TextLink[] = alert.url === null ? [] : [{ text: 'Open the alert', href: alert.url }];
  return [...links, ...alert.links.filter((l) => /^https?:\/\//.test(l.href))];
}

/** A CEL result that reads as text (string, number, bool), else null. */
function scalar(value: unknown): string | null {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : null;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

/** Jira's summary is one line of at most 255 characters. */
function oneLine(text: string): string {
  const line = text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return line.length > 255 ? `${line.slice(0, 254)}…` : line;
}
