import type { TemplateChannels } from '@oncall/contracts';
import type { notificationV1 } from '@oncall/contracts/grpc';
import type { ConfigFile } from '@oncall/shared/config-file';
import { partField, toTemplateChannels } from './template-mapping.js';

/** A template as the configuration file holds it: its latest content, without a version. */
export type FileTemplate = ConfigFile['templates'][number];

/** The content a CreateTemplateRequest or UpdateTemplateRequest gives. */
export type TemplateInput = Pick<
  notificationV1.UpdateTemplateRequest,
  'id' | 'name' | 'description' | 'channels' | 'requiredVariables' | 'optionalVariables'
>;

/**
 * A template of a write request as the configuration file element it becomes. Channel names and
 * metadata keys are checked here; the rest (ids, at least one channel, the email subject, sizes,
 * variable names, liquid syntax) by the configuration write, as `oncall apply` checks a file.
 */
export function toFileTemplate(t: TemplateInput): FileTemplate {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    variables: { required: [...t.requiredVariables], optional: [...t.optionalVariables] },
    channels: toTemplateChannels('channels', t.channels),
  };
}

/** The file's channel keys (`email.subject`) and the event's (`emailSubject`) → the template part. */
const PART: Readonly<Record<string, keyof TemplateChannels>> = {
  'email.subject': 'emailSubject',
  'email.html': 'emailHtml',
  'email.text': 'emailText',
  emailSubject: 'emailSubject',
  emailHtml: 'emailHtml',
  emailText: 'emailText',
};

/**
 * Where a problem the configuration check found in a template element (path below
 * `templates[i]`) is in the request, by proto names.
 */
export function templateField(path: ReadonlyArray<string | number>): string {
  const [head, a, b] = path;
  if (head === undefined || (head === 'channels' && a === undefined)) return 'channels';
  if (head === 'channels') {
    const key = b === undefined ? String(a) : `${String(a)}.${String(b)}`;
    const part = PART[key];
    if (part) return partField(part);
    return a === 'email' ? 'channels[email]' : `channels[${String(a)}].content`;
  }
  if (head === 'variables') {
    const list = a === 'optional' ? 'optional_variables' : 'required_variables';
    return b === undefined ? list : `${list}[${String(b)}]`;
  }
  return String(head);
}
