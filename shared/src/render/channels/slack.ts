import { encodeSlackTarget, SLACK_ACTION, SLACK_SNOOZE_OPTIONS, snoozeOptionValue, type SlackAlertTarget } from '@oncall/contracts';
import { severityText, type RenderContext } from '../context.js';
import { TemplateError } from '../errors.js';
import { slackEscape, truncate } from '../escape.js';
import type { Formatted, RenderWarning } from '../types.js';
import { isWebLink, messageLinks } from './common.js';

/** A Block Kit block: `type` plus whatever that block type carries. */
export type SlackBlock = { type: string; [key: string]: unknown };

/** What chat.postMessage gets besides the channel: fallback text (notifications) and blocks. */
export type SlackMessage = Readonly<{ text: string; blocks: SlackBlock[] }>;

/** Slack's documented limits; over them the API rejects the message (`invalid_blocks`). */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  messageText: 40000,
} as const;

export const SLACK_ACTIONS_BLOCK_ID = 'oncall_actions';

const plain = (text: string) => ({ type: 'plain_text', text, emoji: true });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });

/** `<url|text>`; characters that would end the link are percent-encoded in the URL. */
function slackLink(href: string, text: string): string {
  if (!isWebLink(href)) return slackEscape(`${text} ${href}`);
  const url = href.replace(/[<>|]/g, (c) => encodeURIComponent(c));
  return `<${url}|${slackEscape(text || href).replace(/\|/g, '¦')}>`;
}

/** Which buttons an alert in this state gets: none once resolved. */
export type SlackActionState = 'triggered' | 'acknowledged' | 'snoozed' | 'resolved';

/**
 * The actions block of an alert's message: Acknowledge, Resolve, Escalate, a Snooze menu and
 * Open, as far as they make sense in `state`. Button values name the alert on the command path
 * (contracts/slack-actions.ts); when that would pass Slack's limit only Open is left.
 */
export function slackActionsBlock(target: SlackAlertTarget, state: SlackActionState, url: string | null): SlackBlock | null {
  const value = encodeSlackTarget(target);
  const elements: Record<string, unknown>[] = [];
  if (value !== null && state !== 'resolved') {
    if (state !== 'acknowledged')
      elements.push({ type: 'button', action_id: SLACK_ACTION.acknowledge, text: plain('Acknowledge'), style: 'primary', value });
    elements.push({ type: 'button', action_id: SLACK_ACTION.resolve, text: plain('Resolve'), value });
    elements.push({ type: 'button', action_id: SLACK_ACTION.escalate, text: plain('Escalate'), value });
    elements.push({
      type: 'static_select',
      action_id: SLACK_ACTION.snooze,
      placeholder: plain('Snooze'),
      options: SLACK_SNOOZE_OPTIONS.map((o) => ({ text: plain(o.label), value: snoozeOptionValue(o.seconds) })),
    });
  }
  if (url) elements.push({ type: 'button', action_id: SLACK_ACTION.open, text: plain('Open'), url });
  return elements.length === 0 ? null : { type: 'actions', block_id: SLACK_ACTIONS_BLOCK_ID, elements };
}

function actionsBlock(ctx: RenderContext): SlackBlock | null {
  const target = { alertId: ctx.alert.id, serviceId: ctx.alert.service_id, fingerprint: ctx.alert.fingerprint };
  return slackActionsBlock(target, 'triggered', ctx.alert.url);
}

export function defaultSlackText(ctx: RenderContext): string {
  const head = ctx.notification.kind === 'resolved' ? 'RESOLVED' : ctx.alert.severity.toUpperCase();
  return slackEscape(`[${head}] ${ctx.service.name}: ${ctx.alert.summary}`);
}

export function defaultSlackBlocks(ctx: RenderContext): SlackBlock[] {
  const resolved = ctx.notification.kind === 'resolved';
  const blocks: SlackBlock[] = [
    { type: 'header', text: plain(resolved ? `✅ Resolved: ${ctx.alert.summary}` : `🚨 ${ctx.alert.summary}`) },
  ];
  const fields = [
    mrkdwn(`*Severity:*\n${slackEscape(severityText(ctx.alert))}`),
    mrkdwn(`*Service:*\n${slackEscape(ctx.service.name)}`),
    mrkdwn(`*Status:*\n${slackEscape(ctx.alert.status)}`),
    mrkdwn(`*Escalation:*\n${slackEscape(`${ctx.escalation.policy_name} (step ${ctx.escalation.step} of ${ctx.escalation.total_steps})`)}`),
  ];
  blocks.push(ctx.alert.details ? { type: 'section', text: mrkdwn(slackEscape(ctx.alert.details)), fields } : { type: 'section', fields });
  const labels = Object.entries(ctx.labels).map(([k, v]) => `\`${slackEscape(`${k}=${v}`).replace(/`/g, "'")}\``);
  if (labels.length > 0) blocks.push({ type: 'section', text: mrkdwn(labels.join(' ')) });
  // The alert's own page is the Open button.
  const links = messageLinks(ctx).filter((l) => l.href !== ctx.alert.url);
  if (links.length > 0) blocks.push({ type: 'section', text: mrkdwn(links.map((l) => slackLink(l.href, l.text)).join(' · ')) });
  const at = Date.parse(ctx.alert.triggered_at);
  const when = Number.isFinite(at)
    ? `<!date^${Math.floor(at / 1000)}^{date_short_pretty} {time}|${slackEscape(ctx.alert.triggered_at)}>`
    : slackEscape(ctx.alert.triggered_at);
  blocks.push({ type: 'context', elements: [mrkdwn(`Triggered ${when} · ${slackEscape(ctx.alert.source)}`)] });
  const actions = resolved ? null : actionsBlock(ctx);
  if (actions !== null) blocks.push(actions);
  return blocks;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(message: string): TemplateError {
  return new TemplateError({ code: 'INVALID_OUTPUT', message, channel: 'slack', field: 'slack' });
}

const unescapeEntities = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/**
 * The Slack engine entity-escapes every value, which Slack decodes only in `text` fields: undo it
 * in the others (button `url`, `value`, `image_url`, `alt_text`, …) so links keep their `&`.
 */
function unescapeNonText(value: unknown, key: string | null): unknown {
  if (typeof value === 'string') return key === 'text' ? value : unescapeEntities(value);
  if (Array.isArray(value)) return value.map((v) => unescapeNonText(v, null));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unescapeNonText(v, k)]));
  return value;
}

/** The template's output: `{ "text"?, "blocks": [...] }` or a bare array of blocks. */
function fromTemplate(rendered: unknown): { text: string | null; blocks: SlackBlock[] } {
  let text: string | null = null;
  let blocks: unknown;
  if (Array.isArray(rendered)) blocks = rendered;
  else if (isObject(rendered)) {
    blocks = rendered.blocks ?? [];
    if (rendered.text !== undefined && typeof rendered.text !== 'string') throw invalid('"text" must be a string');
    text = typeof rendered.text === 'string' && rendered.text.trim() !== '' ? rendered.text : null;
  } else throw invalid('the Slack template must render a JSON object with "blocks", or an array of blocks');
  if (!Array.isArray(blocks)) throw invalid('"blocks" must be an array');
  blocks.forEach((b, i) => {
    if (!isObject(b) || typeof b.type !== 'string') throw invalid(`block ${i + 1} has no "type"`);
  });
  if (blocks.length === 0 && text === null) throw invalid('the Slack message has neither text nor blocks');
  return { text, blocks: unescapeNonText(blocks, null) as SlackBlock[] };
}

function hasAckOrResolve(blocks: readonly SlackBlock[]): boolean {
  return blocks.some(
    (b) =>
      b.type === 'actions' &&
      Array.isArray(b.elements) &&
      b.elements.some((e) => isObject(e) && (e.action_id === 'ack' || e.action_id === 'resolve')),
  );
}

/** Truncates text objects and drops extra fields/elements past Slack's limits, saying what it did. */
function enforceLimits(
  blocks: SlackBlock[],
  warn: (code: 'SLACK_BLOCK_LIMIT' | 'SLACK_TEXT_TRUNCATED', message: string) => void,
): SlackBlock[] {
  const cutText = (obj: unknown, max: number, where: string): unknown => {
    if (!isObject(obj) || typeof obj.text !== 'string' || obj.text.length <= max) return obj;
    warn('SLACK_TEXT_TRUNCATED', `${where} text is ${obj.text.length} characters; truncated to ${max}`);
    return { ...obj, text: truncate(obj.text, max) };
  };
  let out = blocks.map((block, i) => {
    const n = i + 1;
    switch (block.type) {
      case 'header':
        return { ...block, text: cutText(block.text, SLACK_LIMITS.headerText, `header (block ${n})`) };
      case 'section': {
        const b: SlackBlock = { ...block };
        if (b.text !== undefined) b.text = cutText(b.text, SLACK_LIMITS.sectionText, `section (block ${n})`);
        if (Array.isArray(b.fields)) {
          if (b.fields.length > SLACK_LIMITS.sectionFields) {
            warn('SLACK_BLOCK_LIMIT', `section (block ${n}) has ${b.fields.length} fields; kept the first ${SLACK_LIMITS.sectionFields}`);
          }
          b.fields = b.fields
            .slice(0, SLACK_LIMITS.sectionFields)
            .map((f, j) => cutText(f, SLACK_LIMITS.fieldText, `section (block ${n}) field ${j + 1}`));
        }
        return b;
      }
      case 'context':
        if (Array.isArray(block.elements) && block.elements.length > SLACK_LIMITS.contextElements) {
          warn(
            'SLACK_BLOCK_LIMIT',
            `context (block ${n}) has ${block.elements.length} elements; kept the first ${SLACK_LIMITS.contextElements}`,
          );
          return { ...block, elements: block.elements.slice(0, SLACK_LIMITS.contextElements) };
        }
        return block;
      default:
        return block;
    }
  });
  if (out.length > SLACK_LIMITS.blocks) {
    warn('SLACK_BLOCK_LIMIT', `message has ${out.length} blocks; Slack takes ${SLACK_LIMITS.blocks}, kept the first ones and the actions`);
    const last = out[out.length - 1];
    out = last?.block_id === SLACK_ACTIONS_BLOCK_ID ? [...out.slice(0, SLACK_LIMITS.blocks - 1), last] : out.slice(0, SLACK_LIMITS.blocks);
  }
  return out;
}

/**
 * A Block Kit message from the rendered Slack template (parsed JSON) or the default. Pages get an
 * actions block (slackActionsBlock) unless the template already has Acknowledge or Resolve.
 */
export function formatSlack(rendered: unknown, ctx: RenderContext): Formatted<SlackMessage> {
  const fromTpl = rendered !== null;
  const warnings: RenderWarning[] = [];
  const warn = (code: 'SLACK_BLOCK_LIMIT' | 'SLACK_TEXT_TRUNCATED', message: string) =>
    warnings.push({ code, channel: 'slack', field: fromTpl ? 'slack' : null, message });
  const source = fromTpl ? fromTemplate(rendered) : { text: defaultSlackText(ctx), blocks: defaultSlackBlocks(ctx) };
  let blocks = source.blocks;
  if (fromTpl && ctx.notification.kind === 'page' && !hasAckOrResolve(blocks)) {
    const actions = actionsBlock(ctx);
    if (actions !== null) blocks = [...blocks, actions];
  }
  blocks = enforceLimits(blocks, warn);
  let fallback = source.text ?? defaultSlackText(ctx);
  if (fallback.length > SLACK_LIMITS.messageText) {
    warn('SLACK_TEXT_TRUNCATED', `message text is ${fallback.length} characters; truncated to ${SLACK_LIMITS.messageText}`);
    fallback = truncate(fallback, SLACK_LIMITS.messageText);
  }
  return { content: { text: fallback, blocks }, warnings };
}
