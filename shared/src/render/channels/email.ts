import { severityText, type RenderContext } from '../context.js';
import { htmlEscape, truncate } from '../escape.js';
import type { Formatted, RenderWarning } from '../types.js';
import { messageLinks } from './common.js';

export type EmailContent = Readonly<{ subject: string; html: string; text: string }>;

export type EmailOptions = Readonly<{ maxSubjectChars: number }>;

export type EmailParts = Readonly<{ subject: string | null; html: string | null; text: string | null }>;

const SEVERITY_COLOURS: Readonly<Record<string, string>> = {
  critical: '#dc3545',
  error: '#e8590c',
  warning: '#ffc107',
  info: '#17a2b8',
  unknown: '#6c757d',
};

export function defaultEmailSubject(ctx: RenderContext): string {
  const head = ctx.notification.kind === 'resolved' ? 'RESOLVED' : ctx.alert.severity.toUpperCase();
  return `[${head}] ${ctx.service.name}: ${ctx.alert.summary}`;
}

function rows(ctx: RenderContext): [string, string][] {
  return [
    ['Service', ctx.service.name],
    ['Severity', severityText(ctx.alert)],
    ['Status', ctx.alert.status],
    ['Triggered', ctx.alert.triggered_at],
    ['Source', ctx.alert.source],
    ['Escalation', `${ctx.escalation.policy_name}, step ${ctx.escalation.step} of ${ctx.escalation.total_steps}`],
  ];
}

/** Only http(s) and mailto links become anchors; anything else is shown as text. */
const safeHref = (href: string): boolean => /^(https?:\/\/|mailto:)/i.test(href);

const BUTTON = 'display:inline-block;padding:8px 16px;margin:8px 8px 8px 0;border-radius:4px;text-decoration:none;font-weight:bold';

/**
 * Acknowledge and Resolve, both to the action page: mail scanners follow links, so a link only
 * opens the page and the page's buttons act (POST).
 */
function actionButtonsHtml(ctx: RenderContext): string {
  if (!ctx.actionUrl || ctx.notification.kind === 'resolved' || !safeHref(ctx.actionUrl)) return '';
  const href = htmlEscape(ctx.actionUrl);
  return (
    `<p><a href="${href}" style="${BUTTON};background:#1f6feb;color:#fff">Acknowledge</a>` +
    `<a href="${href}" style="${BUTTON};background:#eaeef2;color:#1b1f24">Resolve</a>` +
    `<a href="${href}">Escalate or snooze</a></p>`
  );
}

export function defaultEmailHtml(ctx: RenderContext): string {
  const e = htmlEscape;
  const colour = ctx.notification.kind === 'resolved' ? '#28a745' : (SEVERITY_COLOURS[ctx.alert.severity] ?? '#6c757d');
  const title = ctx.notification.kind === 'resolved' ? `Resolved: ${ctx.alert.summary}` : ctx.alert.summary;
  const table = rows(ctx)
    .map(([k, v]) => `<tr><th align="left" style="padding:2px 12px 2px 0">${e(k)}</th><td>${e(v)}</td></tr>`)
    .join('');
  const labels = Object.entries(ctx.labels)
    .map(([k, v]) => `<code>${e(k)}=${e(v)}</code>`)
    .join(' ');
  const links = messageLinks(ctx)
    .filter((l) => l.href !== ctx.actionUrl)
    .map((l) => (safeHref(l.href) ? `<a href="${e(l.href)}">${e(l.text || l.href)}</a>` : e(`${l.text} ${l.href}`)))
    .join(' · ');
  return [
    '<!DOCTYPE html>',
    '<html><body style="font-family:sans-serif">',
    `<div style="background:${colour};color:#fff;padding:16px"><h1 style="margin:0;font-size:20px">${e(title)}</h1></div>`,
    '<div style="padding:16px">',
    ctx.alert.details ? `<p>${e(ctx.alert.details)}</p>` : '',
    `<table>${table}</table>`,
    actionButtonsHtml(ctx),
    labels ? `<p>${labels}</p>` : '',
    links ? `<p>${links}</p>` : '',
    '</div>',
    '</body></html>',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

export function defaultEmailText(ctx: RenderContext): string {
  const title = ctx.notification.kind === 'resolved' ? `RESOLVED: ${ctx.alert.summary}` : ctx.alert.summary;
  const lines = [title, ''];
  if (ctx.alert.details) lines.push(ctx.alert.details, '');
  for (const [k, v] of rows(ctx)) lines.push(`${k}: ${v}`);
  const labels = Object.entries(ctx.labels);
  if (labels.length > 0) lines.push('', 'Labels:', ...labels.map(([k, v]) => `  ${k}=${v}`));
  if (ctx.actionUrl && ctx.notification.kind !== 'resolved') lines.push('', `Acknowledge, resolve, escalate or snooze: ${ctx.actionUrl}`);
  const links = messageLinks(ctx).filter((l) => l.href !== ctx.actionUrl);
  if (links.length > 0) lines.push('', ...links.map((l) => `${l.text}: ${l.href}`));
  return lines.join('\n');
}

/**
 * Subject, HTML and text parts. The subject is folded to one line (no header injection) and
 * capped; HTML from a template was auto-escaped by the HTML engine.
 */
export function formatEmail(parts: EmailParts, ctx: RenderContext, options: EmailOptions): Formatted<EmailContent> {
  const warnings: RenderWarning[] = [];
  let subject = (parts.subject ?? defaultEmailSubject(ctx)).replace(/\s+/g, ' ').trim();
  if (subject === '') subject = defaultEmailSubject(ctx).replace(/\s+/g, ' ').trim();
  if (subject.length > options.maxSubjectChars) {
    warnings.push({
      code: 'EMAIL_SUBJECT_TRUNCATED',
      channel: 'email',
      field: parts.subject === null ? null : 'emailSubject',
      message: `subject is ${subject.length} characters; truncated to ${options.maxSubjectChars}`,
    });
    subject = truncate(subject, options.maxSubjectChars);
  }
  return {
    content: { subject, html: parts.html ?? defaultEmailHtml(ctx), text: parts.text ?? defaultEmailText(ctx) },
    warnings,
  };
}
