import type { TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { z } from 'zod';

/** A responder as Opsgenie's Alert API takes it: a team, user, escalation or schedule by id or name. */
const Responder = z.union([
  z.object({ type: z.enum(['team', 'escalation', 'schedule']), id: z.string().min(1) }).strict(),
  z.object({ type: z.enum(['team', 'escalation', 'schedule']), name: z.string().min(1) }).strict(),
  z.object({ type: z.literal('user'), id: z.string().min(1) }).strict(),
  z.object({ type: z.literal('user'), username: z.string().min(1) }).strict(),
]);

/**
 * `settings` of an Opsgenie provider (docs/tickets.md, "Opsgenie"). `kind: alert` uses the Alert
 * API v2, whose alias gives one alert per oncall alert. `webUrl` (https://<account>.app.opsgenie.com)
 * makes ticket links; `inboundHeader` is the custom header the outgoing webhook sends the token in.
 */
export const OpsgenieSettings = z
  .object({
    apiUrl: z
      .string()
      .url()
      .default('https://api.opsgenie.com')
      .transform((u) => u.replace(/\/+$/, '')),
    kind: z
      .literal('alert', { errorMap: () => ({ message: 'kind is alert (Alert API v2); the Incident API is not supported yet' }) })
      .default('alert'),
    responders: z.array(Responder).default([]),
    tags: z.array(z.string().min(1).max(50)).default([]),
    entity: z.string().max(512).nullable().default(null),
    /** Who the alert actions (acknowledge, close, notes) are made as. */
    user: z.string().min(1).max(100).default('oncall'),
    webUrl: z
      .string()
      .url()
      .nullable()
      .default(null)
      .transform((u) => u?.replace(/\/+$/, '') ?? null),
    inboundHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, 'an HTTP header name')
      .default('X-Oncall-Token'),
  })
  .strict();
export type OpsgenieSettings = z.infer<typeof OpsgenieSettings>;

/** The Alert API fields a mapping may set. */
export const ALERT_FIELDS = new Set(['message', 'description', 'priority', 'tags', 'details', 'entity', 'note']);

export function opsgenieSettings(config: TicketProviderConfig): OpsgenieSettings {
  return OpsgenieSettings.parse(config.settings);
}

/** Problems with an Opsgenie configuration, each with its path. Pure. */
export function validateOpsgenieConfig(config: TicketProviderConfig): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const parsed = OpsgenieSettings.safeParse(config.settings);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push({ path: ['settings', ...issue.path].join('.'), message: issue.message });
  }
  if (config.auth.kind !== 'genie-key')
    problems.push({ path: 'auth.kind', message: `Opsgenie signs in with genie-key (an API integration key), not ${config.auth.kind}` });
  for (const field of Object.keys(config.fields)) {
    if (field === 'alias' || field === 'source')
      problems.push({ path: `fields.${field}`, message: `${field} is set by the bridge, not the mapping` });
    else if (!ALERT_FIELDS.has(field))
      problems.push({
        path: `fields.${field}`,
        message: `Opsgenie alerts have no field ${field} (one of ${[...ALERT_FIELDS].join(', ')})`,
      });
  }
  if (config.inboundSecret === null) {
    problems.push({
      path: 'inboundSecret',
      message: 'the outgoing webhook sends this token: set it, or no Opsgenie change reaches oncall',
    });
  }
  return problems;
}
