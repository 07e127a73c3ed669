import type { ContactChannel, TemplateChannels } from '@oncall/contracts';

/** A delivery channel, as contact methods name them. */
export type Channel = ContactChannel;
export const CHANNELS: readonly Channel[] = ['slack', 'teams', 'email', 'sms', 'voice', 'webhook'];

/** One template source inside a template version (email has three). */
export type TemplatePart = keyof TemplateChannels;

/** Which parts make up each channel's message. */
export const CHANNEL_PARTS: Readonly<Record<Channel, readonly TemplatePart[]>> = {
  slack: ['slack'],
  teams: ['teams'],
  email: ['emailSubject', 'emailHtml', 'emailText'],
  sms: ['sms'],
  voice: ['voice'],
  webhook: ['webhook'],
};

/**
 * A template version as the renderer needs it: the shape of `TemplateVersionPublished` data.
 * Drafts being previewed use version 0.
 */
export type RenderTemplate = Readonly<{
  templateId: string;
  version: number;
  channels: TemplateChannels;
  variables?: Readonly<{ required: readonly string[]; optional: readonly string[] }>;
}>;

export type WarningCode =
  | 'MISSING_VARIABLE'
  | 'UNUSED_REQUIRED_VARIABLE'
  | 'TEMPLATE_FALLBACK'
  | 'SMS_MULTI_SEGMENT'
  | 'SMS_TRUNCATED'
  | 'SLACK_BLOCK_LIMIT'
  | 'SLACK_TEXT_TRUNCATED'
  | 'TEAMS_SIZE_LIMIT'
  | 'EMAIL_SUBJECT_TRUNCATED'
  | 'VOICE_TEXT_TRUNCATED';

/**
 * A non-blocking issue. `channel` is null for template-wide ones (an unused required variable);
 * `field` is the template part it concerns, or null for the whole message or template.
 */
export type RenderWarning = Readonly<{ code: WarningCode; channel: Channel | null; field: TemplatePart | null; message: string }>;

/** A channel formatter's result before the renderer adds template warnings. */
export type Formatted<T> = Readonly<{ content: T; warnings: RenderWarning[] }>;
