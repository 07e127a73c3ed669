import { TicketState, type TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { z } from 'zod';

/**
 * A Jira provider's `settings` (docs/tickets.md, "Jira"). `apiVersion` '3' is Jira Cloud (ADF
 * descriptions, `/search/jql`), '2' Jira Server / Data Center (wiki text, `/search`); YAML's
 * `apiVersion: 3` (a number) is accepted too. `statusMap` maps a Jira status name or status
 * category key (new / indeterminate / done) onto our state; `customFields` gives field names the
 * mapping may use for custom field ids.
 */
export const JiraSettings = z
  .object({
    baseUrl: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL')
      .transform((u) => u.replace(/\/+$/, '')),
    apiVersion: z
      .union([z.enum(['2', '3']), z.literal(2), z.literal(3)])
      .default('3')
      .transform((v) => String(v) as '2' | '3'),
    project: z.string().regex(/^[A-Z][A-Z0-9_]{0,254}$/, 'must be a Jira project key such as OPS'),
    issueType: z.string().min(1).default('Task'),
    statusMap: z.record(z.string().min(1), TicketState).default({}),
    customFields: z
      .record(z.string().min(1), z.string().regex(/^customfield_\d+$/, 'must be a custom field id such as customfield_10010'))
      .default({}),
  })
  .strict();
export type JiraSettings = z.infer<typeof JiraSettings>;

/** Fields Jira's create screen takes by name; everything else must be a custom field. */
export const STANDARD_FIELDS = ['summary', 'description', 'priority', 'labels', 'components', 'assignee', 'duedate'] as const;

export const CUSTOM_FIELD_ID = /^customfield_\d+$/;

/** Parsed settings; throws with every problem when they are wrong (validateConfig reports them first). */
export function parseSettings(config: TicketProviderConfig): JiraSettings {
  return JiraSettings.parse(config.settings);
}

/** Problems with a Jira provider's settings, auth and field names, each with its path under the provider. */
export function validateJiraConfig(config: TicketProviderConfig): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const parsed = JiraSettings.safeParse(config.settings);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({ path: ['settings', ...issue.path].join('.'), message: issue.message });
    }
  }
  if (config.auth.kind !== 'basic' && config.auth.kind !== 'bearer') {
    problems.push({
      path: 'auth.kind',
      message: `Jira signs in with basic (email + API token) or bearer (personal access token / OAuth access token), not ${config.auth.kind}`,
    });
  }
  const customNames = parsed.success ? parsed.data.customFields : {};
  for (const name of Object.keys(config.fields)) {
    if ((STANDARD_FIELDS as readonly string[]).includes(name) || CUSTOM_FIELD_ID.test(name) || name in customNames) continue;
    problems.push({
      path: `fields.${name}`,
      message: `Jira has no field "${name}": use ${STANDARD_FIELDS.join(', ')}, a customfield_NNNNN id, or name it under settings.customFields`,
    });
  }
  return problems;
}
