import { describe, expect, it } from 'vitest';
import { initialConfigState } from '../index.js';
import { exportConfig, fileInput } from './export.js';
import { ConfigFileError, parseConfigFile } from './file.js';
import { planApply, subjectOf } from './apply.js';
import { stringify } from 'yaml';

const JIRA = `
  - id: jira
    type: jira
    name: Jira
    settings: { baseUrl: 'https://example.atlassian.net', project: OPS }
    auth: { kind: basic, username: bot@example.com, password: { env: JIRA_TOKEN } }
    fields: { summary: 'alert.summary' }`;

const withRule = (ticket: string, providers: string) => `
services:
  - id: web
    name: Web
    routing:
      rules:
        - { name: db, when: 'true', ticket: ${ticket} }
ticketProviders:${providers}
`;

const problems = (text: string): string[] => {
  try {
    parseConfigFile(text, 'f.yaml');
    return [];
  } catch (err) {
    if (err instanceof ConfigFileError) return [...err.problems];
    throw err;
  }
};

describe('ticketProviders in the configuration file', () => {
  it.each([
    ['a rule naming a configured provider', withRule('jira', JIRA), []],
    [
      'a rule naming a provider the file lacks',
      withRule('servicenow', JIRA),
      ['f.yaml: services[0].routing.rules[0].ticket: no ticket provider "servicenow" in this file'],
    ],
    [
      'an unknown key',
      withRule('jira', `${JIRA}\n    project: OPS`),
      ["f.yaml: ticketProviders[0]: Unrecognized key(s) in object: 'project'"],
    ],
    [
      'a secret written as a value',
      withRule('jira', JIRA.replace('{ env: JIRA_TOKEN }', 'hunter2')),
      [
        'f.yaml: ticketProviders[0].auth.password: write a secret as a reference, { env: NAME } (NAME in upper case) or { file: /path }, never the secret itself',
      ],
    ],
    [
      'a field that does not compile',
      withRule('jira', JIRA.replace("'alert.summary'", "'alert.summary +'")),
      [expect.stringMatching(/^f\.yaml: ticketProviders\[0\]\.fields\.summary: /)],
    ],
    [
      'a field of an unknown alert attribute',
      withRule('jira', JIRA.replace("'alert.summary'", "'alert.title'")),
      [expect.stringMatching(/^f\.yaml: ticketProviders\[0\]\.fields\.summary: .*title/)],
    ],
    [
      'a jira provider without summary',
      withRule('jira', JIRA.replace("{ summary: 'alert.summary' }", "{ description: 'alert.details' }")),
      ['f.yaml: ticketProviders[0].fields: a jira provider needs the field summary'],
    ],
    [
      'an unknown sync state',
      withRule('jira', `${JIRA}\n    sync: { resolveAlertOn: [done] }`),
      [expect.stringMatching(/^f\.yaml: ticketProviders\[0\]\.sync\.resolveAlertOn\[0\]: Invalid enum value/)],
    ],
    [
      'a duplicate provider id',
      withRule('jira', `${JIRA}${JIRA}`),
      ['f.yaml: ticketProviders[1].id: duplicate ticket provider id "jira" (also ticketProviders[0])'],
    ],
    [
      'an unknown provider type',
      withRule('jira', JIRA.replace('type: jira', 'type: zendesk')),
      [expect.stringMatching(/^f\.yaml: ticketProviders\[0\]\.type: Invalid enum value/)],
    ],
  ])('%s', (_name, text, expected) => {
    expect(problems(text)).toStrictEqual(expected);
  });

  it.each([
    ['jira', 'summary'],
    ['servicenow', 'short_description'],
    ['salesforce', 'Subject'],
    ['opsgenie', 'message'],
  ])('a %s provider needs the field %s', (type, field) => {
    const text = withRule(
      'p',
      `
  - { id: p, type: ${type}, name: P, auth: { kind: none } }`,
    );
    expect(problems(text)).toStrictEqual([`f.yaml: ticketProviders[0].fields: a ${type} provider needs the field ${field}`]);
    expect(problems(text.replace('auth: { kind: none }', `auth: { kind: none }, fields: { ${field}: 'alert.summary' }`))).toStrictEqual([]);
  });

  it('a webhook provider needs no field; sync defaults to comments only', () => {
    const file = parseConfigFile(withRule('hook', `\n  - { id: hook, type: webhook, name: Hook, auth: { kind: none } }`), 'f.yaml');
    expect(file.ticketProviders[0]?.sync).toStrictEqual({
      onAcknowledge: { transition: null, comment: true },
      onResolve: { transition: null, comment: true },
      onReopen: { transition: null, comment: true },
      resolveAlertOn: [],
      mirrorComments: false,
      pollSeconds: null,
    });
  });

  it('plans TicketProviderConfigured on config.ticket-provider.<id> before routing, and the export plans nothing', () => {
    const file = parseConfigFile(withRule('jira', JIRA), 'f.yaml');
    const planned = planApply(initialConfigState(), file, false);
    const provider = planned.find((p) => p.type === 'TicketProviderConfigured');
    expect(provider && subjectOf(provider)).toBe('config.ticket-provider.jira');
    expect(provider?.data).toMatchObject({
      providerId: 'jira',
      auth: { kind: 'basic', username: 'bot@example.com', password: { env: 'JIRA_TOKEN' } },
      inboundSecret: null,
    });
    expect(planned.findIndex((p) => p.type === 'TicketProviderConfigured')).toBeLessThan(
      planned.findIndex((p) => p.type === 'RoutingConfigured'),
    );
    let state = initialConfigState();
    for (const p of planned)
      if (p.type === 'TicketProviderConfigured') state = { ...state, ticketProviders: new Map([[p.data.providerId, p.data]]) };
    const again = parseConfigFile(stringify(fileInput(exportConfig(state))), 'exported.yaml');
    expect(planApply(state, again, true).filter((p) => p.type.startsWith('Ticket'))).toStrictEqual([]);
  });
});
