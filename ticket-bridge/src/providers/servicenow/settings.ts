import { TicketState, type TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { z } from 'zod';

/** The incident states ServiceNow ships with (sys_choice on incident.state), by code. */
export const INCIDENT_STATE_NAMES: Readonly<Record<string, string>> = {
  '1': 'New',
  '2': 'In Progress',
  '3': 'On Hold',
  '6': 'Resolved',
  '7': 'Closed',
  '8': 'Canceled',
};

const DEFAULT_STATE_MAP: Record<string, TicketState> = {
  '1': 'open',
  '2': 'in_progress',
  '3': 'in_progress',
  '6': 'resolved',
  '7': 'closed',
  '8': 'closed',
};

/**
 * `settings` of a ServiceNow provider (docs/tickets.md, "ServiceNow"). `stateMap` maps state codes
 * (custom ones too) to our states; `resolve` are the fields ServiceNow's data policy asks for when
 * an incident is resolved or closed.
 */
export const ServiceNowSettings = z
  .object({
    instanceUrl: z
      .string()
      .url()
      .transform((u) => u.replace(/\/+$/, '')),
    table: z
      .string()
      .regex(/^[a-z0-9_]+$/, 'a table name such as incident')
      .default('incident'),
    assignmentGroup: z.string().min(1).nullable().default(null),
    caller: z.string().min(1).nullable().default(null),
    stateMap: z
      .record(z.string().regex(/^-?\d+$/, 'state codes are numbers such as "6"'), TicketState)
      .default({})
      .transform((m) => ({ ...DEFAULT_STATE_MAP, ...m })),
    resolve: z
      .object({
        closeCode: z.string().min(1).default('Solution provided'),
        closeNotes: z.string().min(1).default('Resolved in oncall: the alert was resolved.'),
      })
      .strict()
      .default({}),
  })
  .strict();
export type ServiceNowSettings = z.infer<typeof ServiceNowSettings>;

/** Parses `settings`; throws on problems (validateConfig reports them first). */
export function serviceNowSettings(config: TicketProviderConfig): ServiceNowSettings {
  return ServiceNowSettings.parse(config.settings);
}

/** Problems with a ServiceNow configuration, each with its path. Pure. */
export function validateServiceNowConfig(config: TicketProviderConfig): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const parsed = ServiceNowSettings.safeParse(config.settings);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push({ path: ['settings', ...issue.path].join('.'), message: issue.message });
  }
  if (config.auth.kind !== 'basic' && config.auth.kind !== 'oauth-client-credentials') {
    problems.push({ path: 'auth.kind', message: `ServiceNow signs in with basic or oauth-client-credentials, not ${config.auth.kind}` });
  }
  if (config.auth.kind === 'oauth-client-credentials' && !config.auth.tokenUrl.endsWith('/oauth_token.do')) {
    problems.push({ path: 'auth.tokenUrl', message: 'ServiceNow issues tokens at https://<instance>.service-now.com/oauth_token.do' });
  }
  if (config.inboundSecret === null && config.sync.pollSeconds === null) {
    problems.push({
      path: 'inboundSecret',
      message:
        'set inboundSecret (the Business Rule signs its calls with it) or sync.pollSeconds: else no ticket change ever reaches oncall',
    });
  }
  for (const field of ['correlation_id', 'correlation_display', 'state']) {
    if (field in config.fields) problems.push({ path: `fields.${field}`, message: `${field} is set by the bridge, not the mapping` });
  }
  return problems;
}

/**
 * The state code a configured transition names: a code ("6") or a state name ("Resolved",
 * case-insensitive), from the shipped names or a custom code in stateMap.
 */
export function transitionCode(settings: ServiceNowSettings, transition: string): string | null {
  const trimmed = transition.trim();
  if (/^-?\d+$/.test(trimmed)) return trimmed in INCIDENT_STATE_NAMES || trimmed in settings.stateMap ? trimmed : null;
  const wanted = trimmed.toLowerCase();
  const found = Object.entries(INCIDENT_STATE_NAMES).find(([, name]) => name.toLowerCase() === wanted);
  return found ? found[0] : null;
}

/** Our state for a ServiceNow state code, or null when neither the defaults nor stateMap know it. */
export function stateOf(settings: ServiceNowSettings, code: string): TicketState | null {
  return settings.stateMap[code] ?? null;
}

/** The provider's word for a state code: its shipped name, else the code. */
export function stateName(code: string): string {
  return INCIDENT_STATE_NAMES[code] ?? code;
}
