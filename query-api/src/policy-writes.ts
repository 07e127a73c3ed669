import type { DatabasePool } from 'slonik';
import type { alertingV1 } from '@oncall/contracts/grpc';
import type { Logger } from '@oncall/shared';
import { createdId } from './config-issues.js';
import { createElement, removeElement, replaceElement } from './element-edits.js';
import { writerOrUnavailable, type ConfigWriter } from './config-writes.js';
import { InvalidArgument, NotFound } from './errors.js';
import { unary } from './handlers.js';
import { policyField, toFilePolicy, toProtoPolicy } from './policy-mapping.js';
import { getPolicy } from './read-model/policies.js';
import { required } from './validate.js';

/**
 * Create, update and delete of escalation policies: configuration writes (ConfigWriter) with the
 * checks of `oncall apply`; each answers once the read model shows the change.
 */
export function policyWrites(
  pool: DatabasePool,
  log: Logger,
  writer: ConfigWriter | null,
): Pick<alertingV1.EscalationServiceServer, 'createEscalationPolicy' | 'updateEscalationPolicy' | 'deleteEscalationPolicy'> {
  const read = async (id: string): Promise<alertingV1.EscalationPolicy> => {
    const policy = await getPolicy(pool, id);
    if (!policy) throw new NotFound(`escalation policy ${id} not found`);
    return toProtoPolicy(policy);
  };
  return {
    createEscalationPolicy: unary(log, 'CreateEscalationPolicy', async (req: alertingV1.CreateEscalationPolicyRequest, ctx) => {
      const w = writerOrUnavailable(writer);
      const policy = toFilePolicy({ ...req, id: createdId(req.id, req.name) }, '');
      await w.write(
        createElement('escalationPolicies', policy, (path) => policyField(path, '')),
        ctx,
      );
      return read(policy.id);
    }),
    updateEscalationPolicy: unary(log, 'UpdateEscalationPolicy', async (req: alertingV1.UpdateEscalationPolicyRequest, ctx) => {
      const w = writerOrUnavailable(writer);
      if (!req.policy) throw new InvalidArgument('policy', 'is required');
      const id = required('policy.id', req.policy.id);
      await w.write(
        replaceElement('escalationPolicies', toFilePolicy(req.policy, 'policy.'), (path) => policyField(path, 'policy.')),
        ctx,
      );
      return read(id);
    }),
    deleteEscalationPolicy: unary(log, 'DeleteEscalationPolicy', async (req: alertingV1.DeleteEscalationPolicyRequest, ctx) => {
      const w = writerOrUnavailable(writer);
      const id = required('id', req.id);
      await w.write(removeElement('escalationPolicies', id), ctx, [{ section: 'escalationPolicies', id }]);
      return { deleted: true };
    }),
  };
}
