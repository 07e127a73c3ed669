import { describe, expect, it } from 'vitest';
import { checkConfigFile, ConfigFileError } from './file.js';
import { validateTemplate } from './template-check.js';

const file = (sms: string, subject: string) => `
templates:
  - id: page
    name: Page
    channels:
      sms: ${JSON.stringify(sms)}
      email:
        subject: ${JSON.stringify(subject)}
        text: "{{ alert.details }}"
`;

describe('templates are validated at apply with the renderer', () => {
  it('reports each broken part with the file path, line and column, and nothing else', async () => {
    const err = (await checkConfigFile(file('{{ alert.summary | upcase ', '{% if alert.severity %}x'), 'oncall.yaml', {
      validateTemplate,
    }).catch((e: unknown) => e)) as ConfigFileError;
    expect(err).toBeInstanceOf(ConfigFileError);
    expect(err.message.split('\n')).toStrictEqual([
      'oncall.yaml: templates[0].channels.email.subject: line 1, column 1: tag {% if alert.severity %} not closed',
      'oncall.yaml: templates[0].channels.sms: line 1, column 1: output "{{ alert.summary | upcase " not closed',
    ]);
  });

  it('accepts a good template', async () => {
    const { file: parsed } = await checkConfigFile(
      file('[{{ alert.severity | upcase }}] {{ alert.summary }}', '{{ alert.summary }}'),
      'oncall.yaml',
      { validateTemplate },
    );
    expect(parsed.templates).toHaveLength(1);
  });
});
