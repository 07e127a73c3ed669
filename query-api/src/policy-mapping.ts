import { type EscalationTarget } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import type { ConfigFile } from '@oncall/shared/config-file';
import { InvalidArgument } from './errors.js';

const { TargetType } = alertingV1;

/** An escalation policy as the configuration file holds it (delays in seconds). */
export type FilePolicy = ConfigFile['escalationPolicies'][number];

/** The fields of a policy a write gives: CreateEscalationPolicyRequest or UpdateEscalationPolicyRequest.policy. */
export type PolicyInput = Pick<alertingV1.EscalationPolicy, 'id' | 'name' | 'description' | 'repeatCount' | 'steps'>;

const TARGET_NAMES = 'USER, SCHEDULE, ROTATION, SLACK_CHANNEL, WEBHOOK or TIER';

function toFileTarget(t: alertingV1.EscalationTarget, at: string): EscalationTarget {
  const id = t.targetId;
  if (id === '' && t.targetType !== TargetType.TARGET_TYPE_UNSPECIFIED) throw new InvalidArgument(`${at}.target_id`, 'is required');
  switch (t.targetType) {
    case TargetType.TARGET_TYPE_USER:
      return { type: 'user', userId: id };
    case TargetType.TARGET_TYPE_SCHEDULE:
      return { type: 'schedule', scheduleId: id };
    case TargetType.TARGET_TYPE_ROTATION: {
      const parts = id.split('/');
      if (parts.length !== 2 || parts[0] === '' || parts[1] === '')
        throw new InvalidArgument(`${at}.target_id`, 'a rotation is named "<schedule id>/<rotation id>"');
      return { type: 'rotation', scheduleId: parts[0]!, rotationId: parts[1]! };
    }
    case TargetType.TARGET_TYPE_SLACK_CHANNEL:
      return { type: 'slack', channel: id };
    case TargetType.TARGET_TYPE_WEBHOOK:
      return { type: 'webhook', url: id };
    case TargetType.TARGET_TYPE_TIER:
      return { type: 'tier', tierId: id };
    default:
      throw new InvalidArgument(
        `${at}.target_type`,
        t.targetType === TargetType.TARGET_TYPE_UNSPECIFIED
          ? `is required (${TARGET_NAMES})`
          : `unknown target type ${t.targetType} (use ${TARGET_NAMES})`,
      );
  }
}

/** Whole seconds, not negative; an unset delay is 0 s. */
function delaySeconds(d: alertingV1.EscalationStep['delay'], at: string): number {
  if (!d) return 0;
  if (d.seconds < 0 || d.nanos < 0) throw new InvalidArgument(at, 'must not be negative');
  if (d.nanos !== 0) throw new InvalidArgument(at, 'use whole seconds');
  return d.seconds;
}

/**
 * A policy of a write request as the configuration file element it becomes. Checks what only the
 * proto can get wrong (target types, step numbers, fractional delays); the rest (ids, name,
 * ranges, references, users) is checked by the configuration write like `oncall apply` checks a
 * file. `prefix` is where the policy sits in the request (`policy.` in an update).
 */
export function toFilePolicy(p: PolicyInput, prefix: string): FilePolicy {
  if (p.description !== '')
    throw new InvalidArgument(`${prefix}description`, 'escalation policies have no description (it would not be stored): leave it empty');
  return {
    id: p.id,
    name: p.name,
    repeat: p.repeatCount,
    steps: p.steps.map((s, j) => {
      const at = `${prefix}steps[${j}]`;
      if (s.stepNumber !== 0 && s.stepNumber !== j + 1)
        throw new InvalidArgument(`${at}.step_number`, `must be ${j + 1} (the step's place in the list) or 0`);
      return {
        delay: delaySeconds(s.delay, `${at}.delay`),
        targets: s.targets.map((t, k) => toFileTarget(t, `${at}.targets[${k}]`)),
        untilAllAck: s.pageUntilAllAcknowledged,
      };
    }),
  };
}

export function toProtoTarget(t: EscalationTarget): alertingV1.EscalationTarget {
  switch (t.type) {
    case 'user':
      return { targetType: TargetType.TARGET_TYPE_USER, targetId: t.userId };
    case 'schedule':
      return { targetType: TargetType.TARGET_TYPE_SCHEDULE, targetId: t.scheduleId };
    case 'rotation':
      return { targetType: TargetType.TARGET_TYPE_ROTATION, targetId: `${t.scheduleId}/${t.rotationId}` };
    case 'slack':
      return { targetType: TargetType.TARGET_TYPE_SLACK_CHANNEL, targetId: t.channel };
    case 'webhook':
      return { targetType: TargetType.TARGET_TYPE_WEBHOOK, targetId: t.url };
    case 'tier':
      return { targetType: TargetType.TARGET_TYPE_TIER, targetId: t.tierId };
    default: {
      const _never: never = t;
      return _never;
    }
  }
}

/** A policy as the read model holds it (`escalation_policies` and its `escalation_steps`). */
export type PolicyRecord = {
  id: string;
  name: string;
  repeat: number;
  steps: ReadonlyArray<{ delaySeconds: number; targets: readonly EscalationTarget[]; untilAllAck: boolean }>;
  /** When it was last configured (epoch ms). */
  configuredAt: number;
};

/** `created_at` is not recorded (the read model keeps the last configuration only) and stays unset. */
export function toProtoPolicy(p: PolicyRecord): alertingV1.EscalationPolicy {
  return {
    id: p.id,
    name: p.name,
    description: '',
    repeatCount: p.repeat,
    steps: p.steps.map((s, j) => ({
      stepNumber: j + 1,
      delay: { seconds: s.delaySeconds, nanos: 0 },
      targets: s.targets.map(toProtoTarget),
      pageUntilAllAcknowledged: s.untilAllAck,
    })),
    createdAt: undefined,
    updatedAt: new Date(p.configuredAt),
  };
}

/**
 * Where a problem the configuration check found in a policy element (path below
 * `escalationPolicies[i]`) is in the request, by proto names.
 */
export function policyField(path: ReadonlyArray<string | number>, prefix: string): string {
  const [head, j, sub, k] = path;
  if (head === undefined) return `${prefix}steps`;
  if (head === 'repeat') return `${prefix}repeat_count`;
  if (head !== 'steps' || j === undefined) return `${prefix}${String(head)}`;
  const step = `${prefix}steps[${j}]`;
  if (sub === undefined) return step;
  if (sub === 'untilAllAck') return `${step}.page_until_all_acknowledged`;
  if (sub !== 'targets' || k === undefined) return `${step}.${String(sub)}`;
  // The file names a target by its kind (`user`, `rotation`, …); the proto by `target_id`.
  return path.length > 4 ? `${step}.targets[${k}].target_id` : `${step}.targets[${k}]`;
}
