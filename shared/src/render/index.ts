/**
 * The dispatcher's render stage, `oncall apply`'s template check and the TemplateService preview: one renderer, so what the editor
 * previews is what is sent.
 */
import type { TemplateChannels } from '@oncall/contracts';
import type { RenderContext } from './context.js';
import {
  createRenderer,
  type RenderCallOptions,
  type RenderedNotification,
  type RenderPreviewResult,
  type PreviewOptions,
  type ValidateOptions,
  type ValidationResult,
} from './renderer.js';
import type { Channel, RenderTemplate } from './types.js';

export { buildRenderContext, previewContext, sampleRenderContext, type ContextOptions, type RenderContext } from './context.js';
export { DEFAULT_LIMITS, TemplateCache, type RenderLimits } from './engine.js';
export { TemplateError, type TemplateErrorCode, type TemplateLimit } from './errors.js';
export {
  createRenderer,
  renderedText,
  type ChannelContent,
  type ChannelPreview,
  type PreviewOptions,
  type RenderCallOptions,
  type RenderedNotification,
  type Renderer,
  type RendererOptions,
  type RenderPreviewResult,
  type ValidateOptions,
  type ValidationError,
  type ValidationResult,
} from './renderer.js';
export {
  CHANNEL_PARTS,
  CHANNELS,
  type Channel,
  type RenderTemplate,
  type RenderWarning,
  type TemplatePart,
  type WarningCode,
} from './types.js';
export { countSms, type SmsContent, type SmsCount, type SmsEncoding } from './channels/sms.js';
export { SLACK_LIMITS, type SlackBlock, type SlackMessage } from './channels/slack.js';
export { type AdaptiveCard, type TeamsMessage } from './channels/teams.js';
export { type EmailContent } from './channels/email.js';
export { type VoiceContent } from './channels/voice.js';
export { type WebhookContent } from './channels/webhook.js';
export { EXAMPLE_TEMPLATE } from './examples.js';
export { changeLine, slackStatusMessage } from './channels/slack-status.js';
export { benchRenders, type RenderBenchOptions, type RenderBenchResult } from './bench.js';

const defaultRenderer = createRenderer();

/** {@link Renderer.renderNotification} on the process-wide renderer (default limits, shared cache). */
export function renderNotification<C extends Channel>(
  template: RenderTemplate | null,
  channel: C,
  context: RenderContext,
  options?: RenderCallOptions,
): RenderedNotification<C> {
  return defaultRenderer.renderNotification(template, channel, context, options);
}

/** {@link Renderer.validateTemplate} on the process-wide renderer. */
export function validateTemplate(channels: TemplateChannels, options?: ValidateOptions): ValidationResult {
  return defaultRenderer.validateTemplate(channels, options);
}

/** {@link Renderer.renderPreview} on the process-wide renderer. */
export function renderPreview(
  template: RenderTemplate,
  sample?: Readonly<Record<string, unknown>> | null,
  options?: PreviewOptions,
): RenderPreviewResult {
  return defaultRenderer.renderPreview(template, sample, options);
}
