import type { NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager, JetStreamApiError } from '@nats-io/jetstream';
import { decodeEvent, encodeEvent, makeEvent, stableUuid, STREAMS, subjects, type EventData } from '@oncall/contracts';
import { loadConfig, sha256Hex, type ConfigState, type LastWriter } from '../index.js';
import type { ConfigFile } from './file.js';
import { keyHashOf } from './schemas.js';

type Planned<T extends PlannedType> = { type: T; data: EventData<T> };
type PlannedType =
  | 'ServiceConfigured'
  | 'ServiceRemoved'
  | 'HeartbeatMonitorConfigured'
  | 'HeartbeatMonitorRemoved'
  | 'CalendarConfigured'
  | 'CalendarRemoved'
  | 'TemplateVersionPublished'
  | 'TemplateRemoved'
  | 'ScheduleConfigured'
  | 'ScheduleRemoved'
  | 'EscalationPolicyConfigured'
  | 'EscalationPolicyRemoved'
  | 'RoutingConfigured'
  | 'RoutingRemoved'
  | 'MaintenanceWindowConfigured'
  | 'MaintenanceWindowRemoved'
  | 'NotificationRulesConfigured'
  | 'NotificationRulesRemoved'
  | 'SiteRegistryConfigured'
  | 'InhibitRuleConfigured'
  | 'InhibitRuleRemoved'
  | 'CustomerTiersConfigured'
  | 'ResponseTiersConfigured'
  | 'EquipmentTypesConfigured'
  | 'EquipmentTypesRemoved'
  | 'TicketProviderConfigured'
  | 'TicketProviderRemoved';
export type PlannedEvent = { [T in PlannedType]: Planned<T> }[PlannedType];

export type PlanOptions = {
  /** `createdBy` of new template versions. Default "oncall apply". */
  createdBy?: string;
  /**
   * Highest version ever published per template, including removed ones (the state forgets a
   * removed template; a re-added one must not reuse its version numbers).
   */
  templateVersions?: ReadonlyMap<string, number>;
};

/** JSON with object keys sorted, so equal content compares equal whatever the key order. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
const same = (a: unknown, b: unknown): boolean => stable(a) === stable(b);

/** The events the file's elements stand for, in the order they are appended (referenced things first). */
function desiredEvents(file: ConfigFile): { services: Array<EventData<'ServiceConfigured'>>; rest: PlannedEvent[] } {
  const services = file.services.map((s): EventData<'ServiceConfigured'> => ({
    serviceId: s.id,
    name: s.name,
    description: s.description,
    integrationKeys: s.integrationKeys.map((k) => ({
      name: k.name,
      keyHash: keyHashOf(k),
      ...(k.notAfter !== undefined && { notAfter: new Date(k.notAfter).toISOString() }),
    })),
  }));
  const rest: PlannedEvent[] = [
    // Before routing: a rule's `ticket:` names a provider.
    ...file.ticketProviders.map((p): PlannedEvent => ({
      type: 'TicketProviderConfigured',
      data: {
        providerId: p.id,
        type: p.type,
        name: p.name,
        settings: p.settings,
        auth: p.auth,
        fields: p.fields,
        sync: p.sync,
        inboundSecret: p.inboundSecret,
      },
    })),
    ...file.heartbeats.map((h): PlannedEvent => ({
      type: 'HeartbeatMonitorConfigured',
      data: { monitorId: h.id, serviceId: h.service, name: h.name, intervalSeconds: h.interval },
    })),
    ...file.calendars.map((c): PlannedEvent => ({
      type: 'CalendarConfigured',
      data: { calendarId: c.id, name: c.name, timeZone: c.timeZone, hours: c.hours, holidays: c.holidays },
    })),
    // Before routing: a rule may expect the boosted severity.
    ...(file.equipmentTypes
      ? [{ type: 'EquipmentTypesConfigured', data: { label: file.equipmentTypes.label, types: file.equipmentTypes.types } } as PlannedEvent]
      : []),
    ...file.schedules.map((s): PlannedEvent => ({
      type: 'ScheduleConfigured',
      data: {
        scheduleId: s.id,
        name: s.name,
        timeZone: s.timeZone,
        rotations: s.rotations.map((r) => ({
          id: r.id,
          name: r.name,
          type: r.type,
          shiftLength: r.shiftLength,
          start: r.start,
          members: r.members,
          restrictions: r.restrictions,
        })),
        overrides: s.overrides.map((o) => ({ kind: o.kind, userId: o.user, replaces: o.replaces, start: o.start, end: o.end })),
        temporary: s.temporary,
      },
    })),
    ...(file.customerTiers ? [{ type: 'CustomerTiersConfigured', data: file.customerTiers } satisfies PlannedEvent] : []),
    ...(file.responseTiers ? [{ type: 'ResponseTiersConfigured', data: { tiers: file.responseTiers } } satisfies PlannedEvent] : []),
    ...file.escalationPolicies.map((p): PlannedEvent => ({
      type: 'EscalationPolicyConfigured',
      data: {
        policyId: p.id,
        name: p.name,
        repeat: p.repeat,
        steps: p.steps.map((s) => ({ delaySeconds: s.delay, targets: s.targets, untilAllAck: s.untilAllAck })),
      },
    })),
    ...(file.sites.length > 0 ? [{ type: 'SiteRegistryConfigured', data: siteRegistry(file) } satisfies PlannedEvent] : []),
    ...file.services.flatMap((s): PlannedEvent[] =>
      s.routing === null
        ? []
        : [
            {
              type: 'RoutingConfigured',
              data: {
                serviceId: s.id,
                escalationPolicyId: s.routing.escalationPolicy,
                templateId: s.routing.template,
                ackTimeoutSeconds: s.routing.ackTimeout,
                rules: s.routing.rules.map((r) => ({
                  name: r.name,
                  when: r.when,
                  policyId: r.escalationPolicy,
                  templateId: r.template,
                  severity: r.severity,
                  ticket: r.ticket,
                  suppress: r.suppress,
                  continue: r.continue,
                  // Only when set: routing written before issue 16 then compares equal and is not rewritten.
                  ...(r.grouping ? { grouping: r.grouping } : {}),
                  ...(r.flapping ? { flapping: r.flapping } : {}),
                })),
                ...(s.routing.grouping ? { grouping: s.routing.grouping } : {}),
                ...(s.routing.flapping ? { flapping: s.routing.flapping } : {}),
              },
            },
          ],
    ),
    ...file.inhibitRules.map((r): PlannedEvent => ({
      type: 'InhibitRuleConfigured',
      data: { ruleId: r.name, source: r.source, target: r.target, equal: r.equal, scope: r.scope, waitSeconds: r.wait },
    })),
    ...file.maintenanceWindows.map((w): PlannedEvent => ({
      type: 'MaintenanceWindowConfigured',
      data: {
        windowId: w.id,
        name: w.name,
        start: w.start,
        end: w.end,
        services: w.services,
        labels: w.labels,
        when: w.when,
        mode: w.mode,
      },
    })),
    ...file.notificationRules.map((u): PlannedEvent => ({
      type: 'NotificationRulesConfigured',
      data: { userId: u.user, rules: u.rules.map((r) => ({ channel: r.channel, delaySeconds: r.delaySeconds })) },
    })),
  ];
  return { services, rest };
}

function siteRegistry(file: ConfigFile): EventData<'SiteRegistryConfigured'> {
  return {
    sites: file.sites.map((s) => ({
      siteId: s.id,
      name: s.name,
      kind: s.kind,
      parentId: s.parent,
      timeZone: s.timeZone,
      tier: s.tier,
      devices: s.devices,
    })),
    placementLabels: file.placement?.labels ?? ['site', 'pop'],
    deviceLabel: file.placement?.deviceLabel ?? 'device',
  };
}

/** What the state holds for the element a Configured event describes, if anything. */
function existing(current: ConfigState, p: PlannedEvent): unknown {
  switch (p.type) {
    case 'HeartbeatMonitorConfigured':
      return current.heartbeats.get(p.data.monitorId);
    case 'CalendarConfigured':
      return current.calendars.get(p.data.calendarId);
    case 'ScheduleConfigured':
      return current.schedules.get(p.data.scheduleId);
    case 'EscalationPolicyConfigured':
      return current.policies.get(p.data.policyId);
    case 'RoutingConfigured':
      return current.routing.get(p.data.serviceId);
    case 'MaintenanceWindowConfigured':
      return current.maintenance.get(p.data.windowId);
    case 'NotificationRulesConfigured':
      return current.notificationRules.get(p.data.userId);
    case 'SiteRegistryConfigured':
      return current.sites ?? undefined;
    case 'InhibitRuleConfigured':
      return current.inhibitRules.get(p.data.ruleId);
    case 'CustomerTiersConfigured':
      return current.customerTiers ? { label: current.customerTiers.label, tiers: [...current.customerTiers.tiers.values()] } : undefined;
    case 'ResponseTiersConfigured':
      return current.responseTiers.size > 0 ? { tiers: [...current.responseTiers.values()] } : undefined;
    case 'EquipmentTypesConfigured':
      return current.equipmentTypes ?? undefined;
    case 'TicketProviderConfigured':
      return current.ticketProviders.get(p.data.providerId);
    default:
      return undefined;
  }
}

const templateContent = (t: Pick<EventData<'TemplateVersionPublished'>, 'name' | 'description' | 'channels' | 'variables'>) => [
  t.name,
  t.description,
  t.channels,
  t.variables,
];

/**
 * What must be appended to make the log say what the file says. Pure: the same file against
 * the same state plans nothing, so applying a file twice changes nothing. Elements missing
 * from the file are removed only with `prune`. A template whose content differs from its latest
 * version gets a new version (latest + 1); versions are never rewritten.
 */
export function planApply(current: ConfigState, file: ConfigFile, prune: boolean, opts: PlanOptions = {}): PlannedEvent[] {
  const planned: PlannedEvent[] = [];
  const { services, rest } = desiredEvents(file);
  for (const desired of services) {
    const old = current.services.get(desired.serviceId);
    if (!old || canonicalService(old) !== canonicalService(desired)) planned.push({ type: 'ServiceConfigured', data: desired });
  }
  for (const t of file.templates) {
    const latest = current.templates.get(t.id);
    if (latest && same(templateContent(latest), templateContent(t))) continue;
    const version = Math.max(latest?.version ?? 0, opts.templateVersions?.get(t.id) ?? 0) + 1;
    planned.push({
      type: 'TemplateVersionPublished',
      data: {
        templateId: t.id,
        version,
        name: t.name,
        description: t.description,
        channels: t.channels,
        variables: t.variables,
        createdBy: opts.createdBy ?? 'oncall apply',
      },
    });
  }
  for (const p of rest) {
    const old = existing(current, p);
    if (old === undefined || !same(old, p.data)) planned.push(p);
  }
  if (!prune) return planned;

  // Removals: what refers to others goes first, so no reader sees a dangling reference.
  const missing = <V>(state: ReadonlyMap<string, V>, wanted: Iterable<string>): string[] => {
    const keep = new Set(wanted);
    return [...state.keys()].filter((id) => !keep.has(id));
  };
  if (file.equipmentTypes === null && current.equipmentTypes !== null) planned.push({ type: 'EquipmentTypesRemoved', data: {} });
  for (const id of missing(
    current.notificationRules,
    file.notificationRules.map((u) => u.user),
  ))
    planned.push({ type: 'NotificationRulesRemoved', data: { userId: id } });
  for (const id of missing(
    current.maintenance,
    file.maintenanceWindows.map((w) => w.id),
  ))
    planned.push({ type: 'MaintenanceWindowRemoved', data: { windowId: id } });
  for (const id of missing(
    current.inhibitRules,
    file.inhibitRules.map((r) => r.name),
  ))
    planned.push({ type: 'InhibitRuleRemoved', data: { ruleId: id } });
  for (const id of missing(
    current.routing,
    file.services.filter((s) => s.routing !== null).map((s) => s.id),
  ))
    planned.push({ type: 'RoutingRemoved', data: { serviceId: id } });
  // After routing: no rule names a removed provider.
  for (const id of missing(
    current.ticketProviders,
    file.ticketProviders.map((p) => p.id),
  ))
    planned.push({ type: 'TicketProviderRemoved', data: { providerId: id } });
  for (const id of missing(
    current.heartbeats,
    file.heartbeats.map((h) => h.id),
  ))
    planned.push({ type: 'HeartbeatMonitorRemoved', data: { monitorId: id } });
  for (const id of missing(
    current.services,
    file.services.map((s) => s.id),
  ))
    planned.push({ type: 'ServiceRemoved', data: { serviceId: id } });
  for (const id of missing(
    current.policies,
    file.escalationPolicies.map((p) => p.id),
  ))
    planned.push({ type: 'EscalationPolicyRemoved', data: { policyId: id } });
  // The NOC model's registry and tier lists have no Removed event: pruning them leaves them empty.
  if (!file.responseTiers && current.responseTiers.size > 0) planned.push({ type: 'ResponseTiersConfigured', data: { tiers: [] } });
  if (file.sites.length === 0 && current.sites && current.sites.sites.length > 0)
    planned.push({ type: 'SiteRegistryConfigured', data: { ...current.sites, sites: [] } });
  if (!file.customerTiers && current.customerTiers && current.customerTiers.tiers.size > 0)
    planned.push({ type: 'CustomerTiersConfigured', data: { label: current.customerTiers.label, tiers: [] } });
  for (const id of missing(
    current.schedules,
    file.schedules.map((s) => s.id),
  ))
    planned.push({ type: 'ScheduleRemoved', data: { scheduleId: id } });
  for (const id of missing(
    current.templates,
    file.templates.map((t) => t.id),
  ))
    planned.push({ type: 'TemplateRemoved', data: { templateId: id } });
  for (const id of missing(
    current.calendars,
    file.calendars.map((c) => c.id),
  ))
    planned.push({ type: 'CalendarRemoved', data: { calendarId: id } });
  return planned;
}

/** The configuration subject an event belongs to. */
export function subjectOf(p: PlannedEvent): string {
  switch (p.type) {
    case 'ServiceConfigured':
    case 'ServiceRemoved':
      return subjects.config('service', p.data.serviceId);
    case 'HeartbeatMonitorConfigured':
    case 'HeartbeatMonitorRemoved':
      return subjects.config('heartbeat', p.data.monitorId);
    case 'CalendarConfigured':
    case 'CalendarRemoved':
      return subjects.config('calendar', p.data.calendarId);
    case 'TemplateVersionPublished':
    case 'TemplateRemoved':
      return subjects.config('template', p.data.templateId);
    case 'ScheduleConfigured':
    case 'ScheduleRemoved':
      return subjects.config('schedule', p.data.scheduleId);
    case 'EscalationPolicyConfigured':
    case 'EscalationPolicyRemoved':
      return subjects.config('policy', p.data.policyId);
    case 'RoutingConfigured':
    case 'RoutingRemoved':
      return subjects.config('routing', p.data.serviceId);
    case 'MaintenanceWindowConfigured':
    case 'MaintenanceWindowRemoved':
      return subjects.config('maintenance', p.data.windowId);
    case 'NotificationRulesConfigured':
    case 'NotificationRulesRemoved':
      return subjects.userRules(p.data.userId);
    case 'SiteRegistryConfigured':
      return subjects.config('noc', 'sites');
    case 'CustomerTiersConfigured':
      return subjects.config('noc', 'customer-tiers');
    case 'ResponseTiersConfigured':
      return subjects.config('noc', 'response-tiers');
    case 'InhibitRuleConfigured':
    case 'InhibitRuleRemoved':
      return subjects.config('inhibit', p.data.ruleId);
    case 'EquipmentTypesConfigured':
    case 'EquipmentTypesRemoved':
      return subjects.config('equipment', 'default');
    case 'TicketProviderConfigured':
    case 'TicketProviderRemoved':
      return subjects.config('ticket-provider', p.data.providerId);
    default: {
      const _never: never = p;
      return _never;
    }
  }
}

function canonicalService(s: EventData<'ServiceConfigured'>): string {
  const keys = [...s.integrationKeys].sort((a, b) => a.keyHash.localeCompare(b.keyHash));
  return JSON.stringify([s.serviceId, s.name, s.description, keys.map((k) => [k.name, k.keyHash, k.notAfter ?? null])]);
}

/**
 * Highest published version of templates that the state no longer holds but whose subject has
 * history (removed with prune). Read from the log only in that rare case.
 */
async function removedTemplateVersions(nc: NatsConnection, ids: string[]): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  if (ids.length === 0) return versions;
  const wanted = new Set(ids);
  const all = subjects.config('template', '*');
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(STREAMS.config, { subjects_filter: all });
  if (!ids.some((id) => info.state.subjects?.[subjects.config('template', id)])) return versions;
  // One wildcard filter (filter_subjects needs nats-server 2.10); the other templates are skipped.
  const consumer = await jetstream(nc).consumers.get(STREAMS.config, { filter_subjects: all, deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  for await (const m of messages) {
    const event = decodeEvent(m.data);
    if (event.type === 'TemplateVersionPublished' && wanted.has(event.data.templateId)) {
      versions.set(event.data.templateId, Math.max(versions.get(event.data.templateId) ?? 0, event.data.version));
    }
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return versions;
}

const WRONG_LAST_SEQUENCE = 10071;

/** Correlation id of the events `oncall apply` appends. */
export const APPLY_ACTOR = 'oncall-apply';
/** Correlation id of configuration events written through the gRPC API for a caller. */
export const apiActor = (caller: string): string => `api:${caller}`;
const isApiActor = (actor: string): boolean => actor.startsWith('api:');

/** A subject the plan would change whose last event was written through the API. */
export type Drift = { subject: string; type: PlannedEvent['type']; actor: string; at: string };

/** `oncall apply` would overwrite changes made through the API (apply with `force` to do so anyway). */
export class ConfigDriftError extends Error {
  override readonly name = 'ConfigDriftError';
  constructor(readonly drifts: readonly Drift[]) {
    super(
      `the file would overwrite ${drifts.length} change${drifts.length === 1 ? '' : 's'} made through the API:\n` +
        drifts.map((d) => `  ${d.subject}: written by ${d.actor} at ${d.at} (the file would append ${d.type})`).join('\n'),
    );
  }
}

/** The planned events whose subject was last written through the API. */
export function driftOf(planned: readonly PlannedEvent[], lastWriters: ReadonlyMap<string, LastWriter>): Drift[] {
  return planned.flatMap((p) => {
    const subject = subjectOf(p);
    const last = lastWriters.get(subject);
    return last && isApiActor(last.actor) ? [{ subject, type: p.type, actor: last.actor, at: last.at }] : [];
  });
}

export type LoadedConfig = Awaited<ReturnType<typeof loadConfig>>;

/**
 * Highest versions of the file's templates that the state forgot (removed) but the log remembers,
 * so a re-added template does not reuse version numbers.
 */
export async function forgottenTemplateVersions(nc: NatsConnection, file: ConfigFile, loaded: LoadedConfig): Promise<Map<string, number>> {
  const forgotten = file.templates
    .filter((t) => !loaded.state.templates.has(t.id) && loaded.subjectSeq.has(subjects.config('template', t.id)))
    .map((t) => t.id);
  return removedTemplateVersions(nc, forgotten);
}

/**
 * Reads the configuration, plans, and appends the plan. Each append expects the subject's last
 * sequence as read, so a concurrent writer makes us re-read and re-plan instead of overwriting.
 * Returns the plan and the stream sequence of its last event (the last sequence read when the
 * plan is empty), which a reader can wait for.
 */
export async function appendPlanned(
  nc: NatsConnection,
  plan: (loaded: LoadedConfig) => Promise<PlannedEvent[]>,
  actor: string,
): Promise<{ planned: PlannedEvent[]; seq: number }> {
  const js = jetstream(nc);
  for (let attempt = 1; ; attempt++) {
    const loaded = await loadConfig(nc);
    const planned = await plan(loaded);
    let seq = loaded.lastSeq;
    try {
      for (const p of planned) {
        const subject = subjectOf(p);
        const lastSubjectSequence = loaded.subjectSeq.get(subject) ?? 0;
        const msgID = `${subject}:${lastSubjectSequence}:${sha256Hex(JSON.stringify(p))}`;
        const event = makeEvent(p.type, p.data as never, {
          id: stableUuid(msgID),
          occurredAt: new Date().toISOString(),
          causationId: null,
          correlationId: actor,
        });
        seq = (await js.publish(subject, encodeEvent(event), { msgID, expect: { lastSubjectSequence } })).seq;
      }
      return { planned, seq };
    } catch (err) {
      const conflict = err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE;
      if (!conflict || attempt >= 3) throw err;
    }
  }
}

export type ApplyOptions = {
  prune?: boolean;
  /** Correlation id of the appended events. Default `oncall-apply`. */
  actor?: string;
  /** `createdBy` of new template versions. Default "oncall apply". */
  createdBy?: string;
  /** Overwrite changes made through the API; without it (and without keepDrift) they are refused with ConfigDriftError. */
  force?: boolean;
  /** Keep changes made through the API: the file's events for those subjects are left out and the drift is reported here (`oncall up`). */
  keepDrift?: (drifts: readonly Drift[]) => void;
};

/** Appends what the file changes (`oncall apply`), refusing to overwrite API changes unless forced. */
export async function applyConfig(nc: NatsConnection, file: ConfigFile, opts: ApplyOptions = {}): Promise<PlannedEvent[]> {
  const { planned } = await appendPlanned(
    nc,
    async (loaded) => {
      const templateVersions = await forgottenTemplateVersions(nc, file, loaded);
      const planned = planApply(loaded.state, file, opts.prune ?? false, { createdBy: opts.createdBy, templateVersions });
      const drifts = opts.force ? [] : driftOf(planned, loaded.lastWriters);
      if (drifts.length === 0) return planned;
      if (!opts.keepDrift) throw new ConfigDriftError(drifts);
      opts.keepDrift(drifts);
      const kept = new Set(drifts.map((d) => d.subject));
      return planned.filter((p) => !kept.has(subjectOf(p)));
    },
    opts.actor ?? APPLY_ACTOR,
  );
  return planned;
}
