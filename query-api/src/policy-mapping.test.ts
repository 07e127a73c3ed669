import { describe, expect, it } from 'vitest';
import { alertingV1 } from '@oncall/contracts/grpc';
import { InvalidArgument } from './errors.js';
import { policyField, toFilePolicy, toProtoPolicy, type PolicyInput } from './policy-mapping.js';

const { TargetType } = alertingV1;
const target = (targetType: alertingV1.TargetType, targetId: string): alertingV1.EscalationTarget => ({ targetType, targetId });
const step = (over: Partial<alertingV1.EscalationStep> = {}): alertingV1.EscalationStep => ({
  stepNumber: 0,
  delay: { seconds: 300, nanos: 0 },
  targets: [target(TargetType.TARGET_TYPE_USER, 'alice')],
  pageUntilAllAcknowledged: false,
  ...over,
});
const policy = (over: Partial<PolicyInput> = {}): PolicyInput => ({
  id: 'noc',
  name: 'NOC',
  description: '',
  repeatCount: 1,
  steps: [step()],
  ...over,
});

function violation(p: PolicyInput, prefix = ''): [string, string] {
  try {
    toFilePolicy(p, prefix);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgument);
    return [(err as InvalidArgument).field, (err as InvalidArgument).description];
  }
  throw new Error('expected InvalidArgument');
}

describe('escalation policies: proto ↔ configuration file', () => {
  it('maps every target type, delays and flags to the file element, and back through the read model', () => {
    const wire = policy({
      steps: [
        step({
          stepNumber: 1,
          delay: { seconds: 60, nanos: 0 },
          pageUntilAllAcknowledged: true,
          targets: [
            target(TargetType.TARGET_TYPE_USER, 'alice'),
            target(TargetType.TARGET_TYPE_SCHEDULE, 'primary'),
            target(TargetType.TARGET_TYPE_ROTATION, 'primary/weekdays'),
          ],
        }),
        step({
          delay: undefined,
          targets: [
            target(TargetType.TARGET_TYPE_SLACK_CHANNEL, '#noc'),
            target(TargetType.TARGET_TYPE_WEBHOOK, 'https://hooks.example.com/x'),
            target(TargetType.TARGET_TYPE_TIER, 'L1'),
          ],
        }),
      ],
    });
    const file = toFilePolicy(wire, '');
    expect(file).toEqual({
      id: 'noc',
      name: 'NOC',
      repeat: 1,
      steps: [
        {
          delay: 60,
          untilAllAck: true,
          targets: [
            { type: 'user', userId: 'alice' },
            { type: 'schedule', scheduleId: 'primary' },
            { type: 'rotation', scheduleId: 'primary', rotationId: 'weekdays' },
          ],
        },
        {
          delay: 0,
          untilAllAck: false,
          targets: [
            { type: 'slack', channel: '#noc' },
            { type: 'webhook', url: 'https://hooks.example.com/x' },
            { type: 'tier', tierId: 'L1' },
          ],
        },
      ],
    });
    const back = toProtoPolicy({
      id: file.id,
      name: file.name,
      repeat: file.repeat,
      steps: file.steps.map((s) => ({ delaySeconds: s.delay, targets: s.targets, untilAllAck: s.untilAllAck })),
      configuredAt: Date.parse('2026-12-06T00:00:00Z'),
    });
    expect(back).toEqual({
      ...wire,
      steps: wire.steps.map((s, j) => ({ ...s, stepNumber: j + 1, delay: s.delay ?? { seconds: 0, nanos: 0 } })),
      createdAt: undefined,
      updatedAt: new Date('2026-12-06T00:00:00Z'),
    });
  });

  it.each<[string, PolicyInput, string, string, RegExp]>([
    ['negative delay', policy({ steps: [step(), step({ delay: { seconds: -5, nanos: 0 } })] }), '', 'steps[1].delay', /negative/],
    ['fractional delay', policy({ steps: [step({ delay: { seconds: 1, nanos: 500_000_000 } })] }), '', 'steps[0].delay', /whole seconds/],
    [
      'no target type',
      policy({ steps: [step({ targets: [target(TargetType.TARGET_TYPE_UNSPECIFIED, 'x')] })] }),
      '',
      'steps[0].targets[0].target_type',
      /required/,
    ],
    [
      'unknown target type',
      policy({ steps: [step({ targets: [target(99 as alertingV1.TargetType, 'x')] })] }),
      'policy.',
      'policy.steps[0].targets[0].target_type',
      /unknown target type 99/,
    ],
    [
      'empty target id',
      policy({ steps: [step({ targets: [target(TargetType.TARGET_TYPE_USER, '')] })] }),
      '',
      'steps[0].targets[0].target_id',
      /required/,
    ],
    [
      'rotation without schedule',
      policy({ steps: [step({ targets: [target(TargetType.TARGET_TYPE_ROTATION, 'weekdays')] })] }),
      '',
      'steps[0].targets[0].target_id',
      /<schedule id>\/<rotation id>/,
    ],
    ['step number out of place', policy({ steps: [step(), step({ stepNumber: 1 })] }), '', 'steps[1].step_number', /must be 2/],
    ['a description', policy({ description: 'pages the NOC' }), 'policy.', 'policy.description', /no description/],
  ])('%s is INVALID_ARGUMENT naming the field', (_case, p, prefix, field, message) => {
    const [f, description] = violation(p, prefix);
    expect(f).toBe(field);
    expect(description).toMatch(message);
  });

  it('leaves the checks the configuration write makes to it: empty steps and out-of-range values pass through', () => {
    expect(toFilePolicy(policy({ steps: [], repeatCount: -1 }), '')).toMatchObject({ steps: [], repeat: -1 });
  });

  it.each<[Array<string | number>, string, string]>([
    [[], '', 'steps'],
    [['name'], '', 'name'],
    [['id'], 'policy.', 'policy.id'],
    [['repeat'], '', 'repeat_count'],
    [['steps'], '', 'steps'],
    [['steps', 1], '', 'steps[1]'],
    [['steps', 1, 'delay'], 'policy.', 'policy.steps[1].delay'],
    [['steps', 0, 'untilAllAck'], '', 'steps[0].page_until_all_acknowledged'],
    [['steps', 0, 'targets'], '', 'steps[0].targets'],
    [['steps', 0, 'targets', 2], '', 'steps[0].targets[2]'],
    [['steps', 0, 'targets', 2, 'user'], '', 'steps[0].targets[2].target_id'],
    [['steps', 3, 'targets', 0, 'rotation'], 'policy.', 'policy.steps[3].targets[0].target_id'],
  ])('file path %j is request field %s%s', (path, prefix, field) => {
    expect(policyField(path, prefix)).toBe(field);
  });
});
