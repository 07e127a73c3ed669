import { describe, expect, it } from 'vitest';
import { notificationV1 } from '@oncall/contracts/grpc';
import { InvalidArgument } from './errors.js';
import { templateField, toFileTemplate, type TemplateInput } from './template-write-mapping.js';

const { ChannelType } = notificationV1;
const entry = (content: string, metadata: Record<string, string> = {}): notificationV1.ChannelTemplate => ({
  channel: ChannelType.CHANNEL_UNSPECIFIED,
  content,
  format: '',
  metadata,
});
const input = (over: Partial<TemplateInput> = {}): TemplateInput => ({
  id: 'noc-page',
  name: 'NOC page',
  description: 'what the NOC sees',
  channels: { slack: entry('*{{ alert.summary }}*'), email: entry('<b>{{ alert.summary }}</b>', { subject: '[{{ alert.severity }}]' }) },
  requiredVariables: ['alert.summary'],
  optionalVariables: ['alert.labels.site'],
  ...over,
});

describe('templates: proto ↔ configuration file', () => {
  it('maps a create or update to the file element (channels as template parts, variables)', () => {
    expect(toFileTemplate(input())).toEqual({
      id: 'noc-page',
      name: 'NOC page',
      description: 'what the NOC sees',
      variables: { required: ['alert.summary'], optional: ['alert.labels.site'] },
      channels: {
        slack: '*{{ alert.summary }}*',
        teams: null,
        emailSubject: '[{{ alert.severity }}]',
        emailHtml: '<b>{{ alert.summary }}</b>',
        emailText: null,
        sms: null,
        voice: null,
        webhook: null,
      },
    });
  });

  it('refuses an unknown channel or metadata key by its field', () => {
    const field = (channels: Record<string, notificationV1.ChannelTemplate>) => {
      try {
        toFileTemplate(input({ channels }));
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidArgument);
        return (err as InvalidArgument).field;
      }
      throw new Error('expected InvalidArgument');
    };
    expect(field({ pager: entry('x') })).toBe('channels[pager]');
    expect(field({ email: entry('x', { subject: 's', cc: 'y' }) })).toBe('channels[email].metadata[cc]');
  });

  it.each<[Array<string | number>, string]>([
    [[], 'channels'],
    [['channels'], 'channels'],
    [['channels', 'slack'], 'channels[slack].content'],
    [['channels', 'webhook'], 'channels[webhook].content'],
    [['channels', 'email'], 'channels[email]'],
    [['channels', 'email', 'subject'], 'channels[email].metadata[subject]'],
    [['channels', 'email', 'html'], 'channels[email].content'],
    [['channels', 'email', 'text'], 'channels[email].metadata[text]'],
    [['channels', 'emailSubject'], 'channels[email].metadata[subject]'],
    [['variables', 'required', 2], 'required_variables[2]'],
    [['variables', 'optional', 0], 'optional_variables[0]'],
    [['variables', 'optional'], 'optional_variables'],
    [['name'], 'name'],
    [['description'], 'description'],
    [['id'], 'id'],
  ])('file path %j is request field %s', (path, field) => {
    expect(templateField(path)).toBe(field);
  });
});
