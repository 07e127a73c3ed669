import type { EscalationTarget, TemplateChannels } from '@oncall/contracts';
import type { ConfigState } from '../index.js';
import type { ConfigFile } from './file.js';

/**
 * The configuration as the log says it is now, as the file model (`oncall export`, and the start
 * of every configuration write through the API: export, edit, check, plan). Applying the result
 * to the same state plans nothing. Integration keys come out as their hashes (`keyHash`).
 */
export function exportConfig(state: ConfigState): ConfigFile {
  const sites = state.sites?.sites ?? [];
  const placement =
    state.sites && sites.length > 0 && (state.sites.placementLabels.join() !== 'site,pop' || state.sites.deviceLabel !== 'device')
      ? { labels: [...state.sites.placementLabels], deviceLabel: state.sites.deviceLabel }
      : null;
  const customerTiers = state.customerTiers && state.customerTiers.tiers.size > 0 ? state.customerTiers : null;
  return {
    services: [...state.services.values()].map((s) => {
      const r = state.routing.get(s.serviceId);
      return {
        id: s.serviceId,
        name: s.name,
        description: s.description,
        integrationKeys: s.integrationKeys.map((k) => ({
          name: k.name,
          keyHash: k.keyHash,
          ...(k.notAfter !== undefined && { notAfter: k.notAfter }),
        })),
        routing: r
          ? {
              escalationPolicy: r.escalationPolicyId,
              template: r.templateId,
              ackTimeout: r.ackTimeoutSeconds,
              rules: r.rules.map((rule) => ({
                name: rule.name,
                when: rule.when,
                escalationPolicy: rule.policyId,
                template: rule.templateId,
                severity: rule.severity,
                ticket: rule.ticket,
                suppress: rule.suppress,
                continue: rule.continue,
                grouping: rule.grouping ?? null,
                flapping: rule.flapping ?? null,
              })),
              grouping: r.grouping ?? null,
              flapping: r.flapping ?? null,
            }
          : null,
      };
    }),
    heartbeats: [...state.heartbeats.values()].map((h) => ({
      id: h.monitorId,
      name: h.name,
      service: h.serviceId,
      interval: h.intervalSeconds,
    })),
    calendars: [...state.calendars.values()].map((c) => ({
      id: c.calendarId,
      name: c.name,
      timeZone: c.timeZone,
      hours: c.hours,
      holidays: c.holidays,
    })),
    templates: [...state.templates.values()].map((t) => ({
      id: t.templateId,
      name: t.name,
      description: t.description,
      variables: t.variables,
      channels: t.channels,
    })),
    schedules: [...state.schedules.values()].map((s) => ({
      id: s.scheduleId,
      name: s.name,
      timeZone: s.timeZone,
      rotations: s.rotations,
      overrides: s.overrides.map((o) => ({ kind: o.kind, user: o.userId, replaces: o.replaces, start: o.start, end: o.end })),
      temporary: s.temporary,
    })),
    escalationPolicies: [...state.policies.values()].map((p) => ({
      id: p.policyId,
      name: p.name,
      repeat: p.repeat,
      steps: p.steps.map((s) => ({ delay: s.delaySeconds, targets: s.targets, untilAllAck: s.untilAllAck })),
    })),
    maintenanceWindows: [...state.maintenance.values()].map((w) => ({
      id: w.windowId,
      name: w.name,
      start: w.start,
      end: w.end,
      services: w.services,
      labels: w.labels,
      when: w.when,
      mode: w.mode,
    })),
    notificationRules: [...state.notificationRules.values()].map((u) => ({ user: u.userId, rules: u.rules })),
    sites: sites.map((s) => ({
      id: s.siteId,
      name: s.name,
      kind: s.kind,
      parent: s.parentId,
      timeZone: s.timeZone,
      tier: s.tier,
      devices: s.devices,
    })),
    inhibitRules: [...state.inhibitRules.values()].map((r) => ({
      name: r.ruleId,
      source: r.source,
      target: r.target,
      equal: r.equal,
      scope: r.scope,
      wait: r.waitSeconds,
    })),
    ticketProviders: [...state.ticketProviders.values()].map((p) => ({
      id: p.providerId,
      type: p.type,
      name: p.name,
      settings: p.settings,
      auth: p.auth,
      fields: p.fields,
      sync: p.sync,
      inboundSecret: p.inboundSecret,
    })),
    placement,
    customerTiers: customerTiers ? { label: customerTiers.label, tiers: [...customerTiers.tiers.values()] } : null,
    responseTiers: state.responseTiers.size > 0 ? [...state.responseTiers.values()] : null,
    equipmentTypes: state.equipmentTypes,
  };
}

/** Seconds in the largest unit that divides them: 300 → "5m", 90 → "90s". */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (seconds > 0 && seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

function targetInput(t: EscalationTarget): Record<string, string> {
  switch (t.type) {
    case 'user':
      return { user: t.userId };
    case 'schedule':
      return { schedule: t.scheduleId };
    case 'rotation':
      return { rotation: `${t.scheduleId}/${t.rotationId}` };
    case 'slack':
      return { slack: t.channel };
    case 'webhook':
      return { webhook: t.url };
    case 'tier':
      return { tier: t.tierId };
  }
}

function channelsInput(c: TemplateChannels): Record<string, unknown> {
  const email =
    c.emailSubject === null && c.emailHtml === null && c.emailText === null
      ? undefined
      : withoutNulls({ subject: c.emailSubject, html: c.emailHtml, text: c.emailText });
  return withoutNulls({ slack: c.slack, teams: c.teams, email, sms: c.sms, voice: c.voice, webhook: c.webhook });
}

/** Drops null and undefined fields: the file writes an absent setting by leaving it out. */
function withoutNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
}

type Flapping = { flips: number; windowSeconds: number; quietSeconds: number } | null;
const flappingInput = (f: Flapping) =>
  f && { flips: f.flips, window: formatDuration(f.windowSeconds), quiet: formatDuration(f.quietSeconds) };

/**
 * The file model as it is written (the schemas' input): durations as "5m", targets as
 * `{ user: … }`, absent settings left out. Parsing the result gives the model back; this is what
 * `oncall export` writes as YAML and what a configuration edit is checked as.
 */
export function fileInput(file: ConfigFile): Record<string, unknown> {
  const out: Record<string, unknown> = {
    services: file.services.map((s) =>
      withoutNulls({
        id: s.id,
        name: s.name,
        description: s.description || undefined,
        integrationKeys: s.integrationKeys.length > 0 ? s.integrationKeys : undefined,
        routing: s.routing && {
          ...withoutNulls({
            escalationPolicy: s.routing.escalationPolicy,
            template: s.routing.template,
            ackTimeout: s.routing.ackTimeout === null ? null : formatDuration(s.routing.ackTimeout),
            grouping: s.routing.grouping,
            flapping: flappingInput(s.routing.flapping),
          }),
          rules: s.routing.rules.map((r) =>
            withoutNulls({
              name: r.name,
              when: r.when,
              escalationPolicy: r.escalationPolicy,
              template: r.template,
              severity: r.severity,
              ticket: r.ticket,
              suppress: r.suppress || undefined,
              continue: r.continue || undefined,
              grouping: r.grouping,
              flapping: flappingInput(r.flapping),
            }),
          ),
        },
      }),
    ),
    heartbeats: file.heartbeats.map((h) => ({ ...h, interval: formatDuration(h.interval) })),
    calendars: file.calendars,
    templates: file.templates.map((t) => ({
      id: t.id,
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      variables: t.variables,
      channels: channelsInput(t.channels),
    })),
    schedules: file.schedules.map((s) => ({
      id: s.id,
      name: s.name,
      timeZone: s.timeZone,
      rotations: s.rotations,
      overrides: s.overrides.map((o) => withoutNulls(o)),
      temporary: s.temporary,
    })),
    escalationPolicies: file.escalationPolicies.map((p) => ({
      id: p.id,
      name: p.name,
      repeat: p.repeat,
      steps: p.steps.map((s) => ({ delay: formatDuration(s.delay), targets: s.targets.map(targetInput), untilAllAck: s.untilAllAck })),
    })),
    maintenanceWindows: file.maintenanceWindows.map((w) => withoutNulls(w)),
    notificationRules: file.notificationRules.map((u) => ({
      user: u.user,
      rules: u.rules.map((r) => ({ method: r.channel, after: formatDuration(r.delaySeconds) })),
    })),
    sites: file.sites.map((s) => withoutNulls(s)),
    inhibitRules: file.inhibitRules.map((r) => ({ ...r, wait: formatDuration(r.wait) })),
    ticketProviders: file.ticketProviders.map((p) => withoutNulls({ ...p, sync: withoutNulls(p.sync) })),
    placement: file.placement,
    customerTiers: file.customerTiers && {
      label: file.customerTiers.label,
      tiers: Object.fromEntries(
        file.customerTiers.tiers.map((t) => [
          t.tierId,
          { name: t.name, sla: formatDuration(t.responseSeconds), escalateBefore: formatDuration(t.escalateBeforeSeconds) },
        ]),
      ),
    },
    responseTiers:
      file.responseTiers &&
      Object.fromEntries(file.responseTiers.map((t) => [t.tierId, { name: t.name, targets: t.targets.map(targetInput) }])),
    equipmentTypes: file.equipmentTypes && {
      label: file.equipmentTypes.label,
      types: Object.fromEntries(Object.entries(file.equipmentTypes.types).map(([k, v]) => [k, withoutNulls(v)])),
    },
  };
  // Empty sections are left out, so an exported file reads like a written one.
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0)));
}
