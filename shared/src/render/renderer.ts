import type { TemplateChannels } from '@oncall/contracts';
import { formatEmail, type EmailContent } from './channels/email.js';
import { formatSlack, type SlackMessage } from './channels/slack.js';
import { formatSms, type SmsContent } from './channels/sms.js';
import { formatTeams, type TeamsMessage } from './channels/teams.js';
import { formatVoice, type VoiceContent } from './channels/voice.js';
import { formatWebhook, type WebhookContent } from './channels/webhook.js';
import { lookupPath, previewContext, type RenderContext } from './context.js';
import { DEFAULT_LIMITS, Engines, PART_ENGINE, TemplateCache, type ParsedTemplate, type RenderLimits } from './engine.js';
import { TemplateError, type TemplateErrorCode } from './errors.js';
import { CHANNEL_PARTS, CHANNELS, type Channel, type RenderTemplate, type RenderWarning, type TemplatePart } from './types.js';

/** What each channel's notifier sends. */
export type ChannelContent = {
  slack: SlackMessage;
  teams: TeamsMessage;
  email: EmailContent;
  sms: SmsContent;
  voice: VoiceContent;
  webhook: WebhookContent;
};

export type RenderedNotification<C extends Channel = Channel> = {
  [K in C]: Readonly<{ channel: K; content: ChannelContent[K]; warnings: RenderWarning[] }>;
}[C];

export type RendererOptions = Readonly<{
  limits?: Partial<RenderLimits>;
  /** Parsed templates kept (LRU). */
  cacheSize?: number;
  /** SMS longer than this many segments is truncated. */
  smsMaxSegments?: number;
  /** Where Twilio posts the digit pressed in a voice call. */
  voiceGatherActionUrl?: string | null;
  maxSubjectChars?: number;
  maxVoiceChars?: number;
}>;

export type RenderCallOptions = Readonly<{
  /**
   * On a template problem, send the built-in default for that part and say so in a
   * TEMPLATE_FALLBACK warning (default), or throw the TemplateError (`false`).
   */
  fallback?: boolean;
}>;

/** A blocking problem, as ValidateTemplate reports it (line/column 0 = no position). */
export type ValidationError = Readonly<{
  channel: Channel;
  field: TemplatePart | null;
  code: TemplateErrorCode;
  line: number;
  column: number;
  message: string;
}>;

export type ValidationResult = Readonly<{ valid: boolean; errors: ValidationError[]; warnings: RenderWarning[] }>;

export type ChannelPreview<C extends Channel = Channel> = {
  [K in C]: RenderedNotification<K> &
    Readonly<{
      /** The payload as text: JSON for Slack/Teams/webhook, HTML for email, the SMS text, TwiML. */
      rendered: string;
      /** Problems that made this channel fall back to its default. */
      errors: ValidationError[];
    }>;
}[C];

export type RenderPreviewResult = Readonly<{
  previews: { [K in Channel]?: ChannelPreview<K> };
  validation: ValidationResult;
}>;

export type PreviewOptions = Readonly<{ channels?: readonly Channel[] }>;

export type ValidateOptions = Readonly<{
  required?: readonly string[];
  optional?: readonly string[];
  /** Sample data over the built-in sample (top-level keys replace). */
  sample?: Readonly<Record<string, unknown>> | null;
}>;

/** One renderer for delivery and for the editor's preview: the same code path (WYSIWYG). */
export interface Renderer {
  /**
   * The message for one channel. `template` null (or a null part) uses the built-in default.
   * Throws TemplateError only with `{ fallback: false }`.
   */
  renderNotification<C extends Channel>(
    template: RenderTemplate | null,
    channel: C,
    context: RenderContext,
    options?: RenderCallOptions,
  ): RenderedNotification<C>;
  /** What would be sent on each channel for the sample, with every problem found on the way. */
  renderPreview(template: RenderTemplate, sample?: Readonly<Record<string, unknown>> | null, options?: PreviewOptions): RenderPreviewResult;
  /** Syntax, render and output errors (with positions) and warnings for a set of channel sources. */
  validateTemplate(channels: TemplateChannels, options?: ValidateOptions): ValidationResult;
  readonly cache: TemplateCache;
}

const JSON_PARTS: ReadonlySet<TemplatePart> = new Set(['slack', 'teams', 'webhook']);

const splitPath = (name: string): string[] => name.split('.').filter((s) => s !== '');

type Path = readonly (string | number)[];

const isPrefix = (prefix: Path, path: Path): boolean =>
  prefix.length > 0 && prefix.length <= path.length && prefix.every((s, i) => String(path[i]) === String(s));

/** A declared variable (`labels` or `labels.team`) covers a reference to itself or below it. */
const covers = (declared: readonly string[], path: Path): boolean => declared.some((d) => isPrefix(splitPath(d), path));

type PartOutputs = Partial<Record<TemplatePart, unknown>>;

type ChannelRun = { result: RenderedNotification; errors: TemplateError[] };

class RendererImpl implements Renderer {
  readonly cache: TemplateCache;
  private readonly engines: Engines;
  private readonly smsMaxSegments: number;
  private readonly voiceGatherActionUrl: string | null;
  private readonly maxSubjectChars: number;
  private readonly maxVoiceChars: number;

  constructor(options: RendererOptions) {
    this.engines = new Engines({ ...DEFAULT_LIMITS, ...options.limits });
    this.cache = new TemplateCache(options.cacheSize ?? 1000);
    this.smsMaxSegments = options.smsMaxSegments ?? 3;
    this.voiceGatherActionUrl = options.voiceGatherActionUrl ?? null;
    this.maxSubjectChars = options.maxSubjectChars ?? 250;
    this.maxVoiceChars = options.maxVoiceChars ?? 4000;
  }

  renderNotification<C extends Channel>(
    template: RenderTemplate | null,
    channel: C,
    context: RenderContext,
    options?: RenderCallOptions,
  ): RenderedNotification<C> {
    // run() returns the variant of `channel`; TypeScript cannot follow that through the union.
    return this.run(template, channel, context, options?.fallback ?? true, true).result as RenderedNotification<C>;
  }

  renderPreview(
    template: RenderTemplate,
    sample?: Readonly<Record<string, unknown>> | null,
    options?: PreviewOptions,
  ): RenderPreviewResult {
    return this.preview(template, previewContext(sample), options?.channels ?? CHANNELS, true);
  }

  validateTemplate(channels: TemplateChannels, options?: ValidateOptions): ValidationResult {
    const template: RenderTemplate = {
      templateId: '(validate)',
      version: 0,
      channels,
      variables: { required: options?.required ?? [], optional: options?.optional ?? [] },
    };
    // Sample data is illustrative: a required variable it lacks is a warning here, not an error.
    return this.preview(template, previewContext(options?.sample), CHANNELS, false).validation;
  }

  private preview(
    template: RenderTemplate,
    context: RenderContext,
    channels: readonly Channel[],
    checkRequired: boolean,
  ): RenderPreviewResult {
    const previews: Partial<Record<Channel, ChannelPreview>> = {};
    const errors: ValidationError[] = [];
    const warnings: RenderWarning[] = [];
    for (const channel of channels) {
      const p = this.previewChannel(template, channel, context, checkRequired);
      previews[channel] = p;
      errors.push(...p.errors);
      warnings.push(...p.warnings);
    }
    warnings.push(...this.requiredWarnings(template, context, checkRequired));
    // Each key holds the preview of its own channel (previewChannel keeps `channel`).
    return { previews: previews as RenderPreviewResult['previews'], validation: { valid: errors.length === 0, errors, warnings } };
  }

  private previewChannel(template: RenderTemplate, channel: Channel, context: RenderContext, checkRequired: boolean): ChannelPreview {
    const { result, errors } = this.run(template, channel, context, true, checkRequired);
    return {
      ...result,
      rendered: renderedText(result),
      // The fallback notes repeat the errors, which the preview lists as errors.
      warnings: result.warnings.filter((w) => w.code !== 'TEMPLATE_FALLBACK'),
      errors: errors.map((e) => validationError(channel, e)),
    };
  }

  /** Declared-required variables no part reads, and (when not enforced) ones the sample lacks. */
  private requiredWarnings(template: RenderTemplate, context: RenderContext, checkRequired: boolean): RenderWarning[] {
    const out: RenderWarning[] = [];
    const used: Path[] = [];
    for (const part of Object.keys(template.channels) as TemplatePart[]) {
      try {
        const parsed = this.parsed(template, part);
        if (parsed) used.push(...parsed.variables.map((v) => v.path));
      } catch {
        // Reported as an error of the channel that uses the part.
      }
    }
    for (const name of template.variables?.required ?? []) {
      const segs = splitPath(name);
      // Reading `labels` (a loop over it) uses `labels.team`, and reading `labels.team` uses `labels`.
      const isUsed = used.some((p) => isPrefix(segs, p) || isPrefix(p, segs));
      if (!isUsed)
        out.push({
          code: 'UNUSED_REQUIRED_VARIABLE',
          channel: null,
          field: null,
          message: `required variable ${name} is not used by any channel`,
        });
      if (!checkRequired && !lookupPath(context, segs).found) {
        out.push({ code: 'MISSING_VARIABLE', channel: null, field: null, message: `required variable ${name} is not in the sample data` });
      }
    }
    return out;
  }

  private parsed(template: RenderTemplate, part: TemplatePart): ParsedTemplate | null {
    const source = template.channels[part];
    if (source === null) return null;
    return this.cache.getOrParse(template.templateId, template.version, part, source, () => this.engines.parse(PART_ENGINE[part], source));
  }

  private run(
    template: RenderTemplate | null,
    channel: Channel,
    context: RenderContext,
    fallback: boolean,
    checkRequired: boolean,
  ): ChannelRun {
    const warnings: RenderWarning[] = [];
    const errors: TemplateError[] = [];
    const fail = (err: TemplateError): void => {
      if (!fallback) throw err;
      errors.push(err);
      warnings.push({ code: 'TEMPLATE_FALLBACK', channel, field: err.field, message: `${err.describe()}; the built-in default was used` });
    };
    const parts = CHANNEL_PARTS[channel];
    const outputs: PartOutputs = {};
    const used = template !== null && parts.some((p) => template.channels[p] !== null);
    const missingRequired =
      used && checkRequired ? (template.variables?.required ?? []).filter((name) => !lookupPath(context, splitPath(name)).found) : [];
    if (missingRequired.length > 0) {
      for (const part of parts.filter((p) => template?.channels[p] !== null)) {
        fail(
          new TemplateError({
            code: 'MISSING_VARIABLE',
            message: `required variable ${missingRequired.join(', ')} is not in the render context`,
            channel,
            field: part,
          }),
        );
      }
    } else if (template !== null) {
      for (const part of parts) {
        try {
          const parsed = this.parsed(template, part);
          if (parsed === null) continue;
          const optional = template.variables?.optional ?? [];
          for (const v of parsed.variables) {
            if (!covers(optional, v.path) && !lookupPath(context, v.path).found) {
              warnings.push({
                code: 'MISSING_VARIABLE',
                channel,
                field: part,
                message: `${v.name} (line ${v.line}, column ${v.column}) is not in the render context`,
              });
            }
          }
          outputs[part] = this.output(part, this.engines.render(parsed, context));
        } catch (err) {
          if (!(err instanceof TemplateError)) throw err;
          fail(err.at(channel, part));
        }
      }
    }
    let formatted: RenderedNotification;
    try {
      formatted = this.format(channel, outputs, context);
    } catch (err) {
      // The template rendered but its output has the wrong shape for the channel.
      if (!(err instanceof TemplateError)) throw err;
      fail(err.at(channel, err.field ?? CHANNEL_PARTS[channel][0] ?? 'slack'));
      formatted = this.format(channel, {}, context);
    }
    const result: RenderedNotification = { ...formatted, warnings: [...warnings, ...formatted.warnings] };
    return { result, errors };
  }

  /** Empty output is refused everywhere; JSON parts must parse. */
  private output(part: TemplatePart, text: string): unknown {
    if (text.trim() === '') throw new TemplateError({ code: 'INVALID_OUTPUT', message: 'the template rendered to nothing' });
    if (!JSON_PARTS.has(part)) return text;
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new TemplateError({
        code: 'INVALID_OUTPUT',
        message: `the output is not valid JSON (${why}); outside a string, print values with | json`,
        cause: err,
      });
    }
  }

  /** The channel's message from its rendered parts; a part missing from `outputs` uses the default. */
  private format(channel: Channel, outputs: PartOutputs, ctx: RenderContext): RenderedNotification {
    const text = (p: TemplatePart): string | null => {
      const v = outputs[p];
      return typeof v === 'string' ? v : null;
    };
    const json = (p: TemplatePart): unknown => outputs[p] ?? null;
    switch (channel) {
      case 'slack':
        return { channel, ...formatSlack(json('slack'), ctx) };
      case 'teams':
        return { channel, ...formatTeams(json('teams'), ctx) };
      case 'webhook':
        return { channel, ...formatWebhook(json('webhook'), ctx) };
      case 'email':
        return {
          channel,
          ...formatEmail({ subject: text('emailSubject'), html: text('emailHtml'), text: text('emailText') }, ctx, {
            maxSubjectChars: this.maxSubjectChars,
          }),
        };
      case 'sms':
        return { channel, ...formatSms(text('sms'), ctx, { maxSegments: this.smsMaxSegments }) };
      case 'voice':
        return {
          channel,
          ...formatVoice(text('voice'), ctx, { gatherActionUrl: this.voiceGatherActionUrl, maxSayChars: this.maxVoiceChars }),
        };
      default: {
        const _never: never = channel;
        throw new Error(`unknown channel ${String(_never)}`);
      }
    }
  }
}

function validationError(channel: Channel, e: TemplateError): ValidationError {
  return { channel, field: e.field, code: e.code, line: e.line, column: e.column, message: e.message };
}

/** The payload as text, as RenderedPreview.rendered_content carries it. */
export function renderedText(r: RenderedNotification): string {
  switch (r.channel) {
    case 'slack':
    case 'teams':
      return JSON.stringify(r.content, null, 2);
    case 'webhook':
      return r.content.body;
    case 'email':
      return r.content.html;
    case 'sms':
      return r.content.text;
    case 'voice':
      return r.content.twiml;
    default: {
      const _never: never = r;
      throw new Error(`unknown channel ${JSON.stringify(_never)}`);
    }
  }
}

export function createRenderer(options: RendererOptions = {}): Renderer {
  return new RendererImpl(options);
}
