import type { TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { describe, expect, it } from 'vitest';
import type { TicketAlert } from '../types.js';
import { errorForAnswer, errorForNoAnswer, jiraErrorText } from './errors.js';
import { createFields, labels } from './fields.js';
import { JiraSettings, validateJiraConfig } from './settings.js';
import { stateOf } from './status.js';
import { plainText, toAdf, toWiki } from './text.js';

const NOW = new Date('2026-12-06T03:00:00Z');
const ALERT_ID = '3f1c9d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f';

function config(over: Partial<TicketProviderConfig> = {}): TicketProviderConfig {
  return {
    providerId: 'jira',
    type: 'jira',
    name: 'Jira',
    settings: { baseUrl: 'https://acme.atlassian.net', apiVersion: '3', project: 'OPS', issueType: 'Task' },
    auth: { kind: 'basic', username: 'bot@acme.io', password: { env: 'JIRA_TOKEN' } },
    fields: { summary: 'alert.summary' },
    sync: {
      onAcknowledge: { transition: 'Start Progress', comment: true },
      onResolve: { transition: 'Done', comment: true },
      onReopen: { transition: 'Reopen', comment: false },
      resolveAlertOn: ['resolved', 'closed'],
      mirrorComments: true,
      pollSeconds: null,
    },
    inboundSecret: { env: 'JIRA_WEBHOOK_SECRET' },
    ...over,
  };
}

const alert: TicketAlert = {
  alertId: ALERT_ID,
  serviceId: 'svc-api',
  serviceName: 'API',
  fingerprint: 'fp',
  summary: 'API down',
  details: 'Error rate 40%\nsince 02:58\n\nRunbook below',
  severity: 'critical',
  status: 'triggered',
  labels: {},
  annotations: {},
  links: [
    { href: 'https://grafana.acme.io/d/api', text: 'Dashboard' },
    { href: 'javascript:alert(1)', text: 'bad' },
  ],
  startsAt: null,
  url: 'https://oncall.acme.io/alerts/3f1c',
};

describe('ADF and wiki text', () => {
  it.each([
    ['one line', 'a', [{ type: 'paragraph', content: [{ type: 'text', text: 'a' }] }]],
    [
      'blank lines split paragraphs',
      'a\n\n\nb',
      [
        { type: 'paragraph', content: [{ type: 'text', text: 'a' }] },
        { type: 'paragraph', content: [{ type: 'text', text: 'b' }] },
      ],
    ],
    [
      'single newlines are hard breaks, CRLF too',
      'a\r\nb',
      [{ type: 'paragraph', content: [{ type: 'text', text: 'a' }, { type: 'hardBreak' }, { type: 'text', text: 'b' }] }],
    ],
    ['empty text: no paragraphs', '  \n\n ', []],
  ])('%s', (_name, text, content) => {
    expect(toAdf(text)).toEqual({ version: 1, type: 'doc', content });
  });

  it('links come last, one paragraph each, with a link mark', () => {
    expect(toAdf('x', [{ text: 'Open the alert', href: 'https://o/a/1' }]).content[1]).toEqual({
      type: 'paragraph',
      content: [{ type: 'text', text: 'Open the alert', marks: [{ type: 'link', attrs: { href: 'https://o/a/1' } }] }],
    });
  });

  it('wiki text keeps paragraphs and writes links as [text|url], without breaking on | or ]', () => {
    expect(toWiki('a\nb\n\nc', [{ text: 'x|y]', href: 'https://o/a/1' }])).toBe('a\nb\n\nc\n\n[x y |https://o/a/1]');
  });

  it.each([
    ['wiki string', 'hi *there*', 'hi *there*'],
    ['ADF', toAdf('a\nb\n\nc'), 'a\nb\n\nc'],
    ['nothing', null, ''],
  ])('plain text of a comment body: %s', (_name, body, text) => {
    expect(plainText(body)).toBe(text);
  });
});

describe('create fields', () => {
  const settings = JiraSettings.parse({ ...config().settings, customFields: { service: 'customfield_10010' } });

  it('v3: project, issue type, summary, priority by name, labels with the key, ADF description with the alert link, custom fields by id and by name', () => {
    const fields = createFields(
      settings,
      alert,
      {
        summary: 'API down\non prod',
        priority: 'Highest',
        labels: ['oncall', 'team a'],
        service: 'api',
        customfield_10011: { value: 'P1' },
      },
      `oncall-${ALERT_ID}`,
    );
    expect(fields).toEqual({
      project: { key: 'OPS' },
      issuetype: { name: 'Task' },
      summary: 'API down on prod',
      priority: { name: 'Highest' },
      labels: ['oncall', 'team-a', `oncall-${ALERT_ID}`],
      description: toAdf(alert.details, [
        { text: 'Open the alert', href: alert.url! },
        { text: 'Dashboard', href: 'https://grafana.acme.io/d/api' },
      ]),
      customfield_10010: 'api',
      customfield_10011: { value: 'P1' },
    });
  });

  it('v2: wiki description from the mapped description; assignee by name', () => {
    const v2 = JiraSettings.parse({ ...config().settings, apiVersion: 2 });
    const fields = createFields(
      v2,
      { ...alert, url: null, links: [] },
      { summary: 's', description: 'from CEL', assignee: 'jdoe' },
      'oncall-x',
    );
    expect(fields.description).toBe('from CEL');
    expect(fields.assignee).toEqual({ name: 'jdoe' });
    expect(fields).not.toHaveProperty('priority');
  });

  it.each([
    [undefined, ['k']],
    ['one', ['one', 'k']],
    [
      ['a', ' ', 'a', 'k'],
      ['a', 'k'],
    ],
    [['x  y\tz'], ['x-y-z', 'k']],
  ])('labels %j → %j', (given, expected) => {
    expect(labels(given, 'k')).toEqual(expected);
  });
});

describe('status map', () => {
  it.each([
    [{ name: 'To Do', categoryKey: 'new' }, {}, 'open'],
    [{ name: 'In Progress', categoryKey: 'indeterminate' }, {}, 'in_progress'],
    [{ name: 'Done', categoryKey: 'done' }, {}, 'resolved'],
    [{ name: 'Closed', categoryKey: 'done' }, { closed: 'closed' }, 'closed'],
    [{ name: "Won't Do", categoryKey: 'done' }, { done: 'closed' }, 'closed'],
    [{ name: 'Waiting', categoryKey: 'undefined' }, {}, 'open'],
    [{ name: 'Waiting', categoryKey: null }, { Waiting: 'in_progress' }, 'in_progress'],
  ] as const)('%j with %j → %s', (status, map, state) => {
    expect(stateOf(status, map)).toBe(state);
  });
});

describe('validateConfig', () => {
  it('a good configuration has no problems; apiVersion as a YAML number is fine', () => {
    expect(validateJiraConfig(config())).toEqual([]);
    expect(validateJiraConfig(config({ settings: { ...config().settings, apiVersion: 2 } }))).toEqual([]);
  });

  it.each([
    [{ settings: { baseUrl: 'ftp://x', project: 'OPS' } }, 'settings.baseUrl', 'must be an http(s) URL'],
    [{ settings: { baseUrl: 'https://x', project: 'ops' } }, 'settings.project', 'must be a Jira project key such as OPS'],
    [{ settings: { baseUrl: 'https://x', project: 'OPS', apiVersion: '4' } }, 'settings.apiVersion', 'Invalid'],
    [
      { settings: { baseUrl: 'https://x', project: 'OPS', statusMap: { Done: 'finished' } } },
      'settings.statusMap.Done',
      "'open' | 'in_progress' | 'resolved' | 'closed'",
    ],
    [
      { settings: { baseUrl: 'https://x', project: 'OPS', customFields: { team: '10010' } } },
      'settings.customFields.team',
      'must be a custom field id such as customfield_10010',
    ],
    [{ settings: { baseUrl: 'https://x', project: 'OPS', colour: 'red' } }, 'settings', 'colour'],
    [{ auth: { kind: 'genie-key', key: { env: 'K' } } }, 'auth.kind', 'not genie-key'],
    [{ fields: { summary: 'x', Subject: 'y' } }, 'fields.Subject', 'Jira has no field "Subject"'],
  ] as const)('%j: one problem at %s', (over, path, fragment) => {
    const problems = validateJiraConfig(config(over));
    expect(problems.map((p) => p.path)).toEqual([path]);
    expect(problems[0]?.message).toContain(fragment);
  });

  it('a field named under customFields, or a customfield id, is fine', () => {
    const c = config({
      settings: { ...config().settings, customFields: { team: 'customfield_10010' } },
      fields: { summary: 's', team: 't', customfield_1: 'x' },
    });
    expect(validateJiraConfig(c)).toEqual([]);
  });
});

describe('Retry-After and errors', () => {
  it("Jira's error body is one sentence", () => {
    expect(jiraErrorText({ errorMessages: ['No project'], errors: { summary: 'required', priority: 'bad' } })).toBe(
      'No project; summary: required; priority: bad',
    );
    expect(jiraErrorText('<html>')).toBe('');
  });

  it.each([
    [429, '2', { retryable: true, retryAfterMs: 2000, message: 'Jira rate-limited create (HTTP 429)' }],
    [503, null, { retryable: true, retryAfterMs: null, message: 'Jira failed create (HTTP 503)' }],
    [401, null, { retryable: false, message: 'Jira refused the credentials for bot@acme.io (HTTP 401, create)' }],
    [403, null, { retryable: false, message: 'Jira denied the permission to bot@acme.io (HTTP 403, create)' }],
    [400, null, { retryable: false, message: 'Jira rejected create (HTTP 400): summary: You must specify a summary of the issue.' }],
    [404, null, { retryable: false, httpStatus: 404 }],
  ])('HTTP %i → %j', (status, retryAfter, expected) => {
    const body = status === 400 ? { errorMessages: [], errors: { summary: 'You must specify a summary of the issue.' } } : null;
    expect(errorForAnswer({ status, retryAfter, body, action: 'create', who: 'bot@acme.io' }, NOW)).toMatchObject(expected);
  });

  it('no answer is retryable and says why', () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    expect(errorForNoAnswer(refused, 'create', 'https://x')).toMatchObject({
      retryable: true,
      httpStatus: null,
      message: 'Jira at https://x did not answer (create): ECONNREFUSED',
    });
    expect(errorForNoAnswer(new DOMException('t', 'TimeoutError'), 'create', 'https://x').message).toContain('timed out');
  });
});
