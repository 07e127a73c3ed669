import { severityText, type RenderContext } from '../context.js';
import { TemplateError } from '../errors.js';
import type { Formatted, RenderWarning } from '../types.js';
import { isWebLink, messageLinks } from './common.js';

export type AdaptiveCard = {
  type: 'AdaptiveCard';
  $schema: string;
  version: string;
  body: Record<string, unknown>[];
  actions?: Record<string, unknown>[];
  [key: string]: unknown;
};

/** A Bot Framework / incoming-webhook message carrying one Adaptive Card. */
export type TeamsMessage = Readonly<{
  type: 'message';
  summary: string;
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive'; contentUrl: null; content: AdaptiveCard }];
}>;

export const ADAPTIVE_CARD_SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';
export const ADAPTIVE_CARD_VERSION = '1.4';
/** Teams rejects messages over about 28 KB. */
export const TEAMS_MAX_BYTES = 28 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(message: string): TemplateError {
  return new TemplateError({ code: 'INVALID_OUTPUT', message, channel: 'teams', field: 'teams' });
}

/** Acknowledge and Resolve as `Action.Submit`: the bot receives `{ action, alertId }`. */
function ackResolveActions(ctx: RenderContext): Record<string, unknown>[] {
  return [
    { type: 'Action.Submit', title: 'Acknowledge', style: 'positive', data: { action: 'ack', alertId: ctx.alert.id } },
    { type: 'Action.Submit', title: 'Resolve', data: { action: 'resolve', alertId: ctx.alert.id } },
  ];
}

/** The action page as `Action.OpenUrl`: works without a bot, acting as the paged user. */
function actionLinkAction(ctx: RenderContext): Record<string, unknown> | null {
  if (!ctx.actionUrl || !isWebLink(ctx.actionUrl)) return null;
  const title = ctx.notification.kind === 'resolved' ? 'Open alert' : 'Open (acknowledge, resolve, snooze)';
  return { type: 'Action.OpenUrl', title, url: ctx.actionUrl };
}

export function defaultTeamsSummary(ctx: RenderContext): string {
  const head = ctx.notification.kind === 'resolved' ? 'RESOLVED' : ctx.alert.severity.toUpperCase();
  return `[${head}] ${ctx.service.name}: ${ctx.alert.summary}`;
}

export function defaultAdaptiveCard(ctx: RenderContext): AdaptiveCard {
  const resolved = ctx.notification.kind === 'resolved';
  const body: Record<string, unknown>[] = [
    {
      type: 'TextBlock',
      text: resolved ? `✅ Resolved: ${ctx.alert.summary}` : `🚨 ${ctx.alert.summary}`,
      size: 'Large',
      weight: 'Bolder',
      wrap: true,
      color: resolved ? 'Good' : ctx.alert.severity === 'critical' || ctx.alert.severity === 'error' ? 'Attention' : 'Warning',
    },
  ];
  if (ctx.alert.details) body.push({ type: 'TextBlock', text: ctx.alert.details, wrap: true });
  body.push({
    type: 'FactSet',
    facts: [
      { title: 'Service', value: ctx.service.name },
      { title: 'Severity', value: severityText(ctx.alert) },
      { title: 'Status', value: ctx.alert.status },
      { title: 'Triggered', value: ctx.alert.triggered_at },
      { title: 'Escalation', value: `${ctx.escalation.policy_name} (step ${ctx.escalation.step} of ${ctx.escalation.total_steps})` },
    ],
  });
  const labels = Object.entries(ctx.labels).map(([k, v]) => `${k}=${v}`);
  if (labels.length > 0) body.push({ type: 'TextBlock', text: labels.join('  '), isSubtle: true, wrap: true, size: 'Small' });
  const actions: Record<string, unknown>[] = resolved ? [] : ackResolveActions(ctx);
  const page = actionLinkAction(ctx);
  if (page) actions.push(page);
  for (const l of messageLinks(ctx)) {
    if (isWebLink(l.href) && l.href !== ctx.actionUrl) actions.push({ type: 'Action.OpenUrl', title: l.text || l.href, url: l.href });
  }
  return { type: 'AdaptiveCard', $schema: ADAPTIVE_CARD_SCHEMA, version: ADAPTIVE_CARD_VERSION, body, actions };
}

/** The template's output: a message with attachments, an AdaptiveCard, or `{ "body": [...] }`. */
function cardFromTemplate(rendered: unknown): { card: AdaptiveCard; summary: string | null } {
  if (!isObject(rendered)) throw invalid('the Teams template must render a JSON object (an Adaptive Card or a message)');
  let summary = typeof rendered.summary === 'string' && rendered.summary.trim() !== '' ? rendered.summary : null;
  let card: Record<string, unknown> = rendered;
  if (Array.isArray(rendered.attachments)) {
    const first: unknown = rendered.attachments[0];
    if (!isObject(first) || !isObject(first.content)) throw invalid('the message has no attachment with an Adaptive Card in "content"');
    card = first.content;
  }
  if (card.type !== undefined && card.type !== 'AdaptiveCard')
    throw invalid(`card type is ${JSON.stringify(card.type)}, not "AdaptiveCard"`);
  if (!Array.isArray(card.body)) throw invalid('the Adaptive Card has no "body" array');
  if (card.actions !== undefined && !Array.isArray(card.actions)) throw invalid('"actions" must be an array');
  if (summary === null && typeof card.fallbackText === 'string') summary = card.fallbackText;
  return {
    card: {
      ...card,
      type: 'AdaptiveCard',
      $schema: typeof card.$schema === 'string' ? card.$schema : ADAPTIVE_CARD_SCHEMA,
      version: typeof card.version === 'string' ? card.version : ADAPTIVE_CARD_VERSION,
      body: card.body as Record<string, unknown>[],
      ...(card.actions === undefined ? {} : { actions: card.actions as Record<string, unknown>[] }),
    },
    summary,
  };
}

function hasAckOrResolve(card: AdaptiveCard): boolean {
  return (card.actions ?? []).some((a) => isObject(a.data) && (a.data.action === 'ack' || a.data.action === 'resolve'));
}

/** A Teams message from the rendered template (parsed JSON) or the default card. */
export function formatTeams(rendered: unknown, ctx: RenderContext): Formatted<TeamsMessage> {
  const warnings: RenderWarning[] = [];
  const fromTpl = rendered !== null;
  const source = fromTpl ? cardFromTemplate(rendered) : { card: defaultAdaptiveCard(ctx), summary: null };
  let card = source.card;
  if (fromTpl && ctx.notification.kind === 'page' && !hasAckOrResolve(card)) {
    card = { ...card, actions: [...(card.actions ?? []), ...ackResolveActions(ctx)] };
  }
  // A template's card carries the action link too, unless it already opens it.
  const page = actionLinkAction(ctx);
  if (fromTpl && page && !(card.actions ?? []).some((a) => a.url === ctx.actionUrl)) {
    card = { ...card, actions: [...(card.actions ?? []), page] };
  }
  const message: TeamsMessage = {
    type: 'message',
    summary: source.summary ?? defaultTeamsSummary(ctx),
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  };
  const bytes = new TextEncoder().encode(JSON.stringify(message)).length;
  if (bytes > TEAMS_MAX_BYTES) {
    warnings.push({
      code: 'TEAMS_SIZE_LIMIT',
      channel: 'teams',
      field: fromTpl ? 'teams' : null,
      message: `message is ${bytes} bytes; Teams rejects messages over about ${TEAMS_MAX_BYTES}`,
    });
  }
  return { content: message, warnings };
}
