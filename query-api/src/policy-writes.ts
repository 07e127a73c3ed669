import type { DatabasePool } from 'slonik';
import type { alertingV1 } from '@oncall/contracts';
import type { Logger } from '@oncall/shared';
import { createdId, routingUsing } from './config-issues.js';
import { writerOrUnavailable, type ConfigWriter } from './config-writes.js';
import { AlreadyExists, FailedPrecondition, InvalidArgument, NotFound } from './errors.js';
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
      await w.write((file) => {
        if (file.escalationPolicies.some((p) => p.id === policy.id))
          throw new AlreadyExists(`escalation policy ${policy.id} already exists`);
        file.escalationPolicies.push(policy);
        return { section: 'escalationPolicies', at: file.escalationPolicies.length - 1, field: (path) => policyField(path, '') };
      }, ctx);
      return read(policy.id);
    }),
    updateEscalationPolicy: unary(log, 'UpdateEscalationPolicy', async (req: alertingV1.UpdateEscalationPolicyRequest, ctx) => {
      const w = writerOrUnavailable(writer);
      if (!req.policy) throw new InvalidArgument('policy', 'is required');
      const id = required('policy.id', req.policy.id);
      const policy = toFilePolicy(req.policy, 'policy.');
      await w.write((file) => {
        const at = file.escalationPolicies.findIndex((p) => p.id === id);
        if (at < 0) throw new NotFound(`escalation policy ${id} not found`);
        file.escalationPolicies[at] = policy;
        return { section: 'escalationPolicies', at, field: (path) => policyField(path, 'policy.') };
      }, ctx);
      return read(id);
    }),
    deleteEscalationPolicy: unary(log, 'DeleteEscalationPolicy', async (req: alertingV1.DeleteEscalationPolicyRequest, ctx) => {
      const w = writerOrUnavailable(writer);
      const id = required('id', req.id);
      await w.write(
        (file) => {
          const at = file.escalationPolicies.findIndex((p) => p.id === id);
          if (at < 0) throw new NotFound(`escalation policy ${id} not found`);
          const services = routingUsing(file, 'escalationPolicy', id);
          if (services.length > 0)
            throw new FailedPrecondition(
              `escalation policy ${id} is used by the routing of ${services.map((s) => `service ${s}`).join(', ')}`,
            );
          file.escalationPolicies.splice(at, 1);
          return null;
        },
        ctx,
        [{ section: 'escalationPolicies', id }],
      );
      return { deleted: true };
    }),
  };
}
