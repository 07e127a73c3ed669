import type { NatsConnection } from '@nats-io/transport-node';
import type { ConfigState } from '../index.js';
import { appendPlanned, forgottenTemplateVersions, planApply, type PlannedEvent, type PlanOptions } from './apply.js';
import { exportConfig, fileInput } from './export.js';
import { checkConfigValue, formatPath, type ConfigCheckOptions, type ConfigFile } from './file.js';
import type { Issue, SectionName, SingleName } from './references.js';

/**
 * Configuration writes through the API: the current configuration as the file model
 * (exportConfig), an edit of it, every check of `oncall apply` on the edited file, the plan, and
 * the append with the subjects' expected last sequences. So the API and config-as-code share one
 * log and one set of rules.
 */

/** Changes the file model in place, or returns a new one. May throw (e.g. the API's NOT_FOUND). */
export type ConfigEdit = (file: ConfigFile, state: ConfigState) => void | ConfigFile;

/** An element the edit removed: the only ones removed (a deletion prunes nothing else). Singles match on the section alone. */
export type PruneTarget = { section: SectionName | SingleName | 'routing'; id: string };

export type EditOptions = ConfigCheckOptions & {
  /** Correlation id of the appended events (`apiActor(caller)`). */
  actor: string;
  /** `createdBy` of new template versions; default the actor. */
  createdBy?: string;
  prune?: ReadonlyArray<PruneTarget>;
};

/** A problem of the edited file: its path as an array and as text (`schedules[2].overrides[0].end`). */
export type EditIssue = Issue & { field: string };

/** The edit breaks a rule of the configuration; nothing was appended. */
export class ConfigEditError extends Error {
  override readonly name = 'ConfigEditError';
  constructor(readonly issues: readonly EditIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('\n'));
  }
}

/**
 * Exports the state, applies the edit and checks the result as `oncall apply` checks a file.
 * Problems the configuration already had (say a user since removed from the directory) do not
 * block an edit elsewhere: only problems the edit brings are reported.
 */
export async function checkedEdit(state: ConfigState, edit: ConfigEdit, opts: ConfigCheckOptions): Promise<ConfigFile> {
  const base = exportConfig(state);
  const copy = structuredClone(base);
  const edited = edit(copy, state) ?? copy;
  const raw = fileInput(edited);
  const after = await checkConfigValue(raw, opts);
  if (after.issues.length === 0) return after.file;
  const baseRaw = fileInput(base);
  const before = new Set((await checkConfigValue(baseRaw, opts)).issues.map((i) => issueKey(i, baseRaw)));
  const brought = after.issues.filter((i) => !before.has(issueKey(i, raw)));
  if (brought.length > 0) throw new ConfigEditError(brought.map((i) => ({ ...i, field: formatPath(i.path) })));
  // Only old problems: elements that no longer parse are left out of the file, so the plan leaves them as they are.
  return after.file;
}

/** An issue by element id rather than position, so removing an element does not make later ones' problems look new. */
function issueKey(issue: Issue, raw: Record<string, unknown>): string {
  const [section, at, ...rest] = issue.path;
  const list = typeof section === 'string' ? raw[section] : undefined;
  const element = Array.isArray(list) && typeof at === 'number' ? (list[at] as Record<string, unknown> | undefined) : undefined;
  const id = element ? (element.id ?? element.name ?? element.user) : at;
  return JSON.stringify([section, id, ...rest, issue.message]);
}

/** What an element removal event removes, for matching against the edit's prune list. */
function removed(p: PlannedEvent): { section: PruneTarget['section']; id: string | null; also?: PruneTarget['section'] } | null {
  switch (p.type) {
    case 'NotificationRulesRemoved':
      return { section: 'notificationRules', id: p.data.userId };
    case 'MaintenanceWindowRemoved':
      return { section: 'maintenanceWindows', id: p.data.windowId };
    case 'InhibitRuleRemoved':
      return { section: 'inhibitRules', id: p.data.ruleId };
    case 'RoutingRemoved':
      return { section: 'routing', id: p.data.serviceId, also: 'services' };
    case 'HeartbeatMonitorRemoved':
      return { section: 'heartbeats', id: p.data.monitorId };
    case 'ServiceRemoved':
      return { section: 'services', id: p.data.serviceId };
    case 'EscalationPolicyRemoved':
      return { section: 'escalationPolicies', id: p.data.policyId };
    case 'ScheduleRemoved':
      return { section: 'schedules', id: p.data.scheduleId };
    case 'TemplateRemoved':
      return { section: 'templates', id: p.data.templateId };
    case 'CalendarRemoved':
      return { section: 'calendars', id: p.data.calendarId };
    case 'EquipmentTypesRemoved':
      return { section: 'equipmentTypes', id: null };
    case 'TicketProviderRemoved':
      return { section: 'ticketProviders', id: p.data.providerId };
    case 'ResponseTiersConfigured':
      return { section: 'responseTiers', id: null };
    case 'CustomerTiersConfigured':
      return { section: 'customerTiers', id: null };
    case 'SiteRegistryConfigured':
      return { section: 'sites', id: null };
    default:
      return null;
  }
}

/** The events that make the log say what the edited file says, removing only what `prune` names. */
export function planEdit(state: ConfigState, file: ConfigFile, prune: ReadonlyArray<PruneTarget>, opts: PlanOptions = {}): PlannedEvent[] {
  const changes = planApply(state, file, false, opts);
  const removals = planApply(state, file, true, opts).slice(changes.length);
  const wanted = removals.filter((p) => {
    const r = removed(p);
    return r !== null && prune.some((t) => (t.section === r.section || t.section === r.also) && (r.id === null || t.id === r.id));
  });
  return [...changes, ...wanted];
}

/**
 * Edits the configuration (export, edit, check, plan, append), re-reading and re-editing when a
 * concurrent writer got there first. Returns the plan and the stream sequence of its last event
 * (the current last sequence when nothing changed), for read-your-writes. Throws ConfigEditError
 * when the edited configuration breaks a rule; whatever the edit throws comes out as it is.
 */
export async function editConfig(
  nc: NatsConnection,
  edit: ConfigEdit,
  opts: EditOptions,
): Promise<{ seq: number; planned: PlannedEvent[] }> {
  return appendPlanned(
    nc,
    async (loaded) => {
      const file = await checkedEdit(loaded.state, edit, opts);
      const templateVersions = await forgottenTemplateVersions(nc, file, loaded);
      return planEdit(loaded.state, file, opts.prune ?? [], { createdBy: opts.createdBy ?? opts.actor, templateVersions });
    },
    opts.actor,
  );
}
