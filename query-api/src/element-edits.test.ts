import { describe, expect, it } from 'vitest';
import { alertingV1, notificationV1 } from '@oncall/contracts/grpc';
import { evolveConfig, initialConfigState, type ConfigState } from '@oncall/shared';
import { checkedEdit, ConfigEditError, parseConfigFile, planApply, validateTemplate } from '@oncall/shared/config-file';
import { issuesToError, type Written } from './config-issues.js';
import { createElement, removeElement, replaceElement, type ElementEdit } from './element-edits.js';
import { AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, type ApiError } from './errors.js';
import { policyField, toFilePolicy, type PolicyInput } from './policy-mapping.js';
import { templateField, toFileTemplate, type TemplateInput } from './template-write-mapping.js';

const { TargetType } = alertingV1;

/** A configuration with a schedule, a routed policy and template, as the log would hold it. */
const FILE = `
services:
  - id: checkout
    name: Checkout
    integrationKeys: [{ name: am, key: checkout-key-000000001 }]
    routing: { escalationPolicy: noc, template: page }
schedules:
  - id: primary
    name: Primary
    timeZone: UTC
    rotations: [{ id: weekdays, type: weekly, start: "2026-01-05T09:00:00Z", members: [alice, bob] }]
escalationPolicies:
  - id: noc
    name: NOC
    steps: [{ delay: 5m, targets: [{ schedule: primary }] }]
templates:
  - id: page
    name: Page
    channels: { sms: "{{ alert.summary }}" }
`;
const state: ConfigState = planApply(initialConfigState(), parseConfigFile(FILE, 'test.yaml'), false).reduce(
  (s, p, i) => evolveConfig(s, { ...p, id: `e${i}`, v: 1, occurredAt: '2026-01-01T00:00:00.000Z', causationId: null, correlationId: 't' }),
  initialConfigState(),
);
const knownUsers = (ids: string[]) => new Set(ids.filter((id) => ['alice', 'bob'].includes(id)));

/** What the API answers for an edit: the error it throws or maps, or 'accepted'. */
async function outcome(edit: ElementEdit): Promise<ApiError | 'accepted'> {
  let written: Written | null = null;
  try {
    await checkedEdit(
      state,
      (file) => {
        written = edit(file);
      },
      { knownUsers, validateTemplate },
    );
    return 'accepted';
  } catch (err) {
    if (err instanceof ConfigEditError) return issuesToError(err.issues, written);
    return err as ApiError;
  }
}

const fields = (e: ApiError | 'accepted') => (e instanceof InvalidArgument ? e.violations.map((v) => v.field) : e);

const user = (id: string) => ({ targetType: TargetType.TARGET_TYPE_USER, targetId: id });
const policy = (over: Partial<PolicyInput> = {}): PolicyInput => ({
  id: 'db',
  name: 'DB',
  description: '',
  repeatCount: 0,
  steps: [{ stepNumber: 0, delay: { seconds: 300, nanos: 0 }, targets: [user('alice')], pageUntilAllAcknowledged: false }],
  ...over,
});
const createPolicy = (p: PolicyInput) => createElement('escalationPolicies', toFilePolicy(p, ''), (path) => policyField(path, ''));
const sms = (content: string): Record<string, notificationV1.ChannelTemplate> => ({
  sms: { channel: notificationV1.ChannelType.CHANNEL_SMS, content, format: '', metadata: {} },
});
const template = (over: Partial<TemplateInput> = {}): TemplateInput => ({
  id: 'ops',
  name: 'Ops',
  description: '',
  channels: sms('{{ alert.summary }}'),
  requiredVariables: [],
  optionalVariables: [],
  ...over,
});
const createTemplate = (t: TemplateInput) => createElement('templates', toFileTemplate(t), templateField);

describe('policy and template writes against the checks of oncall apply', () => {
  it('accepts a good policy and template, with rotations and schedules that exist', async () => {
    const steps = [
      {
        stepNumber: 1,
        delay: { seconds: 60, nanos: 0 },
        targets: [{ targetType: TargetType.TARGET_TYPE_ROTATION, targetId: 'primary/weekdays' }],
        pageUntilAllAcknowledged: true,
      },
    ];
    expect(await outcome(createPolicy(policy({ steps })))).toBe('accepted');
    expect(await outcome(createTemplate(template()))).toBe('accepted');
  });

  it.each<[string, PolicyInput, string[]]>([
    ['empty steps', policy({ steps: [] }), ['steps']],
    [
      'an unknown user',
      policy({ steps: [{ ...policy().steps[0]!, targets: [user('alice'), user('mallory')] }] }),
      ['steps[0].targets[1].target_id'],
    ],
    [
      'an unknown rotation',
      policy({
        steps: [{ ...policy().steps[0]!, targets: [{ targetType: TargetType.TARGET_TYPE_ROTATION, targetId: 'primary/nights' }] }],
      }),
      ['steps[0].targets[0].target_id'],
    ],
    [
      'an unknown response tier',
      policy({ steps: [{ ...policy().steps[0]!, targets: [{ targetType: TargetType.TARGET_TYPE_TIER, targetId: 'L1' }] }] }),
      ['steps[0].targets[0].target_id'],
    ],
    [
      'a bad webhook URL',
      policy({ steps: [{ ...policy().steps[0]!, targets: [{ targetType: TargetType.TARGET_TYPE_WEBHOOK, targetId: 'ftp://x' }] }] }),
      ['steps[0].targets[0].target_id'],
    ],
    ['a delay over 7 days', policy({ steps: [{ ...policy().steps[0]!, delay: { seconds: 8 * 86400, nanos: 0 } }] }), ['steps[0].delay']],
    ['repeating zero delays', policy({ repeatCount: 2, steps: [{ ...policy().steps[0]!, delay: undefined }] }), ['repeat_count']],
    ['a bad id and no name', policy({ id: 'Bad Id', name: '' }), ['id', 'name']],
  ])('refuses %s as INVALID_ARGUMENT on %j', async (_case, p, expected) => {
    expect(fields(await outcome(createPolicy(p)))).toEqual(expected);
  });

  it.each<[string, TemplateInput, string[]]>([
    ['a liquid syntax error', template({ channels: sms('{{ alert.summary') }), ['channels[sms].content']],
    ['a huge template', template({ channels: sms('x'.repeat(100_001)) }), ['channels[sms].content']],
    ['no channel', template({ channels: {} }), ['channels']],
    ['a bad variable name', template({ requiredVariables: ['alert summary'] }), ['required_variables[0]']],
  ])('refuses a template with %s as INVALID_ARGUMENT on %j', async (_case, t, expected) => {
    expect(fields(await outcome(createTemplate(t)))).toEqual(expected);
  });

  it('names the state errors: taken ids, unknown ids, removals routing still needs', async () => {
    expect(await outcome(createPolicy(policy({ id: 'noc' })))).toBeInstanceOf(AlreadyExists);
    expect(await outcome(createTemplate(template({ id: 'page' })))).toBeInstanceOf(AlreadyExists);
    expect(await outcome(replaceElement('escalationPolicies', toFilePolicy(policy({ id: 'gone' }), ''), String))).toBeInstanceOf(NotFound);
    expect(await outcome(removeElement('templates', 'gone'))).toBeInstanceOf(NotFound);
    const inUse = await outcome(removeElement('escalationPolicies', 'noc'));
    expect(inUse).toBeInstanceOf(FailedPrecondition);
    expect((inUse as Error).message).toBe('escalation policy noc is used by the routing of service checkout');
    expect(await outcome(removeElement('templates', 'page'))).toBeInstanceOf(FailedPrecondition);
  });
});
