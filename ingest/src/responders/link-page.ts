import type { ActionLink } from '@oncall/shared';
import type { AlertView } from '@oncall/shared';
import { byWhom } from './answers.js';

/** Snooze lengths the page offers, by the form value. */
export const SNOOZE_CHOICES: Readonly<Record<string, { seconds: number; label: string }>> = {
  '30m': { seconds: 1800, label: '30 minutes' },
  '1h': { seconds: 3600, label: '1 hour' },
  '4h': { seconds: 4 * 3600, label: '4 hours' },
  '24h': { seconds: 86_400, label: '24 hours' },
};

/** The commands the page's buttons send. */
export const PAGE_COMMANDS = ['acknowledge', 'resolve', 'escalate', 'snooze'] as const;
export type PageCommand = (typeof PAGE_COMMANDS)[number];

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24;line-height:1.45}
main{max-width:38rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.35rem;margin:.2rem 0 1rem}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.2rem;margin-bottom:1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.status{display:inline-block;padding:.1rem .5rem;border-radius:1rem;background:#eaeef2;font-weight:600}
.critical,.error{color:#a40e26}.warning{color:#7d4e00}
form{display:inline-block;margin:.3rem .4rem .3rem 0}
button{font-size:1rem;padding:.6rem 1rem;border-radius:6px;border:1px solid #8c959f;background:#fff;cursor:pointer}
button.primary{background:#1f6feb;border-color:#1f6feb;color:#fff}
button:focus-visible,select:focus-visible,a:focus-visible{outline:3px solid #0969da;outline-offset:2px}
select{font-size:1rem;padding:.5rem;border-radius:6px}
.answer{font-size:1.15rem;font-weight:600}
.muted{color:#57606a;font-size:.9rem}
`;

/** A whole page: inline CSS only, nothing fetched from anywhere. */
export function page(title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex, nofollow">',
    `<title>${esc(title)}</title><style>${CSS}</style></head>`,
    `<body><main>${body}</main></body></html>`,
  ].join('\n');
}

function facts(view: AlertView): string {
  const rows: [string, string][] = [
    ['Status', view.status],
    ['Service', view.serviceId],
    ['Severity', view.severity],
    ['Triggered', view.triggeredAt],
  ];
  if (view.snoozedUntil) rows.push(['Snoozed until', view.snoozedUntil]);
  if (view.lastChange) rows.push(['Last change', `${view.lastChange.action}${byWhom(view.lastChange)} at ${view.lastChange.at}`]);
  return `<dl>${rows
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${k === 'Status' ? `<span class="status">${esc(v)}</span>` : esc(v)}</dd>`)
    .join('')}</dl>`;
}

function button(command: PageCommand, label: string, primary = false): string {
  return `<form method="post"><input type="hidden" name="command" value="${command}"><button type="submit"${primary ? ' class="primary"' : ''}>${esc(label)}</button></form>`;
}

function actions(view: AlertView): string {
  if (view.status === 'resolved') return '<p>This alert is resolved: there is nothing left to do.</p>';
  const snooze =
    '<form method="post"><input type="hidden" name="command" value="snooze">' +
    '<label for="for">Snooze for</label> <select id="for" name="for">' +
    Object.entries(SNOOZE_CHOICES)
      .map(([v, c]) => `<option value="${v}">${esc(c.label)}</option>`)
      .join('') +
    '</select> <button type="submit">Snooze</button></form>';
  return [
    view.status === 'acknowledged' ? '' : button('acknowledge', 'Acknowledge', true),
    button('resolve', 'Resolve', view.status === 'acknowledged'),
    button('escalate', 'Escalate'),
    snooze,
  ].join('\n');
}

/** The page a link opens: the alert as the log has it, and buttons that POST (mail scanners follow GETs). */
export function alertPage(view: AlertView, link: ActionLink): string {
  const who = link.userId
    ? `<p class="muted">Acting as <strong>${esc(link.userId)}</strong> (the person this page was sent to). This link works until ${esc(new Date(link.expiresAt * 1000).toISOString())}.</p>`
    : '<p class="muted">This link was sent to a channel, not to a person, so it shows the alert only.</p>';
  return page(
    `${view.status}: ${view.summary}`,
    [
      `<h1 class="${esc(view.severity)}">${esc(view.summary)}</h1>`,
      '<section class="card" aria-label="Alert">',
      view.details ? `<p>${esc(view.details)}</p>` : '',
      facts(view),
      '</section>',
      link.userId ? `<section class="card" aria-label="Actions">${actions(view)}</section>` : '',
      who,
    ].join('\n'),
  );
}

/** What the command did, and the alert now. */
export function answerPage(text: string, view: AlertView | null): string {
  return page(
    text,
    [
      `<p class="answer" role="status">${esc(text)}</p>`,
      view ? `<section class="card" aria-label="Alert"><h1>${esc(view.summary)}</h1>${facts(view)}</section>` : '',
      '<p><a href="">Back to the alert</a></p>',
    ].join('\n'),
  );
}

/** A page that only says what went wrong. */
export function problemPage(title: string, text: string): string {
  return page(title, `<h1>${esc(title)}</h1><p>${esc(text)}</p>`);
}
