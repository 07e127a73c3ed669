import { type TemplateChannels } from '@oncall/contracts';
import { notificationV1 } from '@oncall/contracts/grpc';
import * as render from '@oncall/shared/render';
import { InvalidArgument } from './errors.js';
import type { TemplateVersionRow } from './read-model/templates.js';

const { ChannelType } = notificationV1;
type Channel = render.Channel;
type TemplatePart = render.TemplatePart;

/**
 * Templates on the wire: `channels` maps a channel name to its source. Email is three parts in one
 * entry: `content` is the HTML part, `metadata.subject` and `metadata.text` the others. A channel
 * the template does not customise is absent (it sends the built-in default).
 */
export const CHANNEL_TYPE: Readonly<Record<Channel, notificationV1.ChannelType>> = {
  slack: ChannelType.CHANNEL_SLACK,
  teams: ChannelType.CHANNEL_TEAMS,
  email: ChannelType.CHANNEL_EMAIL,
  sms: ChannelType.CHANNEL_SMS,
  voice: ChannelType.CHANNEL_VOICE,
  webhook: ChannelType.CHANNEL_WEBHOOK,
};
const CHANNEL_OF_TYPE = new Map(Object.entries(CHANNEL_TYPE).map(([k, v]) => [v, k as Channel]));
const isChannel = (name: string): name is Channel => Object.hasOwn(CHANNEL_TYPE, name);

/** The format of what each channel's template renders, as ChannelTemplate.format names it. */
const FORMAT: Readonly<Record<Channel, string>> = {
  slack: 'slack_blocks',
  teams: 'teams_adaptive',
  email: 'html',
  sms: 'text',
  voice: 'text',
  webhook: 'json',
};

/** The request field that holds a template part. */
export function partField(part: TemplatePart): string {
  switch (part) {
    case 'emailSubject':
      return 'channels[email].metadata[subject]';
    case 'emailHtml':
      return 'channels[email].content';
    case 'emailText':
      return 'channels[email].metadata[text]';
    case 'slack':
    case 'teams':
    case 'sms':
    case 'voice':
    case 'webhook':
      return `channels[${part}].content`;
    default: {
      const _never: never = part;
      return _never;
    }
  }
}

/** The channel a ChannelType names; throws InvalidArgument naming `field` for push or unknown values. */
export function channelOfType(field: string, type: notificationV1.ChannelType): Channel {
  const channel = CHANNEL_OF_TYPE.get(type);
  if (!channel) throw new InvalidArgument(field, `unsupported channel ${type} (use slack, teams, email, sms, voice or webhook)`);
  return channel;
}

const orNull = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);

/** Template sources from the wire; throws InvalidArgument naming the first wrong field under `field`. */
export function toTemplateChannels(field: string, channels: Readonly<Record<string, notificationV1.ChannelTemplate>>): TemplateChannels {
  const out: TemplateChannels = {
    slack: null,
    teams: null,
    emailSubject: null,
    emailHtml: null,
    emailText: null,
    sms: null,
    voice: null,
    webhook: null,
  };
  for (const [name, t] of Object.entries(channels)) {
    const at = `${field}[${name}]`;
    if (!isChannel(name)) throw new InvalidArgument(at, 'unknown channel (use slack, teams, email, sms, voice or webhook)');
    if (t.channel !== ChannelType.CHANNEL_UNSPECIFIED && t.channel !== CHANNEL_TYPE[name])
      throw new InvalidArgument(`${at}.channel`, `does not match the key ${name}`);
    const allowed = name === 'email' ? ['subject', 'text'] : [];
    for (const key of Object.keys(t.metadata)) {
      if (!allowed.includes(key))
        throw new InvalidArgument(
          `${at}.metadata[${key}]`,
          name === 'email' ? 'unknown key (use subject or text)' : 'no metadata for this channel',
        );
    }
    if (name === 'email') {
      out.emailHtml = orNull(t.content);
      out.emailSubject = orNull(t.metadata.subject);
      out.emailText = orNull(t.metadata.text);
    } else {
      out[name] = orNull(t.content);
    }
  }
  return out;
}

/** Template sources for the wire: only the channels the template customises. */
export function toProtoChannels(channels: TemplateChannels): Record<string, notificationV1.ChannelTemplate> {
  const out: Record<string, notificationV1.ChannelTemplate> = {};
  for (const channel of render.CHANNELS) {
    if (channel === 'email') {
      if (channels.emailHtml === null && channels.emailSubject === null && channels.emailText === null) continue;
      const metadata: Record<string, string> = {};
      if (channels.emailSubject !== null) metadata.subject = channels.emailSubject;
      if (channels.emailText !== null) metadata.text = channels.emailText;
      out.email = { channel: CHANNEL_TYPE.email, content: channels.emailHtml ?? '', format: FORMAT.email, metadata };
      continue;
    }
    const source = channels[channel];
    if (source !== null) out[channel] = { channel: CHANNEL_TYPE[channel], content: source, format: FORMAT[channel], metadata: {} };
  }
  return out;
}

/** A template as of one of its versions; `current_version` is that version. */
export function toProtoTemplate(r: TemplateVersionRow): notificationV1.Template {
  return {
    id: r.template_id,
    name: r.name,
    description: r.description,
    currentVersion: r.version,
    channels: toProtoChannels(r.channels),
    requiredVariables: r.required_variables,
    optionalVariables: r.optional_variables,
    createdAt: new Date(r.first_published_at),
    updatedAt: new Date(r.published_at),
    createdByUserId: r.created_by,
  };
}

export function toProtoTemplateVersion(r: TemplateVersionRow): notificationV1.TemplateVersion {
  return {
    templateId: r.template_id,
    version: r.version,
    channels: toProtoChannels(r.channels),
    requiredVariables: r.required_variables,
    optionalVariables: r.optional_variables,
    createdAt: new Date(r.published_at),
    createdByUserId: r.created_by,
    changeNote: '',
  };
}

export function toValidationError(e: render.ValidationError): notificationV1.ValidationError {
  return {
    field: e.field ? partField(e.field) : `channels[${e.channel}]`,
    message: e.message,
    code: e.code,
    line: e.line,
    column: e.column,
  };
}

function toValidationWarning(w: render.RenderWarning): notificationV1.ValidationWarning {
  return { field: w.field ? partField(w.field) : w.channel ? `channels[${w.channel}]` : '', message: w.message, code: w.code };
}

export function toValidationResult(v: render.ValidationResult): notificationV1.ValidationResult {
  return { valid: v.valid, errors: v.errors.map(toValidationError), warnings: v.warnings.map(toValidationWarning) };
}

/** One channel's preview: the payload as sent, with what made it fall back. */
export function toRenderedPreview(p: render.ChannelPreview): notificationV1.RenderedPreview {
  return {
    channel: CHANNEL_TYPE[p.channel],
    renderedContent: p.rendered,
    previewUrl: '',
    warnings: p.warnings.map((w) => `${w.code}: ${w.message}`),
    subject: p.channel === 'email' ? p.content.subject : '',
    smsSegments: p.channel === 'sms' ? p.content.segments : 0,
    textContent: p.channel === 'email' ? p.content.text : '',
    errors: p.errors.map(toValidationError),
  };
}
