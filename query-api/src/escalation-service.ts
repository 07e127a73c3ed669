import type { DatabasePool } from 'slonik';
import type { Recipient } from '@oncall/contracts';
import type { alertingV1 } from '@oncall/contracts/grpc';
import type { Logger } from '@oncall/shared';
import { NotFound } from './errors.js';
import { serverStream, unary } from './handlers.js';
import { apiStep, date } from './mapping.js';
import { getAlert } from './read-model/alerts.js';
import { getEscalation, getSteps, type StepRow } from './read-model/escalations.js';
import { getPolicy, listPolicies } from './read-model/policies.js';
import type { ConfigWriter } from './config-writes.js';
import type { Consistency } from './consistency.js';
import { streamPage } from './list-page.js';
import { idPage } from './page-token.js';
import { toProtoPolicy } from './policy-mapping.js';
import { policyWrites } from './policy-writes.js';
import { required, requiredUuid } from './validate.js';

const describeRecipient = (r: Recipient): string => {
  switch (r.type) {
    case 'user':
      return `${r.userId} via ${r.via}`;
    case 'slack':
      return `slack:${r.channel}`;
    case 'webhook':
      return 'webhook';
    default: {
      const _never: never = r;
      return _never;
    }
  }
};

function toStepRecord(s: StepRow): alertingV1.StepRecord {
  const { data } = s;
  return {
    stepNumber: data.step + 1,
    repetition: data.round,
    reachedAt: new Date(s.occurred_at),
    userIds: data.recipients.flatMap((r) => (r.type === 'user' ? [r.userId] : [])),
    reason: `${data.reason}${data.page > 0 ? ` (re-page ${data.page})` : ''}: ${data.recipients.map(describeRecipient).join(', ') || 'nobody'}`,
  };
}

/**
 * EscalationService: policies from the read model (`escalation_policies`, `escalation_steps`),
 * written as configuration (policy-writes); where an alert's escalation stands
 * (`alert_escalations`) and every step reached (`escalation_timeline`).
 */
export function escalationService(
  pool: DatabasePool,
  log: Logger,
  writer: ConfigWriter | null,
  consistency: Consistency,
): alertingV1.EscalationServiceServer {
  const load = async (id: string) => {
    const policy = await getPolicy(pool, id);
    if (!policy) throw new NotFound(`escalation policy ${id} not found`);
    return policy;
  };
  return {
    ...policyWrites(pool, log, writer),
    getEscalationPolicy: unary(
      log,
      'GetEscalationPolicy',
      consistency.read(async (req: alertingV1.GetEscalationPolicyRequest) => toProtoPolicy(await load(required('id', req.id)))),
    ),
    listEscalationPolicies: serverStream(
      log,
      'ListEscalationPolicies',
      async (req: alertingV1.ListEscalationPoliciesRequest, write, ctx) => {
        await consistency.before(ctx);
        const page = idPage('escalation-policies', req);
        return streamPage({
          pageSize: page.pageSize,
          batch: page.pageSize,
          after: page.afterId,
          fetch: (after, limit) => listPolicies(pool, after, limit),
          keyOf: (policy) => policy.id,
          token: page.token,
          write: (policy) => write(toProtoPolicy(policy)),
          signal: ctx.signal,
        });
      },
    ),
    getEscalationState: unary(
      log,
      'GetEscalationState',
      async (req: alertingV1.GetEscalationStateRequest): Promise<alertingV1.EscalationState> => {
        const alertId = requiredUuid('alert_id', req.alertId);
        const [row, steps] = await Promise.all([getEscalation(pool, alertId), getSteps(pool, alertId)]);
        if (!row && !(await getAlert(pool, alertId))) throw new NotFound(`alert ${alertId} not found`);
        return {
          alertId,
          policyId: row?.policy_id ?? '',
          currentStep: apiStep(row?.escalation_step ?? null),
          repetition: row?.escalation_round ?? 0,
          nextStepAt: date(row?.next_escalation_at ?? null),
          history: steps.map(toStepRecord),
          stoppedReason: row?.escalation_stopped_reason ?? '',
          reopenAt: date(row?.reopen_at ?? null),
          suppressedBy: row?.suppressed_by ?? '',
          suppressedUntil: date(row?.suppressed_until ?? null),
        };
      },
    ),
  };
}
