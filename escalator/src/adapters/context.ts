import type { EscalationTarget, Recipient } from '@oncall/contracts';
import {
  onCallAt,
  routeAlert,
  rotationActiveAt,
  rotationMemberAt,
  ruleCache,
  stormSense,
  withLogVerifications,
  type ConfigView,
  type Logger,
} from '@oncall/shared';
import type { StormContext } from '../domain/escalation.js';
import type { ContextFactory } from './partition.js';

/**
 * The outside facts a decision needs, read from the configuration as it is at `now`: routing
 * (CEL rules, maintenance windows, the template's latest version), policies, who is on call, and
 * users' notification rules; `requireVerified` skips contact methods not verified.
 */
export function escalationContext(
  config: ConfigView,
  log: Logger,
  opts: { requireVerified?: boolean; storm?: (cfg: ReturnType<ConfigView['state']>) => StormContext } = {},
): ContextFactory {
  const requireVerified = opts.requireVerified ?? false;
  const rules = ruleCache();
  // Decisions made in the same millisecond on the same configuration share one context.
  let last: { now: number; cfg: unknown; ctx: ReturnType<ContextFactory> } | null = null;
  return (now) => {
    const cfg = config.state();
    if (last?.now === now && last.cfg === cfg) return last.ctx;
    const ctx = build(now, cfg);
    last = { now, cfg, ctx };
    return ctx;
  };

  function build(now: number, cfg: ReturnType<ConfigView['state']>): ReturnType<ContextFactory> {
    return {
      now,
      route: (alert) => {
        const { errors, ...decision } = routeAlert({ alert, now }, cfg, rules);
        const sense = stormSense({ ...alert, severity: decision.severity }, now, decision.rules, cfg, rules, errors);
        for (const e of errors)
          log.warn(
            { alertId: alert.alertId, service: alert.serviceId, rule: e.rule, error: e.message },
            'routing rule failed to evaluate; treated as not matching',
          );
        const templateVersion = decision.templateId ? (cfg.templates.get(decision.templateId)?.version ?? null) : null;
        return { ...decision, templateVersion, ...sense };
      },
      policy: (id) => cfg.policies.get(id),
      recipients: function recipients(target: EscalationTarget): Recipient[] {
        switch (target.type) {
          case 'user':
            return [{ type: 'user', userId: target.userId, via: 'direct' }];
          case 'schedule': {
            const schedule = cfg.schedules.get(target.scheduleId);
            if (!schedule) return [];
            return onCallAt(schedule, now).map((u) => ({ type: 'user', userId: u.userId, via: `schedule:${target.scheduleId}/${u.via}` }));
          }
          case 'rotation': {
            const schedule = cfg.schedules.get(target.scheduleId);
            const rotation = schedule?.rotations.find((r) => r.id === target.rotationId);
            // Outside its restriction windows a rotation pages nobody, as in the schedule's own answer.
            const active = schedule && rotation && rotationActiveAt(rotation, schedule.timeZone, now);
            const member = active ? rotationMemberAt(rotation, schedule.timeZone, now) : null;
            return member ? [{ type: 'user', userId: member.userId, via: `rotation:${target.scheduleId}/${target.rotationId}` }] : [];
          }
          case 'slack':
            return [{ type: 'slack', channel: target.channel }];
          case 'webhook':
            return [{ type: 'webhook', url: target.url }];
          case 'tier':
            // An L0–L3 response tier pages its targets (a tier naming another tier is not followed).
            return (cfg.responseTiers.get(target.tierId)?.targets ?? []).flatMap((t) => (t.type === 'tier' ? [] : recipients(t)));
          default: {
            const _never: never = target;
            return _never;
          }
        }
      },
      serviceName: (id) => cfg.services.get(id)?.name ?? id,
      // kneutral-api's UserService has no notification rules: they come from the configuration only.
      rules: (userId) => cfg.notificationRules.get(userId)?.rules,
      requireVerified,
      ...(opts.storm ? { storm: opts.storm(cfg) } : {}),
      // Verified = the directory's mark (users file `verified`) or a ContactMethodVerified for the same address.
      verifiedContacts: (userId, contacts) => withLogVerifications(cfg.verifiedContacts, userId, contacts),
    };
  }
}
